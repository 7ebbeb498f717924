/**
 * Transfer rate over a rolling window: bytes per second, from 1 s buckets over the
 * last 20 s by default (the window mainline and libtorrent average over for
 * choking decisions). The caller passes `now` (ms on the injected clock).
 *
 * Invariants: `total` ≥ 0; only buckets inside the window hold counts; `add` is O(1)
 * amortised (it clears at most one window of buckets).
 *
 * Layer: core (pure, no clock of its own).
 * @module
 */

/** Options of {@linkcode RateMeter}. */
export interface RateMeterOptions {
  /** Window length in ms; default 20,000. A whole number of buckets. */
  readonly windowMs?: number;
  /** Bucket length in ms; default 1,000. */
  readonly bucketMs?: number;
}

/**
 * Bytes per second over a rolling window of fixed buckets.
 *
 * @example
 * ```ts
 * import { RateMeter } from "./mod.ts";
 * import { strictEqual } from "node:assert";
 * const meter = new RateMeter();
 * meter.add(16384, 0);
 * meter.add(16384, 1500);
 * strictEqual(meter.rate(2000), 16384); // 32 KiB over 2 s
 * strictEqual(meter.total, 32768);
 * strictEqual(meter.rate(60_000), 0); // the window moved on
 * ```
 */
export class RateMeter {
  /** Window length in ms. */
  readonly windowMs: number;
  /** Bucket length in ms. */
  readonly bucketMs: number;
  readonly #buckets: Float64Array;
  /** Absolute number of the newest bucket written (floor(now / bucketMs)). */
  #head = -Infinity;
  /** Absolute number of the first bucket ever written. */
  #first = Infinity;
  #total = 0;

  /**
   * An empty meter.
   * @param options window and bucket lengths
   * @throws {RangeError} unless both are positive and the window is a multiple of the bucket
   */
  constructor(options: RateMeterOptions = {}) {
    const windowMs = options.windowMs ?? 20_000;
    const bucketMs = options.bucketMs ?? 1_000;
    const count = windowMs / bucketMs;
    if (!(bucketMs > 0) || !Number.isInteger(count) || count < 1 || count > 3600) {
      throw new RangeError(`Cannot meter ${windowMs} ms in ${bucketMs} ms buckets`);
    }
    this.windowMs = windowMs;
    this.bucketMs = bucketMs;
    this.#buckets = new Float64Array(count);
  }

  /** Bytes counted since construction. */
  get total(): number {
    return this.#total;
  }

  /**
   * Counts `bytes` transferred at `now`. Times older than the window only add to `total`.
   * @param bytes byte count ≥ 0
   * @param now ms on the injected clock
   * @throws {RangeError} for a negative or non-finite byte count or time
   */
  add(bytes: number, now: number): void {
    if (!(bytes >= 0) || !Number.isFinite(bytes) || !Number.isFinite(now)) {
      throw new RangeError(`Cannot count ${bytes} bytes at ${now} ms`);
    }
    this.#total += bytes;
    const bucket = Math.floor(now / this.bucketMs);
    this.#advance(bucket);
    if (bucket < this.#first) this.#first = bucket;
    const n = this.#buckets.length;
    if (bucket <= this.#head - n) return;
    this.#buckets[((bucket % n) + n) % n]! += bytes;
  }

  /**
   * Bytes per second over the window ending at `now`: the bytes of the current
   * bucket and the older ones still in the window, divided by the time from the
   * start of the oldest of those buckets (or of the first byte ever counted, if
   * later) to `now`, at least one bucket. A full window thus spans between
   * `windowMs − bucketMs` and `windowMs`.
   * @param now ms on the injected clock
   * @returns the rate; 0 when nothing was counted in the window
   */
  rate(now: number): number {
    const n = this.#buckets.length;
    const newest = Math.max(Math.floor(now / this.bucketMs), this.#head);
    const oldest = Math.max(newest - n + 1, this.#first);
    let sum = 0;
    for (let b = Math.max(oldest, this.#head - n + 1); b <= this.#head; b++) {
      sum += this.#buckets[((b % n) + n) % n]!;
    }
    if (sum === 0) return 0;
    const elapsedMs = Math.max(now - oldest * this.bucketMs, this.bucketMs);
    return (sum * 1000) / Math.min(elapsedMs, this.windowMs);
  }

  /** Moves the head to `bucket`, zeroing the buckets it skips (at most the whole ring). */
  #advance(bucket: number): void {
    if (bucket <= this.#head) return;
    const n = this.#buckets.length;
    if (this.#head === -Infinity || bucket - this.#head >= n) this.#buckets.fill(0);
    else {
      for (let b = this.#head + 1; b <= bucket; b++) this.#buckets[((b % n) + n) % n] = 0;
    }
    this.#head = bucket;
  }
}
