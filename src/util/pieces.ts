/**
 * Piece arithmetic every floor shares (BEP 3: pieces are `pieceLength` bytes, the last one
 * holds the remainder).
 *
 * Layer: core (pure).
 * @module
 */

/**
 * Length of piece `index` of a torrent.
 * @param pieceLength nominal piece length in bytes
 * @param totalLength torrent length in bytes
 * @param index a valid piece index (the caller checks it)
 * @returns the piece's length in bytes
 * @example
 * ```ts
 * import { pieceLengthAt } from "./pieces.ts";
 * import { strictEqual } from "node:assert";
 * strictEqual(pieceLengthAt(16, 40, 2), 8);
 * ```
 */
export function pieceLengthAt(pieceLength: number, totalLength: number, index: number): number {
  return Math.min(pieceLength, totalLength - index * pieceLength);
}
