/**
 * Streaming reads of one torrent while it downloads: `ReadableStream`s over the bytes of a
 * file (or any span of the torrent), each one a reader of the pure {@linkcode ReadWindows}
 * core. A read waits until its piece is verified, then reads the bytes through the disk
 * workers (`DiskIo.read`; the main isolate never reads files itself). While a reader
 * waits or reads on, its window's pieces carry deadlines in the picker (the piece under it
 * due now, the next few MiB after it), so they are requested first from the peers that
 * can deliver in time; a seek moves the window, and a reader that is cancelled or ends
 * releases its deadlines.
 *
 * Bounds: `maxStreamReaders` readers per torrent (more are refused with a RangeError); a
 * reader holds at most two chunks of `streamReadChunkBytes` (the one being read and the
 * one queued in its stream), and waits on one piece at a time. A piece that is neither
 * verified nor wanted (a skipped file) is refused, not fetched: a finished torrent stops
 * requesting, so such a read could wait forever.
 *
 * Layer: driver (the deadlines come from the ReadWindows core).
 * @module
 */
import type { Metainfo } from "../metainfo/mod.ts";
import type { PiecePicker } from "../picker/mod.ts";
import { ReadWindows } from "../picker/read_windows.ts";
import type { TorrentContext } from "./context.ts";

/** Longest window in pieces (a torrent of 16 KiB pieces would otherwise make 256-piece windows). */
const MAX_WINDOW_PIECES = 128;

/** What the streams need from the piece work. */
export interface StreamHost {
  /** Session services (clock, disk, settings). */
  readonly ctx: TorrentContext;
  /** The torrent. */
  readonly meta: Metainfo;
  /** Verified pieces, priorities and deadlines. */
  readonly picker: PiecePicker;
  /** Disk storage handle (-1 before the storage is open). */
  storageId(): number;
  /** New pieces became time-critical: refill the peers' pipelines and wake the web seeds. */
  deadlinesAdded(): void;
}

/** Options of {@linkcode StreamReads.openFile}. */
export interface ReadStreamOptions {
  /** First byte of the file to read. Default 0. */
  readonly start?: number;
  /** Last byte of the file to read, inclusive (as in Node's and WebTorrent's streams). Default: the file's last byte. */
  readonly end?: number;
  /** Ends the stream with an error (and releases its deadlines). */
  readonly signal?: AbortSignal;
}

interface Waiter {
  resolve(): void;
  reject(e: Error): void;
}

/** The streaming readers of one torrent. */
export class StreamReads {
  readonly #host: StreamHost;
  readonly #windows: ReadWindows;
  readonly #waiters = new Map<number, Set<Waiter>>();
  #closed: Error | undefined;

