/**
 * File priorities → piece priorities: a piece takes the highest priority of the
 * files it overlaps, so a piece shared by a wanted and a skipped file is wanted.
 * Pieces no file overlaps (only padding, or ranges not given) get 0 (skip).
 *
 * Layer: core (pure). Private to src/picker/.
 * @module
 */
import { MAX_PRIORITY } from "./_buckets.ts";
import type { FileRange } from "./picker_types.ts";

/**
 * Maps per-file priorities onto pieces.
 * @param fileRanges file byte ranges, in any order
 * @param priorities priority 0..7 per file
 * @param pieceLength nominal piece length in bytes
 * @param totalLength torrent length in bytes
 * @returns one priority per piece
 * @throws {RangeError} when the lists differ in length, a priority is not 0..7, or a
 * range falls outside the torrent
 */
export function piecePrioritiesForFiles(
  fileRanges: readonly FileRange[],
  priorities: readonly number[],
  pieceLength: number,
  totalLength: number,
): Uint8Array {
  if (fileRanges.length !== priorities.length) {
    throw new RangeError(
      `Cannot set file priorities: ${fileRanges.length} files but ${priorities.length} priorities`,
    );
  }
  const out = new Uint8Array(Math.ceil(totalLength / pieceLength));
  for (let f = 0; f < fileRanges.length; f++) {
    const { offset, length } = fileRanges[f]!;
    const priority = priorities[f]!;
    checkPriority(priority);
    if (
      !Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 ||
      length < 0 || offset + length > totalLength
    ) {
      throw new RangeError(`Cannot set file priorities: file ${f} range is outside the torrent`);
    }
    if (length === 0) continue;
    const last = Math.floor((offset + length - 1) / pieceLength);
    for (let i = Math.floor(offset / pieceLength); i <= last; i++) {
      if (out[i]! < priority) out[i] = priority;
    }
  }
  return out;
}

/**
 * Checks a piece or file priority.
 * @param priority the value to check
 * @throws {RangeError} unless an integer 0..7
 */
export function checkPriority(priority: number): void {
  if (!Number.isInteger(priority) || priority < 0 || priority > MAX_PRIORITY) {
    throw new RangeError(`Priority must be an integer 0..${MAX_PRIORITY}, got ${priority}`);
  }
}
