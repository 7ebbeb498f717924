/**
 * Rarest-first order for untouched pieces: one bucket per (priority, availability),
 * each bucket kept in uniformly random order.
 *
 * A piece enters a bucket at a random position (one step of an inside-out
 * Fisher–Yates shuffle) and leaves it by swap-with-last, so every bucket stays a
 * uniformly random permutation of its pieces without ever reshuffling: the random
 * tie-break among equally rare pieces costs O(1) per availability change (a HAVE),
 * like libtorrent's priority-boundary swaps.
 *
 * Invariants: `pos[i] >= 0` exactly when piece `i` is in a bucket, and then
 * `levels[prio][avail][pos[i]] === i` for the priority and availability the caller
 * passed when inserting it.
 *
 * Layer: core (pure; randomness injected). Private to src/picker/.
 * @module
 */
import type { Random } from "../runtime/types.ts";

/** Highest piece priority; priorities run 1..MAX_PRIORITY (0 = skip, never bucketed). */
export const MAX_PRIORITY = 7;

/** Pieces bucketed by priority level, then by availability, each bucket shuffled. */
export class PieceBuckets {
  readonly #levels: number[][][] = Array.from({ length: MAX_PRIORITY + 1 }, () => []);
  readonly #levelSize = new Int32Array(MAX_PRIORITY + 1);
  readonly #pos: Int32Array;
  readonly #random: Random;
  #size = 0;

  /**
   * Empty buckets for `pieceCount` pieces.
   * @param pieceCount number of pieces in the torrent
   * @param random tie-break source
   */
  constructor(pieceCount: number, random: Random) {
    this.#pos = new Int32Array(pieceCount).fill(-1);
    this.#random = random;
  }

  /** Pieces in all buckets. */
  get size(): number {
    return this.#size;
  }

  /** Whether piece `index` is in a bucket. */
  contains(index: number): boolean {
    return this.#pos[index]! >= 0;
  }

  /** Pieces bucketed at priority `level`. */
  levelSize(level: number): number {
    return this.#levelSize[level] ?? 0;
  }

  /** The buckets of priority `level`, indexed by availability (entries may be missing). */
  bucketsOf(level: number): readonly (readonly number[] | undefined)[] {
    return this.#levels[level] ?? [];
  }

  /** Whether `index` sits in the bucket for (`level`, `avail`) (for invariant checks). */
  isAt(index: number, level: number, avail: number): boolean {
    const p = this.#pos[index]!;
    return p >= 0 && this.#levels[level]?.[avail]?.[p] === index;
  }

  /** Adds piece `index` at a random position of bucket (`level`, `avail`). */
  insert(index: number, level: number, avail: number): void {
    const buckets = this.#levels[level]!;
    let bucket = buckets[avail];
    if (bucket === undefined) {
      for (let a = buckets.length; a <= avail; a++) buckets.push([]);
      bucket = buckets[avail]!;
    }
    const last = bucket.length;
    const j = this.#random.int(last + 1);
    if (j === last) {
      bucket.push(index);
      this.#pos[index] = last;
    } else {
      const moved = bucket[j]!;
      bucket.push(moved);
      this.#pos[moved] = last;
      bucket[j] = index;
      this.#pos[index] = j;
    }
    this.#levelSize[level]!++;
    this.#size++;
  }

  /** Removes piece `index` from bucket (`level`, `avail`), where it must be. */
  remove(index: number, level: number, avail: number): void {
    const bucket = this.#levels[level]![avail]!;
    const p = this.#pos[index]!;
    const last = bucket.pop()!;
    if (last !== index) {
      bucket[p] = last;
      this.#pos[last] = p;
    }
    this.#pos[index] = -1;
    this.#levelSize[level]!--;
    this.#size--;
  }
}
