/**
 * Is the verified data still on disk (RELIABILITY rule 4, F6)? A verified piece's bytes lie
 * in its files, so each file must exist and be at least as long as the end of the last
 * verified byte in it. A file deleted while the download ran (its writers may still hold
 * open descriptors, so writes succeed into an unlinked inode) or truncated fails this; the
 * torrent then stops with an error instead of reporting a completion that is not on disk.
 *
 * Layer: core (pure).
 * @module
 */
import type { FileStat } from "./disk_io.ts";
import type { StorageLayout } from "./layout.ts";

/** A file that no longer holds the bytes verified into it. */
export interface LostFile {
  /** File index in torrent order. */
  readonly fileIndex: number;
  /** Bytes it must hold at least: the end of its last verified byte. */
  readonly expectedBytes: number;
  /** Its size now, or `undefined` when it is missing. */
  readonly actualBytes: number | undefined;
}

/**
 * Finds the files whose verified bytes are gone.
 * @param layout the torrent's layout
 * @param has whether a piece is verified
 * @param stats size and mtime per file now (`undefined` = missing), in torrent order
 * @returns the files that are missing or too short, in torrent order
 * @throws {RangeError} when `stats` does not have one entry per file
 * @example
 * ```ts
 * import { findLostFiles } from "./lost_data.ts";
 * import { StorageLayout } from "./layout.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const layout = new StorageLayout([{ length: 6 }, { length: 6 }], 4); // pieces 0..2
 * const has = (i: number) => i === 0;                 // bytes 0..3: file 0 only
 * assertEquals(findLostFiles(layout, has, [{ length: 6, mtimeMs: 1 }, undefined]), []);
 * assertEquals(findLostFiles(layout, has, [{ length: 3, mtimeMs: 1 }, undefined]), [
 *   { fileIndex: 0, expectedBytes: 4, actualBytes: 3 },
 * ]);
 * ```
 */
export function findLostFiles(
  layout: StorageLayout,
  has: (index: number) => boolean,
  stats: readonly (FileStat | undefined)[],
): LostFile[] {
  if (stats.length !== layout.fileCount) {
    throw new RangeError(`Cannot check files: ${stats.length} stats for ${layout.fileCount} files`);
  }
  const lost: LostFile[] = [];
  for (let f = 0; f < layout.fileCount; f++) {
    const expected = verifiedEnd(layout, f, has);
    if (expected === 0) continue;
    const actual = stats[f]?.length;
    if (actual === undefined || actual < expected) {
      lost.push({ fileIndex: f, expectedBytes: expected, actualBytes: actual });
    }
  }
  return lost;
}

/** The end offset (in the file) of the last verified piece touching file `f`, or 0. */
function verifiedEnd(layout: StorageLayout, f: number, has: (index: number) => boolean): number {
  const range = layout.piecesOfFile(f);
  if (range === undefined) return 0;
  const start = layout.fileOffsets[f]!;
  const length = layout.fileLengths[f]!;
  for (let p = range.last; p >= range.first; p--) {
    if (has(p)) return Math.min(length, (p + 1) * layout.pieceLength - start);
  }
  return 0;
}