  /** Binds to the piece work of a torrent. */
  constructor(host: StreamHost) {
    this.#host = host;
    const s = host.ctx.settings;
    const { pieceLength, totalLength } = host.meta;
    this.#windows = new ReadWindows({
      pieceLength,
      totalLength,
      readAheadBytes: s.streamReadAheadBytes,
      deadlineStepMs: Math.max(1, Math.round((pieceLength * 1000) / s.streamRateBytesPerSecond)),
      maxReaders: s.maxStreamReaders,
      maxWindowPieces: Math.min(
        MAX_WINDOW_PIECES,
        Math.ceil(s.streamReadAheadBytes / pieceLength) + 1,
      ),
    });
  }

  /** Readers open now. */
  get readerCount(): number {
    return this.#windows.readerCount;
  }

  /**
   * A stream of the bytes of file `fileIndex`, from `start` to `end` inclusive.
   * @throws {RangeError} for a file index or range outside the file, a range with a piece
   *   that is neither verified nor wanted, or when `maxStreamReaders` readers are open
   */
  openFile(fileIndex: number, options: ReadStreamOptions = {}): ReadableStream<Uint8Array> {
    const file = this.#host.meta.files[fileIndex];
    if (!Number.isInteger(fileIndex) || file === undefined) {
      throw new RangeError(`No file ${fileIndex} in this torrent`);
    }
    const start = options.start ?? 0;
    const end = options.end ?? file.length - 1;
    if (
      !Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start - 1
    ) {
      throw new RangeError(`Invalid range ${start}-${end} of file ${fileIndex}`);
    }
    if (end >= file.length) {
      throw new RangeError(
        `Range ${start}-${end} ends past file ${fileIndex} (${file.length} bytes)`,
      );
    }
    const { picker, meta } = this.#host;
    const last = Math.floor((file.offset + end) / meta.pieceLength);
    for (let i = Math.floor((file.offset + start) / meta.pieceLength); i <= last; i++) {
      if (end >= start && !picker.has(i) && picker.priorityOf(i) === 0) {
        throw new RangeError(
          `Cannot read file ${fileIndex}: piece ${i} is not selected for download`,
        );
      }
    }
    return this.open({ from: file.offset + start, to: file.offset + end + 1 }, options.signal);
  }

  /**
   * A stream of the torrent's bytes `from` to `to` (exclusive).
   * @throws {RangeError} when `maxStreamReaders` readers are open, or the torrent stopped
   */
  open(
    range: { readonly from: number; readonly to: number },
    signal?: AbortSignal,
  ): ReadableStream<Uint8Array> {
    if (this.#closed) throw new RangeError(`Cannot read: ${this.#closed.message}`);
    const id = this.#windows.open();
    if (id === undefined) {
      throw new RangeError(`Cannot read: ${this.#host.ctx.settings.maxStreamReaders} readers open`);
    }
    let pos = range.from;
    let waiter: Waiter | undefined;
    let finished = false;
    const finish = (reason?: Error) => {
      if (finished) return;
      finished = true;
      if (waiter) this.#forget(waiter, reason ?? new Error("Reader closed"));
      this.#apply(this.#windows.close(id));
    };
    const onAbort = () => {
      finish(new Error("Read aborted"));
      controller?.error(signal?.reason ?? new Error("Read aborted"));
    };
    let controller: ReadableStreamDefaultController<Uint8Array> | undefined;
    return new ReadableStream<Uint8Array>({
      start: (c) => {
        controller = c;
        if (signal?.aborted) onAbort();
        else signal?.addEventListener("abort", onAbort, { once: true });
      },
      pull: async (c) => {
        try {
          if (pos >= range.to) {
            finish();
            signal?.removeEventListener("abort", onAbort);
            return c.close();
          }
          const data = await this.#readAt(id, pos, range.to, (w) => waiter = w);
          waiter = undefined;
          if (finished) return;
          pos += data.length;
          c.enqueue(data);
        } catch (e) {
          finish(e as Error);
          signal?.removeEventListener("abort", onAbort);
          throw e;
        }
      },
      cancel: () => {
        finish();
        signal?.removeEventListener("abort", onAbort);
      },
    }, { highWaterMark: 1 });
  }

  /** Piece `index` was verified: its readers go on. */
  pieceVerified(index: number): void {
    const set = this.#waiters.get(index);
    if (set === undefined) return;
    this.#waiters.delete(index);
    for (const w of set) w.resolve();
  }

  /** Wakes readers whose pieces were verified otherwise (the storage check). */
  wake(): void {
    for (const index of [...this.#waiters.keys()]) {
      if (this.#host.picker.has(index)) this.pieceVerified(index);
    }
  }

  /** The torrent stopped or failed: every waiting read fails, new readers are refused. */
  close(reason: Error): void {
    this.#closed ??= reason;
    for (const set of this.#waiters.values()) for (const w of set) w.reject(reason);
    this.#waiters.clear();
  }

  /** Reads the next chunk at `pos` (waiting for its piece), after moving the window there. */
  async #readAt(id: number, pos: number, to: number, onWait: (w: Waiter) => void) {
    const { picker, ctx } = this.#host;
    this.#apply(this.#windows.move(id, { from: pos, to }, ctx.clock.now(), (i) => picker.has(i)));
    const { pieceLength } = this.#host.meta;
    const index = Math.floor(pos / pieceLength);
    if (!picker.has(index)) {
      if (picker.priorityOf(index) === 0) {
        throw new RangeError(`Cannot read piece ${index}: it is not selected for download`);
      }
      await new Promise<void>((resolve, reject) => {
        const w = { resolve, reject };
        onWait(w);
        if (this.#closed) return reject(this.#closed);
        let set = this.#waiters.get(index);
        if (set === undefined) this.#waiters.set(index, set = new Set());
        set.add(w);
      });
    }
    const begin = pos - index * pieceLength;
    const pieceEnd = index * pieceLength + picker.pieceLengthOf(index);
    const length = Math.min(to, pieceEnd, pos + ctx.settings.streamReadChunkBytes) - pos;
    return await ctx.disk.read(this.#host.storageId(), index, begin, length);
  }

  #forget(w: Waiter, reason: Error): void {
    for (const [index, set] of this.#waiters) {
      if (!set.delete(w)) continue;
      if (set.size === 0) this.#waiters.delete(index);
      w.reject(reason);
      return;
    }
  }

  #apply(changes: { set: readonly (readonly [number, number])[]; clear: readonly number[] }) {
    const picker = this.#host.picker;
    for (const i of changes.clear) picker.clearPieceDeadline(i);
    let added = false;
    for (const [i, deadline] of changes.set) {
      if (picker.has(i)) continue;
      added ||= picker.deadlineOf(i) === undefined;
      picker.setPieceDeadline(i, deadline);
    }
    if (added) this.#host.deadlinesAdded();
  }
}
