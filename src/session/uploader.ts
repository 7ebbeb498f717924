/**
 * The upload side of one torrent: it owns every peer's incoming request queue
 * (`Peer.uploads`, whose rules are the pure UploadQueue) and the seed policy (BEP 6
 * suggestions and first-copy screening, the pure SeedSuggester), and serves blocks from a
 * bounded read cache of whole pieces (read once through the disk workers), one block per
 * peer per turn (under an upload limit, a piece), within the upload rate limits and each
 * peer's send-buffer watermark (RELIABILITY PW7).
 *
 * Layer: driver.
 * @module
 */
import type { SeedPeer, SeedSuggester } from "../choker/seed_suggester.ts";
import type { BlockRequest } from "../choker/upload_queue.ts";
import type { TokenBucket } from "../util/token_bucket.ts";
import type { TorrentContext } from "./context.ts";
import type { Peer } from "./peer.ts";

/** What the uploader needs from its torrent. */
export interface UploadSource {
  /** Disk storage id. */
  storageId(): number;
  /** Pieces in the torrent. */
  readonly pieceCount: number;
  /** Byte length of piece `index`. */
  pieceSize(index: number): number;
  /** True when piece `index` is verified on disk. */
  hasPiece(index: number): boolean;
  /** Whether `peer` may have piece `index` (a super-seed reveals pieces one by one). */
  reveals(peer: Peer, index: number): boolean;
  /** Counts uploaded payload. */
  countUpload(peer: Peer, bytes: number): void;
  /** A read failed: the torrent decides what that means (F4). */
  readFailed(index: number, error: unknown): void;
}

/** Serves requests for one torrent. */
export class Uploader {
  readonly #ctx: TorrentContext;
  readonly #source: UploadSource;
  readonly #bucket: TokenBucket;
  readonly #seedPolicy: SeedSuggester;
  readonly #cache = new Map<number, Uint8Array>();
  readonly #reading = new Map<number, Promise<Uint8Array | undefined>>();
  readonly #waiting = new Set<Peer>();
  #cacheBytes = 0;
  #scheduled = false;
  #timerArmed = false;
  /** The peer whose piece is going out block after block, and how far. */
  #turn: { peer: Peer; index: number; bytes: number } | undefined;

  /**
   * @param bucket the torrent's upload limit (used with the session's)
   * @param seedPolicy suggestions and first-copy screening while seeding
   */
  constructor(
    ctx: TorrentContext,
    source: UploadSource,
    bucket: TokenBucket,
    seedPolicy: SeedSuggester,
  ) {
    this.#ctx = ctx;
    this.#source = source;
    this.#bucket = bucket;
    this.#seedPolicy = seedPolicy;
  }

