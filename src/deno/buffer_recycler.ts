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
    const buffer = this.#bySize.get(length)?.pop();
    if (buffer === undefined) return new Uint8Array(length);
    this.#bytes -= length;
    return new Uint8Array(buffer);
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

/** `data`'s own buffer when `data` spans all of it, else a fresh copy (to transfer it). */
export function ownedBuffer(data: Uint8Array): ArrayBuffer {
  const buffer = data.buffer;
  if (
    buffer instanceof ArrayBuffer && data.byteOffset === 0 && data.byteLength === buffer.byteLength
  ) {
    return buffer;
  }
  return data.slice().buffer;
}
