/**
 * The session: one listen socket for many torrents (dispatched by info-hash), outgoing
 * dials with timeouts, connection caps, shared rate limits, events, and a graceful
 * close. Platform services are injected, so the simulator runs this same code.
 *
 * Layer: driver.
 * @module
 */
import type {
  Clock,
  Conn,
  Listener,
  Logger,
  Network,
  PeerAddress,
  Random,
  UdpSocketLike,
} from "../runtime/types.ts";
import type { DiskIo } from "../storage/disk_io.ts";
import { SILENT_LOGGER } from "../runtime/types.ts";
import type { MagnetLink, Metainfo } from "../metainfo/mod.ts";
import { generatePeerId } from "../wire/mod.ts";
import { toHex } from "../util/bytes.ts";
import { TokenBucket } from "../util/token_bucket.ts";
import { readHandshake, writeHandshake } from "../net/handshake_io.ts";
import { type Settings, validateSettings } from "./settings.ts";
import { type EngineEvent, EventHub, type EventOptions } from "./events.ts";
import type { ResumeStore, StateStore, TorrentContext } from "./context.ts";
import { DhtNode } from "../dht/mod.ts";
import { DhtPeerSource } from "./dht_source.ts";
import { TrackerPeerSource, type TrackerTransports } from "./tracker_source.ts";
import { type HttpFetcher, HttpTrackerClient } from "../tracker/http_client.ts";
import { UdpTrackerClient } from "../tracker/udp_client.ts";
import { TorrentRuntime } from "./torrent.ts";
import { Torrent } from "./torrent_handle.ts";
import { TorrentSlot } from "./torrent_slot.ts";
import { MetadataFetcher } from "./metadata_fetcher.ts";

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
}

/** Many torrents behind one listen port. */
export class Session {
  /** Effective settings. */
  readonly settings: Settings;
  /** Our peer id. */
  readonly peerId: Uint8Array;
  readonly #opts: SessionOptions;
  readonly #hub = new EventHub();
  readonly #torrents = new Map<string, TorrentSlot>();
  readonly #ctx: TorrentContext;
  readonly #conns = new Set<Conn>();
  #listener: Listener | undefined;
  #dht: DhtNode | undefined;
  #trackerTransports: Promise<TrackerTransports> | undefined;
  readonly #udpSockets: UdpSocketLike[] = [];
  #pendingHandshakes = 0;
  #closed = false;

