/**
 * One torrent's runtime: its peers, the piece picker and choker, block assembly
 * into piece buffers, verification through the disk workers, HAVE broadcast,
 * hash-failure bans, timeouts and the periodic rechoke.
 *
 * Piece lifecycle (docs/piece_lifecycle.md): unrequested → requested (picker) →
 * blocks assembled here → submitted to a worker (hash + write) → verified (picker,
 * HAVE sent, resume dirty) or failed (picker resets it; contributors struck).
 *
 * Layer: driver (decisions come from the picker and choker cores).
 * @module
 */
import type { Metainfo } from "../metainfo/mod.ts";
import { PiecePicker } from "../picker/mod.ts";
import { Choker } from "../choker/mod.ts";
import { ChokeScheduler } from "./choking.ts";
import { SeedSuggester } from "./seed_suggester.ts";
import { PiecePipeline } from "./piece_pipeline.ts";
import { PeerDialer } from "./dialing.ts";
import type { WireMessage } from "../wire/mod.ts";
import { type CloseReason, PeerConnection } from "../net/peer_connection.ts";
import type { HandshakeResult } from "../net/handshake_io.ts";
import { TokenBucket } from "../util/token_bucket.ts";
import { every } from "../util/every.ts";
import type { Conn, PeerAddress, Timer } from "../runtime/types.ts";
import type { StorageId } from "../storage/disk_io.ts";
import type { TorrentContext } from "./context.ts";
import type { TorrentState, TorrentStats } from "./events.ts";
import { PeerList, type PeerSource } from "./peer_list.ts";
import { Uploader } from "./uploader.ts";
import { TransferCounter } from "./transfer_counter.ts";
import { SuperSeeder } from "./super_seeder.ts";
import { PeerMessageHandler } from "./peer_messages.ts";
import { type ExtensionHost, ExtensionHub } from "./extension_hub.ts";
import { openTorrentStorage, ResumeSaver } from "./storage_setup.ts";

/** Per-torrent options. */
export interface TorrentOptions {
  /** Save path: files go to `<dir>/<name>[/...]`. */
  readonly dir: string;
  /** Keep seeding after completion (the caller decides when to stop). */
  readonly seed: boolean;
  /** Pick pieces in order instead of rarest first. */
  readonly sequential?: boolean;
  /** Priority per file (0 = skip). */
  readonly filePriorities?: readonly number[];
  /** BEP 16 super-seeding while we are a seed. */
  readonly superSeed?: boolean;
  /** Per-torrent upload cap, bytes/s (0 = none). */
  readonly maxUploadBytesPerSecond?: number;
  /** Per-torrent download cap, bytes/s (0 = none). */
  readonly maxDownloadBytesPerSecond?: number;
}

/** The engine state of one torrent. */
export class TorrentRuntime implements ExtensionHost {
  /** Parsed metainfo. */
  readonly meta: Metainfo;
  /** Hex info-hash. */
  readonly infoHashHex: string;
  /** Options it was added with. */
  readonly options: TorrentOptions;
  /** Candidate addresses. */
  readonly peerList: PeerList;
  /** Live connections by id. */
  readonly peers: Map<string, PeerConnection> = new Map();
  /** Block and piece bookkeeping. */
  readonly picker: PiecePicker;
  /** Resolves when every wanted piece is verified on disk. */
  readonly done: Promise<void>;
  /** Lifecycle state. */
  state: TorrentState = "checking";
  /** Storage handle once opened. */
  storageId: StorageId = -1;
  /** BEP 10 extensions: PEX and metadata serving. */
  readonly extensions: ExtensionHub;
  /** BEP 16 policy, while super-seeding. */
  superSeeder: SuperSeeder | undefined;

