/**
 * The public handle of a torrent (libtorrent's handle/impl split): an info-hash plus
 * its session; all state stays in the session's runtime.
 *
 * Layer: driver.
 * @module
 */
import type { PeerAddress } from "../runtime/types.ts";
import type { Metainfo } from "../metainfo/mod.ts";
import type { EngineEvent, EventHub, EventOptions, TorrentStats } from "./events.ts";
import type { TorrentRuntime } from "./torrent.ts";
import type { PeerInfo } from "./peer_info.ts";
import type { ReadStreamOptions } from "./stream_reads.ts";

export type { PeerInfo } from "./peer_info.ts";
export type { ReadStreamOptions } from "./stream_reads.ts";

/** One file of a torrent, from {@linkcode Torrent.files}. */
export interface TorrentFileInfo {
  /** Index in torrent order (the `<file index>` of the stream URLs). */
  readonly index: number;
  /** Sanitised path below the save path, `/`-separated (starts with the torrent's directory for a multi-file torrent). */
  readonly path: string;
  /** Length in bytes. */
  readonly length: number;
  /** Offset of the file's first byte in the torrent's content. */
  readonly offset: number;
  /** BEP 47 padding file (never streamed). */
  readonly isPadding: boolean;
  /** Whether the file is wanted (its pieces are downloaded); a skipped file can only be read where its pieces are shared with wanted files. */
  readonly isSelected: boolean;
}

/** A torrent in a session. */
export class Torrent {
  readonly #runtime: TorrentRuntime;
  readonly #hub: EventHub;

  /** Internal: sessions make handles. */
  constructor(runtime: TorrentRuntime, hub: EventHub) {
    this.#runtime = runtime;
    this.#hub = hub;
  }

  /** Hex info-hash. */
  get infoHash(): string {
    return this.#runtime.infoHashHex;
  }

  /** Torrent name (a magnet's display name until its metadata arrives). */
  get name(): string {
    return this.#runtime.name;
  }

  /** Resolves once every wanted piece is verified on disk; rejects if the torrent stops first. */
  get done(): Promise<void> {
    return this.#runtime.done;
  }

  /** The metainfo, once known (a magnet's arrives with its metadata). */
  get metainfo(): Metainfo | undefined {
    return this.#runtime.meta;
  }

  /** The save path: files live at `<dir>/<file path>`. */
  get dir(): string {
    return this.#runtime.options.dir;
  }

  /** File priorities (0 = skip, 1..7), when set; otherwise every file is wanted at 4. */
  get filePriorities(): readonly number[] | undefined {
    return this.#runtime.options.filePriorities;
  }

  /** The torrent's own rate limits, bytes/s (0 = none). */
  get rateLimits(): { readonly download: number; readonly upload: number } {
    const o = this.#runtime.options;
    return { download: o.maxDownloadBytesPerSecond ?? 0, upload: o.maxUploadBytesPerSecond ?? 0 };
  }

  /** Why the torrent is in state `"error"` (cleared by {@linkcode resume}). */
  get error(): string | undefined {
    return this.#runtime.error;
  }

  /** Pieces hashed so far by the check in progress (state `"checking"`). */
  get checkedPieces(): number {
    return this.#runtime.checkedPieces;
  }

  /**
   * Pauses: peer sources stop (trackers hear `stopped`), peers close, pieces in flight are
   * drained, resume data is saved and the files closed; state `"paused"`. A check in
   * progress is abandoned. `done` stays pending. No-op when paused or removed.
   * @returns once paused
   */
  pause(): Promise<void> {
    return this.#runtime.lifecycle.pause();
  }

  /**
   * Resumes a paused torrent, or retries one in `"error"`: the files reopen with the resume
   * data (no full rehash when they are unchanged), then sources and dialing restart.
   * @returns once restarted (the check may still run: watch `state` or `check-finished`)
   */
  resume(): Promise<void> {
    return this.#runtime.lifecycle.resume();
  }

  /**
   * Rehashes every piece, ignoring resume data. A paused torrent stays paused after.
   * @returns once restarted, or for a paused torrent once the check is done
   */
  recheck(): Promise<void> {
    return this.#runtime.lifecycle.recheck();
  }

  /**
   * Moves the data to `dir`: pauses, moves the files (a rename on one file system, else
   * copy then delete) and the resume data, then resumes there if it was running.
   * @param dir the new save path
   * @returns once moved
   * @throws {Error} when the files cannot be moved (the torrent keeps its old path)
   */
  moveStorage(dir: string): Promise<void> {
    return this.#runtime.lifecycle.moveStorage(dir);
  }

