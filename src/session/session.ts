/**
 * The session: many torrents behind one listen socket (ConnectionManager dispatches by
 * info-hash), the shared peer sources (DHT node, tracker transports), shared rate
 * limits, events, and a graceful close. Platform services are injected, so the
 * simulator runs this same code.
 *
 * Layer: driver.
 * @module
 */
import type { Clock, Logger, Network, PeerAddress, Random } from "../runtime/types.ts";
import type { DiskIo } from "../storage/disk_io.ts";
import { SILENT_LOGGER } from "../runtime/types.ts";
import type { MagnetLink, Metainfo } from "../metainfo/mod.ts";
import { generatePeerId } from "../wire/mod.ts";
import { TokenBucket } from "../util/token_bucket.ts";
import { toHex } from "../util/bytes.ts";
import { req2Hash } from "../net/mse/mod.ts";
import { type Settings, validateSettings } from "./settings.ts";
import { type EngineEvent, EventHub, type EventOptions } from "./events.ts";
import type { ResumeStore, StateStore, StorageFiles, TorrentContext } from "./context.ts";
import type { HttpFetcher } from "../tracker/http_client.ts";
import type { RangeFetcher } from "./web_seed_transport.ts";
import { TorrentRuntime } from "./torrent.ts";
import { Torrent } from "./torrent_handle.ts";
import { ConnectionManager } from "./connections.ts";
import { PeerSources } from "./peer_sources.ts";
import { bindListeners, type BoundListeners, listenAddress } from "./listeners.ts";
import { DatagramMux, UtpSocket } from "../net/utp/mod.ts";

/** Services and settings for a {@linkcode Session}. */
export interface SessionOptions {
  /** Settings overrides. */
  readonly settings?: Partial<Settings>;
  /** TCP (and UDP) network. */
  readonly network: Network;
  /** Monotonic clock and timers. */
  readonly clock: Clock;
  /** Randomness. */
  readonly random: Random;
  /** SHA-1 and file I/O backend. */
  readonly disk: DiskIo;
  /** Log sink. */
  readonly logger?: Logger;
  /** Resume persistence. */
  readonly resumeStore?: ResumeStore;
  /** Our peer id (random Azureus-style by default). */
  readonly peerId?: Uint8Array;
  /** Where the DHT routing table is kept across runs. */
  readonly dhtStateStore?: StateStore;
  /** Resolves host names (DHT bootstrap routers, UDP trackers). */
  readonly resolveHost?: (host: string) => Promise<string[]>;
  /** HTTP transport for trackers; without one, HTTP trackers are not used. */
  readonly httpFetcher?: HttpFetcher;
  /** Moves and deletes torrent files (`moveStorage`, `remove` with `deleteFiles`). */
  readonly storageFiles?: StorageFiles;
  /** HTTP range requests for web seeds (BEP 19); without one, web seeds are not used. */
  readonly webSeedFetcher?: RangeFetcher;
}

/** Options for {@linkcode Session.remove}. */
export interface RemoveOptions {
  /**
   * Also delete the torrent's own files under its save path (and directories they leave
   * empty), never anything else. Default false.
   */
  readonly deleteFiles?: boolean;
}

/** Session-wide rate limits, bytes/s (0 = none). */
export interface RateLimits {
  /** Download limit. */
  readonly maxDownloadBytesPerSecond?: number;
  /** Upload limit. */
  readonly maxUploadBytesPerSecond?: number;
}

