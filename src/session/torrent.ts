/**
 * One torrent from magnet to seed: its lifecycle (metadata → checking → downloading ⇄
 * seeding, or stopped / error), its connections and candidate addresses, and the periodic
 * work. A magnet starts in `metadata`: its peers connect and trade extension handshakes
 * while the info dictionary is fetched (MetadataPhase); when it verifies, the piece work
 * (TorrentData: picker, storage, pipeline, uploader) is created and every connection
 * stays, its early bitfield applied. A `.torrent` starts in `checking`.
 *
 * Peers enter through one door, {@linkcode TorrentRuntime.addPeers}, whatever their source
 * (manual, tracker, DHT, PEX, an incoming peer's listen port, a magnet's `x.pe`).
 *
 * Layer: driver (decisions come from the cores behind the handler and the piece work).
 * @module
 */
import type { MagnetLink, Metainfo } from "../metainfo/mod.ts";
import type { MetadataMessage } from "../extensions/mod.ts";
import { type CloseReason, PeerConnection } from "../net/peer_connection.ts";
import type { HandshakeResult } from "../net/handshake_io.ts";
import { every } from "../util/every.ts";
import type { Clock, Conn, PeerAddress, Timer } from "../runtime/types.ts";
import type { TorrentContext } from "./context.ts";
import type { TorrentState, TorrentStats, TrackerSummary } from "./events.ts";
import type { Settings } from "./settings.ts";
import { PeerList, type PeerSource } from "./peer_list.ts";
import { PeerDialer } from "./dialing.ts";
import { Peer } from "./peer.ts";
import { PeerMessageHandler, type PeerMessageHost } from "./peer_messages.ts";
import { type ExtensionHost, ExtensionHub } from "./extension_hub.ts";
import { MetadataPhase, type MetadataPhaseHost } from "./metadata_phase.ts";
import { TransferCounter } from "./transfer_counter.ts";
import {
  errorText,
  TorrentData,
  type TorrentDataHost,
  type TorrentDataOptions,
} from "./torrent_data.ts";
import { type PeerInfo, peerInfo } from "./peer_info.ts";

/** Per-torrent options. */
export interface TorrentOptions extends TorrentDataOptions {
  /** Keep seeding after completion (the caller decides when to stop). */
  readonly seed: boolean;
  /** Per-torrent download cap, bytes/s (0 = none). */
  readonly maxDownloadBytesPerSecond?: number;
  /** For a magnet link: download only these file indices (BEP 53 `so`). */
  readonly selectOnly?: readonly number[];
}

/** What a torrent starts from: a parsed `.torrent`, or a magnet link. */
export type TorrentSource = { readonly meta: Metainfo } | { readonly link: MagnetLink };

