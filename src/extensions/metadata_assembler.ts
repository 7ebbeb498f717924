/**
 * Downloads the info dictionary for a magnet link (BEP 9 `ut_metadata`): chooses the
 * metadata size, hands out 16 KiB piece requests to peers, validates each `data`
 * message and checks the SHA-1 of the assembled bytes against the info-hash.
 *
 * Hostile peers (RELIABILITY EX2–EX4): a `metadata_size` of 0, below 0 or over the
 * cap makes that peer unused, and nothing is allocated for it; peers that disagree
 * with the accepted size are ignored; a piece index out of range, a wrong piece
 * length or a changed `total_size` bans the sender from metadata ("strike"); the
 * assembler never throws on peer input. When the whole metadata fails its hash,
 * every piece is discarded, each sender gets a strike, and the next attempts fetch
 * all pieces from one peer at a time, fewest strikes first, so the next failure
 * names its liar (banned). After a success, the senders of the failed attempt whose
 * pieces differ from the verified bytes are reported as `liars`.
 *
 * Invariants (checked by {@linkcode MetadataAssembler.assertInvariants}): a piece is
 * never both received and requested; each requested piece is held by one usable
 * peer; the per-peer request counts sum to the requested pieces; received pieces
 * have their exact length; in single-source mode every received piece came from the
 * current source; after completion nothing is requested.
 *
 * Layer: core (no I/O; time comes in as `now`).
 * @module
 */
import type { Random } from "../runtime/types.ts";
import { bytesEqual, concatBytes } from "../util/bytes.ts";
import { sha1 } from "../util/sha1.ts";
import {
  DEFAULT_MAX_METADATA_BYTES,
  metadataPieceCount,
  metadataPieceLength,
} from "./ut_metadata.ts";
import { MetadataAttempt } from "./_metadata_attempt.ts";

/** Options for {@linkcode MetadataAssembler}. */
export interface MetadataAssemblerOptions {
  /** The 20-byte v1 info-hash the assembled metadata must hash to. */
  readonly infoHash: Uint8Array;
  /** The largest `metadata_size` accepted, in bytes; default 16 MiB. */
  readonly maxMetadataBytes?: number;
  /** Randomises where each attempt starts handing out pieces; default: piece 0 first. */
  readonly random?: Random;
  /** A request unanswered this long is released by `expire(now)`; default 60 s. */
  readonly requestTimeoutMs?: number;
  /** A peer struck this many times by hash failures is no longer used; default 3. */
  readonly maxStrikes?: number;
}

/** What {@linkcode MetadataAssembler.onData} made of a `data` message. */
export type MetadataDataResult =
  | { readonly done: false; readonly status: "accepted" }
  | { readonly done: false; readonly status: "ignored"; readonly reason: string }
  | { readonly done: false; readonly status: "strike"; readonly reason: string }
  | {
    readonly done: false;
    readonly status: "hash-mismatch";
    /** Every peer that sent a piece of the failed attempt. */
    readonly struck: readonly string[];
    /** Peers now no longer used: the sole sender, or peers at `maxStrikes`. */
    readonly banned: readonly string[];
  }
  | {
    readonly done: true;
    readonly status: "complete";
    /** The verified info dictionary bytes. */
    readonly infoBytes: Uint8Array;
    /** Senders of the last failed attempt whose pieces differ from the verified bytes. */
    readonly liars: readonly string[];
  };

/** How many banned peer ids are remembered; the oldest is forgotten first. */
export const MAX_REMEMBERED_BANS = 4096;

const ACCEPTED: MetadataDataResult = Object.freeze({ done: false, status: "accepted" });

function ignored(reason: string): MetadataDataResult {
  return { done: false, status: "ignored", reason };
}

/**
 * Downloads and verifies metadata from many peers. See the module doc for the rules.
 *
 * @example
 * ```ts
 * import { decodeMetadataMessage, MetadataAssembler, MetadataServer } from "./mod.ts";
 * import { sha1 } from "../util/sha1.ts";
 * import { deepStrictEqual, strictEqual } from "node:assert";
 * const info = new TextEncoder().encode("d4:name3:abce");
 * const seed = new MetadataServer(info); // the remote peer's side
 * const asm = new MetadataAssembler({ infoHash: sha1(info) });
 * strictEqual(asm.offerSize("peer", seed.totalSize), true);
 * const [piece] = asm.nextRequests("peer", 4);
 * const reply = decodeMetadataMessage(seed.request("me", piece!));
 * if (reply.type !== "data") throw new Error("expected data");
 * const result = asm.onData("peer", reply.piece, reply.totalSize, reply.data);
 * deepStrictEqual(result, { done: true, status: "complete", infoBytes: info, liars: [] });
 * ```
 */