  readonly ctx: TorrentContext;
  readonly #choking: ChokeScheduler;
  /** Least-sent-first SUGGEST_PIECE hints while seeding (BEP 6). */
  readonly #suggester: SeedSuggester;
  readonly #pieces: PiecePipeline;
  readonly #dialer: PeerDialer;
  readonly #uploader: Uploader;
  readonly #handler: PeerMessageHandler;
  readonly #transfer: TransferCounter;
  #bytesWanted = 0;
  #resolveDone!: () => void;
  #rejectDone!: (e: Error) => void;
  #ticker: Timer | undefined;
  readonly #resume: ResumeSaver;
  #lastRechoke = 0;
  #stopped = false;

  /** Builds the runtime; call {@linkcode start} next. */
  constructor(ctx: TorrentContext, meta: Metainfo, options: TorrentOptions) {
    this.ctx = ctx;
    this.meta = meta;
    this.infoHashHex = meta.infoHashHex;
    this.options = options;
    const s = ctx.settings;
    this.peerList = new PeerList({
      maxSize: s.maxPeerListSize,
      reconnectBaseMs: s.reconnectBaseMs,
      allowLocal: s.allowLocalPeers,
    });
    this.picker = new PiecePicker({
      pieceCount: meta.pieceCount,
      pieceLength: meta.pieceLength,
      totalLength: meta.totalLength,
      random: ctx.random,
    });
    this.picker.sequential = options.sequential ?? false;
    if (options.filePriorities) {
      this.picker.setFilePriorities(meta.files, options.filePriorities);
    }
    for (let i = 0; i < meta.pieceCount; i++) {
      if (this.picker.priorityOf(i) > 0) this.#bytesWanted += this.pieceSize(i);
    }
    const choker = new Choker({
      regularSlots: s.unchokeSlots,
      seedingSlots: s.seedUnchokeSlots,
      rechokeIntervalMs: s.unchokeIntervalMs,
      optimisticIntervalMs: s.optimisticUnchokeIntervalMs,
      snubTimeoutMs: s.snubTimeoutMs,
      random: ctx.random,
    });
    this.#suggester = new SeedSuggester({
      pieceCount: meta.pieceCount,
      pieceLength: meta.pieceLength,
      random: ctx.random,
      now: () => ctx.clock.now(),
      hasPiece: (i) => this.picker.has(i),
      availability: (i) => this.picker.availabilityOf(i),
      // a super-seed reveals pieces itself; suggestions would undo that
      active: () => this.state === "seeding" && !this.superSeeder && s.seedSuggestions,
    });
    this.#choking = new ChokeScheduler(choker, this.peers, ctx.clock, (peer, choked) => {
      if (choked) this.#suggester.onChoke(peer);
      else this.#suggester.onUnchoke(peer);
    });
    const transfer = new TransferCounter(ctx, options.maxDownloadBytesPerSecond ?? 0);
    this.#transfer = transfer;
    const uploadBucket = new TokenBucket(options.maxUploadBytesPerSecond ?? 0, ctx.clock.now());
    this.#uploader = new Uploader(ctx, {
      storageId: () => this.storageId,
      pieceSize: (i) => this.pieceSize(i),
      hasPiece: (i) => this.picker.has(i),
      countUpload: (peer, bytes) => transfer.countUpload(peer, bytes),
      pieceSent: (peer, i) => this.#suggester.onPieceSent(peer, i),
      readFailed: (i, e) => this.#warn(`Cannot read piece ${i} for upload: ${errorText(e)}`),
    }, uploadBucket);
    this.#handler = new PeerMessageHandler(this);
    this.#pieces = new PiecePipeline(this);
    this.#dialer = new PeerDialer(ctx, this.peerList, this.peers, this.infoHashHex);
    this.extensions = new ExtensionHub(this);
    this.#resume = new ResumeSaver(ctx, meta, options.dir, this.picker, (e) => {
      this.#warn(`Cannot save resume data: ${errorText(e)}`);
    });
    this.done = new Promise((resolve, reject) => {
      this.#resolveDone = resolve;
      this.#rejectDone = reject;
    });
    this.done.catch(() => {}); // observed through events too; never an unhandled rejection
  }

  /** Torrent name. */
  get name(): string {
    return this.meta.name;
  }

  /** BEP 27 private flag. */
  isPrivate(): boolean {
    return this.meta.isPrivate;
  }

  /** The info dictionary (served by ut_metadata). */
  infoBytes(): Uint8Array {
    return this.meta.infoBytes;
  }

  /** Whether `peer` has every piece. */
  isSeed(peer: PeerConnection): boolean {
    return peer.isSeed;
  }

  /** Byte length of piece `index`. */
  pieceSize(index: number): number {
    const { pieceLength, totalLength, pieceCount } = this.meta;
    return index === pieceCount - 1 ? totalLength - pieceLength * (pieceCount - 1) : pieceLength;
  }

  /** Opens storage, checks existing data, and starts the timers. */
  async start(): Promise<void> {
    const { hub } = this.ctx;
    hub.emit({
      type: "torrent-added",
      category: "torrent",
      infoHash: this.infoHashHex,
      name: this.meta.name,
    });
    try {
      const opened = await openTorrentStorage(this.ctx, this.meta, this.options.dir);
      this.storageId = opened.id;
      for (const i of opened.have.indices()) this.picker.setHave(i);
      if (opened.warning) this.#warn(opened.warning);
      hub.emit({
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
    this.state = this.picker.isComplete ? "seeding" : "downloading";
    if (this.state === "seeding" && this.options.superSeed) {
      this.superSeeder = new SuperSeeder({
        pieceCount: this.meta.pieceCount,
        availabilityOf: (i) => this.picker.availabilityOf(i),
        random: this.ctx.random,
      });
    }
    if (this.picker.isComplete) this.#completed(false);
    this.#ticker = every(
      this.ctx.clock,
      this.ctx.settings.tickIntervalMs,
      () => this.#tick(),
      (e) =>
        // A bug must not stop the schedule: report it and keep ticking.
        this.#warn(`Internal error in the periodic task: ${errorText(e)}`),
    );
    this.#connectMore();
  }

  /** Adds peer addresses from any source. */
  addPeers(addrs: Iterable<PeerAddress>, source: PeerSource): number {
    const added = this.#dialer.addCandidates(addrs, source);
    if (added > 0) this.#connectMore();
    return added;
  }

  /** Takes over a handshaken connection (incoming or outgoing). */
  attach(conn: Conn, hs: HandshakeResult, outgoing: boolean): PeerConnection | undefined {
    const s = this.ctx.settings;
    if (this.#stopped || this.state === "checking" || this.state === "error") {
      conn.close();
      return undefined;
    }
    if (this.peers.size >= s.maxConnectionsPerTorrent || this.peerList.isBanned(conn.remoteAddr)) {
      conn.close();
      return undefined;
    }
    if (!this.#dialer.keepNewConnection(hs.remote.peerId, outgoing)) {
      conn.close();
      return undefined;
    }
    const peer = new PeerConnection(conn, this.#handler, {
      clock: this.ctx.clock,
      remote: hs.remote,
      outgoing,
      pieceCount: this.meta.pieceCount,
      maxMessageBytes: s.maxMessageBytes,
      readBufferBytes: s.readBufferBytes,
      writeCoalesceBytes: s.writeCoalesceBytes,
    });
    peer.rttMs = hs.connectMs;
    peer.rttSince = hs.answeredAt;
    this.#dialer.admitted(peer, conn.remoteAddr);
    this.#handler.greet(peer);
    peer.start(hs.leftover);
    return peer;
  }

  /** The connection closed: release its requests and availability. */
  peerClosed(peer: PeerConnection, reason: CloseReason, detail: string): void {
    this.#dialer.closed(peer, reason, detail);
    this.picker.releaseRequests(peer.id);
    if (peer.isSeed) this.picker.removeSeed();
    else if (peer.has.count > 0) this.picker.removePeer(peer.has);
    this.#uploader.forget(peer);
    this.extensions.forget(peer);
    this.superSeeder?.forget(peer);
    this.#suggester.forget(peer);
    if (!peer.amChoking) this.slotsChanged();
    if (!this.#stopped) this.#refillAll();
  }

  /** Counts downloaded payload and applies the download limits. */
  countDownload(peer: PeerConnection, bytes: number): void {
    this.#transfer.countDownload(peer, bytes);
  }

  /** Before each socket read: wait for disk capacity and the download limits. */
  beforeRead(): Promise<void> | undefined {
    const { disk, clock } = this.ctx;
    const now = clock.now();
    const wait = this.#transfer.downloadWaitMs(now);
    const full = disk.queuedBytes() > 0 ? disk.waitForCapacity() : undefined;
    if (wait <= 0) return full;
    const delay = new Promise<void>((r) => clock.schedule(wait, r));
    return full ? Promise.all([full, delay]).then(() => {}) : delay;
  }

  /** True when blocks of piece `index` are being assembled. */
  hasPieceBuffer(index: number): boolean {
    return this.#pieces.has(index);
  }

  /** Piece buffer for `index`, allocated on first use. */
  pieceBuffer(index: number): Uint8Array {
    return this.#pieces.buffer(index);
  }

  /** Every block of a piece arrived: hash and write it in a worker. */
  submitPiece(index: number): void {
    this.#pieces.submit(index);
  }

  /**
   * A piece write failed (StorageError): warn, forget the piece and cancel every request
   * until the pipeline's back-off ends; seeding of verified pieces goes on.
   */
  writeFailed(index: number, error: unknown, retryMs: number): void {
    this.#warn(`Cannot write piece ${index}: ${errorText(error)}; retrying in ${retryMs / 1000} s`);
    this.picker.pieceFailed(index);
    for (const p of this.peers.values()) this.#handler.releaseRequests(p, true);
    this.ctx.clock.schedule(retryMs, () => this.#refillAll());
  }

  /** False while downloading is paused after a disk error. */
  canRequest(): boolean {
    return this.#pieces.canRequest();
  }

  /** Block requests were released (choke, reject, timeout): refill pipelines. */
  refill(peer?: PeerConnection): void {
    if (peer) this.#handler.fillRequests(peer);
    else this.#refillAll();
  }

  /** Whether a seed leaves `peer`'s request for piece `index` to the swarm (see SeedSuggester). */
  refusesRequest(peer: PeerConnection, index: number): boolean {
    return this.#suggester.refuses(peer, index);
  }

  /** Queues service of `peer`'s requests. */
  serve(peer: PeerConnection): void {
    this.#uploader.wake(peer);
  }

  /**
   * A regular slot may be free to hand on: a peer became interested, or an unchoked one
   * stopped needing its slot (lost interest, became a seed, left).
   */
  slotsChanged(): void {
    this.#choking.fillFreeSlots(this.ctx.clock.now(), this.state === "seeding");
  }

  /** Statistics snapshot. */
  stats(): TorrentStats {
    const now = this.ctx.clock.now();
    let seeds = 0;
    for (const p of this.peers.values()) if (p.isSeed) seeds++;
    const wanted = this.#bytesWanted;
    return {
      infoHash: this.infoHashHex,
      name: this.meta.name,
      bytesVerified: Math.max(0, wanted - this.picker.wantedRemainingBytes),
      bytesWanted: wanted,
      piecesHave: this.picker.haveCount,
      pieceCount: this.meta.pieceCount,
      ...this.#transfer.rates(now),
      bytesDownloaded: this.#transfer.bytesDownloaded,
      bytesUploaded: this.#transfer.bytesUploaded,
      peers: this.peers.size,
      seeds,
      knownPeers: this.peerList.size,
      state: this.state,
    };
  }

  /** Closes peers, flushes storage, saves resume data. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#ticker?.cancel();
    for (const p of [...this.peers.values()]) p.close("shutdown");
    // Pieces already submitted finish first, so the resume data records them.
    await this.#pieces.drain();
    if (this.storageId >= 0) {
      await this.#resume.save(this.storageId);
      await this.ctx.disk.close(this.storageId).catch(() => {});
    }
    if (this.state !== "error") this.state = "stopped";
    this.ctx.hub.emit({ type: "torrent-stopped", category: "torrent", infoHash: this.infoHashHex });
    this.#rejectDone(new Error("Torrent stopped before completion"));
  }

  /** Bans the peer's address and closes it. */
  ban(peer: PeerConnection, reason: string): void {
    this.#dialer.ban(peer, reason);
  }

  /** A piece is verified and on disk: HAVE to every peer, maybe completion. */
  pieceVerified(index: number): void {
    this.picker.pieceVerified(index); // on disk and verified: recorded even while stopping
    this.#resume.markDirty();
    if (this.#stopped) return;
    const have: WireMessage = { type: "have", index };
    for (const p of this.peers.values()) p.send(have);
    this.ctx.hub.emit({
      type: "piece-verified",
      category: "piece",
      infoHash: this.infoHashHex,
      index,
    });
    if (this.picker.isComplete && this.state === "downloading") this.#completed(true);
  }

  /** A piece failed its hash: its blocks are re-fetched; returns the peers that sent them. */
  pieceFailed(index: number): string[] {
    const contributors = [...this.picker.pieceFailed(index)];
    this.ctx.hub.emit({
      type: "piece-hash-failed",
      category: "piece",
      infoHash: this.infoHashHex,
      index,
      peers: contributors,
    });
    if (!this.#stopped) this.#refillAll();
    return contributors;
  }

  #completed(justFinished: boolean): void {
    this.state = "seeding";
    for (const p of this.peers.values()) if (!p.amChoking) this.#suggester.onUnchoke(p);
    if (justFinished) {
      this.ctx.hub.emit({
        type: "torrent-completed",
        category: "torrent",
        infoHash: this.infoHashHex,
      });
      void this.#resume.save(this.storageId);
    }
    for (const p of [...this.peers.values()]) {
      if (p.isSeed) p.close("not-needed");
      else if (p.amInterested) {
        p.amInterested = false;
        p.send({ type: "not-interested" });
      }
    }
    this.#resolveDone();
  }

  #tick(): void {
    const now = this.ctx.clock.now();
    const s = this.ctx.settings;
    let snubbed = false;
    for (const p of [...this.peers.values()]) snubbed = this.#handler.tick(p, now) || snubbed;
    if (snubbed) this.#refillAll();
    if (now - this.#lastRechoke >= s.unchokeIntervalMs) {
      this.#lastRechoke = now;
      this.#choking.rechoke(now, this.state === "seeding");
    } else this.slotsChanged(); // slots of peers that went idle
    this.extensions.tick(now);
    this.#connectMore();
    this.#resume.saveIfDue(this.storageId, now);
    this.ctx.hub.emit({ type: "progress", category: "stats", stats: this.stats() });
  }

  #connectMore(): void {
    if (this.#stopped || this.state === "checking" || this.state === "error") return;
    // A finished download that is not seeding dials nobody new.
    this.#dialer.connectMore(this.state !== "seeding" || this.options.seed);
  }

  #refillAll(): void {
    for (const p of this.peers.values()) this.#handler.fillRequests(p);
  }

  #warn(message: string): void {
    this.ctx.logger.warn(message, { infoHash: this.infoHashHex });
    this.ctx.hub.emit({
      type: "storage-warning",
      category: "storage",
      infoHash: this.infoHashHex,
      message,
    });
  }

  #fail(message: string): void {
    this.state = "error";
    this.ctx.hub.emit({
      type: "torrent-error",
      category: "torrent",
      infoHash: this.infoHashHex,
      message,
    });
    this.#rejectDone(new Error(message));
  }
}

/** One-line text of an unknown error. */
export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