/** The engine state of one torrent. */
export class TorrentRuntime
  implements PeerMessageHost, ExtensionHost, MetadataPhaseHost, TorrentDataHost {
  /** Session services. */
  readonly ctx: TorrentContext;
  /** Raw info-hash. */
  readonly infoHash: Uint8Array;
  /** Hex info-hash. */
  readonly infoHashHex: string;
  /** Options it was added with. */
  readonly options: TorrentOptions;
  /** Candidate addresses. */
  readonly peerList: PeerList;
  /** Live connections by id. */
  readonly peers: Map<string, Peer> = new Map();
  /** BEP 10 extensions: PEX and metadata serving. */
  readonly extensions: ExtensionHub;
  /** Payload counters and the download limits. */
  readonly transfer: TransferCounter;
  /** Resolves when every wanted piece is verified on disk; rejects if the torrent stops first. */
  readonly done: Promise<void>;
  #state: TorrentState;
  readonly #link: MagnetLink | undefined;
  #data: TorrentData | undefined;
  #metadata: MetadataPhase | undefined;
  readonly #handler: PeerMessageHandler;
  readonly #dialer: PeerDialer;
  readonly #cleanups: (() => void | Promise<void>)[] = [];
  readonly #starvedHooks: (() => void)[] = [];
  #trackerStatus: (() => readonly TrackerSummary[]) | undefined;
  #resolveDone!: () => void;
  #rejectDone!: (e: Error) => void;
  #ticker: Timer | undefined;
  #stopped = false;

  /** Builds the runtime; call {@linkcode start} next. */
  constructor(ctx: TorrentContext, source: TorrentSource, options: TorrentOptions) {
    this.ctx = ctx;
    this.options = options;
    const s = ctx.settings;
    this.peerList = new PeerList({
      maxSize: s.maxPeerListSize,
      reconnectBaseMs: s.reconnectBaseMs,
      allowLocal: s.allowLocalPeers,
    });
    this.transfer = new TransferCounter(ctx, options.maxDownloadBytesPerSecond ?? 0);
    this.extensions = new ExtensionHub(this);
    if ("meta" in source) {
      this.infoHash = source.meta.infoHash;
      this.infoHashHex = source.meta.infoHashHex;
      this.#state = "checking";
      this.#data = new TorrentData(this, source.meta, options);
    } else {
      this.infoHash = source.link.infoHash;
      this.infoHashHex = source.link.infoHashHex;
      this.#link = source.link;
      this.#state = "metadata";
      this.#metadata = new MetadataPhase(this, source.link, ctx.clock, ctx.random);
    }
    this.#handler = new PeerMessageHandler(this, this.#data);
    this.#dialer = new PeerDialer(ctx, this.peerList, this.peers, this.infoHashHex);
    this.done = new Promise((resolve, reject) => {
      this.#resolveDone = resolve;
      this.#rejectDone = reject;
    });
    this.done.catch(() => {}); // observed through events too; never an unhandled rejection
  }

  /** Lifecycle state. */
  get state(): TorrentState {
    return this.#state;
  }

  /** Torrent name (a magnet's `dn` until the metadata names it). */
  get name(): string {
    return this.#data?.meta.name ?? this.#link?.displayName ?? "";
  }

  /** The metainfo, once known. */
  get meta(): Metainfo | undefined {
    return this.#data?.meta;
  }

  /** Engine settings. */
  get settings(): Settings {
    return this.ctx.settings;
  }

  /** The session's clock. */
  get clock(): Clock {
    return this.ctx.clock;
  }

  /** True once stopping or stopped. */
  get isStopped(): boolean {
    return this.#stopped;
  }

  /** BEP 27 private flag (a magnet counts as public until its metadata says otherwise). */
  isPrivate(): boolean {
    return this.#data?.meta.isPrivate ?? false;
  }

  /** The info dictionary, once known (served by ut_metadata). */
  infoBytes(): Uint8Array | undefined {
    return this.#data?.meta.infoBytes;
  }

  /** Starts the periodic work, then checks the data (`.torrent`) or fetches the metadata. */
  async start(): Promise<void> {
    this.ctx.hub.emit({
      type: "torrent-added",
      category: "torrent",
      infoHash: this.infoHashHex,
      name: this.name,
    });
    this.#ticker = every(
      this.ctx.clock,
      this.ctx.settings.tickIntervalMs,
      () => this.#tick(),
      // A bug must not stop the schedule: report it and keep ticking.
      (e) => this.warn(`Internal error in the periodic task: ${errorText(e)}`),
    );
    if (this.#link) {
      this.addPeers(this.#link.peers, "magnet");
      return;
    }
    await this.#check();
  }

  /**
   * The one door for peer addresses, from any source.
   * @param via the tracker, DHT node or PEX peer that gave them (the source-scope rule)
   * @returns how many were new
   */
  addPeers(addrs: Iterable<PeerAddress>, source: PeerSource, via?: PeerAddress | string): number {
    if (this.#stopped) return 0;
    const host = typeof via === "string" ? via : via?.host;
    const added = this.#dialer.addCandidates(addrs, source, host);
    if (added > 0) this.#connectMore();
    return added;
  }

  /** Runs `fn` when the torrent stops, before its connections close (peer sources). */
  onStop(fn: () => void | Promise<void>): void {
    this.#cleanups.push(fn);
  }

  /** Runs `fn` once a tick while the torrent wants peers and has none (peer sources ask again). */
  whenStarved(fn: () => void): void {
    this.#starvedHooks.push(fn);
  }

  /** Where tracker status for {@linkcode stats} comes from. */
  setTrackerStatus(fn: () => readonly TrackerSummary[]): void {
    this.#trackerStatus = fn;
  }

  /** Takes over a handshaken connection (incoming or outgoing). */
  attach(conn: Conn, hs: HandshakeResult, outgoing: boolean): Peer | undefined {
    const s = this.ctx.settings;
    const refused = this.#stopped || this.#state === "checking" || this.#state === "error" ||
      this.peers.size >= s.maxConnectionsPerTorrent || this.peerList.isBanned(conn.remoteAddr) ||
      // without BEP 10 a peer cannot give us the metadata
      (this.#state === "metadata" && !hs.remote.extensionProtocol) ||
      !this.#dialer.keepNewConnection(hs.remote.peerId, outgoing);
    if (refused) {
      conn.close();
      return undefined;
    }
    const pieceCount = this.#data?.pieceCount;
    const connection = new PeerConnection(conn, {
      clock: this.ctx.clock,
      remote: hs.remote,
      outgoing,
      pieceCount,
      limits: s,
    });
    const peer = new Peer(connection, {
      settings: s,
      pieceCount,
      connectMs: hs.connectMs,
      answeredAt: hs.answeredAt,
    });
    this.#dialer.admitted(peer);
    this.#handler.greet(peer, this.ctx.dht()?.address.port);
    connection.start({
      onMessage: (m) => this.#handler.onMessage(peer, m),
      onClose: (reason, detail) => this.#peerClosed(peer, reason, detail),
      beforeRead: () => this.#beforeRead(),
    }, hs.leftover);
    return peer;
  }

  /** Statistics snapshot. */
  stats(): TorrentStats {
    const now = this.ctx.clock.now();
    let seeds = 0;
    for (const p of this.peers.values()) if (p.isSeed) seeds++;
    const d = this.#data;
    const wanted = d?.bytesWanted ?? 0;
    const trackers = this.#trackerStatus?.();
    return {
      infoHash: this.infoHashHex,
      name: this.name,
      bytesVerified: d ? Math.max(0, wanted - d.picker.wantedRemainingBytes) : 0,
      bytesWanted: wanted,
      piecesHave: d?.picker.haveCount ?? 0,
      pieceCount: d?.pieceCount ?? 0,
      ...this.transfer.rates(now),
      bytesDownloaded: this.transfer.bytesDownloaded,
      bytesUploaded: this.transfer.bytesUploaded,
      peers: this.peers.size,
      seeds,
      knownPeers: this.peerList.size,
      state: this.#state,
      ...(trackers ? { trackers } : {}),
    };
  }

  /** One line of state per connected peer (libtorrent's `get_peer_info`). */
  peerInfos(): PeerInfo[] {
    const now = this.ctx.clock.now();
    const picker = this.#data?.picker;
    return [...this.peers.values()].map((p) => peerInfo(p, now, picker));
  }

  /** Checks the engine's invariants for this torrent; throws on a violation. */
  assertInvariants(): void {
    this.#data?.picker.assertInvariants();
    this.peerList.assertInvariants();
    for (const p of this.peers.values()) {
      p.requests.assertInvariants();
      p.uploads.assertInvariants();
    }
  }

  /** Stops: peer sources first (a `stopped` announce), then peers, storage, resume data. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#ticker?.cancel();
    await Promise.all(this.#cleanups.map((fn) => fn()));
    for (const p of [...this.peers.values()]) p.conn.close("shutdown");
    await this.#data?.close();
    if (this.#state !== "error") this.#state = "stopped";
    this.ctx.hub.emit({ type: "torrent-stopped", category: "torrent", infoHash: this.infoHashHex });
    this.#rejectDone(new Error("Torrent stopped before completion"));
  }

  // ---- PeerMessageHost, ExtensionHost, MetadataPhaseHost, TorrentDataHost ------------------

  /** A regular upload slot may be free to hand on. */
  slotsChanged(): void {
    if (this.#state !== "downloading" && this.#state !== "seeding") return;
    this.#data?.choking.fillFreeSlots(this.ctx.clock.now(), this.#state === "seeding");
  }

  /** Block requests were released: refill every peer's pipeline. */
  refillAll(): void {
    for (const p of this.peers.values()) this.#handler.fillRequests(p);
  }

  /** Every peer's requests go back to the picker, each with a CANCEL. */
  releaseAllRequests(): void {
    for (const p of this.peers.values()) this.#handler.releaseRequests(p, true);
  }

  /** A peer's DHT node (BEP 5 `port`). */
  dhtNode(addr: PeerAddress): void {
    this.ctx.dht()?.addNode(addr);
  }

  /** An incoming peer's listen address: known, and connected already. */
  listenAddressLearned(_peer: Peer, addr: PeerAddress): void {
    this.addPeers([addr], "incoming");
    this.peerList.connected(addr, this.ctx.clock.now());
  }

  /** A peer offers the metadata (only the metadata phase listens). */
  metadataOffered(peer: Peer, size: number): void {
    this.#metadata?.offered(peer, size);
  }

  /** A ut_metadata reply. */
  onMetadata(peer: Peer, message: MetadataMessage): void {
    this.#metadata?.onMessage(peer, message);
  }

  /** The magnet's info dictionary verified: create the piece work; connections stay. */
  metadataReady(meta: Metainfo, infoBytes: Uint8Array): void {
    if (this.#stopped) return;
    this.ctx.hub.emit({
      type: "metadata-received",
      category: "torrent",
      infoHash: this.infoHashHex,
      name: meta.name,
      bytes: infoBytes.length,
    });
    this.#metadata = undefined;
    this.#state = "checking";
    const data = new TorrentData(this, meta, this.#dataOptions(meta));
    this.#data = data;
    this.#handler.beginWork(data);
    void this.#check();
  }

  /** The verified info dictionary is not a usable torrent. */
  metadataUnusable(message: string): void {
    this.#fail(message);
  }

  /** Bans the peer's address and closes it. */
  ban(peer: Peer, reason: string): void {
    this.#dialer.ban(peer, reason);
  }

  /** A recovered storage problem. */
  warn(message: string): void {
    this.ctx.logger.warn(message, { infoHash: this.infoHashHex });
    this.ctx.hub.emit({
      type: "storage-warning",
      category: "storage",
      infoHash: this.infoHashHex,
      message,
    });
  }

  /** The last wanted piece was verified. */
  downloadComplete(): void {
    this.#completed(true);
  }

  // ---- lifecycle ----------------------------------------------------------------

  /** File priorities for a magnet: BEP 53 `so` indices are known to match only now. */
  #dataOptions(meta: Metainfo): TorrentOptions {
    let options = this.options;
    if (options.selectOnly) {
      const wanted = new Set(options.selectOnly.filter((i) => i < meta.files.length));
      options = { ...options, filePriorities: meta.files.map((_, i) => wanted.has(i) ? 4 : 0) };
    }
    if (options.filePriorities && options.filePriorities.length !== meta.files.length) {
      const { filePriorities: _, ...rest } = options;
      options = rest;
    }
    return options;
  }

  /** Checks existing data, then downloads or seeds. */
  async #check(): Promise<void> {
    const data = this.#data!;
    try {
      const opened = await data.open();
      if (opened.warning) this.warn(opened.warning);
      this.ctx.hub.emit({
        type: "check-finished",
        category: "storage",
        infoHash: this.infoHashHex,
        piecesHave: opened.have.count,
        usedResume: opened.usedResume,
      });
    } catch (e) {
      this.#fail(`Cannot open storage: ${errorText(e)}`);
      return;
    }
    if (this.#stopped) return;
    this.#state = data.picker.isComplete ? "seeding" : "downloading";
    if (this.#state === "seeding") this.#completed(false);
    this.#handler.checked();
    this.#connectMore();
  }

  #completed(justFinished: boolean): void {
    this.#state = "seeding";
    this.#data!.startSeeding(justFinished);
    if (justFinished) {
      this.ctx.hub.emit({
        type: "torrent-completed",
        category: "torrent",
        infoHash: this.infoHashHex,
      });
    }
    for (const p of [...this.peers.values()]) {
      if (p.isSeed) p.conn.close("not-needed");
      else if (p.amInterested) {
        p.amInterested = false;
        p.send({ type: "not-interested" });
      }
    }
    this.#resolveDone();
  }

  #peerClosed(peer: Peer, reason: CloseReason, detail: string): void {
    this.#dialer.closed(peer, reason, detail);
    this.#data?.peerClosed(peer);
    this.#metadata?.peerClosed(peer);
    this.extensions.forget(peer);
    if (!peer.amChoking) this.slotsChanged();
    if (!this.#stopped) this.refillAll();
  }

  /** Before each socket read: wait for disk capacity and the download limits. */
  #beforeRead(): Promise<void> | undefined {
    const { disk, clock } = this.ctx;
    const wait = this.transfer.downloadWaitMs(clock.now());
    const full = this.#data && disk.queuedBytes() > 0 ? disk.waitForCapacity() : undefined;
    if (wait <= 0) return full;
    const delay = new Promise<void>((r) => clock.schedule(wait, r));
    return full ? Promise.all([full, delay]).then(() => {}) : delay;
  }

  #tick(): void {
    const now = this.ctx.clock.now();
    let snubbed = false;
    for (const p of [...this.peers.values()]) snubbed = this.#handler.tick(p, now) || snubbed;
    if (snubbed) this.refillAll();
    this.#metadata?.tick();
    if (this.#state === "downloading" || this.#state === "seeding") this.#data!.tick(now);
    this.extensions.tick(now);
    this.#connectMore();
    const wantsPeers = this.#state === "metadata" || this.#state === "downloading";
    if (wantsPeers && this.peers.size === 0) { for (const fn of this.#starvedHooks) fn(); }
    this.ctx.hub.emit({ type: "progress", category: "stats", stats: this.stats() });
  }

  #connectMore(): void {
    if (this.#stopped || this.#state === "checking" || this.#state === "error") return;
    // A finished download that is not seeding dials nobody new.
    this.#dialer.connectMore(this.#state !== "seeding" || this.options.seed);
  }

  #fail(message: string): void {
    this.#state = "error";
    this.ctx.hub.emit({
      type: "torrent-error",
      category: "torrent",
      infoHash: this.infoHashHex,
      message,
    });
    this.#rejectDone(new Error(message));
  }
}
