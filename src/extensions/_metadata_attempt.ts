/**
 * The per-attempt piece table of `MetadataAssembler`: which metadata pieces were
 * received (and from whom), which are requested (from whom, since when) and which
 * pieces each peer rejected. A hash failure discards the whole attempt. Private to
 * `src/extensions/`.
 *
 * Layer: core (no I/O).
 * @module
 */
import { metadataPieceLength } from "./ut_metadata.ts";

/** One attempt at fetching the whole metadata. */
export class MetadataAttempt {
  /** Number of 16 KiB pieces (0 while no size is accepted). */
  readonly count: number;
  /** Received piece bytes (owned copies). */
  readonly data: (Uint8Array | undefined)[];
  /** Who sent each received piece. */
  readonly sender: (string | undefined)[];
  /** Pieces each peer rejected in this attempt. */
  readonly rejected = new Map<string, Set<number>>();
  /** Outstanding requests per peer. */
  readonly outstanding = new Map<string, number>();
  /** How many pieces are in `data`. */
  received = 0;
  readonly #start: number;
  readonly #holder: (string | undefined)[];
  readonly #asked: (string | undefined)[];
  readonly #sentAt: number[];

  /**
   * A fresh, empty attempt.
   * @param count the piece count
   * @param start the first piece handed out, for spreading load
   */
  constructor(count: number, start: number) {
    this.count = count;
    this.#start = start;
    this.data = new Array<Uint8Array | undefined>(count).fill(undefined);
    this.sender = new Array<string | undefined>(count).fill(undefined);
    this.#holder = new Array<string | undefined>(count).fill(undefined);
    this.#asked = new Array<string | undefined>(count).fill(undefined);
    this.#sentAt = new Array<number>(count).fill(0);
  }

  /**
   * Hands free pieces to `peerId`, up to `max` outstanding.
   * @param peerId the peer
   * @param max its outstanding cap
   * @param now the time of the requests, in ms
   * @returns the piece indices
   */
  pick(peerId: string, max: number, now: number): number[] {
    const rejected = this.rejected.get(peerId);
    const out: number[] = [];
    let room = max - (this.outstanding.get(peerId) ?? 0);
    for (let k = 0; k < this.count && room > 0; k++) {
      const piece = (this.#start + k) % this.count;
      if (this.data[piece] !== undefined || this.#holder[piece] !== undefined) continue;
      if (rejected?.has(piece)) continue;
      this.#holder[piece] = this.#asked[piece] = peerId;
      this.#sentAt[piece] = now;
      out.push(piece);
      room--;
    }
    if (out.length > 0) {
      this.outstanding.set(peerId, (this.outstanding.get(peerId) ?? 0) + out.length);
    }
    return out;
  }

  /**
   * Whether `peerId` was the last peer asked for `piece` (late data is welcome).
   * @param peerId the peer
   * @param piece the piece
   * @returns true when it was asked
   */
  wasAsked(peerId: string, piece: number): boolean {
    return this.#asked[piece] === peerId;
  }

  /**
   * Keeps a copy of a piece and releases its request.
   * @param peerId the sender
   * @param piece the piece
   * @param data its bytes
   */
  store(peerId: string, piece: number, data: Uint8Array): void {
    this.release(piece);
    this.data[piece] = data.slice();
    this.sender[piece] = peerId;
    this.received++;
  }

  /**
   * Frees the request for `piece`, if any.
   * @param piece the piece
   * @returns the peer that held it, if any
   */
  release(piece: number): string | undefined {
    const holder = this.#holder[piece];
    if (holder === undefined) return undefined;
    this.#holder[piece] = undefined;
    const n = (this.outstanding.get(holder) ?? 1) - 1;
    if (n === 0) this.outstanding.delete(holder);
    else this.outstanding.set(holder, n);
    return holder;
  }

  /**
   * Frees every request held by `peerId`.
   * @param peerId the peer
   */
  releasePeer(peerId: string): void {
    if (!this.outstanding.has(peerId)) return;
    for (let piece = 0; piece < this.count; piece++) {
      if (this.#holder[piece] === peerId) this.release(piece);
    }
  }

  /**
   * Records a reject: frees the piece, never asks `peerId` for it again.
   * @param peerId the peer
   * @param piece the piece (in range)
   */
  reject(peerId: string, piece: number): void {
    if (this.#holder[piece] === peerId) this.release(piece);
    let set = this.rejected.get(peerId);
    if (!set) this.rejected.set(peerId, set = new Set());
    set.add(piece);
  }

  /**
   * Forgets every piece `peerId` sent (its data is suspect).
   * @param peerId the peer
   */
  dropSender(peerId: string): void {
    for (let piece = 0; piece < this.count; piece++) {
      if (this.sender[piece] !== peerId) continue;
      this.data[piece] = this.sender[piece] = undefined;
      this.received--;
    }
  }

  /**
   * Peers holding a request made at or before `now - timeoutMs`.
   * @param now the current time in ms
   * @param timeoutMs the request timeout
   * @returns the late peers
   */
  late(now: number, timeoutMs: number): Set<string> {
    const late = new Set<string>();
    for (let piece = 0; piece < this.count; piece++) {
      const holder = this.#holder[piece];
      if (holder !== undefined && this.#sentAt[piece]! + timeoutMs <= now) late.add(holder);
    }
    return late;
  }

  /**
   * Checks the table's own invariants.
   * @param size the accepted metadata size
   * @param isUsable whether a holder may hold requests
   * @returns the first violation, or `undefined`
   */
  violation(size: number, isUsable: (peer: string) => boolean): string | undefined {
    const held = new Map<string, number>();
    let received = 0;
    for (let piece = 0; piece < this.count; piece++) {
      const holder = this.#holder[piece], data = this.data[piece];
      if (holder !== undefined) {
        if (data !== undefined) return `piece ${piece} is both received and requested`;
        if (!isUsable(holder)) return `piece ${piece} is held by unusable peer "${holder}"`;
        held.set(holder, (held.get(holder) ?? 0) + 1);
      }
      if (data === undefined) continue;
      received++;
      if (data.length !== metadataPieceLength(size, piece)) return `piece ${piece} length`;
    }
    if (received !== this.received) return `received count ${this.received} != ${received}`;
    if (held.size !== this.outstanding.size) return "outstanding peers differ from holders";
    for (const [peer, n] of held) {
      if (this.outstanding.get(peer) !== n) return `outstanding of "${peer}"`;
    }
    return undefined;
  }
}
