/**
 * Piece and block sizes of one torrent: the last piece holds the remainder, the
 * last block of a piece may be short, and blocks never cross piece boundaries.
 *
 * Layer: core (pure). Private to src/picker/.
 * @module
 */
import { pieceLengthAt } from "../util/pieces.ts";
import type { Bitfield } from "../util/bitfield.ts";
import type { BlockRequest } from "./picker_types.ts";

/** Validated sizes and the arithmetic on them. */
export class PieceGeometry {
  /** Number of pieces. */
  readonly pieceCount: number;
  /** Nominal piece length in bytes. */
  readonly pieceLength: number;
  /** Torrent length in bytes. */
  readonly totalLength: number;
  /** Request size in bytes. */
  readonly blockLength: number;
  /** Blocks in the whole torrent. */
  readonly totalBlocks: number;
  readonly #lastPieceLength: number;

  /**
   * Checks and stores the sizes.
   * @throws {RangeError} when a size is not a positive safe integer or they disagree
   */
  constructor(pieceCount: number, pieceLength: number, totalLength: number, blockLength: number) {
    for (const [name, v] of [["pieceLength", pieceLength], ["blockLength", blockLength]] as const) {
      if (!Number.isSafeInteger(v) || v <= 0) throw new RangeError(`${name} must be > 0, got ${v}`);
    }
    if (!Number.isSafeInteger(totalLength) || totalLength <= 0) {
      throw new RangeError(`totalLength must be > 0, got ${totalLength}`);
    }
    if (pieceCount !== Math.ceil(totalLength / pieceLength) || pieceCount >= 2 ** 31) {
      throw new RangeError(
        `pieceCount ${pieceCount} does not match totalLength ${totalLength} / pieceLength ${pieceLength}`,
      );
    }
    this.pieceCount = pieceCount;
    this.pieceLength = pieceLength;
    this.totalLength = totalLength;
    this.blockLength = blockLength;
    this.#lastPieceLength = pieceLengthAt(pieceLength, totalLength, pieceCount - 1);
    this.totalBlocks = (pieceCount - 1) * Math.ceil(pieceLength / blockLength) +
      Math.ceil(this.#lastPieceLength / blockLength);
  }

  /** @throws {RangeError} unless `index` is a piece index */
  checkIndex(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.pieceCount) {
      throw new RangeError(`Piece ${index} is outside 0..${this.pieceCount - 1}`);
    }
  }

  /** Length of a (valid) piece in bytes. */
  pieceLengthOf(index: number): number {
    return index === this.pieceCount - 1 ? this.#lastPieceLength : this.pieceLength;
  }

  /** Blocks in a (valid) piece. */
  blockCountOf(index: number): number {
    return Math.ceil(this.pieceLengthOf(index) / this.blockLength);
  }

  /** Block number of `begin` in piece `index`, or -1 when not a block start inside it. */
  blockAt(index: number, begin: number): number {
    if (!Number.isInteger(index) || index < 0 || index >= this.pieceCount) return -1;
    const b = begin / this.blockLength;
    return Number.isInteger(b) && b >= 0 && b < this.blockCountOf(index) ? b : -1;
  }

  /** The request for block `b` of piece `index`. */
  request(index: number, b: number): BlockRequest {
    const begin = b * this.blockLength;
    return { index, begin, length: Math.min(this.blockLength, this.pieceLengthOf(index) - begin) };
  }
}

/**
 * Calls `fn` with every set bit of `has`, a byte at a time (empty bytes skipped).
 * @throws {RangeError} when the bitfield does not have `pieceCount` bits
 */
export function forEachSetBit(has: Bitfield, pieceCount: number, fn: (index: number) => void) {
  if (has.length !== pieceCount) {
    throw new RangeError(`Bitfield has ${has.length} bits, expected ${pieceCount}`);
  }
  const bytes = has.toBytes();
  for (let k = 0; k < bytes.length; k++) {
    const byte = bytes[k]!;
    if (byte === 0) continue;
    for (let bit = 0; bit < 8; bit++) if (byte & (0x80 >> bit)) fn(k * 8 + bit);
  }
}
