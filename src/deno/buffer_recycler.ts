/**
 * Piece buffers back from the workers, kept for the next piece of the same size: a fresh
 * buffer costs first-touch page faults in this VM (DENO-PERFORMANCE §5), a recycled one
 * does not. Bounded by bytes; what does not fit is left to the garbage collector.
 *
 * Page-aligned pieces: O_DIRECT needs the memory address aligned to the device's DMA
 * alignment (512 bytes here, at most a page), which V8 does not give (a 1 MiB buffer sits
 * 16 bytes past a page). A buffer of a piece is therefore allocated one page longer and
 * the piece placed at the page boundary inside it, found once from the buffer's address
 * (`Deno.UnsafePointer`, when the ffi permission is granted; it is queried, never
 * prompted for). The worker then writes the piece straight from it instead of copying
 * it into its staging buffer first: a 1 GiB download from a libtorrent seed took the
 * workers 96 instead of 106 CPU ticks (4 alternating runs each, averages), 0.1 CPU-s per
 * GiB. The address never changes: transfers move the backing store. Without the
 * permission, pieces fill whole buffers and the worker copies as before.
 *
 * Layer: platform (part of the worker pool).
 * @module
 */

/** Memory alignment of piece buffers: a page, the strictest any O_DIRECT device asks. */
export const BUFFER_ALIGN = 4096;
/** Smaller buffers are not aligned (the worker writes spans this short through the page cache). */
const MIN_ALIGNED_BYTES = 64 * 1024;

let canTakeAddresses: boolean | undefined;

/** Whether buffer addresses can be read: `Deno.UnsafePointer` with the ffi permission granted. */
function addressesReadable(): boolean {
  if (canTakeAddresses === undefined) {
    try {
      canTakeAddresses = typeof Deno.UnsafePointer?.of === "function" &&
        Deno.permissions.querySync({ name: "ffi" }).state === "granted";
    } catch {
      canTakeAddresses = false; // no permission API (or it refused): whole buffers, as before
    }
  }
  return canTakeAddresses;
}

/**
 * A view of `length` bytes starting at a {@linkcode BUFFER_ALIGN}-aligned address, inside
 * a buffer one alignment longer.
 * @param length the view's length
 * @returns the view, or `undefined` when addresses cannot be read (or `length` is small)
 */
export function alignedView(length: number): Uint8Array | undefined {
  if (length < MIN_ALIGNED_BYTES || !addressesReadable()) return undefined;
  const buffer = new ArrayBuffer(length + BUFFER_ALIGN);
  const pointer = Deno.UnsafePointer.of(buffer);
  if (pointer === null) return undefined;
  const misalignment = Number(BigInt(Deno.UnsafePointer.value(pointer)) % BigInt(BUFFER_ALIGN));
  return new Uint8Array(buffer, (BUFFER_ALIGN - misalignment) % BUFFER_ALIGN, length);
}

/**
 * A bounded pool of piece buffers, kept by length. A buffer is either whole (a view of all
 * of its `ArrayBuffer`) or an aligned view this recycler made; only such views are kept.
 */
export class BufferRecycler {
  readonly #capacityBytes: number;
  readonly #byLength = new Map<number, Uint8Array[]>();
  /** The aligned view of each buffer this recycler handed out (re-registered after a transfer). */
  readonly #aligned = new WeakMap<ArrayBuffer, Uint8Array>();
  #bytes = 0;

  /** Keeps at most `capacityBytes` of buffers. */
  constructor(capacityBytes: number) {
    this.#capacityBytes = capacityBytes;
  }

  /** Bytes held. */
  get bytes(): number {
    return this.#bytes;
  }

  /** A buffer of exactly `length` bytes: a recycled one when there is one, else a new (aligned) one. */
  take(length: number): Uint8Array {
    return this.reuse(length) ?? this.#register(alignedView(length)) ?? new Uint8Array(length);
  }

  /** A recycled buffer of exactly `length` bytes, or `undefined` when there is none. */
  reuse(length: number): Uint8Array | undefined {
    const view = this.#byLength.get(length)?.pop();
    if (view !== undefined) this.#bytes -= length;
    return view;
  }

  /** Keeps `view` for reuse when it is one of ours and fits under the cap. */
  give(view: Uint8Array): void {
    if (!this.owns(view) || this.#bytes + view.byteLength > this.#capacityBytes) return;
    const same = this.#byLength.get(view.byteLength);
    if (same) same.push(view);
    else this.#byLength.set(view.byteLength, [view]);
    this.#bytes += view.byteLength;
  }

  /**
   * Whether `view` can be transferred and reused as it is: it spans its whole buffer, or it
   * is the aligned view this recycler made of it.
   */
  owns(view: Uint8Array): boolean {
    return wholeBuffer(view) !== undefined || this.#isAligned(view);
  }

  /**
   * The view of a buffer back from a worker, at the offset it was sent with; an aligned
   * one is registered again (the transfer made a new `ArrayBuffer` object).
   * @param buffer the buffer
   * @param offset where the bytes start
   * @param length how many
   * @returns the view
   */
  adopt(buffer: ArrayBuffer, offset: number, length: number): Uint8Array {
    const view = new Uint8Array(buffer, offset, length);
    if (view.byteLength !== buffer.byteLength) this.#aligned.set(buffer, view);
    return view;
  }

  #isAligned(view: Uint8Array): boolean {
    const mine = this.#aligned.get(view.buffer as ArrayBuffer);
    return mine !== undefined && mine.byteOffset === view.byteOffset &&
      mine.byteLength === view.byteLength;
  }

  #register(view: Uint8Array | undefined): Uint8Array | undefined {
    if (view) this.#aligned.set(view.buffer as ArrayBuffer, view);
    return view;
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
