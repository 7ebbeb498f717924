/**
 * Choosing untouched pieces for one pick: rarest first from the shuffled buckets,
 * or random pieces while the first few are being fetched.
 *
 * Layer: core (pure; randomness injected). Private to src/picker/.
 * @module
 */
import type { Random } from "../runtime/types.ts";
import type { PieceBuckets } from "./_buckets.ts";
import type { PieceStates } from "./_piece_states.ts";
import type { BlockRequest, PickPeer } from "./picker_types.ts";

/** Whether the current peer may be asked for piece `index` now. */
export type CanUse = (index: number) => boolean;

/**
 * The piece filter for `peer`: wanted pieces we lack that it has, only allowed-fast ones
 * while it chokes us, none it refused lately.
 * @param prio piece priorities (0 = skip); undefined lets every piece we lack through
 * @param have 1 for a verified piece
 * @returns the filter, or undefined when nothing may be requested from it now
 * @throws {RangeError} when its bitfield does not have `pieceCount` bits
 */
export function peerFilter(
  peer: PickPeer,
  pieceCount: number,
  prio: ArrayLike<number> | undefined,
  have: ArrayLike<number>,
): CanUse | undefined {
  const has = peer.has;
  if (has !== "all" && has.length !== pieceCount) {
    throw new RangeError(`Bitfield has ${has.length} bits, expected ${pieceCount}`);
  }
  const allowed = peer.choked ? peer.allowedFast : undefined;
  if (peer.choked && (allowed === undefined || allowed.size === 0)) return undefined;
  // without priorities (time-critical picks): any piece we lack
  const wanted: CanUse = prio === undefined
    ? (i) => have[i] === 0
    : (i) => prio[i]! > 0 && have[i] === 0;
  const can: CanUse = has === "all"
    ? (allowed === undefined ? wanted : (i) => wanted(i) && allowed.has(i))
    : allowed === undefined
    ? (i) => wanted(i) && has.has(i)
    : (i) => wanted(i) && has.has(i) && allowed.has(i);
  const refused = peer.refused;
  return refused && refused.size > 0 ? (i) => can(i) && !refused.has(i) : can;
}

/**
 * Untouched pieces of priority `level`, rarest first (most common first when
 * `reverse`), until they hold at least `need` blocks.
 * @returns the chosen piece indices, in order
 */
export function pickRarest(
  buckets: PieceBuckets,
  level: number,
  need: number,
  options: { can: CanUse; blockCountOf: (index: number) => number; reverse: boolean },
): number[] {
  const { can, blockCountOf, reverse } = options;
  const chosen: number[] = [];
  let blocks = 0;
  const levels = buckets.bucketsOf(level);
  const n = levels.length;
  for (let k = 0; k < n; k++) {
    const bucket = levels[reverse ? n - 1 - k : k];
    if (bucket === undefined) continue;
    const m = bucket.length;
    for (let j = 0; j < m; j++) {
      const i = bucket[reverse ? m - 1 - j : j]!;
      if (!can(i)) continue;
      chosen.push(i);
      blocks += blockCountOf(i);
      if (blocks >= need) return chosen;
    }
  }
  return chosen;
}

/**
 * Random untouched pieces of priority `level` (each from its own random start,
 * taking the first fit scanning on) until they hold at least `need` blocks.
 * @returns the chosen piece indices, in order
 */
export function pickRandom(
  buckets: PieceBuckets,
  level: number,
  need: number,
  options: {
    can: CanUse;
    blockCountOf: (index: number) => number;
    priorityOf: (index: number) => number;
    random: Random;
    pieceCount: number;
  },
): number[] {
  const { can, blockCountOf, priorityOf, random, pieceCount: n } = options;
  const chosen: number[] = [];
  let blocks = 0;
  while (blocks < need) {
    const start = random.int(n);
    let found = -1;
    for (let k = 0; k < n && found < 0; k++) {
      const i = start + k < n ? start + k : start + k - n;
      if (buckets.contains(i) && priorityOf(i) === level && can(i) && !chosen.includes(i)) {
        found = i;
      }
    }
    if (found < 0) break;
    chosen.push(found);
    blocks += blockCountOf(found);
  }
  return chosen;
}

/**
 * Untouched pieces of priority `level` in index order, until they hold at least `need`
 * blocks (sequential download).
 * @returns the chosen piece indices, in order
 */
export function pickSequential(
  buckets: PieceBuckets,
  level: number,
  need: number,
  options: {
    can: CanUse;
    blockCountOf: (index: number) => number;
    priorityOf: (index: number) => number;
    pieceCount: number;
  },
): number[] {
  const { can, blockCountOf, priorityOf, pieceCount } = options;
  const chosen: number[] = [];
  let blocks = 0;
  for (let i = 0; i < pieceCount && blocks < need; i++) {
    if (buckets.contains(i) && priorityOf(i) === level && can(i)) {
      chosen.push(i);
      blocks += blockCountOf(i);
    }
  }
  return chosen;
}

/** How untouched pieces are ordered. */
export interface UntouchedOrder {
  /** Index order (sequential download). */
  readonly sequential: boolean;
  /** Random order (the first few pieces), else rarest first. */
  readonly random: Random | undefined;
  /** Most common first (a snubbed peer), in rarest-first mode. */
  readonly reverse: boolean;
}

/**
 * Untouched pieces of priority `level` holding at least `need` blocks, in pick order.
 * @returns the chosen piece indices, in order
 */
export function untouchedPieces(
  s: PieceStates,
  level: number,
  need: number,
  options: UntouchedOrder & { readonly can: CanUse },
): number[] {
  const { can, random } = options;
  const pieceCount = s.geo.pieceCount;
  const blockCountOf = (i: number) => s.geo.blockCountOf(i);
  const priorityOf = (i: number) => s.prio[i]!;
  if (options.sequential) {
    return pickSequential(s.buckets, level, need, { can, blockCountOf, priorityOf, pieceCount });
  }
  if (random === undefined) {
    return pickRarest(s.buckets, level, need, { can, blockCountOf, reverse: options.reverse });
  }
  return pickRandom(s.buckets, level, need, { can, blockCountOf, priorityOf, random, pieceCount });
}

/** Open partial pieces, `peerId`'s own first (only its own when `ownOnly`). */
export function openPartials(s: PieceStates, peerId: string, ownOnly: boolean): number[] {
  const { book, open } = s;
  const own: number[] = [];
  for (const index of book.get(peerId)?.keys() ?? []) if (open.has(index)) own.push(index);
  if (ownOnly || own.length === open.size) return own;
  const mine = new Set(own);
  for (const index of open) if (!mine.has(index)) own.push(index);
  return own;
}

/** Pieces in progress with some block requested that `can` allows, highest priority first. */
export function requestedPartials(s: PieceStates, can: CanUse): number[] {
  return [...s.partials.values()]
    .filter((p) => p.requested > 0 && can(p.index))
    .sort((x, y) => s.prio[y.index]! - s.prio[x.index]!)
    .map((p) => p.index);
}

/** Strict endgame: second copies of blocks requested from other peers, up to `max`. */
export function pickEndgame(
  s: PieceStates,
  peerId: string,
  can: CanUse,
  max: number,
  out: BlockRequest[],
): void {
  for (const index of requestedPartials(s, can)) {
    const p = s.partials.get(index)!;
    for (let b = 0; b < p.blockCount; b++) {
      const owner = p.owner[b];
      if (owner === undefined || owner === peerId || p.dup[b] !== undefined) continue;
      out.push(s.duplicate(p, b, peerId));
      if (--max === 0) return;
    }
  }
}
