/**
 * What a peer announced before we knew the torrent's piece count (a magnet link in its
 * BEP 9 metadata phase): its BITFIELD kept raw, HAVE_ALL / HAVE_NONE, and its HAVEs in a
 * bit array that grows as needed up to 2^21 pieces (RELIABILITY PW5: libtorrent's
 * max_piece_count). Once the piece count is known, `resolve` checks it all at once.
 *
 * Invariant: the HAVE bit array never exceeds 2^21 bits (256 KiB).
 *
 * Layer: core (pure).
 * @module
 */
import { Bitfield } from "../util/bitfield.ts";
import { MAX_PIECE_COUNT } from "./constants.ts";

/** What {@linkcode EarlyPieces.resolve} made of the announcements. */
export type ResolvedPieces =
  | { readonly kind: "all" }
  | { readonly kind: "some"; readonly has: Bitfield }
  | { readonly kind: "invalid"; readonly reason: string };

/** One peer's piece announcements before the piece count is known. */
export class EarlyPieces {
  #haveAll = false;
  #bitfield: Uint8Array | undefined;
  #haves = new Uint8Array(0);

  /** HAVE_ALL. */
  haveAll(): void {
    this.#haveAll = true;
  }

  /** HAVE_NONE: forgets what came before. */
  haveNone(): void {
    this.#haveAll = false;
    this.#bitfield = undefined;
    this.#haves = new Uint8Array(0);
  }

  /** BITFIELD (the bytes are copied: the caller's view may be reused). */
  bitfield(bytes: Uint8Array): void {
    this.#bitfield = bytes.slice();
  }

  /**
   * HAVE `index`.
   * @returns false when `index` is beyond any torrent's piece count (close the peer)
   */
  have(index: number): boolean {
    if (index >= MAX_PIECE_COUNT) return false;
    const byte = index >> 3;
    if (byte >= this.#haves.length) {
      const grown = new Uint8Array(Math.min(MAX_PIECE_COUNT / 8, Math.max(64, (byte + 1) * 2)));
      grown.set(this.#haves);
      this.#haves = grown;
    }
    this.#haves[byte]! |= 0x80 >> (index & 7);
    return true;
  }

  /**
   * Everything announced, against the real piece count.
   * @returns the peer's pieces, or why its announcements cannot be right
   */
  resolve(pieceCount: number): ResolvedPieces {
    if (this.#haveAll) return { kind: "all" };
    let has = new Bitfield(pieceCount);
    if (this.#bitfield) {
      const bf = Bitfield.fromBytes(this.#bitfield, pieceCount);
      if (!bf) {
        return { kind: "invalid", reason: "bitfield of the wrong length or with spare bits set" };
      }
      has = bf;
    }
    for (let byte = 0; byte < this.#haves.length; byte++) {
      const bits = this.#haves[byte]!;
      for (let bit = 0; bit < 8 && bits !== 0; bit++) {
        if (!(bits & (0x80 >> bit))) continue;
        const index = byte * 8 + bit;
        if (index >= pieceCount) return { kind: "invalid", reason: `have ${index} out of range` };
        has.set(index);
      }
    }
    return has.isFull ? { kind: "all" } : { kind: "some", has };
  }
}