/** Options for {@linkcode Session.add}. */
export interface AddOptions {
  /** Save path. */
  readonly dir: string;
  /** Keep seeding after completion. */
  readonly seed?: boolean;
  /** Peers to connect to. */
  readonly peers?: readonly PeerAddress[];
  /** Per-torrent upload cap, bytes/s. */
  readonly maxUploadBytesPerSecond?: number;
  /** Per-torrent download cap, bytes/s. */
  readonly maxDownloadBytesPerSecond?: number;
  /** Download pieces in order (streaming) instead of rarest first. */
  readonly sequential?: boolean;
  /**
   * Priority per file, in torrent order: 0 skips the file, 1..7 (default 4; higher first).
   * A piece shared with a wanted file is still downloaded, so edges of skipped files
   * may be written.
   */
  readonly filePriorities?: readonly number[];
  /** For a magnet link: download only these file indices (BEP 53 `so`). */
  readonly selectOnly?: readonly number[];
  /** BEP 16 super-seeding when the data is complete (for an initial seeder). */
  readonly superSeed?: boolean;
  /** Extra trackers, as BEP 12 tiers after the torrent's own. */
  readonly trackers?: readonly (readonly string[])[];
  /**
   * Add paused: a `.torrent`'s data is checked (so its progress is known), then it waits
   * for `Torrent.resume()`; no peer source starts.
   */
  readonly paused?: boolean;
}

/** Many torrents behind one listen port. */
export class Session {
  /** Effective settings. */
  readonly settings: Settings;
  /** Our peer id. */
  readonly peerId: Uint8Array;
  readonly #opts: SessionOptions;
  readonly #hub = new EventHub();
  readonly #torrents = new Map<string, TorrentRuntime>();
  /** Torrents by hex of HASH('req2', info-hash): how an MSE initiator names its torrent. */
  readonly #byReq2 = new Map<string, TorrentRuntime>();
  readonly #ctx: TorrentContext;
  readonly #connections: ConnectionManager;
  readonly #sources: PeerSources;
  #bound: BoundListeners | undefined;
  #mux: DatagramMux | undefined;
  #utp: UtpSocket | undefined;
  #closed = false;