export class MetadataAssembler {
  readonly #infoHash: Uint8Array;
  readonly #maxBytes: number;
  readonly #random: Random | undefined;
  readonly #timeoutMs: number;
  readonly #maxStrikes: number;
  /** Valid offered sizes, in offer order. */
  readonly #offers = new Map<string, number>();
  readonly #strikes = new Map<string, number>();
  readonly #banned = new Set<string>();
  #size: number | undefined;
  #attempt = new MetadataAttempt(0, 0);
  #infoBytes: Uint8Array | undefined;
  /** After a hash failure: the single peer the current attempt is fetched from. */
  #singleSource = false;
  #source: string | undefined;
  readonly #passed = new Set<string>();
  /** Per-piece SHA-1 and sender of the last failed attempt. */
  #suspects: { sender: string; digest: Uint8Array }[] = [];

  /**
   * Creates an assembler for one info-hash.
   * @param options the info-hash and limits
   * @throws {RangeError} when `infoHash` is not 20 bytes or a limit is not a positive integer
   */
  constructor(options: MetadataAssemblerOptions) {
    if (options.infoHash.length !== 20) {
      throw new RangeError(
        `Cannot create MetadataAssembler: info-hash of ${options.infoHash.length} bytes`,
      );
    }
    this.#infoHash = options.infoHash.slice();
    this.#maxBytes = positive(
      "maxMetadataBytes",
      options.maxMetadataBytes ?? DEFAULT_MAX_METADATA_BYTES,
    );
    this.#timeoutMs = positive("requestTimeoutMs", options.requestTimeoutMs ?? 60_000);
    this.#maxStrikes = positive("maxStrikes", options.maxStrikes ?? 3);
    this.#random = options.random;
  }

  /** The accepted metadata size in bytes, once a peer offered a plausible one. */
  get metadataSize(): number | undefined {
    return this.#size;
  }

  /** The number of 16 KiB pieces of the accepted size (0 before one is accepted). */
  get pieceCount(): number {
    return this.#attempt.count;
  }

  /** Pieces received in the current attempt. */
  get piecesReceived(): number {
    return this.#attempt.received;
  }

  /** The verified info dictionary, once complete. */
  get infoBytes(): Uint8Array | undefined {
    return this.#infoBytes;
  }

  /**
   * Whether `peerId` is used for metadata now: it offered the accepted size and is not banned.
   * @param peerId the peer
   * @returns true when requests may go to it
   */
  isUsable(peerId: string): boolean {
    return this.#infoBytes === undefined && !this.#banned.has(peerId) &&
      this.#size !== undefined && this.#offers.get(peerId) === this.#size;
  }

  /**
   * Hash-failure strikes against `peerId`.
   * @param peerId the peer
   * @returns the count (0 when none)
   */
  strikesOf(peerId: string): number {
    return this.#strikes.get(peerId) ?? 0;
  }

  /**
   * Whether `peerId` is banned from metadata (it lied or broke the protocol).
   * @param peerId the peer
   * @returns true when banned
   */
  isBanned(peerId: string): boolean {
    return this.#banned.has(peerId);
  }

  /**
   * Records the `metadata_size` a peer announced in its extension handshake (EX2).
   * The first plausible size (0 < size ≤ cap) is accepted; later peers must agree.
   * @param peerId the peer
   * @param metadataSize the announced size, as sent (may be anything)
   * @returns true when the peer will be used for metadata
   */
  offerSize(peerId: string, metadataSize: number): boolean {
    this.releasePeer(peerId);
    this.#attempt.rejected.delete(peerId); // a new handshake: ask it again
    if (
      this.#banned.has(peerId) || !Number.isSafeInteger(metadataSize) || metadataSize <= 0 ||
      metadataSize > this.#maxBytes
    ) {
      this.#offers.delete(peerId);
      this.#chooseSize();
      return false;
    }
    this.#offers.delete(peerId); // re-offer moves to the back
    this.#offers.set(peerId, metadataSize);
    this.#chooseSize();
    return this.isUsable(peerId);
  }

  /**
   * Picks pieces to request from `peerId`, each from at most one peer at a time.
   * @param peerId the peer
   * @param max the most requests this peer may have outstanding (libtorrent and
   *   Transmission keep a few); the answer tops it up to `max`
   * @param now the current time in ms on the injected clock, for `expire()`
   * @returns piece indices to request now (send each as `encodeMetadataRequest`)
   */
  nextRequests(peerId: string, max: number, now = 0): number[] {
    if (!this.isUsable(peerId) || !this.#isSource(peerId)) return [];
    return this.#attempt.pick(peerId, max, now);
  }

  /**
   * Takes one `data` message. Never throws on peer input.
   * @param peerId the sender
   * @param piece the piece index as sent
   * @param totalSize the `total_size` as sent
   * @param data the piece bytes (copied when kept)
   * @returns accepted, ignored, a strike (sender banned from metadata), a hash
   *   mismatch (everything discarded, senders struck) or the verified metadata
   */
  onData(peerId: string, piece: number, totalSize: number, data: Uint8Array): MetadataDataResult {
    if (!this.isUsable(peerId)) return ignored("peer is not used for metadata");
    if (this.#singleSource && this.#source !== peerId) return ignored("peer is not the source");
    const a = this.#attempt;
    if (totalSize !== this.#size) {
      return this.#strike(peerId, `total_size ${totalSize} differs from ${this.#size}`);
    }
    if (!Number.isSafeInteger(piece) || piece < 0 || piece >= a.count) {
      return this.#strike(peerId, `piece ${piece} out of range 0..${a.count - 1}`);
    }
    const expected = metadataPieceLength(totalSize, piece);
    if (data.length !== expected) {
      return this.#strike(peerId, `piece ${piece} of ${data.length} bytes, expected ${expected}`);
    }
    if (a.data[piece] !== undefined) return ignored(`piece ${piece} already received`);
    if (!a.wasAsked(peerId, piece)) return ignored(`piece ${piece} was not requested`);
    a.store(peerId, piece, data);
    return a.received === a.count ? this.#complete() : ACCEPTED;
  }

  /**
   * Takes a `reject`: the piece goes back to others, and this peer is not asked for it
   * again in this attempt (unless it sends a new extension handshake).
   * @param peerId the sender
   * @param piece the piece index as sent
   */
  onReject(peerId: string, piece: number): void {
    const a = this.#attempt;
    if (!Number.isSafeInteger(piece) || piece < 0 || piece >= a.count) return;
    if (!this.isUsable(peerId)) return; // unusable peers hold no requests (invariant)
    a.reject(peerId, piece);
    if (this.#singleSource && this.#source === peerId) this.#passSource();
  }

  /**
   * Releases every request outstanding at `peerId` (it timed out or choked us), so
   * other peers can take them; late data from it is still accepted.
   * @param peerId the peer
   */
  releasePeer(peerId: string): void {
    if (!this.#attempt.outstanding.has(peerId)) return;
    this.#attempt.releasePeer(peerId);
    if (this.#singleSource && this.#source === peerId) this.#passSource();
  }

  /**
   * Forgets a disconnected peer: its requests are released and its size offer dropped.
   * Strikes and bans are kept.
   * @param peerId the peer
   */
  removePeer(peerId: string): void {
    this.releasePeer(peerId);
    if (this.#source === peerId) this.#passSource();
    this.#offers.delete(peerId);
    this.#attempt.rejected.delete(peerId);
    this.#passed.delete(peerId);
    if (!this.#banned.has(peerId)) this.#strikes.delete(peerId);
    this.#chooseSize();
  }

  /**
   * Releases every peer with a request older than the timeout.
   * @param now the current time in ms on the injected clock
   * @returns the peers whose requests timed out (all their requests were released)
   */
  expire(now: number): string[] {
    const late = this.#attempt.late(now, this.#timeoutMs);
    for (const peer of late) this.releasePeer(peer);
    return [...late];
  }

  /**
   * Checks the invariants listed in the module doc.
   * @throws {Error} naming the first violated invariant
   */
  assertInvariants(): void {
    const a = this.#attempt;
    if (this.#size !== undefined) {
      const violation = a.violation(this.#size, (peer) => this.isUsable(peer));
      if (violation) check(false, violation);
    }
    if (this.#singleSource) {
      check(a.sender.every((s) => s === undefined || s === this.#source), "single source");
    }
    if (this.#infoBytes) check(a.count === 0, "requests after completion");
  }

  #isSource(peerId: string): boolean {
    if (!this.#singleSource) return true;
    if (this.#source !== undefined) return this.#source === peerId;
    let candidates = [...this.#offers.keys()].filter((p) =>
      this.isUsable(p) && !this.#passed.has(p)
    );
    if (candidates.length === 0) {
      this.#passed.clear(); // every peer had its turn: start the rotation again
      candidates = [...this.#offers.keys()].filter((p) => this.isUsable(p));
    }
    const fewest = Math.min(...candidates.map((p) => this.strikesOf(p)));
    if (this.#passed.has(peerId) || this.strikesOf(peerId) > fewest) return false;
    this.#source = peerId;
    return true;
  }

  /** The single source gave up (timeout, reject, gone): discard its pieces, rotate. */
  #passSource(): void {
    if (this.#source !== undefined) this.#passed.add(this.#source);
    this.#source = undefined;
    this.#restart();
  }

  #strike(peerId: string, reason: string): MetadataDataResult {
    this.#ban(peerId);
    this.#chooseSize();
    return { done: false, status: "strike", reason };
  }

  #ban(peerId: string): void {
    this.releasePeer(peerId);
    this.#attempt.dropSender(peerId); // its other pieces are suspect too
    this.#banned.add(peerId);
    if (this.#banned.size > MAX_REMEMBERED_BANS) {
      this.#banned.delete(this.#banned.values().next().value!);
    }
    if (this.#source === peerId) this.#passSource();
  }

  /** Accepts the size of the earliest usable offer when no usable peer has the current one. */
  #chooseSize(): void {
    if (this.#infoBytes !== undefined) return;
    const offers = [...this.#offers].filter(([p]) => !this.#banned.has(p));
    if (this.#size !== undefined && offers.some(([, s]) => s === this.#size)) return;
    if (this.#attempt.received > 0 && offers.length === 0) return; // keep pieces for a newcomer
    const size = offers[0]?.[1];
    if (size === this.#size) return;
    this.#size = size;
    this.#singleSource = false; // a new size: a new first attempt
    this.#source = undefined;
    this.#passed.clear();
    this.#suspects = [];
    this.#restart();
  }

  #restart(): void {
    const count = this.#size === undefined ? 0 : metadataPieceCount(this.#size);
    const start = count > 0 && this.#random ? this.#random.int(count) : 0;
    this.#attempt = new MetadataAttempt(count, start);
  }

  #complete(): MetadataDataResult {
    const a = this.#attempt;
    const pieces = a.data as Uint8Array[];
    const bytes = concatBytes(pieces);
    if (bytesEqual(sha1(bytes), this.#infoHash)) {
      const liars = this.#liars(pieces);
      this.#infoBytes = bytes;
      this.#attempt = new MetadataAttempt(0, 0);
      this.#suspects = [];
      return { done: true, status: "complete", infoBytes: bytes, liars };
    }
    const struck = [...new Set(a.sender as string[])];
    const banned: string[] = [];
    for (const peer of struck) {
      const strikes = this.strikesOf(peer) + 1;
      this.#strikes.set(peer, strikes);
      if (struck.length === 1 || strikes >= this.#maxStrikes) banned.push(peer);
    }
    this.#suspects = pieces.map((p, i) => ({ sender: a.sender[i]!, digest: sha1(p) }));
    this.#singleSource = true; // BEP 9 has no piece hashes: blame one sender at a time
    this.#source = undefined;
    for (const peer of banned) this.#ban(peer);
    this.#restart();
    this.#chooseSize();
    return { done: false, status: "hash-mismatch", struck, banned };
  }

  #liars(pieces: readonly Uint8Array[]): string[] {
    const liars = new Set<string>();
    this.#suspects.forEach((s, i) => {
      const piece = pieces[i];
      if (piece === undefined || !bytesEqual(sha1(piece), s.digest)) liars.add(s.sender);
    });
    return [...liars];
  }
}

function positive(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new RangeError(
      `Cannot create MetadataAssembler: ${name} ${value} is not a positive integer`,
    );
  }
  return value;
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`MetadataAssembler invariant violated: ${what}`);
}
