/**
 * A torrent's payload accounting: per-peer and per-torrent rate meters, byte totals, and
 * the torrent's download limit applied together with the session's.
 *
 * Layer: driver.
 * @module
 */
import { RateMeter } from "../choker/mod.ts";
import type { Peer } from "./peer.ts";
import { TokenBucket } from "../util/token_bucket.ts";
import type { TorrentContext } from "./context.ts";

const MAX_SENDERS = 100_000;

/** What the read gate needs of a piece pipeline (`PiecePipeline`). */
export interface PieceHandOff {
  /** Bytes of whole pieces handed off and not yet in the disk queue. */
  readonly heldBytes: number;
  /** Settles once those pieces are in the disk queue. */
  whenWritable(): Promise<void>;
}

/** Window of the torrent-wide rates, ms. */
const DISPLAY_RATE_WINDOW_MS = 5_000;

/** Payload counters of one torrent. */
export class TransferCounter {
  readonly #ctx: TorrentContext;
  readonly #downloadBucket: TokenBucket;
  /**
   * The torrent's rates are for people (progress line, RPC, web UI, ETA): over 5 s, so a
   * finished download shows 0 B/s within seconds, not 20 (the choker keeps its per-peer
   * 20 s meters).
   */
  readonly #downloadMeter = new RateMeter({ windowMs: DISPLAY_RATE_WINDOW_MS });
  readonly #uploadMeter = new RateMeter({ windowMs: DISPLAY_RATE_WINDOW_MS });
  #bytesDownloaded = 0;
  #bytesUploaded = 0;
  /** Peers (by connection id) that sent payload; bounded, it only feeds a count. */
  readonly #senders = new Set<string>();

  /**
   * @param maxDownloadBytesPerSecond the torrent's own download limit (0 = none)
   */
  constructor(ctx: TorrentContext, maxDownloadBytesPerSecond: number) {
    this.#ctx = ctx;
    this.#downloadBucket = new TokenBucket(maxDownloadBytesPerSecond, ctx.clock.now());
  }

  /** Payload bytes received so far. */
  get bytesDownloaded(): number {
    return this.#bytesDownloaded;
  }

  /** Payload bytes sent so far. */
  get bytesUploaded(): number {
    return this.#bytesUploaded;
  }

  /** Changes the torrent's own download limit, bytes/s (0 = none). */
  setDownloadLimit(bytesPerSecond: number): void {
    this.#downloadBucket.setRate(bytesPerSecond, this.#ctx.clock.now());
  }

  /** Distinct peers (and web seeds) that sent payload so far (counted up to 100,000). */
  get peersUsed(): number {
    return this.#senders.size;
  }

  /**
   * Counts payload from `source` (a peer or a web seed) and charges the download limits.
   * @param now clock ms (default: the clock now)
   */
  countDownload(
    source: { readonly id: string; readonly downloadMeter: RateMeter },
    bytes: number,
    now: number = this.#ctx.clock.now(),
  ): void {
    source.downloadMeter.add(bytes, now);
    this.#downloadMeter.add(bytes, now);
    this.#bytesDownloaded += bytes;
    if (this.#senders.size < MAX_SENDERS) this.#senders.add(source.id);
    this.#downloadBucket.take(bytes, now);
    this.#ctx.downloadBucket.take(bytes, now);
  }

  /** Counts payload sent to `peer` (the uploader charges the upload limits). */
  countUpload(peer: Peer, bytes: number): void {
    const now = this.#ctx.clock.now();
    peer.uploadMeter.add(bytes, now);
    this.#uploadMeter.add(bytes, now);
    this.#bytesUploaded += bytes;
  }

  /** How long reading must wait for the torrent's and the session's download limits, ms. */
  downloadWaitMs(now: number): number {
    return Math.max(this.#downloadBucket.waitMs(now), this.#ctx.downloadBucket.waitMs(now));
  }

  /**
   * Before each socket read: waits for disk capacity (once the torrent has piece work) and
   * for the download limits; `undefined` when reading may go on at once.
   * @param work the torrent's piece pipeline, once it has piece work: pieces it holds for
   *   the first write count against `diskQueueBytes` with the disk queue
   */
  readGate(work: PieceHandOff | undefined): Promise<void> | undefined {
    const { disk, clock, settings } = this.#ctx;
    const wait = this.downloadWaitMs(clock.now());
    let full: Promise<void> | undefined;
    if (work) {
      const queued = disk.queuedBytes();
      // Held pieces reach the disk queue before this continuation runs (queued first).
      if (work.heldBytes > 0 && work.heldBytes + queued >= settings.diskQueueBytes) {
        full = work.whenWritable().then(() => disk.waitForCapacity());
      } else if (queued > 0) full = disk.waitForCapacity();
    }
    if (wait <= 0) return full;
    const delay = new Promise<void>((r) => clock.schedule(wait, r));
    return full ? Promise.all([full, delay]).then(() => {}) : delay;
  }

  /** Torrent rates over the meters' window, bytes/s. */
  rates(now: number): { downloadBps: number; uploadBps: number } {
    return {
      downloadBps: Math.round(this.#downloadMeter.rate(now)),
      uploadBps: Math.round(this.#uploadMeter.rate(now)),
    };
  }
}
