/**
 * Writes verified pieces with O_DIRECT where the file system allows it. A download writes
 * data it will not read back soon; through the page cache, a cold write costs 2.5–3.5
 * CPU-seconds per GiB on this machine, with O_DIRECT about 0.35 (DENO-PERFORMANCE.md).
 *
 * O_DIRECT needs the file offset, the length and the memory address aligned to the
 * device's block size. Offsets and lengths are aligned here (4 KiB: the unaligned head
 * and tail of a span go through the normal descriptor, on pages the direct part never
 * touches). A chunk at a page-aligned address is written straight from the caller's bytes:
 * the pool puts pieces at page boundaries (`buffer_recycler.ts`) and says so (`aligned`).
 * Any other chunk is copied into a staging buffer whose aligned offset is found once by
 * probing: the first direct write is tried at successive 16-byte offsets until the kernel
 * accepts it (EINVAL writes nothing). The direct write is only tried where the address is
 * known to be aligned: a refused one costs an exception in `node:fs` (trying every chunk of
 * unaligned buffers made a worker's CPU per GiB 143-158 ticks instead of 108-117). Where
 * O_DIRECT is refused (tmpfs, some network file systems) the writer falls back to ordinary
 * writes for good.
 *
 * Layer: platform (worker side).
 * @module
 */
import * as fs from "node:fs";

/** File offset and length alignment of direct writes. */
export const DIRECT_ALIGN = 4096;
/** Bytes copied and written per direct write call. */
const CHUNK = 1024 * 1024;
/** Spans shorter than this are not worth a second descriptor and a copy. */
const MIN_DIRECT_BYTES = 64 * 1024;
/** Probe step for the staging buffer's aligned offset (V8 aligns to at least 8). */
const PROBE_STEP = 16;

const O_DIRECT: number | undefined = fs.constants.O_DIRECT;

/** Why the kernel refuses an O_DIRECT call on alignment. */
function isEinval(e: unknown): boolean {
  return (e as { code?: string }).code === "EINVAL";
}

/** A span to write: `length` bytes of `bytes` from `at`, to file position `pos`. */
export interface SpanWrite {
  readonly bytes: Uint8Array;
  readonly at: number;
  readonly length: number;
  readonly pos: number;
  /** `bytes` starts at a page-aligned address ({@linkcode DIRECT_ALIGN}): no staging copy. */
  readonly aligned?: boolean;
}

/** One worker's direct writer (one staging buffer; not shared between threads). */
export class DirectWriter {
  readonly #raw: Uint8Array = new Uint8Array(CHUNK + DIRECT_ALIGN);
  /** Offset of the aligned staging area in `#raw`; undefined until probed. */
  #offset: number | undefined;
  #enabled: boolean;
  /** Bytes written with O_DIRECT so far. */
  directBytes = 0;
  /** Of those, bytes written straight from the caller's buffer (no staging copy). */
  zeroCopyBytes = 0;

  /**
   * @param enabled false writes everything through the normal descriptor
   */
  constructor(enabled = true) {
    this.#enabled = enabled && O_DIRECT !== undefined && Deno.build.os === "linux";
  }

  /** Whether direct writes are still on (false after the file system refused them). */
  get enabled(): boolean {
    return this.#enabled;
  }

  /**
   * Opens `path` for direct writes.
   * @param path an existing file (the caller created it through its safe-path rules)
   * @returns a descriptor, or `undefined` when the file system refuses O_DIRECT
   */
  openDirect(path: string): number | undefined {
    if (!this.#enabled) return undefined;
    try {
      return fs.openSync(path, fs.constants.O_WRONLY | fs.constants.O_NOFOLLOW | O_DIRECT!);
    } catch (e) {
      if (isEinval(e)) {
        this.#enabled = false;
        return undefined;
      }
      throw e;
    }
  }

  /**
   * Writes one span: the aligned middle with `directFd` when there is one, the rest with
   * `bufferedFd`.
   * @param span what to write where
   * @param bufferedFd a normal descriptor of the file
   * @param directFd an O_DIRECT descriptor of the same file, or undefined
   * @returns the bytes that went through the page cache (through `bufferedFd`)
   * @throws on I/O errors other than the alignment refusal
   */
  write(span: SpanWrite, bufferedFd: number, directFd: number | undefined): number {
    const { bytes, at, length, pos, aligned = false } = span;
    const start = Math.ceil(pos / DIRECT_ALIGN) * DIRECT_ALIGN;
    const end = Math.floor((pos + length) / DIRECT_ALIGN) * DIRECT_ALIGN;
    if (directFd === undefined || !this.#enabled || end - start < MIN_DIRECT_BYTES) {
      writeFully(bufferedFd, bytes, at, length, pos);
      return length;
    }
    if (start > pos) writeFully(bufferedFd, bytes, at, start - pos, pos);
    let done = start;
    while (done < end && this.#enabled) {
      const n = Math.min(CHUNK, end - done);
      const from = at + done - pos;
      const inPlace = aligned && from % DIRECT_ALIGN === 0;
      if (!this.#writeDirect(directFd, bytes.subarray(from, from + n), done, inPlace)) {
        break; // refused: the rest goes through the page cache
      }
      done += n;
    }
    writeFully(bufferedFd, bytes, at + done - pos, pos + length - done, done);
    return start - pos + (pos + length - done);
  }

  /**
   * Writes `chunk` at `pos` from where it is when `inPlace` (its address is aligned), else
   * copies it into the staging area and writes it from there; false when O_DIRECT is refused.
   */
  #writeDirect(fd: number, chunk: Uint8Array, pos: number, inPlace: boolean): boolean {
    if (inPlace) {
      try {
        writeFully(fd, chunk, 0, chunk.length, pos);
        this.directBytes += chunk.length;
        this.zeroCopyBytes += chunk.length;
        return true;
      } catch (e) {
        if (!isEinval(e)) throw e; // not aligned after all (or no O_DIRECT): the staging copy tells
      }
    }
    if (this.#offset === undefined && !this.#probe(fd, chunk.subarray(0, DIRECT_ALIGN), pos)) {
      return false;
    }
    const offset = this.#offset ?? 0;
    const staging = this.#raw.subarray(offset, offset + chunk.length);
    staging.set(chunk);
    try {
      writeFully(fd, staging, 0, chunk.length, pos);
    } catch (e) {
      if (!isEinval(e)) throw e;
      this.#enabled = false;
      return false;
    }
    this.directBytes += chunk.length;
    return true;
  }

  /**
   * Finds the aligned staging offset by writing `block` (the data that belongs at `pos`)
   * from successive offsets; false if none works.
   */
  #probe(fd: number, block: Uint8Array, pos: number): boolean {
    for (let offset = 0; offset < DIRECT_ALIGN; offset += PROBE_STEP) {
      const staging = this.#raw.subarray(offset, offset + block.length);
      staging.set(block);
      try {
        writeFully(fd, staging, 0, block.length, pos);
      } catch (e) {
        if (isEinval(e)) continue;
        throw e;
      }
      this.#offset = offset;
      return true;
    }
    this.#enabled = false;
    return false;
  }
}

/**
 * Writes `length` bytes of `bytes` from `at` to file position `pos`, looping on short writes.
 * @throws on I/O errors
 */
export function writeFully(
  fd: number,
  bytes: Uint8Array,
  at: number,
  length: number,
  pos: number,
): void {
  for (let done = 0; done < length;) {
    const n = fs.writeSync(fd, bytes, at + done, length - done, pos + done);
    if (n <= 0) throw new Error(`write made no progress at offset ${pos + done}`);
    done += n;
  }
}
