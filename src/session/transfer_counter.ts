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

/** Payload counters of one torrent. */
export class TransferCounter {
  readonly #ctx: TorrentContext;
  readonly #downloadBucket: TokenBucket;
  readonly #downloadMeter = new RateMeter();
  readonly #uploadMeter = new RateMeter();
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

  /** Distinct peers that sent payload so far (counted up to 100,000). */
  get peersUsed(): number {
    return this.#senders.size;
  }

  /** Counts payload from `peer` and charges the download limits. */
  countDownload(peer: Peer, bytes: number): void {
    const now = this.#ctx.clock.now();
    peer.downloadMeter.add(bytes, now);
    this.#downloadMeter.add(bytes, now);
    this.#bytesDownloaded += bytes;
    if (this.#senders.size < MAX_SENDERS) this.#senders.add(peer.id);
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

  /** Torrent rates over the meters' window, bytes/s. */
  rates(now: number): { downloadBps: number; uploadBps: number } {
    return {
      downloadBps: Math.round(this.#downloadMeter.rate(now)),
      uploadBps: Math.round(this.#uploadMeter.rate(now)),
    };
  }
}
