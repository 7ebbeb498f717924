/**
 * Serves our info dictionary to peers (BEP 9 `ut_metadata`): answers each `request`
 * with the piece's `data` message, or a `reject` when the piece is out of range or
 * the peer already has too many answers queued (RELIABILITY EX5: at most 64 queued
 * per peer, as Transmission; the rest rejected).
 *
 * A "queued" answer is one handed to the driver and not yet written to the socket:
 * the driver calls {@linkcode MetadataServer.sent} when the write completes, so a
 * peer that floods requests but never reads its socket costs at most 64 × 16 KiB.
 *
 * Invariant: every per-peer queued count is in 1..maxQueuedPerPeer (zero counts are
 * not stored).
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

/** Default cap on answers queued per peer (Transmission `METADATA_REQQ`; RELIABILITY EX5). */
export const DEFAULT_MAX_METADATA_QUEUED = 64;

/** Options for {@linkcode MetadataServer}. */
export interface MetadataServerOptions {
  /** Data answers queued per peer before further requests are rejected; default 64. */
  readonly maxQueuedPerPeer?: number;
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
 * const reply = decodeMetadataMessage(server.request("peer", 1));
 * strictEqual(reply.type === "data" && reply.data.length, 3616);
 * strictEqual(server.queuedFor("peer"), 1);
 * server.sent("peer"); // the driver wrote it out
 * deepStrictEqual(decodeMetadataMessage(server.request("peer", 2)), { type: "reject", piece: 2 });
 * ```
 */
export class MetadataServer {
  readonly #info: Uint8Array;
  readonly #maxQueued: number;
  readonly #queued = new Map<string, number>();

  /**
   * Creates a server for one torrent.
   * @param infoBytes the verified info dictionary, exactly as hashed
   * @param options the per-peer queue cap
   * @throws {RangeError} when `infoBytes` is empty or the cap is not a positive integer
   */
  constructor(infoBytes: Uint8Array, options: MetadataServerOptions = {}) {
    if (infoBytes.length === 0) throw new RangeError("Cannot create MetadataServer: empty info");
    const max = options.maxQueuedPerPeer ?? DEFAULT_MAX_METADATA_QUEUED;
    if (!Number.isSafeInteger(max) || max <= 0) {
      throw new RangeError(`Cannot create MetadataServer: maxQueuedPerPeer ${max} is not positive`);
    }
    this.#info = infoBytes;
    this.#maxQueued = max;
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
   * @returns the payload to send: a `data` message (counted as queued until `sent()`),
   *   or a `reject` when the piece is out of range or the peer's queue is full
   */
  request(peerId: string, piece: number): Uint8Array {
    const queued = this.#queued.get(peerId) ?? 0;
    const inRange = Number.isSafeInteger(piece) && piece >= 0 && piece < this.pieceCount;
    if (!inRange) {
      return encodeMetadataReject(Number.isSafeInteger(piece) && piece >= 0 ? piece : 0);
    }
    if (queued >= this.#maxQueued) return encodeMetadataReject(piece);
    this.#queued.set(peerId, queued + 1);
    const begin = piece * METADATA_PIECE_LENGTH;
    const data = this.#info.subarray(begin, begin + METADATA_PIECE_LENGTH);
    return encodeMetadataData(piece, this.#info.length, data);
  }

  /**
   * Records that one data answer for `peerId` was written out.
   * @param peerId the peer
   */
  sent(peerId: string): void {
    const n = (this.#queued.get(peerId) ?? 0) - 1;
    if (n <= 0) this.#queued.delete(peerId);
    else this.#queued.set(peerId, n);
  }

  /**
   * Data answers handed out to `peerId` and not yet written.
   * @param peerId the peer
   * @returns the count
   */
  queuedFor(peerId: string): number {
    return this.#queued.get(peerId) ?? 0;
  }

  /**
   * Forgets a disconnected peer.
   * @param peerId the peer
   */
  removePeer(peerId: string): void {
    this.#queued.delete(peerId);
  }

  /**
   * Checks the invariant in the module doc.
   * @throws {Error} when a queued count is out of range
   */
  assertInvariants(): void {
    for (const [peer, n] of this.#queued) {
      if (n < 1 || n > this.#maxQueued) {
        throw new Error(`MetadataServer invariant violated: ${n} queued for "${peer}"`);
      }
    }
  }
}
