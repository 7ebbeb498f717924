/**
 * Choosing untouched pieces for one pick: rarest first from the shuffled buckets,
 * or random pieces while the first few are being fetched.
 *
 * Layer: core (pure; randomness injected). Private to src/picker/.
 * @module
 */
import type { Random } from "../runtime/types.ts";
import type { PieceBuckets } from "./_buckets.ts";
import type { PickPeer } from "./picker_types.ts";

/** Whether the current peer may be asked for piece `index` now. */
export type CanUse = (index: number) => boolean;

/**
 * The piece filter for `peer`: wanted pieces we lack that it has, only allowed-fast ones
 * while it chokes us, none it refused lately.
 * @param prio piece priorities (0 = skip)
 * @param have 1 for a verified piece
 * @returns the filter, or undefined when nothing may be requested from it now
 * @throws {RangeError} when its bitfield does not have `pieceCount` bits
 */
export function peerFilter(
  peer: PickPeer,
  pieceCount: number,
  prio: ArrayLike<number>,
  have: ArrayLike<number>,
): CanUse | undefined {
  const has = peer.has;
  if (has !== "all" && has.length !== pieceCount) {
    throw new RangeError(`Bitfield has ${has.length} bits, expected ${pieceCount}`);
  }
  const allowed = peer.choked ? peer.allowedFast : undefined;
  if (peer.choked && (allowed === undefined || allowed.size === 0)) return undefined;
  const wanted: CanUse = (i) => prio[i]! > 0 && have[i] === 0;
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
