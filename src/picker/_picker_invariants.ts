/**
 * Full recount of a {@linkcode PiecePicker}'s state, for `assertInvariants()`.
 * O(pieces + blocks in progress); tests and the simulator call it after every step.
 *
 * Layer: core (pure). Private to src/picker/.
 * @module
 */
import type { PieceBuckets } from "./_buckets.ts";
import type { PartialPiece } from "./_partial.ts";

/** The picker state the check reads. */
export interface PickerState {
  /** Number of pieces. */
  readonly pieceCount: number;
  /** Per-piece availability, seeds excluded. */
  readonly avail: Int32Array;
  /** Per-piece priority 0..7. */
  readonly prio: Uint8Array;
  /** 1 for a verified piece. */
  readonly have: Uint8Array;
  /** Untouched wanted pieces. */
  readonly buckets: PieceBuckets;
  /** Pieces in progress. */
  readonly partials: ReadonlyMap<number, PartialPiece>;
  /** Partial pieces with a free block. */
  readonly open: ReadonlySet<number>;
  /** peer → piece → requested block numbers. */
  readonly requests: ReadonlyMap<string, ReadonlyMap<number, ReadonlySet<number>>>;
  /** Have-all peers counted. */
  readonly seeds: number;
  /** Running counters to compare with the recount. */
  readonly counters: {
    readonly haveCount: number;
    readonly wantedMissing: number;
    readonly wantedBytes: number;
    readonly wantedFree: number;
  };
  /** Piece length in bytes. */
  readonly pieceLengthOf: (index: number) => number;
  /** Blocks in a piece. */
  readonly blockCountOf: (index: number) => number;
}

/**
 * Recounts the picker's state.
 * @param s the state
 * @throws {Error} naming the first broken invariant
 */
export function checkPicker(s: PickerState): void {
  const fail = (what: string): never => {
    throw new Error(`PiecePicker invariant broken: ${what}`);
  };
  if (s.seeds < 0) fail(`seed count ${s.seeds}`);
  const recount = { haveCount: 0, wantedMissing: 0, wantedBytes: 0, wantedFree: 0 };
  let bucketed = 0;
  for (let i = 0; i < s.pieceCount; i++) {
    const prio = s.prio[i]!, avail = s.avail[i]!, partial = s.partials.get(i);
    if (avail < 0) fail(`piece ${i} availability ${avail}`);
    if (s.have[i]) {
      recount.haveCount++;
      if (partial !== undefined || s.buckets.contains(i)) fail(`verified piece ${i} still in play`);
      continue;
    }
    if (prio > 0) {
      recount.wantedMissing++;
      recount.wantedBytes += s.pieceLengthOf(i);
    }
    if (partial !== undefined) {
      if (s.buckets.contains(i)) fail(`partial piece ${i} is bucketed`);
      const broken = partial.check();
      if (broken !== undefined) fail(`piece ${i}: ${broken}`);
      if (partial.isUntouched) fail(`piece ${i} is partial with nothing requested or received`);
      if (s.open.has(i) !== partial.free > 0) fail(`piece ${i} open-set membership`);
      if (prio > 0) recount.wantedFree += partial.free;
    } else if (prio > 0) {
      if (!s.buckets.isAt(i, prio, avail)) fail(`piece ${i} not in bucket (${prio}, ${avail})`);
      bucketed++;
      recount.wantedFree += s.blockCountOf(i);
    } else if (s.buckets.contains(i)) fail(`skipped piece ${i} is bucketed`);
  }
  if (bucketed !== s.buckets.size) fail(`bucket size ${s.buckets.size}, expected ${bucketed}`);
  for (const index of s.open) if (!s.partials.has(index)) fail(`open piece ${index} not partial`);
  for (const [key, value] of Object.entries(recount)) {
    const running = s.counters[key as keyof typeof recount];
    if (running !== value) fail(`${key} is ${running}, recount ${value}`);
  }
  checkRequests(s, fail);
}

function checkRequests(s: PickerState, fail: (what: string) => never): void {
  let recorded = 0;
  for (const [peerId, record] of s.requests) {
    if (record.size === 0) fail(`empty request record for "${peerId}"`);
    for (const [index, blocks] of record) {
      const p = s.partials.get(index);
      if (p === undefined) fail(`"${peerId}" has a request in piece ${index}, not in progress`);
      if (blocks.size === 0) fail(`empty block set for "${peerId}" in piece ${index}`);
      for (const b of blocks) {
        if (p!.owner[b] !== peerId && p!.dup[b] !== peerId) {
          fail(`"${peerId}" records block ${index}/${b} it does not hold`);
        }
        recorded++;
      }
    }
  }
  let held = 0;
  for (const p of s.partials.values()) {
    for (let b = 0; b < p.blockCount; b++) {
      if (p.owner[b] !== undefined) held++;
      if (p.dup[b] !== undefined) held++;
    }
  }
  if (held !== recorded) fail(`${held} block requests held but ${recorded} recorded`);
}
