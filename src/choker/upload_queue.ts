/**
 * One peer's queue of block requests we agreed to serve (what it asks of us), and the rules
 * for taking a request in (BEP 3, BEP 6; RELIABILITY PW6, PW7):
 * - a request is valid when its piece exists and is ours, its length is 1..16 KiB and the
 *   range fits the piece;
 * - it is queued only while we unchoke the peer, the queue is under its cap (libtorrent's
 *   max_allowed_in_request_queue) and the seed policy does not leave the piece to others;
 * - everything else is refused: a fast-extension peer gets a REJECT, any other peer never
 *   hears back (BEP 3 has no way to say no), and a request that was invalid, came while
 *   we choked, or found the queue full counts against the peer: past
 *   `invalidRequestLimit` the peer is closed. A full queue means the peer ignored the
 *   `reqq` we told it (BEP 10, the same cap), so a peer that floods valid requests is
 *   closed after the cap plus the limit, and what it can make us send back (its REJECTs)
 *   is bounded too;
 * - a choke drops the whole queue (the driver rejects each dropped request for a
 *   fast-extension peer), a CANCEL drops one request.
 *
 * Invariant: the queue never holds more than `maxIncomingRequests` requests.
 *
 * Layer: core (pure).
 * @module
 */
/** A block request as the wire carries it (BEP 3 REQUEST and CANCEL fields). */
export interface BlockRequest {
  /** Piece index. */
  readonly index: number;
  /** Byte offset in the piece. */
  readonly begin: number;
  /** Length in bytes. */
  readonly length: number;
}

/** Largest block a request may ask for (every current client uses 16 KiB). */
export const MAX_REQUEST_LENGTH = 16 * 1024;

/** What the upload side knows when a request arrives. */
export interface RequestContext {
  /** Pieces in the torrent. */
  readonly pieceCount: number;
  /** Whether we have piece `index` verified on disk (and may reveal it: super-seeding). */
  canServe(index: number): boolean;
  /** Byte length of piece `index`. */
  pieceSize(index: number): number;
  /** We choke the peer. */
  readonly choking: boolean;
  /**
   * The seed policy leaves this piece to other peers (BEP 6 first-copy screening); `begin`
   * tells a block asked for again from one pipelined behind the first.
   */
  refuses(index: number, begin: number): boolean;
}

/** What to do with an arrived request. */
export type RequestVerdict =
  /** Queued: serve it. */
  | "queued"
  /** Refused: REJECT it when the peer speaks the fast extension. */
  | "refused"
  /** Refused, and the peer sent too many bad requests: close it. */
  | "close";

/** Options of {@linkcode UploadQueue} (the engine's Settings of the same names). */
export interface UploadQueueOptions {
  /** Requests queued at most (RELIABILITY PW7: 500). */
  readonly maxIncomingRequests: number;
  /** Invalid requests, requests while choked or over the cap, tolerated before closing (PW6: 300). */
  readonly invalidRequestLimit?: number;
}

/** The requests one peer sent that we will serve, oldest first. */
export class UploadQueue {
  readonly #options: UploadQueueOptions;
  readonly #queue: BlockRequest[] = [];
  #invalid = 0;
  #lastRequestAt = 0;

  /** An empty queue. */
  constructor(options: UploadQueueOptions) {
    this.#options = options;
  }

  /** Requests waiting. */
  get length(): number {
    return this.#queue.length;
  }

  /** Clock ms of the last request we queued (0 when none). */
  get lastRequestAt(): number {
    return this.#lastRequestAt;
  }

  /** The oldest waiting request. */
  peek(): BlockRequest | undefined {
    return this.#queue[0];
  }

  /** Removes the oldest waiting request (it is being served). */
  shift(): BlockRequest | undefined {
    return this.#queue.shift();
  }

  /**
   * Takes in a request the peer sent.
   * @param r the request's index, begin and length, as sent
   * @param ctx what we have, whether we choke it, the seed policy
   * @param now clock ms
   * @returns whether it was queued, refused, or the peer must go
   */
  offer(r: BlockRequest, ctx: RequestContext, now: number): RequestVerdict {
    const valid = r.index < ctx.pieceCount && r.length > 0 &&
      r.length <= MAX_REQUEST_LENGTH && ctx.canServe(r.index) &&
      r.begin + r.length <= ctx.pieceSize(r.index);
    const full = this.#queue.length >= this.#options.maxIncomingRequests;
    if (valid && !ctx.choking && !full) {
      if (!ctx.refuses(r.index, r.begin)) {
        this.#queue.push({ index: r.index, begin: r.begin, length: r.length });
        this.#lastRequestAt = now;
        return "queued";
      }
      return "refused";
    }
    if (++this.#invalid > (this.#options.invalidRequestLimit ?? 300)) return "close";
    return "refused";
  }

  /**
   * The peer withdrew a request (CANCEL).
   * @returns whether it was waiting
   */
  cancel(r: BlockRequest): boolean {
    const i = this.#queue.findIndex((q) =>
      q.index === r.index && q.begin === r.begin && q.length === r.length
    );
    if (i >= 0) this.#queue.splice(i, 1);
    return i >= 0;
  }

  /**
   * We choked the peer: every waiting request is dropped.
   * @returns the dropped requests (the driver rejects them for a fast-extension peer)
   */
  clear(): BlockRequest[] {
    return this.#queue.splice(0);
  }

  /** Drops every waiting request for piece `index` (it could not be read). */
  dropPiece(index: number): void {
    for (let i = this.#queue.length - 1; i >= 0; i--) {
      if (this.#queue[i]!.index === index) this.#queue.splice(i, 1);
    }
  }

  /** Checks the invariant; throws on a violation. */
  assertInvariants(): void {
    if (this.#queue.length > this.#options.maxIncomingRequests) {
      throw new Error(
        `UploadQueue holds ${this.#queue.length} > ${this.#options.maxIncomingRequests}`,
      );
    }
  }
}
