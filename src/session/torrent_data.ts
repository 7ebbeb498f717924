/**
 * The piece side of a torrent whose info dictionary is known: the picker, the piece
 * pipeline (assembly and verification through the disk workers), the uploader with its
 * seed policy, the choker, BEP 16 super-seeding, and the storage with its resume data.
 * A `.torrent` has one from the start; a magnet gets one when its metadata verifies, and
 * keeps its connections across (the torrent hands its peers over to this work).
 *
 * Piece lifecycle (docs/piece_lifecycle.md): unrequested → requested (picker) → blocks
 * assembled in a piece buffer → submitted to a worker (hash + write) → verified (picker,
 * HAVE sent, resume dirty) or failed (picker resets it; contributors struck).
 *
 * Completion means on disk (RELIABILITY rule 4): when the last wanted piece verifies, the
 * files are stat'ed (with the resume save) and the torrent completes only if each still
 * holds the bytes verified into it; the same check runs with every periodic resume save.
 * Lost data, or a write that no retry can fix, stops the torrent with one line naming
 * the file and the cause (`storageFailed`); verified pieces and resume data are kept.
 *
 * Layer: driver (decisions come from the picker, choker and seed-policy cores).
 * @module
 */
import type { MagnetLink, Metainfo } from "../metainfo/mod.ts";
import { PiecePicker } from "../picker/mod.ts";
import { Choker } from "../choker/mod.ts";
import { SeedSuggester } from "../choker/seed_suggester.ts";
import { SuperSeeder } from "../choker/super_seeder.ts";
import type { StorageId } from "../storage/disk_io.ts";
import { TokenBucket } from "../util/token_bucket.ts";
import type { TorrentContext } from "./context.ts";
import type { TorrentState } from "./events.ts";
import { ChokeScheduler } from "./choking.ts";
import { PiecePipeline } from "./piece_pipeline.ts";
import { Uploader } from "./uploader.ts";
import { type OpenedStorage, openTorrentStorage, ResumeSaver } from "./storage_setup.ts";
import type { TransferCounter } from "./transfer_counter.ts";
import { classifyStorageError, type StorageFault } from "../storage/fault.ts";
import type { LostFile } from "../storage/lost_data.ts";
import { formatBytes } from "../util/format.ts";
import type { PieceWork } from "./peer_messages.ts";
import type { Peer } from "./peer.ts";
import { StreamReads } from "./stream_reads.ts";
import { WebSeeds } from "./web_seeds.ts";

/** What a torrent's piece work is added with. */
export interface TorrentDataOptions {
  /** Save path: files go to `<dir>/<name>[/...]`. */
  readonly dir: string;
  /** Pick pieces in order instead of rarest first. */
  readonly sequential?: boolean;
  /** Priority per file (0 = skip). */
  readonly filePriorities?: readonly number[];
  /** BEP 16 super-seeding while we are a seed. */
  readonly superSeed?: boolean;
  /** Per-torrent upload cap, bytes/s (0 = none). */
  readonly maxUploadBytesPerSecond?: number;
}

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

/** What the piece work needs from its torrent. */
export interface TorrentDataHost {
  /** Session services. */
  readonly ctx: TorrentContext;
  /** Hex info-hash, for events. */
  readonly infoHashHex: string;
  /** Live peers by id. */
  readonly peers: ReadonlyMap<string, Peer>;
  /** Payload counters. */
  readonly transfer: TransferCounter;
  /** The torrent's lifecycle state. */
  readonly state: TorrentState;
  /** True once the torrent is stopping: verified pieces are still recorded. */
  readonly isStopped: boolean;
  /** Every requested block goes back to the picker (a write failed): CANCEL them all. */
  releaseAllRequests(): void;
  /** Requests may go out again (after a release or a back-off): refill every pipeline. */
  refillAll(): void;
  /** Bans a peer's address and closes it. */
  ban(peer: Peer, reason: string): void;
  /** A recovered storage problem, for the user. */
  warn(message: string): void;
  /** Storage failed for good (a write no retry fixes, verified data gone): the error state. */
  storageFailed(message: string): void;
  /** The last wanted piece was verified, and every verified byte is on disk. */
  downloadComplete(): void;
}

