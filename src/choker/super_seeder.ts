/**
 * Super-seeding (BEP 16): a seed that pretends to have only a few pieces per peer and
 * reveals another only when the peer has finished one, each time the piece revealed
 * least often (and least available). Every piece leaves the seed about once before
 * any leaves twice, so a seed with little upload capacity spends it on new pieces.
 * Off by default (libtorrent's `super_seeding` flag); for an initial seeder.
 *
 * Invariant: a peer's revealed pieces are ones it had not announced when revealed.
 *
 * Layer: core (pure: peers are ids and bitfields; the driver sends the HAVEs).
 * @module
 */
import type { Random } from "../runtime/types.ts";
import type { Bitfield } from "../util/bitfield.ts";

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
  readonly #revealed = new Map<string, Set<number>>();

  /** Builds the policy. */
  constructor(source: SuperSeedSource) {
    this.#source = source;
    this.#revealCount = new Uint32Array(source.pieceCount);
  }

  /**
   * First contact (the driver announces nothing: HAVE_NONE or no bitfield), then reveal a
   * couple of pieces.
   * @param id the peer
   * @param has the pieces it has announced
   * @returns the pieces to announce to it with HAVE
   */
  greet(id: string, has: Bitfield): number[] {
    this.#revealed.set(id, new Set());
    const out: number[] = [];
    for (let i = 0; i < REVEALED_PER_PEER; i++) this.#reveal(id, has, out);
    return out;
  }

  /** True when peer `id` may request piece `index` (it was revealed to it). */
  allows(id: string, index: number): boolean {
    return this.#revealed.get(id)?.has(index) ?? false;
  }

  /**
   * The peer announced a piece: if it was one we revealed, reveal the next.
   * @returns the pieces to announce to it with HAVE
   */
  onHave(id: string, has: Bitfield, index: number): number[] {
    const out: number[] = [];
    if (this.#revealed.get(id)?.delete(index)) this.#reveal(id, has, out);
    return out;
  }

  /** Forgets a closed peer. */
  forget(id: string): void {
    this.#revealed.delete(id);
  }

  #reveal(id: string, has: Bitfield, out: number[]): void {
    const set = this.#revealed.get(id);
    if (!set) return;
    const { pieceCount, random } = this.#source;
    let best = -1, bestScore = Infinity, ties = 0;
    for (let i = 0; i < pieceCount; i++) {
      if (set.has(i) || has.has(i)) continue;
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
    out.push(best);
  }
}
