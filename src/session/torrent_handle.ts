/**
 * The public handle of a torrent (libtorrent's handle/impl split): an info-hash plus
 * its session; all state stays in the session's runtime.
 *
 * Layer: driver.
 * @module
 */
import type { PeerAddress } from "../runtime/types.ts";
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
    const data = this.#runtime.data;
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
    const streams = this.#runtime.data?.streams;
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
