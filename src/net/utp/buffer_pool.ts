/**
 * A bounded free list of equal-sized packet buffers, so the hot path reuses memory
 * instead of allocating per packet (first-touch page faults cost dearly here:
 * DENO-PERFORMANCE pitfall 5).
 *
 * Layer: core (no I/O).
 * @module
 */

/** Equal-sized reusable buffers. */
export class BufferPool {
  /** Bytes in every buffer. */
  readonly bufferBytes: number;
  readonly #maxFree: number;
  readonly #free: Uint8Array[] = [];
  /** Buffers handed out and not yet returned. */
  outstanding = 0;

  /**
   * Makes a pool.
   * @param bufferBytes size of each buffer
   * @param maxFree most returned buffers kept for reuse; more are left to the GC
   */
  constructor(bufferBytes: number, maxFree: number) {
    this.bufferBytes = bufferBytes;
    this.#maxFree = maxFree;
  }

  /** Buffers kept for reuse. */
  get free(): number {
    return this.#free.length;
  }

  /**
   * Takes a buffer (contents are whatever was last written to it).
   * @returns a buffer of `bufferBytes`
   */
  take(): Uint8Array {
    this.outstanding++;
    return this.#free.pop() ?? new Uint8Array(this.bufferBytes);
  }

  /**
   * Returns a buffer taken from this pool.
   * @param buf the buffer; the caller must not use it afterwards
   */
  give(buf: Uint8Array): void {
    this.outstanding--;
    if (this.#free.length < this.#maxFree && buf.length === this.bufferBytes) this.#free.push(buf);
  }
}