  /** Builds a session; call {@linkcode listen} to accept connections. */
  constructor(options: SessionOptions) {
    this.#opts = options;
    this.settings = validateSettings(options.settings ?? {});
    this.peerId = options.peerId ?? generatePeerId(options.random);
    const now = options.clock.now();
    const logger = options.logger ?? SILENT_LOGGER;
    this.#sources = new PeerSources({
      settings: this.settings,
      network: options.network,
      clock: options.clock,
      random: options.random,
      logger,
      hub: this.#hub,
      resolveHost: options.resolveHost,
      httpFetcher: options.httpFetcher,
      dhtStateStore: options.dhtStateStore,
      find: (hex) => this.#torrents.get(hex),
    });
    this.#connections = new ConnectionManager({
      settings: this.settings,
      network: options.network,
      clock: options.clock,
      random: options.random,
      peerId: this.peerId,
      find: (hex) => this.#torrents.get(hex),
      findByReq2: (req2) => this.#byReq2.get(toHex(req2))?.infoHash,
      attachedCount: () => {
        let n = 0;
        for (const t of this.#torrents.values()) n += t.peers.size;
        return n;
      },
      dhtEnabled: () => !!this.#sources.dht,
    });
    this.#ctx = {
      clock: options.clock,
      random: options.random,
      disk: options.disk,
      logger,
      hub: this.#hub,
      settings: this.settings,
      peerId: this.peerId,
      listenPort: () => this.port,
      dial: (addr, hex) => this.#connections.dial(addr, hex),
      downloadBucket: new TokenBucket(this.settings.maxDownloadBytesPerSecond, now),
      uploadBucket: new TokenBucket(this.settings.maxUploadBytesPerSecond, now),
      resumeStore: options.resumeStore,
      storageFiles: options.storageFiles,
      dht: () => this.#sources.dht,
      webSeedFetcher: options.webSeedFetcher,
    };
  }

  /** The bound listen port (0 before {@linkcode listen}). */
  get port(): number {
    return this.#bound?.port ?? 0;
  }

  /** The bound listen address. */
  get address(): PeerAddress | undefined {
    return this.#bound ? listenAddress(this.#bound) : undefined;
  }

  /**
   * Binds the listen socket: the configured port, or the next free one of the 10 after it.
   * @throws {Error} when no port could be bound
   */
  async listen(): Promise<PeerAddress> {
    const s = this.settings;
    const { clock, random, logger } = this.#opts;
    const bound = this.#bound = await bindListeners(s, this.#opts.network);
    if (bound.warning) {
      this.#hub.emit({ type: "dht-warning", category: "dht", message: bound.warning });
    }
    if (bound.tcp) void this.#connections.acceptFrom(bound.tcp);
    if (bound.udp) {
      // One UDP socket for uTP and the DHT, split by each datagram's first byte.
      const mux = this.#mux = new DatagramMux(bound.udp, logger ? { logger } : {});
      if (s.enableUtp) {
        this.#utp = new UtpSocket({ port: mux.utp, clock, random, ...(logger ? { logger } : {}) });
        void this.#connections.acceptUtp(this.#utp);
      }
      if (s.enableDht) await this.#sources.startDht(mux.krpc);
    }
    const address = listenAddress(bound)!;
    if (s.enableLsd) await this.#sources.startLsd(address.port);
    return address;
  }

  /** LSD counters (announces sent and heard, peers found), when LSD runs (BEP 14). */
  lsdStats(): Readonly<Record<string, number>> | undefined {
    const lsd = this.#sources.lsd;
    return lsd ? { ...lsd.stats } : undefined;
  }

  /** DHT counters (queries, replies, table size...), when the DHT runs (BEP 5). */
  dhtStats(): Readonly<Record<string, number>> | undefined {
    const dht = this.#sources.dht;
    return dht ? { ...dht.stats } as Record<string, number> : undefined;
  }

  /**
   * Adds a torrent and starts it (storage check, then peers).
   * @param meta parsed metainfo
   * @param options save path and peers
   * @returns a handle
   * @throws {Error} when the torrent is already in the session (F11)
   */
  async add(meta: Metainfo, options: AddOptions): Promise<Torrent> {
    const priorities = options.filePriorities;
    if (
      priorities &&
      (priorities.length !== meta.files.length ||
        priorities.some((p) => !Number.isInteger(p) || p < 0 || p > 7))
    ) {
      throw new RangeError(
        `Invalid filePriorities: need ${meta.files.length} integers from 0 to 7`,
      );
    }
    const torrent = this.#create({ meta }, options);
    await torrent.start(
      () => this.#addSources(torrent, meta.announceList, options),
      options.paused,
    );
    return new Torrent(torrent, this.#hub);
  }

  /**
   * Adds a magnet link: the torrent starts in the metadata phase (BEP 9), fetching the
   * info dictionary from peers (`x.pe`, `options.peers`, and any other source), then
   * downloads like any other, on the same connections. The handle works in both phases.
   * @param link a parsed magnet link
   * @param options save path and peers
   * @returns a handle
   * @throws {Error} when the torrent is already in the session
   */
  addMagnet(link: MagnetLink, options: AddOptions): Torrent {
    const torrent = this.#create({ link }, options);
    const tiers = link.trackers.map((t) => [t]);
    void torrent.start(() => this.#addSources(torrent, tiers, options), options.paused);
    return new Torrent(torrent, this.#hub);
  }

  #create(source: { meta: Metainfo } | { link: MagnetLink }, options: AddOptions): TorrentRuntime {
    if (this.#closed) throw new Error("Cannot add a torrent: the session is closed");
    const hex = "meta" in source ? source.meta.infoHashHex : source.link.infoHashHex;
    if (this.#torrents.has(hex)) {
      throw new Error(`Cannot add torrent ${hex}: it is already in the session`);
    }
    const torrent = new TorrentRuntime(this.#ctx, source, {
      dir: options.dir,
      seed: options.seed ?? false,
      sequential: options.sequential ?? false,
      superSeed: options.superSeed ?? false,
      ...(options.filePriorities ? { filePriorities: options.filePriorities } : {}),
      ...(options.selectOnly ? { selectOnly: options.selectOnly } : {}),
      ...(options.maxUploadBytesPerSecond !== undefined
        ? { maxUploadBytesPerSecond: options.maxUploadBytesPerSecond }
        : {}),
      ...(options.maxDownloadBytesPerSecond !== undefined
        ? { maxDownloadBytesPerSecond: options.maxDownloadBytesPerSecond }
        : {}),
    });
    this.#torrents.set(hex, torrent);
    this.#byReq2.set(toHex(req2Hash(torrent.infoHash)), torrent);
    return torrent;
  }

  /** Manual peers, then the trackers (the torrent's tiers and any extra ones) and the DHT. */
  #addSources(
    torrent: TorrentRuntime,
    tiers: readonly (readonly string[])[],
    options: AddOptions,
  ): void {
    if (options.peers) torrent.addPeers(options.peers, "manual");
    void this.#sources.start(this.#ctx, torrent, [...tiers, ...(options.trackers ?? [])]);
  }

  /**
   * The torrent with this info-hash.
   * @param infoHashHex lower-case hex info-hash
   * @returns its handle, or undefined when not in the session
   */
  torrent(infoHashHex: string): Torrent | undefined {
    const t = this.#torrents.get(infoHashHex);
    return t ? new Torrent(t, this.#hub) : undefined;
  }

  /** Torrent handles in the session. */
  torrents(): Torrent[] {
    return [...this.#torrents.values()].map((t) => new Torrent(t, this.#hub));
  }

  /** The handle of a torrent in the session, by hex info-hash. */
  get(infoHashHex: string): Torrent | undefined {
    const t = this.#torrents.get(infoHashHex.toLowerCase());
    return t && new Torrent(t, this.#hub);
  }

  /**
   * Removes a torrent: a `stopped` announce, peers and files closed, its resume data
   * forgotten; with `deleteFiles`, its own files under its save path are deleted too.
   * @param infoHashHex the torrent
   * @param options whether to delete its files
   * @throws {Error} when deleting files fails (the torrent is removed all the same)
   */
  async remove(infoHashHex: string, options: RemoveOptions = {}): Promise<void> {
    const t = this.#torrents.get(infoHashHex);
    if (!t) return;
    this.#torrents.delete(infoHashHex);
    this.#byReq2.delete(toHex(req2Hash(t.infoHash)));
    await t.stop();
    const { dir } = t.options;
    await this.#opts.resumeStore?.remove?.(dir, infoHashHex).catch(() => {});
    const meta = t.meta;
    if (!options.deleteFiles || !meta) return;
    const files = this.#opts.storageFiles;
    if (!files) throw new Error("Cannot delete files: no file mover is configured");
    await files.deleteFiles(dir, meta.files.filter((f) => !f.isPadding).map((f) => f.path));
  }

  /**
   * Changes the session-wide rate limits at once (`settings` keeps the values it started with).
   * @param limits bytes/s, 0 = none; a missing field is left as is
   * @throws {RangeError} for a negative or non-integer rate
   */
  setRateLimits(limits: RateLimits): void {
    const now = this.#opts.clock.now();
    const { maxDownloadBytesPerSecond: down, maxUploadBytesPerSecond: up } = limits;
    for (const v of [down, up]) {
      if (v !== undefined && (!Number.isSafeInteger(v) || v < 0)) {
        throw new RangeError(`Invalid rate limit: ${v}`);
      }
    }
    if (down !== undefined) this.#ctx.downloadBucket.setRate(down, now);
    if (up !== undefined) this.#ctx.uploadBucket.setRate(up, now);
  }

  /** Session-wide events. */
  events(options?: EventOptions): AsyncIterable<EngineEvent> {
    return this.#hub.subscribe(options);
  }

  /** Stops every torrent (resume data saved, files closed) and the listener. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#bound?.tcp?.close();
    await Promise.all([...this.#torrents.values()].map((t) => t.stop()));
    this.#torrents.clear();
    this.#byReq2.clear();
    this.#utp?.close();
    await this.#sources.close();
    this.#mux?.close();
    this.#connections.close();
    this.#hub.close();
  }
}