  /**
   * Sets file priorities at runtime: 0 skips a file ("don't download"), 1..7 (4 normal;
   * higher first). Interest and the wanted bytes follow; a seed that now wants more
   * downloads again.
   * @param priorities one per file, in torrent order
   * @throws {RangeError} for a wrong count or a priority outside 0..7
   */
  setFilePriorities(priorities: readonly number[]): void {
    this.#runtime.setFilePriorities(priorities);
  }

  /**
   * Changes the torrent's own rate limits (the session's apply too).
   * @param limits bytes/s, 0 = none; a missing field is left as is
   * @throws {RangeError} for a negative or non-integer rate
   */
  setRateLimits(limits: { readonly download?: number; readonly upload?: number }): void {
    for (const v of [limits.download, limits.upload]) {
      if (v !== undefined && (!Number.isSafeInteger(v) || v < 0)) {
        throw new RangeError(`Invalid rate limit: ${v}`);
      }
    }
    this.#runtime.setRateLimits(limits);
  }

  /**
   * Verified bytes of each file (for a file list's progress).
   * @returns one count per file in torrent order; empty before a magnet's metadata
   */
  fileProgress(): number[] {
    return this.#runtime.pieceWork?.fileBytesVerified() ?? [];
  }

  /**
   * Which pieces are verified, as a BEP 3 bitfield (piece 0 is the high bit of byte 0).
   * @returns the bitfield; empty before a magnet's metadata
   */
  piecesBitfield(): Uint8Array {
    const work = this.#runtime.pieceWork;
    if (!work) return new Uint8Array(0);
    const out = new Uint8Array(Math.ceil(work.pieceCount / 8));
    for (let i = 0; i < work.pieceCount; i++) {
      if (work.picker.has(i)) out[i >> 3]! |= 0x80 >> (i & 7);
    }
    return out;
  }

  /** A statistics snapshot. */
  stats(): TorrentStats {
    return this.#runtime.stats();
  }

  /** One line of state per connected peer (libtorrent's `get_peer_info`). */
  peers(): PeerInfo[] {
    return this.#runtime.peerInfos();
  }

  /**
   * Checks the engine's invariants for this torrent (piece picker, peer list, every peer's
   * request queues); throws on a violation. For tests and simulations, which call it after
   * every step.
   */
  assertInvariants(): void {
    this.#runtime.assertInvariants();
  }

  /**
   * The torrent's files, once its metadata is known.
   * @returns the files in torrent order, or undefined in a magnet's metadata phase
   */
  files(): TorrentFileInfo[] | undefined {
    const data = this.#runtime.pieceWork;
    if (!data) return undefined;
    const { picker, meta } = data;
    return meta.files.map((f, index) => {
      const first = Math.floor(f.offset / meta.pieceLength);
      const last = Math.floor(Math.max(f.offset, f.offset + f.length - 1) / meta.pieceLength);
      let isSelected = false;
      for (let i = first; i <= last && !isSelected; i++) isSelected = picker.priorityOf(i) > 0;
      return {
        index,
        path: f.path.join("/"),
        length: f.length,
        offset: f.offset,
        isPadding: f.isPadding,
        isSelected: isSelected || f.length === 0,
      };
    });
  }

  /**
   * Reads file `fileIndex` while the torrent downloads: the stream waits for each piece
   * to be verified, and the pieces under it and the next `streamReadAheadBytes` get
   * deadlines, so they are requested first (libtorrent's `set_piece_deadline`). Seeking
   * is opening another stream at another `start`; cancelling a stream releases its
   * deadlines.
   * @param fileIndex the file, in torrent order
   * @param options `start` and `end` (inclusive) byte offsets in the file, an abort signal
   * @returns the bytes, in chunks of at most `streamReadChunkBytes`
   * @throws {RangeError} for a file or range outside the torrent, a piece of a skipped
   *   file, or when `maxStreamReaders` readers are open
   * @throws {Error} before a magnet's metadata is known
   */
  createReadStream(fileIndex: number, options?: ReadStreamOptions): ReadableStream<Uint8Array> {
    const streams = this.#runtime.pieceWork?.streams;
    if (!streams) throw new Error("Cannot read yet: the torrent's metadata is not known");
    return streams.openFile(fileIndex, options);
  }

  /** Adds peer addresses to connect to. */
  addPeers(peers: readonly PeerAddress[]): void {
    this.#runtime.addPeers(peers, "manual");
  }

  /** This torrent's events, as an async iterable. */
  async *events(options: EventOptions = {}): AsyncIterable<EngineEvent> {
    const hex = this.#runtime.infoHashHex;
    for await (const e of this.#hub.subscribe(options)) {
      const own = "infoHash" in e
        ? e.infoHash === hex
        : e.type === "progress" && e.stats.infoHash === hex;
      if (own || e.category === "dht") yield e;
    }
  }
}