/** The piece work of one torrent. */
export class TorrentData implements PieceWork {
  /** Parsed metainfo. */
  readonly meta: Metainfo;
  /** Availability, requests and verified pieces. */
  readonly picker: PiecePicker;
  /** Piece buffers and verification. */
  readonly pipeline: PiecePipeline;
  /** Serves requests. */
  readonly uploader: Uploader;
  /** Applies the choker's decisions. */
  readonly choking: ChokeScheduler;
  /** Streaming readers and the piece deadlines they set. */
  readonly streams: StreamReads;
  /** BEP 19 web seeds, when the torrent lists any and a transport is given. */
  readonly webSeeds: WebSeeds | undefined;
  /** Storage handle once opened (-1 before). */
  storageId: StorageId = -1;
  /** BEP 16 policy, while super-seeding. */
  superSeeder: SuperSeeder | undefined;
  readonly #host: TorrentDataHost;
  readonly #options: TorrentDataOptions;
  readonly #resume: ResumeSaver;
  readonly #choker: Choker;
  readonly #uploadBucket: TokenBucket;
  #bytesWanted = 0;
  #closed = false;
  #finishing = false;

  /** Builds the work for `meta`; call {@linkcode open} next. */
  constructor(host: TorrentDataHost, meta: Metainfo, options: TorrentDataOptions) {
    const { ctx } = host;
    const s = ctx.settings;
    this.#host = host;
    this.#options = options;
    this.meta = meta;
    this.picker = new PiecePicker({
      pieceCount: meta.pieceCount,
      pieceLength: meta.pieceLength,
      totalLength: meta.totalLength,
      random: ctx.random,
    });
    this.picker.sequential = options.sequential ?? false;
    if (options.filePriorities) this.setFilePriorities(options.filePriorities);
    else this.#countWanted();
    this.#uploadBucket = new TokenBucket(options.maxUploadBytesPerSecond ?? 0, ctx.clock.now());
    const seedPolicy = new SeedSuggester({
      pieceCount: meta.pieceCount,
      pieceLength: meta.pieceLength,
      random: ctx.random,
      now: () => ctx.clock.now(),
      hasPiece: (i) => this.picker.has(i),
      availability: (i) => this.picker.availabilityOf(i),
      // a super-seed reveals pieces itself; suggestions would undo that
      active: () => host.state === "seeding" && !this.superSeeder && s.seedSuggestions,
    });
    this.uploader = new Uploader(
      ctx,
      {
        storageId: () => this.storageId,
        pieceCount: meta.pieceCount,
        pieceSize: (i) => this.pieceSize(i),
        hasPiece: (i) => this.picker.has(i),
        reveals: (peer, i) => !this.superSeeder || this.superSeeder.allows(peer.id, i),
        countUpload: (peer, bytes) => host.transfer.countUpload(peer, bytes),
        readFailed: (i, e) => host.warn(`Cannot read piece ${i} for upload: ${errorText(e)}`),
      },
      this.#uploadBucket,
      seedPolicy,
    );
    const choker = this.#choker = new Choker({
      regularSlots: s.unchokeSlots,
      seedingSlots: s.seedUnchokeSlots,
      rechokeIntervalMs: s.unchokeIntervalMs,
      optimisticIntervalMs: s.optimisticUnchokeIntervalMs,
      snubTimeoutMs: s.snubTimeoutMs,
      random: ctx.random,
    });
    this.choking = new ChokeScheduler(choker, host.peers, ctx.clock, (peer, choked) => {
      ctx.logger.debug(`${choked ? "choking" : "unchoking"} ${peer.id}`);
      if (choked) this.uploader.choked(peer);
      else this.uploader.unchoked(peer);
    });
    this.pipeline = new PiecePipeline({
      ctx,
      peers: host.peers,
      storageId: () => this.storageId,
      pieceSize: (i) => this.pieceSize(i),
      pieceVerified: (i) => this.#pieceVerified(i),
      pieceFailed: (i) => this.#pieceFailed(i),
      writeFailed: (i, fault, retryMs) => this.#writeFailed(i, fault, retryMs),
      refillAll: () => host.refillAll(),
      beforeFirstWrite: () => this.#resume.reserve(this.storageId),
      ban: (peer, reason) => host.ban(peer, reason),
      banSource: (id, reason) => this.webSeeds?.ban(id, reason) ?? false,
    });
    this.streams = new StreamReads({
      ctx,
      meta,
      picker: this.picker,
      storageId: () => this.storageId,
      deadlinesAdded: () => {
        if (host.isStopped) return;
        host.refillAll();
        this.webSeeds?.kick();
      },
    });
    const fetcher = ctx.webSeedFetcher;
    this.webSeeds = fetcher && meta.urlList.length > 0 && s.maxWebSeeds > 0
      ? new WebSeeds({
        ctx,
        fetcher,
        meta,
        infoHashHex: host.infoHashHex,
        picker: this.picker,
        pipeline: this.pipeline,
        peers: host.peers,
        state: () => host.state,
        countDownload: (source, bytes) => host.transfer.countDownload(source, bytes),
        downloadWaitMs: (now) => host.transfer.downloadWaitMs(now),
        refillAll: () => host.refillAll(),
      })
      : undefined;
    this.#resume = new ResumeSaver(ctx, meta, options.dir, this.picker, {
      onError: (e) => {
        // While downloading, a full disk is said once: by the piece write it stops.
        if (host.state === "downloading" && classifyStorageError(e).kind === "no-space") return;
        host.warn(`Cannot save resume data: ${errorText(e)}`);
      },
      onLost: (lost) => host.storageFailed(this.#lostMessage(lost)),
    });
  }

  /** Pieces in the torrent. */
  get pieceCount(): number {
    return this.meta.pieceCount;
  }

  /** Byte length of piece `index`. */
  pieceSize(index: number): number {
    return this.picker.pieceLengthOf(index);
  }

  /** Bytes of the wanted pieces (priority above 0). */
  get bytesWanted(): number {
    return this.#bytesWanted;
  }

  /**
   * Sets file priorities (0 skips a file, 1..7; higher first) and recounts the wanted bytes.
   * @param priorities one per file, in torrent order
   * @throws {RangeError} for a wrong count or a priority outside 0..7
   */
  setFilePriorities(priorities: readonly number[]): void {
    this.picker.setFilePriorities(this.meta.files, priorities);
    this.#countWanted();
  }

  /** Changes the torrent's upload limit, bytes/s (0 = none). */
  setUploadLimit(bytesPerSecond: number): void {
    this.#uploadBucket.setRate(bytesPerSecond, this.#host.ctx.clock.now());
  }

  /**
   * Verified bytes of each file, in torrent order (a file gets the part of each verified
   * piece it overlaps). O(pieces + files).
   * @returns one count per file
   */
  fileBytesVerified(): number[] {
    const { pieceLength } = this.meta;
    return this.meta.files.map((f) => {
      if (f.length === 0) return 0;
      const end = f.offset + f.length;
      let bytes = 0;
      for (let i = Math.floor(f.offset / pieceLength); i * pieceLength < end; i++) {
        if (!this.picker.has(i)) continue;
        const from = Math.max(f.offset, i * pieceLength);
        bytes += Math.min(end, i * pieceLength + this.pieceSize(i)) - from;
      }
      return bytes;
    });
  }

  #countWanted(): void {
    let wanted = 0;
    for (let i = 0; i < this.meta.pieceCount; i++) {
      if (this.picker.priorityOf(i) > 0) wanted += this.pieceSize(i);
    }
    this.#bytesWanted = wanted;
  }

  /**
   * Opens storage under the save path and learns which pieces are already verified there
   * (resume data when it still matches the files, else a rehash); a warning about the
   * resume data and `check-finished` go out.
   * @returns what the check found
   * @throws {StorageError} when the storage cannot be opened
   */
  async open(
    check: { signal?: AbortSignal; ignoreResume?: boolean; onProgress?: (n: number) => void } = {},
  ): Promise<OpenedStorage> {
    const host = this.#host;
    let opened: OpenedStorage;
    try {
      opened = await openTorrentStorage(host.ctx, this.meta, this.#options.dir, check);
    } catch (e) {
      this.streams.close(new Error(`Cannot open storage: ${errorText(e)}`));
      throw e;
    }
    this.storageId = opened.id;
    this.#resume.resumeFound = opened.resumeFound;
    for (const i of opened.have.indices()) this.picker.setHave(i);
    this.streams.wake();
    if (opened.warning) host.warn(opened.warning);
    host.ctx.hub.emit({
      type: "check-finished",
      category: "storage",
      infoHash: host.infoHashHex,
      piecesHave: opened.have.count,
      usedResume: opened.usedResume,
    });
    return opened;
  }

  /** We have every wanted piece: seed (super-seed when asked and the data is whole). */
  startSeeding(justFinished: boolean): void {
    if (!justFinished && this.#options.superSeed && this.picker.haveCount === this.pieceCount) {
      this.superSeeder = new SuperSeeder({
        pieceCount: this.meta.pieceCount,
        availabilityOf: (i) => this.picker.availabilityOf(i),
        random: this.#host.ctx.random,
      });
    }
    this.uploader.seeding(this.#host.peers.values());
    void this.webSeeds?.close(); // nothing left to fetch: spans in flight are cut
  }

  /**
   * Periodic work: rechoke when the choker says (at once the first time), else hand on free
   * slots; save resume data, or check that the verified data is on disk, when due.
   */
  tick(now: number): void {
    const seeding = this.#host.state === "seeding";
    if (now >= (this.#choker.nextWakeAt() ?? now)) {
      this.choking.rechoke(now, seeding);
    } else this.choking.fillFreeSlots(now, seeding); // slots of peers that went idle
    this.#resume.tick(this.storageId, now, this.#host.state === "downloading");
    this.webSeeds?.kick();
  }

  /** A peer left: its requests and availability go, and the upload side forgets it. */
  peerClosed(peer: Peer): void {
    this.picker.releaseRequests(peer.id);
    if (peer.isSeed) this.picker.removeSeed();
    else if (peer.has.count > 0) this.picker.removePeer(peer.has);
    this.uploader.forget(peer);
    this.superSeeder?.forget(peer.id);
  }

  /** Finishes submitted pieces, saves resume data and closes the files (once). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.streams.close(new Error("Torrent stopped"));
    await this.webSeeds?.close();
    await this.pipeline.drain(); // pieces already submitted are recorded in the resume data
    if (this.storageId < 0) return;
    await this.#resume.save(this.storageId);
    await this.#host.ctx.disk.close(this.storageId).catch(() => {});
  }

  /** Verified and on disk: HAVE to every peer, maybe completion. */
  #pieceVerified(index: number): void {
    const host = this.#host;
    this.picker.pieceVerified(index); // on disk and verified: recorded even while stopping
    this.#resume.pieceVerified(this.storageId);
    this.streams.pieceVerified(index);
    if (host.isStopped) return;
    for (const p of host.peers.values()) if (p.announcedPieces) p.send({ type: "have", index });
    host.ctx.hub.emit({
      type: "piece-verified",
      category: "piece",
      infoHash: host.infoHashHex,
      index,
    });
    if (this.picker.isComplete && host.state === "downloading") void this.#finish();
  }

  /**
   * Every wanted piece is verified: complete only once a stat of the files shows each
   * still holds its verified bytes (the resume save checks, then records it).
   */
  async #finish(): Promise<void> {
    if (this.#finishing) return;
    this.#finishing = true;
    const kept = await this.#resume.finish(this.storageId);
    this.#finishing = false;
    const host = this.#host;
    if (host.isStopped || host.state !== "downloading") return;
    if (kept === "kept") host.downloadComplete();
    else if (kept !== "lost") {
      host.storageFailed(
        `Cannot finish the download: its files cannot be checked: ${kept.message}`,
      );
    }
  }

  /** Failed its hash: its blocks are fetched again; returns the peers that sent them. */
  #pieceFailed(index: number): string[] {
    const contributors = [...this.picker.pieceFailed(index)];
    this.#host.ctx.hub.emit({
      type: "piece-hash-failed",
      category: "piece",
      infoHash: this.#host.infoHashHex,
      index,
      peers: contributors,
    });
    if (!this.#host.isStopped) this.#host.refillAll();
    return contributors;
  }

  /**
   * A piece write failed (StorageError): the piece is forgotten and every request
   * cancelled. With `retryMs`, requests resume after the pipeline's pause (with a warning,
   * unless the fault is one no retry should fix: that retry is a confirmation); without,
   * the torrent stops with the error (the first such failure only).
   */
  #writeFailed(index: number, fault: StorageFault, retryMs: number | undefined): void {
    const host = this.#host;
    this.picker.pieceFailed(index);
    host.releaseAllRequests();
    const where = fault.path === undefined ? "" : ` to "${fault.path}"`;
    const what = `Cannot write piece ${index}${where}: ${fault.cause}`;
    if (retryMs !== undefined) {
      const retry = `${what}; retrying in ${Math.ceil(retryMs / 1000)} s`;
      // A fault no retry should fix is tried once more in silence (a race may explain it).
      if (fault.permanent) host.ctx.logger.debug(retry);
      else host.warn(retry);
      return; // the pipeline refills when its pause ends
    }
    if (host.state === "error" || host.isStopped) return;
    const retried = fault.permanent
      ? ""
      : ` (still failing after ${host.ctx.settings.writeRetryLimit} retries)`;
    const needed = fault.kind === "no-space"
      ? `; ${formatBytes(this.picker.wantedRemainingBytes)} more free space is needed to finish`
      : "";
    host.storageFailed(`${what}${retried}${needed}`);
  }

  /** `Cannot finish the download: "/dl/x/a.bin" is missing (deleted or moved ...)`. */
  #lostMessage(lost: readonly LostFile[]): string {
    const first = lost[0]!;
    const path = [this.#options.dir, ...this.meta.files[first.fileIndex]!.path].join("/");
    const what = first.actualBytes === undefined
      ? "is missing (deleted or moved while downloading)"
      : `is ${first.actualBytes} bytes, shorter than the ${first.expectedBytes} bytes verified into it (deleted, truncated or replaced while downloading)`;
    const n = lost.length - 1;
    const more = n > 0 ? `; ${n} more file${n === 1 ? " is" : "s are"} gone or short` : "";
    return `Cannot finish the download: "${path}" ${what}${more}`;
  }
}

/** One-line text of an unknown error. */
export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * The piece work's options for `meta`: a magnet's BEP 53 `so` indices become file
 * priorities (they are known to match only now), and priorities of the wrong length go.
 * @param meta the torrent
 * @param options the torrent's options
 * @returns options for {@linkcode TorrentData}
 */
export function dataOptionsFor(
  meta: Metainfo,
  options: TorrentDataOptions & { readonly selectOnly?: readonly number[] },
): TorrentDataOptions {
  let out: TorrentDataOptions = options;
  if (options.selectOnly && !options.filePriorities) {
    const wanted = new Set(options.selectOnly.filter((i) => i < meta.files.length));
    out = { ...out, filePriorities: meta.files.map((_, i) => wanted.has(i) ? 4 : 0) };
  }
  if (out.filePriorities && out.filePriorities.length !== meta.files.length) {
    const { filePriorities: _, ...rest } = out;
    out = rest;
  }
  return out;
}
