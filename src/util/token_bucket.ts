/**
 * Token bucket for upload and download rate limits (pure: time comes in as `now`).
 *
 * Layer: core.
 * @module
 */

/** A token bucket of `rate` bytes/s with a burst of one second's worth (at least 64 KiB). */
export class TokenBucket {
  #rate: number;
  #tokens: number;
  #last: number;

  /** `rateBytesPerSecond` 0 means unlimited. */
  constructor(rateBytesPerSecond: number, now: number) {
    this.#rate = rateBytesPerSecond;
    this.#tokens = this.#burst;
    this.#last = now;
  }

  get #burst(): number {
    return Math.max(this.#rate, 64 * 1024);
  }

  /** The limit in bytes/s; 0 = unlimited. */
  get rate(): number {
    return this.#rate;
  }

  /** True when no limit is set. */
  get isUnlimited(): boolean {
    return this.#rate === 0;
  }

  /** Changes the rate; 0 = unlimited. */
  setRate(rateBytesPerSecond: number, now: number): void {
    this.#refill(now);
    this.#rate = rateBytesPerSecond;
    this.#tokens = Math.min(this.#tokens, this.#burst);
  }

  /**
   * Takes `bytes` (the balance may go negative: the transfer already happened or must).
   * @returns milliseconds to wait before the next transfer (0 = go on)
   */
  take(bytes: number, now: number): number {
    if (this.#rate === 0) return 0;
    this.#refill(now);
    this.#tokens -= bytes;
    return this.#tokens >= 0 ? 0 : Math.ceil((-this.#tokens / this.#rate) * 1000);
  }

  /** Milliseconds until the balance is non-negative. */
  waitMs(now: number): number {
    if (this.#rate === 0) return 0;
    this.#refill(now);
    return this.#tokens >= 0 ? 0 : Math.ceil((-this.#tokens / this.#rate) * 1000);
  }

  #refill(now: number): void {
    const elapsed = Math.max(0, now - this.#last);
    this.#last = now;
    this.#tokens = Math.min(this.#burst, this.#tokens + (elapsed / 1000) * this.#rate);
  }
}
