/**
 * Super-seeding (BEP 16): a seed that pretends to have only a few pieces per peer and
 * reveals another only when the peer has finished one, each time the piece revealed
 * least often (and least available). Every piece leaves the seed about once before
 * any leaves twice, so a seed with little upload capacity spends it on new pieces.
 * Off by default (libtorrent's `super_seeding` flag); for an initial seeder.
 *
 * Layer: driver (a small policy over live connections).
 * @module
 */
import type { PeerConnection } from "../net/peer_connection.ts";
import type { Random } from "../runtime/types.ts";

/** Pieces revealed to a peer at a time (two keep its request pipeline busy). */
const REVEALED_PER_PEER = 2;

/** What the super-seeder needs from its torrent. */
export interface SuperSeedSource {
  /** Number of pieces. */
  readonly pieceCount: number;
  /** How many connected peers have piece `index`. */
  availabilityOf(index: number): number;
  /** Tie-break randomness. */
  readonly random: Random;
}

/** BEP 16 piece revealing for one seeding torrent. */
export class SuperSeeder {
  readonly #source: SuperSeedSource;
  readonly #revealCount: Uint32Array;
  readonly #revealed = new Map<PeerConnection, Set<number>>();

  /** Builds the policy. */
  constructor(source: SuperSeedSource) {
    this.#source = source;
    this.#revealCount = new Uint32Array(source.pieceCount);
  }

  /** First contact: announce nothing, then reveal a couple of pieces. */
  greet(peer: PeerConnection): void {
    if (peer.remote.fastExtension) peer.send({ type: "have-none" });
    this.#revealed.set(peer, new Set());
    for (let i = 0; i < REVEALED_PER_PEER; i++) this.#reveal(peer);
  }

  /** True when `peer` may request piece `index` (it was revealed to it). */
  allows(peer: PeerConnection, index: number): boolean {
    return this.#revealed.get(peer)?.has(index) ?? false;
  }

  /** The peer announced a piece: if it was one we revealed, reveal the next. */
  onHave(peer: PeerConnection, index: number): void {
    const set = this.#revealed.get(peer);
    if (set?.delete(index)) this.#reveal(peer);
  }

  /** Forgets a closed peer. */
  forget(peer: PeerConnection): void {
    this.#revealed.delete(peer);
  }

  #reveal(peer: PeerConnection): void {
    const set = this.#revealed.get(peer);
    if (!set) return;
    const { pieceCount, random } = this.#source;
    let best = -1, bestScore = Infinity, ties = 0;
    for (let i = 0; i < pieceCount; i++) {
      if (set.has(i) || peer.has.has(i)) continue;
      const score = this.#revealCount[i]! * 1024 + this.#source.availabilityOf(i);
      if (score < bestScore) {
        best = i;
        bestScore = score;
        ties = 1;
      } else if (score === bestScore && random.int(++ties) === 0) best = i;
    }
    if (best < 0) return;
    this.#revealCount[best]!++;
    set.add(best);
    peer.send({ type: "have", index: best });
  }
}
