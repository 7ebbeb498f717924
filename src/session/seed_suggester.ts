/**
 * Seed suggestions (BEP 6 SUGGEST_PIECE): a seed tells each peer it unchokes which pieces
 * it has sent least, one more each time it finishes sending that peer a piece. Leechers
 * pick "rarest" pieces blind to what the others are fetching from the seed at that moment,
 * so without hints a seed sends many pieces twice before some leave once; measured in the
 * swarm simulator, that was most of the gap to the fluid-model bound. Unlike super-seeding
 * (BEP 16) nothing is hidden: a peer may still ask for anything.
 *
 * Layer: driver (a small policy over live connections).
 * @module
 */
import type { PeerConnection } from "../net/peer_connection.ts";
import type { Random } from "../runtime/types.ts";

/** Bytes of suggested pieces outstanding per peer: about a second of a fast peer's queue. */
const SUGGESTED_BYTES = 1024 * 1024;
/** Pieces looked at per suggestion, at most. */
const MAX_SCAN = 1024;
/** A full rescan for the minimum score happens at most this often. */
const RESCAN_MS = 1_000;

/** What the suggester needs from its torrent. */
export interface SeedSuggestSource {
  /** Number of pieces. */
  readonly pieceCount: number;
  /** Nominal piece length in bytes. */
  readonly pieceLength: number;
  /** Tie-break randomness. */
  readonly random: Random;
  /** Clock ms, for the rescan interval. */
  now(): number;
  /** Whether we have piece `index` (a partial download seeds only what it has). */
  hasPiece(index: number): boolean;
  /** Whether to suggest now (we are seeding, and suggestions are on). */
  active(): boolean;
}

/** Least-sent-first suggestions for one seeding torrent. */
export class SeedSuggester {
  readonly #source: SeedSuggestSource;
  /** Copies sent plus suggestions outstanding, per piece. */
  readonly #score: Uint32Array;
  readonly #outstanding = new Map<PeerConnection, Set<number>>();
  readonly #perPeer: number;
  #minScore = 0;
  #rescannedAt = -Infinity;

  /** Builds the policy. */
  constructor(source: SeedSuggestSource) {
    this.#source = source;
    this.#score = new Uint32Array(source.pieceCount);
    this.#perPeer = Math.min(32, Math.max(2, Math.ceil(SUGGESTED_BYTES / source.pieceLength)));
  }

  /** `peer` was unchoked: suggest pieces until ~1 MiB of them (2..32) is outstanding. */
  onUnchoke(peer: PeerConnection): void {
    if (!peer.remote.fastExtension || peer.isSeed || !this.#source.active()) return;
    const mine = this.#outstandingOf(peer);
    while (mine.size < this.#perPeer && this.#suggest(peer, mine));
  }

  /** The last block of piece `index` went to `peer`: count the copy, suggest another. */
  onPieceSent(peer: PeerConnection, index: number): void {
    const mine = this.#outstanding.get(peer);
    if (mine?.delete(index)) this.#score[index]!--; // the suggestion became a copy
    this.#score[index]!++;
    if (!peer.amChoking) this.onUnchoke(peer);
  }

  /** Forgets a closed or choked peer's outstanding suggestions. */
  forget(peer: PeerConnection): void {
    const mine = this.#outstanding.get(peer);
    if (!mine) return;
    for (const index of mine) this.#score[index]!--;
    this.#outstanding.delete(peer);
  }

  #outstandingOf(peer: PeerConnection): Set<number> {
    let mine = this.#outstanding.get(peer);
    if (!mine) this.#outstanding.set(peer, mine = new Set());
    return mine;
  }

  /** Suggests the lowest-score piece `peer` lacks; false when there is none. */
  #suggest(peer: PeerConnection, mine: Set<number>): boolean {
    const n = this.#source.pieceCount;
    const now = this.#source.now();
    if (now - this.#rescannedAt >= RESCAN_MS) {
      this.#minScore = this.#score.reduce((a, b) => Math.min(a, b), Infinity);
      this.#rescannedAt = now;
    }
    // From a random start, take the first piece at the known minimum, else the best of at
    // most MAX_SCAN seen (the cost per piece sent stays bounded on huge torrents).
    const start = this.#source.random.int(n);
    let best = -1;
    for (let k = 0; k < Math.min(n, MAX_SCAN); k++) {
      const i = (start + k) % n;
      if (mine.has(i) || peer.has.has(i) || !this.#source.hasPiece(i)) continue;
      if (best < 0 || this.#score[i]! < this.#score[best]!) best = i;
      if (this.#score[i]! <= this.#minScore) break;
    }
    if (best < 0) return false;
    mine.add(best);
    this.#score[best]!++;
    peer.send({ type: "suggest", index: best });
    return true;
  }
}
