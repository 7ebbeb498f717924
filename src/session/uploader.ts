/**
 * Serves block requests: a bounded read cache of whole pieces (read once through
 * the disk workers), per-peer request queues drained fairly, the upload rate limit,
 * and the per-peer send-buffer cap (RELIABILITY PW7).
 *
 * Layer: driver.
 * @module
 */
import type { PeerConnection } from "../net/peer_connection.ts";
import { encodePieceHeaderInto } from "../wire/mod.ts";
import type { TorrentContext } from "./context.ts";
import type { TokenBucket } from "../util/token_bucket.ts";

/** What the uploader needs from its torrent. */
export interface UploadSource {
  /** Disk storage id. */
  storageId(): number;
  /** Byte length of piece `index`. */
  pieceSize(index: number): number;
  /** True when piece `index` is verified on disk. */
  hasPiece(index: number): boolean;
  /** Counts uploaded payload. */
  countUpload(peer: PeerConnection, bytes: number): void;
  /** The last block of piece `index` went to `peer`. */
  pieceSent?(peer: PeerConnection, index: number): void;
  /** A read failed: the torrent decides what that means (F4). */
  readFailed(index: number, error: unknown): void;
}

/** Serves requests for one torrent. */
export class Uploader {
  readonly #ctx: TorrentContext;
  readonly #source: UploadSource;
  readonly #bucket: TokenBucket;
  readonly #cache = new Map<number, Uint8Array>();
  readonly #reading = new Map<number, Promise<Uint8Array | undefined>>();
  readonly #waiting = new Set<PeerConnection>();
  #cacheBytes = 0;
  #scheduled = false;
  #timerArmed = false;

  /** Builds an uploader; `bucket` is the torrent's upload limit (shared with the session's). */
  constructor(ctx: TorrentContext, source: UploadSource, bucket: TokenBucket) {
    this.#ctx = ctx;
    this.#source = source;
    this.#bucket = bucket;
  }

  /** Queues service for `peer` (it has new requests or buffer space). */
  wake(peer: PeerConnection): void {
    this.#waiting.add(peer);
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      this.#serve();
    });
  }

  /** Drops a cached piece (e.g. after a failed read). */
  evict(index: number): void {
    const data = this.#cache.get(index);
    if (data) {
      this.#cacheBytes -= data.length;
      this.#cache.delete(index);
    }
  }

  /** Forgets a closed peer. */
  forget(peer: PeerConnection): void {
    this.#waiting.delete(peer);
  }

  /**
   * Serves one block per peer per turn, round-robin: a served peer moves to the back of
   * the queue, so under a rate limit no peer starves the others.
   */
  #serve(): void {
    const { settings, clock } = this.#ctx;
    let served = true;
    while (served) {
      served = false;
      for (const peer of [...this.#waiting]) {
        if (peer.isClosed || peer.amChoking || peer.incoming.length === 0) {
          this.#waiting.delete(peer);
          continue;
        }
        if (peer.sendBufferBytes >= sendWatermark(peer, clock.now(), settings.maxSendBufferBytes)) {
          this.#armTimer(50);
          continue;
        }
        const now = clock.now();
        const wait = Math.max(this.#bucket.waitMs(now), this.#ctx.uploadBucket.waitMs(now));
        if (wait > 0) {
          this.#armTimer(wait);
          return;
        }
        const req = peer.incoming[0]!;
        const piece = this.#cache.get(req.index);
        if (!piece) {
          this.#load(req.index, peer);
          continue;
        }
        peer.incoming.shift();
        const frame = new Uint8Array(13 + req.length);
        encodePieceHeaderInto(frame, 0, req.index, req.begin, req.length);
        frame.set(piece.subarray(req.begin, req.begin + req.length), 13);
        peer.sendRaw(frame);
        this.#bucket.take(req.length, now);
        this.#ctx.uploadBucket.take(req.length, now);
        this.#source.countUpload(peer, req.length);
        if (req.begin + req.length === piece.length) this.#source.pieceSent?.(peer, req.index);
        this.#cache.delete(req.index); // refresh LRU position
        this.#cache.set(req.index, piece);
        this.#waiting.delete(peer); // back of the queue
        if (peer.incoming.length > 0) this.#waiting.add(peer);
        served = true;
      }
    }
  }

  #armTimer(ms: number): void {
    if (this.#timerArmed) return;
    this.#timerArmed = true;
    this.#ctx.clock.schedule(ms, () => {
      this.#timerArmed = false;
      for (const p of this.#waiting) this.wake(p);
    });
  }

  #load(index: number, peer: PeerConnection): void {
    if (this.#reading.has(index)) return;
    const size = this.#source.pieceSize(index);
    const job = this.#ctx.disk.read(this.#source.storageId(), index, 0, size).then(
      (data) => data,
      (e) => {
        this.#source.readFailed(index, e);
        return undefined;
      },
    );
    this.#reading.set(index, job);
    job.then((data) => {
      this.#reading.delete(index);
      if (data && this.#source.hasPiece(index)) {
        this.#cache.set(index, data);
        this.#cacheBytes += data.length;
        while (this.#cacheBytes > this.#ctx.settings.readCacheBytes && this.#cache.size > 1) {
          const oldest = this.#cache.keys().next().value!;
          this.evict(oldest);
        }
      } else {
        // Unreadable: drop every queued request for it so the queue cannot stall.
        for (const p of this.#waiting) {
          for (let i = p.incoming.length - 1; i >= 0; i--) {
            if (p.incoming[i]!.index === index) p.incoming.splice(i, 1);
          }
        }
      }
      this.wake(peer);
    });
  }
}

/** Least a peer's send buffer may hold before we stop adding blocks (4 blocks). */
const MIN_SEND_WATERMARK = 64 * 1024;

/**
 * How many bytes may wait in `peer`'s send buffer: half a second of its upload rate, at
 * least 64 KiB, at most `max` (libtorrent's send_buffer_watermark_factor). Piece data
 * queued beyond that delays everything behind it on the same connection, our requests and
 * HAVEs included, by seconds on a slow uplink.
 */
function sendWatermark(peer: PeerConnection, now: number, max: number): number {
  return Math.min(max, Math.max(MIN_SEND_WATERMARK, peer.uploadMeter.rate(now) / 2));
}
