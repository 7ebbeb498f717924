/**
 * Piece buffers back from the workers, kept for the next piece of the same size: a fresh
 * buffer costs first-touch page faults in this VM (DENO-PERFORMANCE §5), a recycled one
 * does not. Bounded by bytes; what does not fit is left to the garbage collector.
 *
 * Layer: platform (part of the worker pool).
 * @module
 */

/** A bounded pool of ArrayBuffers, kept by size (a torrent's pieces are all one size but the last). */
export class BufferRecycler {
  readonly #capacityBytes: number;
  readonly #bySize = new Map<number, ArrayBuffer[]>();
  #bytes = 0;

  /** Keeps at most `capacityBytes` of buffers. */
  constructor(capacityBytes: number) {
    this.#capacityBytes = capacityBytes;
  }

  /** Bytes held. */
  get bytes(): number {
    return this.#bytes;
  }

  /** A buffer of exactly `length` bytes: a recycled one when there is one. */
  take(length: number): Uint8Array {
    const buffer = this.reuse(length);
    return buffer === undefined ? new Uint8Array(length) : new Uint8Array(buffer);
  }

  /** A recycled buffer of exactly `length` bytes, or `undefined` when there is none. */
  reuse(length: number): ArrayBuffer | undefined {
    const buffer = this.#bySize.get(length)?.pop();
    if (buffer !== undefined) this.#bytes -= length;
    return buffer;
  }

  /** Keeps `buffer` for reuse when it fits under the cap. */
  give(buffer: ArrayBuffer): void {
    if (this.#bytes + buffer.byteLength > this.#capacityBytes) return;
    const same = this.#bySize.get(buffer.byteLength);
    if (same) same.push(buffer);
    else this.#bySize.set(buffer.byteLength, [buffer]);
    this.#bytes += buffer.byteLength;
  }
}

/**
 * `data`'s own buffer when `data` spans all of it (so it can be transferred or reused).
 * @param data a view
 * @returns its whole `ArrayBuffer`, or `undefined` for a partial view or a shared buffer
 */
export function wholeBuffer(data: Uint8Array): ArrayBuffer | undefined {
  const buffer = data.buffer;
  const isWhole = buffer instanceof ArrayBuffer && data.byteOffset === 0 &&
    data.byteLength === buffer.byteLength;
  return isWhole ? buffer : undefined;
}

/** `data`'s own buffer when `data` spans all of it, else a fresh copy (to transfer it). */
export function ownedBuffer(data: Uint8Array): ArrayBuffer {
  return wholeBuffer(data) ?? data.slice().buffer;
}