  /** Builds a session; call {@linkcode listen} to accept connections. */
  constructor(options: SessionOptions) {
    this.#opts = options;
    this.settings = validateSettings(options.settings ?? {});
    this.peerId = options.peerId ?? generatePeerId(options.random);
    const now = options.clock.now();
    this.#ctx = {
      clock: options.clock,
      random: options.random,
      disk: options.disk,
      logger: options.logger ?? SILENT_LOGGER,
      hub: this.#hub,
      settings: this.settings,
      peerId: this.peerId,
      listenPort: () => this.port,
      dial: (addr, hex) => this.#dial(addr, hex),
      downloadBucket: new TokenBucket(this.settings.maxDownloadBytesPerSecond, now),
      uploadBucket: new TokenBucket(this.settings.maxUploadBytesPerSecond, now),
      resumeStore: options.resumeStore,
      dht: () => this.#dht,
    };
  }

  /** The bound listen port (0 before {@linkcode listen}). */
  get port(): number {
    return this.#listener?.addr.port ?? 0;
  }

  /** The bound listen address. */
  get address(): PeerAddress | undefined {
    return this.#listener?.addr;
  }

  /**
   * Binds the listen socket: the configured port, or the next free one of the 10 after it.
   * @throws {Error} when no port could be bound
   */
  async listen(): Promise<PeerAddress> {
    const { listenHost, listenPort } = this.settings;
    let lastError: unknown;
    const tries = listenPort === 0 ? 1 : 11;
    for (let i = 0; i < tries && !this.#listener; i++) {
      try {
        this.#listener = await this.#opts.network.listen({
          host: listenHost,
          port: listenPort + i,
        });
      } catch (e) {
        lastError = e;
      }
    }
    if (!this.#listener) {
      throw new Error(`Cannot listen on ${listenHost}:${listenPort}..${listenPort + tries - 1}`, {
        cause: lastError,
      });
    }
    void this.#acceptLoop(this.#listener);
    if (this.settings.enableDht) await this.#startDht(this.#listener.addr);
    return this.#listener.addr;
  }

  /** DHT counters (queries, replies, table size...), when the DHT runs (BEP 5). */
  dhtStats(): Readonly<Record<string, number>> | undefined {
    return this.#dht ? { ...this.#dht.stats } as Record<string, number> : undefined;
  }

  async #startDht(tcp: PeerAddress): Promise<void> {
    const { network, clock, random, logger } = this.#opts;
    let socket;
    try {
      socket = await network.bindUdp({ host: tcp.host, port: tcp.port });
    } catch {
      try {
        socket = await network.bindUdp({ host: tcp.host, port: 0 });
      } catch (e) {
        this.#hub.emit({ type: "dht-warning", category: "dht", message: `DHT off: ${String(e)}` });
        return;
      }
    }
    const bootstrapNodes = this.settings.dhtBootstrapNodes.flatMap((text) => {
      const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(text);
      return m ? [{ host: m[1]!, port: Number(m[2]) }] : [];
    });
    const dht = new DhtNode({
      socket,
      clock,
      random,
      bootstrapNodes,
      allowLocalAddresses: this.settings.allowLocalPeers,
      ...(logger ? { logger } : {}),
      ...(this.#opts.resolveHost ? { resolve: this.#opts.resolveHost } : {}),
    });
    const saved = await this.#opts.dhtStateStore?.load().catch(() => undefined);
    if (saved) {
      try {
        dht.loadState(saved);
      } catch { /* a damaged table is only a slower bootstrap */ }
    }
    this.#dht = dht;
    dht.start();
    // Never blocks the other peer sources: the answer only decides whether to warn.
    dht.bootstrap().then((ok) => {
      if (!ok) {
        this.#hub.emit({
          type: "dht-warning",
          category: "dht",
          message: "DHT: no bootstrap node answered; retrying in the background with backoff",
        });
      }
    });
  }

  async #startPeerSources(
    slot: TorrentSlot,
    isPrivate: boolean,
    tiers: readonly (readonly string[])[],
  ): Promise<void> {
    if (tiers.some((t) => t.length > 0)) {
      const tracker = new TrackerPeerSource(this.#ctx, slot, await this.#transports(), tiers);
      slot.onStop(() => tracker.stop());
      slot.setTrackerStatus(() => tracker.status());
      tracker.start();
    }
    if (isPrivate || !this.#dht) return; // BEP 27: private torrents use their trackers only
    const source = new DhtPeerSource(this.#ctx, slot);
    slot.onStop(() => source.stop());
    source.start();
  }

  /** The shared tracker transports, made on first use (a UDP socket for BEP 15). */
  #transports(): Promise<TrackerTransports> {
    this.#trackerTransports ??= (async () => {
      const { network, clock, random, httpFetcher, resolveHost } = this.#opts;
      const policy = this.settings.allowLocalPeers ? { allowLocalAnyPath: true } : {};
      const http = httpFetcher
        ? new HttpTrackerClient({ fetcher: httpFetcher, ...policy })
        : undefined;
      let udp: UdpTrackerClient | undefined;
      try {
        const socket = await network.bindUdp({ host: this.settings.listenHost, port: 0 });
        this.#udpSockets.push(socket);
        udp = new UdpTrackerClient({
          socket,
          clock,
          random,
          ...(resolveHost
            ? {
              resolve: async (host: string) => {
                const found = await resolveHost(host);
                if (found.length === 0) throw new Error(`Cannot resolve ${host}`);
                return found[0]!;
              },
            }
            : {}),
        });
      } catch {
        udp = undefined; // no UDP here: HTTP trackers still work
      }
      return { ...(http ? { http } : {}), ...(udp ? { udp } : {}) };
    })();
    return this.#trackerTransports;
  }

  /**
   * Adds a torrent and starts it (storage check, then peers).
   * @param meta parsed metainfo
   * @param options save path and peers
   * @returns a handle
   * @throws {Error} when the torrent is already in the session (F11)
   */
  async add(meta: Metainfo, options: AddOptions): Promise<Torrent> {
    if (this.#closed) throw new Error("Cannot add a torrent: the session is closed");
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
    if (this.#torrents.has(meta.infoHashHex)) {
      throw new Error(`Cannot add torrent ${meta.infoHashHex}: it is already in the session`);
    }
    const slot = new TorrentSlot(meta.infoHash, meta.infoHashHex, this.#runtime(meta, options));
    this.#torrents.set(meta.infoHashHex, slot);
    await slot.runtime!.start();
    if (options.peers) slot.addPeers(options.peers, "manual");
    await this.#startPeerSources(slot, meta.isPrivate, [
      ...meta.announceList,
      ...(options.trackers ?? []),
    ]);
    return new Torrent(slot, this.#hub);
  }

  /**
   * Adds a magnet link: the torrent starts in the metadata phase (BEP 9), fetching the
   * info dictionary from peers (`x.pe`, `options.peers`, and any other source), then
   * downloads like any other. The handle works in both phases.
   * @param link a parsed magnet link
   * @param options save path and peers
   * @returns a handle
   * @throws {Error} when the torrent is already in the session
   */
  addMagnet(link: MagnetLink, options: AddOptions): Torrent {
    if (this.#closed) throw new Error("Cannot add a torrent: the session is closed");
    if (this.#torrents.has(link.infoHashHex)) {
      throw new Error(`Cannot add torrent ${link.infoHashHex}: it is already in the session`);
    }
    // The callbacks run only after `slot` is initialised (once peers answer).
    const fetcher = new MetadataFetcher(this.#ctx, link, {
      onMetadata: (meta) => void this.#metadataArrived(slot, fetcher, meta, options),
      onError: (message) => {
        this.#hub.emit({
          type: "torrent-error",
          category: "torrent",
          infoHash: link.infoHashHex,
          message,
        });
        slot.fail(new Error(message));
      },
    });
    const slot = new TorrentSlot(link.infoHash, link.infoHashHex, fetcher);
    this.#torrents.set(link.infoHashHex, slot);
    this.#hub.emit({
      type: "torrent-added",
      category: "torrent",
      infoHash: link.infoHashHex,
      name: fetcher.name,
    });
    fetcher.start();
    if (options.peers) slot.addPeers(options.peers, "manual");
    void this.#startPeerSources(slot, false, [
      ...link.trackers.map((t) => [t]),
      ...(options.trackers ?? []),
    ]);
    return new Torrent(slot, this.#hub);
  }

  async #metadataArrived(
    slot: TorrentSlot,
    fetcher: MetadataFetcher,
    meta: Metainfo,
    options: AddOptions,
  ): Promise<void> {
    if (slot.isStopped) return;
    const known = fetcher.knownAddresses();
    await fetcher.stop();
    if (options.selectOnly) {
      // BEP 53 `so`: file indices, known to match only now that the file list is known.
      const wanted = new Set(options.selectOnly.filter((i) => i < meta.files.length));
      options = { ...options, filePriorities: meta.files.map((_, i) => wanted.has(i) ? 4 : 0) };
    }
    if (options.filePriorities && options.filePriorities.length !== meta.files.length) {
      const { filePriorities: _, ...rest } = options;
      options = rest;
    }
    const runtime = this.#runtime(meta, options);
    slot.enter(runtime);
    await runtime.start();
    slot.addPeers(known, "magnet");
    if (options.peers) slot.addPeers(options.peers, "manual");
  }

  #runtime(meta: Metainfo, options: AddOptions): TorrentRuntime {
    return new TorrentRuntime(this.#ctx, meta, {
      dir: options.dir,
      seed: options.seed ?? false,
      sequential: options.sequential ?? false,
      superSeed: options.superSeed ?? false,
      ...(options.filePriorities ? { filePriorities: options.filePriorities } : {}),
      ...(options.maxUploadBytesPerSecond !== undefined
        ? { maxUploadBytesPerSecond: options.maxUploadBytesPerSecond }
        : {}),
      ...(options.maxDownloadBytesPerSecond !== undefined
        ? { maxDownloadBytesPerSecond: options.maxDownloadBytesPerSecond }
        : {}),
    });
  }

  /** Torrent handles in the session. */
  torrents(): Torrent[] {
    return [...this.#torrents.values()].map((t) => new Torrent(t, this.#hub));
  }

  /** Removes a torrent: closes its peers and files. */
  async remove(infoHashHex: string): Promise<void> {
    const t = this.#torrents.get(infoHashHex);
    if (!t) return;
    this.#torrents.delete(infoHashHex);
    await t.stop();
  }

  /** Session-wide events. */
  events(options?: EventOptions): AsyncIterable<EngineEvent> {
    return this.#hub.subscribe(options);
  }

  /** Stops every torrent (resume data saved, files closed) and the listener. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#listener?.close();
    await Promise.all([...this.#torrents.values()].map((t) => t.stop()));
    this.#torrents.clear();
    for (const socket of this.#udpSockets) socket.close();
    if (this.#dht) {
      // The routing table is saved once, at close (not continuously).
      await this.#opts.dhtStateStore?.save(this.#dht.saveState()).catch(() => {});
      this.#dht.close();
    }
    for (const c of this.#conns) c.close();
    this.#hub.close();
  }

  async #acceptLoop(listener: Listener): Promise<void> {
    for await (const conn of listener) {
      if (this.#closed) {
        conn.close();
        break;
      }
      // PW11: cap pending handshakes and total connections.
      if (
        this.#pendingHandshakes >= 64 || this.#connectionCount() >= this.settings.maxConnections
      ) {
        conn.close();
        continue;
      }
      void this.#accept(conn);
    }
  }

  async #accept(conn: Conn): Promise<void> {
    this.#pendingHandshakes++;
    this.#conns.add(conn);
    try {
      const hs = await readHandshake(conn, this.#opts.clock, this.settings.handshakeTimeoutMs);
      const torrent = this.#torrents.get(toHex(hs.remote.infoHash));
      if (!torrent || torrent.isStopped || sameBytes(hs.remote.peerId, this.peerId)) {
        conn.close();
        return;
      }
      const answeredAt = this.#opts.clock.now();
      await writeHandshake(conn, hs.remote.infoHash, { peerId: this.peerId, dht: !!this.#dht });
      torrent.attach(conn, { ...hs, answeredAt }, false);
    } catch {
      conn.close(); // a bad handshake only costs the peer its own connection
    } finally {
      this.#pendingHandshakes--;
      this.#conns.delete(conn);
    }
  }

  async #dial(addr: PeerAddress, infoHashHex: string): Promise<boolean> {
    const torrent = this.#torrents.get(infoHashHex);
    if (!torrent || this.#closed) return false;
    const { clock, network } = this.#opts;
    const abort = new AbortController();
    const timer = clock.schedule(this.settings.connectTimeoutMs, () => abort.abort());
    let conn: Conn | undefined;
    try {
      const dialedAt = clock.now();
      conn = await network.dial(addr, { signal: abort.signal });
      const connectMs = clock.now() - dialedAt;
      this.#conns.add(conn);
      await writeHandshake(conn, torrent.infoHash, { peerId: this.peerId, dht: !!this.#dht });
      const hs = {
        ...await readHandshake(conn, clock, this.settings.handshakeTimeoutMs),
        connectMs,
      };
      if (!sameBytes(hs.remote.infoHash, torrent.infoHash)) throw new Error("wrong info-hash");
      if (sameBytes(hs.remote.peerId, this.peerId)) throw new Error("connected to ourselves");
      return torrent.attach(conn, hs, true) !== undefined;
    } catch {
      conn?.close();
      return false; // the peer list backs off this address
    } finally {
      timer.cancel();
      if (conn) this.#conns.delete(conn);
    }
  }

  #connectionCount(): number {
    let n = this.#pendingHandshakes;
    for (const t of this.#torrents.values()) n += t.peers.size;
    return n;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
