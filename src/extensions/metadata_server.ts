/**
 * Serves our info dictionary to peers (BEP 9 `ut_metadata`): answers each `request`
 * with the piece's `data` message, or a `reject`, and bounds what one peer can make us
 * send (RELIABILITY EX5):
 * - out-of-range pieces are rejected;
 * - data replies are rate-limited per peer: a burst of twice the dictionary's pieces (any
 *   peer may fetch it whole, twice, at once), then `repliesPerSecond`;
 * - a peer whose socket has not taken `maxUnsentBytes` of what we queued for it gets
 *   rejects, never more data, so replies never pile up in the send buffer of a peer that
 *   does not read (libtorrent answers only under its send-buffer limit too);
 * - each reject counts against the peer: past `rejectLimit` the driver closes it
 *   ({@linkcode MetadataServer.overLimit}), so even the rejects are bounded.
 *
 * Without a {@linkcode MetadataRequestContext} only the range check applies (tests and
 * the doc examples); the session always passes one.
 *
 * Invariant: per-peer state exists only for peers that asked and were not removed; every
 * token balance is within 0..burst.
 *
 * Layer: core (no I/O).
 * @module
 */
import {
  encodeMetadataData,
  encodeMetadataReject,
  METADATA_PIECE_LENGTH,
  metadataPieceCount,
} from "./ut_metadata.ts";

/** Default data replies per second to one peer after its burst (the engine's Settings: 4). */
export const DEFAULT_METADATA_REPLIES_PER_SECOND = 4;

/** Options for {@linkcode MetadataServer}. */
export interface MetadataServerOptions {
  /** Data replies per second to one peer after its burst; default 4. */
  readonly repliesPerSecond?: number;
  /** A peer with more unsent bytes than this gets rejects; default 64 KiB. */
  readonly maxUnsentBytes?: number;
  /** Rejects a peer may collect before {@linkcode MetadataServer.overLimit} says so; default 300. */
  readonly rejectLimit?: number;
}

/** What the driver knows about the asking peer when its request arrives. */
export interface MetadataRequestContext {
  /** Clock ms. */
  readonly now: number;
  /** Bytes queued for the peer that its socket has not taken yet. */
  readonly unsentBytes: number;
}

interface PeerState {
  tokens: number;
  at: number;
  rejected: number;
}

/**
 * Answers ut_metadata requests from our verified info dictionary.
 *
 * @example
 * ```ts
 * import { decodeMetadataMessage, MetadataServer } from "./mod.ts";
 * import { deepStrictEqual, strictEqual } from "node:assert";
 * const server = new MetadataServer(new Uint8Array(20_000));
 * strictEqual(server.pieceCount, 2);
 * const reply = decodeMetadataMessage(server.request("peer", 1, { now: 0, unsentBytes: 0 }));
 * strictEqual(reply.type === "data" && reply.data.length, 3616);
 * // a peer that has not read 64 KiB of what we sent it gets a reject
 * const full = { now: 0, unsentBytes: 70_000 };
 * deepStrictEqual(decodeMetadataMessage(server.request("peer", 0, full)), {
 *   type: "reject",
 *   piece: 0,
 * });
 * strictEqual(server.overLimit("peer"), false);
 * ```
 */
export class MetadataServer {
  readonly #info: Uint8Array;
  readonly #rate: number;
  readonly #burst: number;
  readonly #maxUnsent: number;
  readonly #rejectLimit: number;
  readonly #peers = new Map<string, PeerState>();

