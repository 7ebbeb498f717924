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
import type { CloseReason } from "../net/peer_connection.ts";
import type { HandshakeResult } from "../net/handshake_io.ts";
import { every } from "../util/every.ts";
import type { Conn, PeerAddress, Timer } from "../runtime/types.ts";
import type { TorrentContext } from "./context.ts";
import type { TorrentState, TorrentStats, TrackerSummary } from "./events.ts";
import { PeerList, type PeerSource } from "./peer_list.ts";
import { PeerDialer } from "./dialing.ts";
import { Peer } from "./peer.ts";
import { PeerMessageHandler, type PeerMessageHost } from "./peer_messages.ts";
import { type ExtensionHost, ExtensionHub } from "./extension_hub.ts";
import { MetadataPhase, type MetadataPhaseHost } from "./metadata_phase.ts";
import { TransferCounter } from "./transfer_counter.ts";
import {
  dataOptionsFor,
  errorText,
  TorrentData,
  type TorrentDataHost,
  type TorrentOptions,
  type TorrentSource,
} from "./torrent_data.ts";
import type { PeerInfo } from "./peer_info.ts";
import { assertTorrentInvariants, peerInfos, torrentStats } from "./torrent_stats.ts";
import { type LifecycleHost, TorrentLifecycle } from "./torrent_lifecycle.ts";

export type { TorrentOptions, TorrentSource } from "./torrent_data.ts";