  /** A REQUEST arrived: queue it, or refuse it (BEP 6 REJECT), or close a peer that abuses it. */
  request(peer: Peer, r: BlockRequest): void {
    const source = this.#source;
    const verdict = peer.uploads.offer(r, {
      pieceCount: source.pieceCount,
      canServe: (i) => source.hasPiece(i) && source.reveals(peer, i),
      pieceSize: (i) => source.pieceSize(i),
      choking: peer.amChoking,
      refuses: (i, begin) => this.#seedPolicy.refuses(seedPeer(peer), i, begin),
    }, this.#ctx.clock.now());
    if (verdict === "queued") return this.#wake(peer);
    if (peer.fast) peer.send({ type: "reject", ...r });
    if (verdict === "close") peer.conn.close("protocol", "too many invalid requests");
  }

  /** A CANCEL arrived. */
  cancel(peer: Peer, r: BlockRequest): void {
    peer.uploads.cancel(r);
  }

  /**
   * We unchoked `peer`: while seeding, suggest what it should ask for.
   */
  unchoked(peer: Peer): void {
    this.#suggest(peer, this.#seedPolicy.onUnchoke(seedPeer(peer)));
  }

  /** We choked `peer`: its queue is dropped (BEP 6: each dropped request is rejected). */
  choked(peer: Peer): void {
    this.#seedPolicy.onChoke(seedPeer(peer));
    const dropped = peer.uploads.clear();
    if (peer.fast) { for (const r of dropped) peer.send({ type: "reject", ...r }); }
  }

  /** We became a seed: suggestions start for the peers we unchoke. */
  seeding(peers: Iterable<Peer>): void {
    for (const p of peers) if (!p.amChoking) this.unchoked(p);
  }

  /** Forgets a closed peer. */
  forget(peer: Peer): void {
    this.#waiting.delete(peer);
    if (this.#turn?.peer === peer) this.#turn = undefined;
    this.#seedPolicy.forget(peer.id);
  }

  /** Drops a cached piece (e.g. after a failed read). */
  evict(index: number): void {
    const data = this.#cache.get(index);
    if (data) {
      this.#cacheBytes -= data.length;
      this.#cache.delete(index);
    }
  }

  #suggest(peer: Peer, pieces: readonly number[]): void {
    for (const index of pieces) peer.send({ type: "suggest", index });
  }

  /** Queues service for `peer` (it has new requests or buffer space). */
  #wake(peer: Peer): void {
    this.#waiting.add(peer);
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      this.#serve();
    });
  }

  /**
   * Serves the waiting peers round-robin: a served peer moves to the back of the queue, so
   * under a rate limit no peer starves the others. A turn is one block, or under an upload
   * limit the blocks of one piece for up to {@linkcode MAX_TURN_MS}: at the limit's pace, a
   * piece sent block after block is whole (and its receiver can pass it on) after one
   * piece's time, where one block to every other peer in between would hold every piece
   * incomplete for as many pieces' time as there are peers.
   */
  #serve(): void {
    const { settings, clock } = this.#ctx;
    let served = true;
    while (served) {
      served = false;
      for (const peer of this.#order()) {
        if (peer.isClosed || peer.amChoking || peer.uploads.length === 0) {
          this.#waiting.delete(peer);
          continue;
        }
        const now = clock.now();
        if (peer.conn.sendBufferBytes >= sendWatermark(peer, now, settings.maxSendBufferBytes)) {
          this.#armTimer(50);
          continue;
        }
        const wait = Math.max(this.#bucket.waitMs(now), this.#ctx.uploadBucket.waitMs(now));
        if (wait > 0) {
          this.#armTimer(wait);
          return;
        }
        const req = peer.uploads.peek()!;
        const piece = this.#cache.get(req.index);
        if (!piece) {
          this.#load(req.index, peer);
          continue;
        }
        peer.uploads.shift();
        this.#send(peer, req, piece, now);
        served = true;
        if (this.#keepsTurn(peer, req)) break; // served again first
        this.#waiting.delete(peer); // back of the queue
        if (peer.uploads.length > 0) this.#waiting.add(peer);
      }
    }
  }

  /** The waiting peers in turn order: the one whose turn goes on first. */
  #order(): Peer[] {
    const order = [...this.#waiting];
    const holder = this.#turn?.peer;
    if (holder && this.#waiting.has(holder)) {
      order.splice(order.indexOf(holder), 1);
      order.unshift(holder);
    }
    return order;
  }

  /**
   * Whether `peer`, just sent `req`, keeps its turn: its next request is in the same piece
   * and the turn has lasted under {@linkcode MAX_TURN_MS} of the upload limit. Records the
   * turn. Without a limit a turn is one block: the uplink's queues interleave the peers'
   * blocks whatever order we hand them out in.
   */
  #keepsTurn(peer: Peer, req: BlockRequest): boolean {
    const most = this.#turnBytes();
    const turn = this.#turn;
    const bytes = (turn?.peer === peer && turn.index === req.index ? turn.bytes : 0) + req.length;
    if (bytes < most && peer.uploads.peek()?.index === req.index) {
      this.#turn = { peer, index: req.index, bytes };
      return true;
    }
    this.#turn = undefined;
    return false;
  }

  /** Bytes one turn may take: {@linkcode MAX_TURN_MS} at the tighter upload limit. */
  #turnBytes(): number {
    const torrent = this.#bucket.rate, session = this.#ctx.uploadBucket.rate;
    const rate = torrent > 0 && session > 0 ? Math.min(torrent, session) : torrent || session;
    return (rate * MAX_TURN_MS) / 1000;
  }

  #send(peer: Peer, req: BlockRequest, piece: Uint8Array, now: number): void {
    peer.conn.sendPiece(req.index, req.begin, piece.subarray(req.begin, req.begin + req.length));
    this.#bucket.take(req.length, now);
    this.#ctx.uploadBucket.take(req.length, now);
    this.#source.countUpload(peer, req.length);
    if (req.begin + req.length === piece.length) {
      this.#suggest(peer, this.#seedPolicy.onPieceSent(seedPeer(peer), req.index));
    }
    this.#cache.delete(req.index); // refresh LRU position
    this.#cache.set(req.index, piece);
  }

  #armTimer(ms: number): void {
    if (this.#timerArmed) return;
    this.#timerArmed = true;
    this.#ctx.clock.schedule(ms, () => {
      this.#timerArmed = false;
      for (const p of this.#waiting) this.#wake(p);
    });
  }

  #load(index: number, peer: Peer): void {
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
          this.evict(this.#cache.keys().next().value!);
        }
      } else {
        // Unreadable: drop every queued request for it so the queue cannot stall.
        for (const p of this.#waiting) p.uploads.dropPiece(index);
      }
      this.#wake(peer);
    });
  }
}

/** A peer as the seed policy sees it. */
function seedPeer(peer: Peer): SeedPeer {
  return {
    id: peer.id,
    fast: peer.fast,
    isSeed: peer.isSeed,
    has: peer.has,
    unchoked: !peer.amChoking,
  };
}

/**
 * How long one peer's turn may last under an upload limit: the blocks of one piece go out
 * back to back for at most this long (at least one block), then the next peer's turn comes.
 * With 16 seeding slots a peer waits at most ~4 s between turns.
 */
const MAX_TURN_MS = 250;

/** Least a peer's send buffer may hold before we stop adding blocks (4 blocks). */
const MIN_SEND_WATERMARK = 64 * 1024;

/**
 * How many bytes may wait in `peer`'s send buffer: half a second of its upload rate, at
 * least 64 KiB, at most `max` (libtorrent's send_buffer_watermark_factor). Piece data
 * queued beyond that delays everything behind it on the same connection, our requests and
 * HAVEs included, by seconds on a slow uplink.
 */
function sendWatermark(peer: Peer, now: number, max: number): number {
  return Math.min(max, Math.max(MIN_SEND_WATERMARK, peer.uploadMeter.rate(now) / 2));
}
