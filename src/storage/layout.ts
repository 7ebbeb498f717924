/**
 * Piece ↔ file mapping (BEP 3 multi-file mode): a torrent's content is the files
 * concatenated in torrent order, cut into pieces of `pieceLength` bytes (the last
 * one shorter). A piece or block may cross file boundaries; zero-length files
 * occupy no bytes and never appear in a span.
 *
 * Layer: core (pure, no I/O).
 * @module
 */
import { pieceLengthAt } from "../util/pieces.ts";

/** One contiguous run of bytes inside one file. */
export interface FileSpan {
  /** Index of the file in torrent order. */
  readonly fileIndex: number;
  /** Byte offset inside that file. */
  readonly fileOffset: number;
  /** Number of bytes (always > 0). */
  readonly length: number;
}

/** An inclusive range of piece indices. */
export interface PieceRange {
  /** First piece index. */
  readonly first: number;
  /** Last piece index (inclusive). */
  readonly last: number;
}

/** The only thing the layout needs to know about a file. */
export interface LayoutFile {
  /** Length in bytes (a non-negative safe integer). */
  readonly length: number;
}

/**
 * Maps pieces and blocks onto file spans.
 *
 * Invariants: `fileOffsets[i] + files[i].length === fileOffsets[i + 1]`;
 * `pieceCount === ceil(totalLength / pieceLength)`; the spans of all pieces tile
 * the content exactly once, in order.
 */
export class StorageLayout {
  /** Nominal piece length in bytes. */
  readonly pieceLength: number;
  /** Sum of file lengths in bytes. */
  readonly totalLength: number;
  /** Number of pieces. */
  readonly pieceCount: number;
  /** Byte offset of each file's first byte in the concatenated content. */
  readonly fileOffsets: readonly number[];
  /** Length of each file in bytes. */
  readonly fileLengths: readonly number[];

  /**
   * Builds the layout.
   * @param files file lengths in torrent order
   * @param pieceLength nominal piece length in bytes
   * @throws {RangeError} for a non-positive piece length, a negative or non-integer
   *   file length, or a total beyond `Number.MAX_SAFE_INTEGER`
   */
  constructor(files: readonly LayoutFile[], pieceLength: number) {
    if (!Number.isSafeInteger(pieceLength) || pieceLength <= 0) {
      throw new RangeError(`Cannot build a layout with piece length ${pieceLength}`);
    }
    const offsets: number[] = [];
    const lengths: number[] = [];
    let total = 0;
    for (const [i, file] of files.entries()) {
      if (!Number.isSafeInteger(file.length) || file.length < 0) {
        throw new RangeError(`Cannot build a layout: file ${i} has length ${file.length}`);
      }
      offsets.push(total);
      lengths.push(file.length);
      total += file.length;
      if (!Number.isSafeInteger(total)) {
        throw new RangeError(`Cannot build a layout: total length exceeds 2^53`);
      }
    }
    this.pieceLength = pieceLength;
    this.totalLength = total;
    this.pieceCount = Math.ceil(total / pieceLength);
    this.fileOffsets = offsets;
    this.fileLengths = lengths;
  }

  /** Number of files (including zero-length ones). */
  get fileCount(): number {
    return this.fileLengths.length;
  }

  /**
   * Length of piece `index` in bytes (the last piece may be shorter).
   * @param index piece index
   * @returns the piece's length
   * @throws {RangeError} when `index` is not a piece index
   */
  pieceSize(index: number): number {
    this.#checkPiece(index);
    return pieceLengthAt(this.pieceLength, this.totalLength, index);
  }

  /**
   * File spans covering `length` bytes of piece `index` from `begin`, in order.
   * @param index piece index
   * @param begin byte offset inside the piece (default 0)
   * @param length byte count (default: to the end of the piece)
   * @returns spans of non-zero length whose lengths sum to `length`
   * @throws {RangeError} when the range is outside the piece
   */
  spans(index: number, begin = 0, length?: number): FileSpan[] {
    const size = this.pieceSize(index);
    const len = length ?? size - begin;
    if (!Number.isSafeInteger(begin) || !Number.isSafeInteger(len) || begin < 0 || len < 0) {
      throw new RangeError(`Cannot map piece ${index}: begin ${begin}, length ${length}`);
    }
    if (begin + len > size) {
      throw new RangeError(`Cannot map piece ${index}: ${begin}+${len} exceeds ${size} bytes`);
    }
    const out: FileSpan[] = [];
    let pos = index * this.pieceLength + begin;
    let left = len;
    let file = left > 0 ? this.fileAt(pos) : 0;
    while (left > 0) {
      const fileLength = this.fileLengths[file]!;
      const fileOffset = pos - this.fileOffsets[file]!;
      const take = Math.min(left, fileLength - fileOffset);
      if (take > 0) out.push({ fileIndex: file, fileOffset, length: take });
      pos += take;
      left -= take;
      file++;
    }
    return out;
  }

  /**
   * Index of the file holding content byte `offset` (never a zero-length file).
   * @param offset byte offset in the concatenated content
   * @returns the file index
   * @throws {RangeError} when `offset` is outside the content
   */
  fileAt(offset: number): number {
    if (!Number.isSafeInteger(offset) || offset < 0 || offset >= this.totalLength) {
      throw new RangeError(`Offset ${offset} is outside 0..${this.totalLength - 1}`);
    }
    // Largest i with fileOffsets[i] <= offset: a zero-length file can't win, since a
    // later file with the same start would be larger.
    let lo = 0;
    let hi = this.fileOffsets.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.fileOffsets[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /**
   * The pieces holding any byte of file `fileIndex`.
   * @param fileIndex file index
   * @returns the inclusive range, or `undefined` for a zero-length file
   * @throws {RangeError} when `fileIndex` is not a file index
   */
  piecesOfFile(fileIndex: number): PieceRange | undefined {
    if (!Number.isInteger(fileIndex) || fileIndex < 0 || fileIndex >= this.fileCount) {
      throw new RangeError(`File ${fileIndex} is outside 0..${this.fileCount - 1}`);
    }
    const length = this.fileLengths[fileIndex]!;
    if (length === 0) return undefined;
    const start = this.fileOffsets[fileIndex]!;
    return {
      first: Math.floor(start / this.pieceLength),
      last: Math.floor((start + length - 1) / this.pieceLength),
    };
  }

  /**
   * Indices of the (non-empty) files piece `index` touches, ascending.
   * @param index piece index
   * @returns file indices
   * @throws {RangeError} when `index` is not a piece index
   */
  filesOfPiece(index: number): number[] {
    return this.spans(index).map((s) => s.fileIndex);
  }

  #checkPiece(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.pieceCount) {
      throw new RangeError(`Piece ${index} is outside 0..${this.pieceCount - 1}`);
    }
  }
}