/** The engine state of one torrent. */
export class TorrentRuntime
  implements PeerMessageHost, ExtensionHost, MetadataPhaseHost, TorrentDataHost {
  /** Session services. */
  readonly ctx: TorrentContext;
  /** Raw info-hash. */
  readonly infoHash: Uint8Array;
  /** Hex info-hash. */
  readonly infoHashHex: string;
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
  #trackerStatus: (() => readonly TrackerSummary[]) | undefined;
  #resolveDone!: () => void;
  #rejectDone!: (e: Error) => void;
  #ticker: Timer | undefined;
  #options: TorrentOptions;
  /** Pause, resume, recheck, move and stop, one at a time (documented on `Torrent`). */
  readonly lifecycle: TorrentLifecycle;
  #checkedPieces = 0;
  #error: string | undefined;

  /** Builds the runtime; call {@linkcode start} next. */
  constructor(ctx: TorrentContext, source: TorrentSource, options: TorrentOptions) {
    this.ctx = ctx;
    this.#options = options;
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
      this.#data = new TorrentData(this, source.meta, dataOptionsFor(source.meta, options));
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
    this.lifecycle = new TorrentLifecycle(this.#lifecycleHost());
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

  /** True once stopping or stopped, and while paused: no peers, no sources, files closed. */
  get isStopped(): boolean {
    return this.lifecycle.stopped || this.lifecycle.paused;
  }

  /** Current options (save path, file priorities and limits follow runtime changes). */
  get options(): TorrentOptions {
    return this.#options;
  }

  /** The last error that stopped the torrent, until it is resumed. */
  get error(): string | undefined {
    return this.#error;
  }

  /** Pieces hashed by the check in progress (or the last one). */
  get checkedPieces(): number {
    return this.#checkedPieces;
  }

  /** BEP 27 private flag (a magnet counts as public until its metadata says otherwise). */
  isPrivate(): boolean {
    return this.#data?.meta.isPrivate ?? false;
  }

  /** The info dictionary, once known (served by ut_metadata). */
  infoBytes(): Uint8Array | undefined {
    return this.#data?.meta.infoBytes;
  }

  /**
   * Starts: checks the data (`.torrent`) or fetches the metadata, and starts the peer
   * sources (`startSources`, run again on each resume). With `paused`, a `.torrent` is
   * checked (so its progress is known), then paused; a magnet waits paused.
   */
  start(startSources: () => void, paused = false): Promise<void> {
    const hex = this.infoHashHex;
    this.ctx.hub.emit({
      type: "torrent-added",
      category: "torrent",
      infoHash: hex,
      name: this.name,
    });
    return this.lifecycle.start(startSources, paused);
  }

  /**
   * Sets file priorities at runtime (0 skips a file; 1..7, higher first): interest and the
   * wanted bytes follow; a seed that now wants more downloads again.
   * @throws {RangeError} for a wrong count or a priority outside 0..7
   */
  setFilePriorities(priorities: readonly number[]): void {
    const data = this.#data;
    data?.setFilePriorities(priorities); // throws on a bad count or priority
    this.#options = { ...this.#options, filePriorities: [...priorities] };
    if (!data || this.isStopped) return;
    if (this.#state === "seeding" && !data.picker.isComplete) {
      this.#state = "downloading";
      this.#connectMore();
    } else if (this.#state === "downloading" && data.picker.isComplete) {
      return this.downloadComplete();
    }
    if (this.#state === "downloading") this.#handler.checked(); // interest, then requests
  }

  /** Changes the torrent's own rate limits, bytes/s (0 = none; undefined leaves one as is). */
  setRateLimits(limits: { download?: number; upload?: number }): void {
    const { download, upload } = limits;
    if (download !== undefined) this.transfer.setDownloadLimit(download);
    if (upload !== undefined) this.#data?.setUploadLimit(upload);
    this.#options = {
      ...this.#options,
      ...(download !== undefined ? { maxDownloadBytesPerSecond: download } : {}),
      ...(upload !== undefined ? { maxUploadBytesPerSecond: upload } : {}),
    };
  }

  /** The piece work (metainfo, picker, files' progress, streaming readers), once known. */
  get pieceWork(): TorrentData | undefined {
    return this.#data;
  }

  /**
   * The one door for peer addresses, from any source.
   * @param via the tracker, DHT node or PEX peer that gave them (the source-scope rule)
   * @returns how many were new
   */
  addPeers(addrs: Iterable<PeerAddress>, source: PeerSource, via?: PeerAddress | string): number {
    if (this.isStopped) return 0;
    const host = typeof via === "string" ? via : via?.host;
    const added = this.#dialer.addCandidates(addrs, source, host);
    if (added > 0) this.#connectMore();
    return added;
  }

  /** Runs `fn` when the torrent stops, before its connections close (peer sources). */
  onStop(fn: () => void | Promise<void>): void {
    this.lifecycle.onStop(fn);
  }

  /**
   * Runs `fn` once a tick while the torrent wants peers and has none (peer sources ask
   * again).
   * @returns a function that unregisters `fn` (a source that stops calls it)
   */
  whenStarved(fn: () => void): () => void {
    return this.lifecycle.whenStarved(fn);
  }

  /** Where tracker status for {@linkcode stats} comes from. */
  setTrackerStatus(fn: () => readonly TrackerSummary[]): void {
    this.#trackerStatus = fn;
  }

  /** Takes over a handshaken connection (incoming or outgoing). */
  attach(conn: Conn, hs: HandshakeResult, outgoing: boolean): Peer | undefined {
    const s = this.ctx.settings;
    const refused = this.isStopped || this.#state === "checking" || this.#state === "error" ||
      this.peers.size >= s.maxConnectionsPerTorrent || this.peerList.isBanned(conn.remoteAddr) ||
      // without BEP 10 a peer cannot give us the metadata
      (this.#state === "metadata" && !hs.remote.extensionProtocol) ||
      !this.#dialer.keepNewConnection(hs.remote.peerId, outgoing);
    if (refused) {
      conn.close();
      return undefined;
    }
    const pieceCount = this.#data?.pieceCount;
    const peer = Peer.open(conn, hs, { outgoing, clock: this.ctx.clock, pieceCount, settings: s });
    this.#dialer.admitted(peer);
    this.#handler.greet(peer, this.ctx.dht()?.address.port);
    peer.begin({
      onMessage: (m, receivedAt) => this.#handler.onMessage(peer, m, receivedAt),
      onClose: (reason, detail) => this.#peerClosed(peer, reason, detail),
      beforeRead: () => this.transfer.readGate(this.#data?.pipeline),
    }, hs.leftover);
    return peer;
  }

  /** Statistics snapshot. */
  stats(): TorrentStats {
    return torrentStats(this, this.#data, this.#state, this.#trackerStatus?.());
  }

  /** One line of state per connected peer (libtorrent's `get_peer_info`). */
  peerInfos(): PeerInfo[] {
    return peerInfos(this, this.#data?.picker);
  }

  /** Checks the engine's invariants for this torrent; throws on a violation. */
  assertInvariants(): void {
    assertTorrentInvariants(this, this.#data?.picker);
  }

  /**
   * Stops for good (removal, session close): peer sources first (a `stopped` announce),
   * then peers, storage, resume data; `done` rejects if not complete.
   */
  stop(): Promise<void> {
    return this.lifecycle.stop();
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
    if (this.isStopped) return;
    this.ctx.hub.emit({
      type: "metadata-received",
      category: "torrent",
      infoHash: this.infoHashHex,
      name: meta.name,
      bytes: infoBytes.length,
    });
    this.#metadata = undefined;
    this.#state = "checking";
    const data = new TorrentData(this, meta, dataOptionsFor(meta, this.#options));
    this.#data = data;
    this.#handler.beginWork(data);
    void this.lifecycle.startCheck(false);
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
    const infoHash = this.infoHashHex;
    this.ctx.logger.warn(message, { infoHash });
    this.ctx.hub.emit({ type: "storage-warning", category: "storage", infoHash, message });
  }

  /** The last wanted piece was verified, and every verified byte is on disk. */
  downloadComplete(): void {
    this.#completed(true);
  }

  /** Storage failed for good: the error state, every connection closed (verified data kept). */
  storageFailed(message: string): void {
    if (this.isStopped || this.#state === "error") return;
    this.#fail(message);
    for (const p of [...this.peers.values()]) p.conn.close("shutdown", message);
  }

  // ---- lifecycle ----------------------------------------------------------------

  /** The primitives the lifecycle sequences. */
  #lifecycleHost(): LifecycleHost {
    return {
      ctx: this.ctx,
      infoHashHex: this.infoHashHex,
      meta: () => this.meta,
      state: () => this.#state,
      setState: (state) => {
        if (this.#state === "error") this.#error = undefined;
        this.#state = state;
      },
      dir: () => this.#options.dir,
      setDir: (dir) => this.#options = { ...this.#options, dir },
      rejectDone: (e) => this.#rejectDone(e),
      tick: (on) => {
        this.#ticker?.cancel();
        // A bug must not stop the schedule: report it and keep ticking.
        const fail = (e: unknown) =>
          this.warn(`Internal error in the periodic task: ${errorText(e)}`);
        this.#ticker = on
          ? every(this.ctx.clock, this.ctx.settings.tickIntervalMs, () => this.#tick(), fail)
          : undefined;
      },
      renewData: (first) => {
        const old = this.#data;
        if (!old || first) return old !== undefined;
        this.#data = new TorrentData(this, old.meta, dataOptionsFor(old.meta, this.#options));
        this.#handler.beginWork(this.#data);
        return true;
      },
      check: (signal, ignoreResume) => this.#check(signal, ignoreResume),
      addMagnetPeers: () => void (this.#link && this.addPeers(this.#link.peers, "magnet")),
      closePeers: () => {
        for (const p of [...this.peers.values()]) p.conn.close("shutdown");
      },
      closeData: async () => await this.#data?.close(),
    };
  }

  /** Checks existing data, then downloads or seeds. */
  async #check(signal: AbortSignal, ignoreResume: boolean): Promise<void> {
    const data = this.#data!;
    this.#checkedPieces = 0;
    try {
      await data.open({ ignoreResume, onProgress: (n) => this.#checkedPieces = n, signal });
    } catch (e) {
      if (!signal.aborted) this.#fail(`Cannot open storage: ${errorText(e)}`);
      return;
    }
    if (this.isStopped || signal.aborted) return;
    this.#state = data.picker.isComplete ? "seeding" : "downloading";
    if (this.#state === "seeding") this.#completed(false);
    this.#handler.checked();
    this.lifecycle.startSources();
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
    if (!this.isStopped) this.refillAll();
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
    if (wantsPeers && this.peers.size === 0) this.lifecycle.starved();
    this.ctx.hub.emit({ type: "progress", category: "stats", stats: this.stats() });
  }

  #connectMore(): void {
    if (this.isStopped || this.#state === "checking" || this.#state === "error") return;
    // A finished download that is not seeding dials nobody new.
    this.#dialer.connectMore(this.#state !== "seeding" || this.#options.seed);
  }

  #fail(message: string): void {
    this.#state = "error";
    this.#error = message;
    this.ctx.hub.emit({
      type: "torrent-error",
      category: "torrent",
      infoHash: this.infoHashHex,
      message,
    });
    this.#rejectDone(new Error(message));
  }
}