  /**
   * Creates a server for one torrent.
   * @param infoBytes the verified info dictionary, exactly as hashed
   * @param options the per-peer limits
   * @throws {RangeError} when `infoBytes` is empty or a limit is not positive
   */
  constructor(infoBytes: Uint8Array, options: MetadataServerOptions = {}) {
    if (infoBytes.length === 0) throw new RangeError("Cannot create MetadataServer: empty info");
    const rate = options.repliesPerSecond ?? DEFAULT_METADATA_REPLIES_PER_SECOND;
    const maxUnsent = options.maxUnsentBytes ?? 64 * 1024;
    const rejectLimit = options.rejectLimit ?? 300;
    for (const [name, v] of [["repliesPerSecond", rate], ["maxUnsentBytes", maxUnsent]] as const) {
      if (!(v > 0)) {
        throw new RangeError(`Cannot create MetadataServer: ${name} ${v} is not positive`);
      }
    }
    if (!Number.isSafeInteger(rejectLimit) || rejectLimit < 0) {
      throw new RangeError(`Cannot create MetadataServer: rejectLimit ${rejectLimit} is invalid`);
    }
    this.#info = infoBytes;
    this.#rate = rate;
    this.#burst = 2 * metadataPieceCount(infoBytes.length);
    this.#maxUnsent = maxUnsent;
    this.#rejectLimit = rejectLimit;
  }

  /** The metadata size in bytes, for the extension handshake's `metadata_size`. */
  get totalSize(): number {
    return this.#info.length;
  }

  /** The number of 16 KiB metadata pieces. */
  get pieceCount(): number {
    return metadataPieceCount(this.#info.length);
  }

  /**
   * Answers one `request`.
   * @param peerId the requesting peer
   * @param piece the requested piece index, as sent
   * @param context the time and the peer's unsent bytes; without it only the range is checked
   * @returns the payload to send: a `data` message, or a `reject` when the piece is out
   *   of range, the peer is over its rate or has too much unsent
   */
  request(peerId: string, piece: number, context?: MetadataRequestContext): Uint8Array {
    const inRange = Number.isSafeInteger(piece) && piece >= 0 && piece < this.pieceCount;
    if (!inRange) {
      this.#reject(peerId, context);
      return encodeMetadataReject(Number.isSafeInteger(piece) && piece >= 0 ? piece : 0);
    }
    if (context && !this.#take(peerId, context)) return encodeMetadataReject(piece);
    const begin = piece * METADATA_PIECE_LENGTH;
    const data = this.#info.subarray(begin, begin + METADATA_PIECE_LENGTH);
    return encodeMetadataData(piece, this.#info.length, data);
  }

  /**
   * Whether `peerId` collected more rejects than the limit (the driver closes it).
   * @param peerId the peer
   * @returns true once it is over
   */
  overLimit(peerId: string): boolean {
    return (this.#peers.get(peerId)?.rejected ?? 0) > this.#rejectLimit;
  }

  /**
   * Forgets a disconnected peer.
   * @param peerId the peer
   */
  removePeer(peerId: string): void {
    this.#peers.delete(peerId);
  }

  /**
   * Checks the invariant in the module doc.
   * @throws {Error} when a balance is out of range
   */
  assertInvariants(): void {
    for (const [peer, s] of this.#peers) {
      if (!(s.tokens >= 0 && s.tokens <= this.#burst) || s.rejected < 0) {
        throw new Error(`MetadataServer invariant violated for "${peer}"`);
      }
    }
  }

  /** Takes a reply token; false (and a counted reject) when over the rate or the buffer. */
  #take(peerId: string, context: MetadataRequestContext): boolean {
    const s = this.#stateOf(peerId, context.now);
    s.tokens = Math.min(
      this.#burst,
      s.tokens + (Math.max(0, context.now - s.at) * this.#rate) / 1000,
    );
    s.at = Math.max(s.at, context.now);
    if (s.tokens >= 1 && context.unsentBytes <= this.#maxUnsent) {
      s.tokens -= 1;
      return true;
    }
    s.rejected++;
    return false;
  }

  #reject(peerId: string, context: MetadataRequestContext | undefined): void {
    if (context) this.#stateOf(peerId, context.now).rejected++;
  }

  #stateOf(peerId: string, now: number): PeerState {
    let s = this.#peers.get(peerId);
    if (!s) this.#peers.set(peerId, s = { tokens: this.#burst, at: now, rejected: 0 });
    return s;
  }
}
