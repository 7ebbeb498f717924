/**
 * Resume data: which pieces were verified, and each file's size and mtime when
 * that was recorded, so a restart trusts unchanged files and rechecks only the
 * pieces of files that changed (RELIABILITY F2, F5; rule 4: a check, never blind
 * trust). The codec never throws on bad bytes: it answers `{ error }`.
 *
 * Format (bencode dict): `format` = "swarmd-resume", `version` = 1, `info-hash`
 * (20 bytes), `pieces` (count), `have` (BEP 3 bitfield bytes), `files` (one list
 * per file: `[length, mtime ms]`, or `[]` for a missing file).
 *
 * Layer: core (pure).
 * @module
 */
import {
  type BencodeValue,
  decode,
  encode,
  FILE_LIMITS,
  getBytes,
  getInt,
  getList,
  isDict,
} from "../bencode/mod.ts";
import type { FileStat } from "./disk_io.ts";
import { Bitfield } from "../util/bitfield.ts";
import { bytesEqual, fromUtf8, toHex } from "../util/bytes.ts";
import type { StorageLayout } from "./layout.ts";

const FORMAT = "swarmd-resume";
const VERSION = 1;

/** What a torrent's resume file records. */
export interface ResumeData {
  /** The torrent's 20-byte info-hash. */
  readonly infoHash: Uint8Array;
  /** Number of pieces. */
  readonly pieceCount: number;
  /** Pieces verified and written. */
  readonly have: Bitfield;
  /** Per file in torrent order: size and mtime (whole ms), or `undefined` when missing. */
  readonly files: readonly (FileStat | undefined)[];
}

/** What the resume data must match to be used. */
export interface ResumeExpectation {
  /** The torrent's 20-byte info-hash. */
  readonly infoHash: Uint8Array;
  /** Number of pieces. */
  readonly pieceCount: number;
  /** Number of files. */
  readonly fileCount: number;
}

/** Which pieces {@linkcode piecesToRecheck} trusts and which it wants hashed again. */
export interface RecheckPlan {
  /** Pieces recorded as verified whose files are all unchanged. */
  readonly trusted: Bitfield;
  /** Pieces touching a changed file (every one of their files exists), ascending. */
  readonly recheck: number[];
}

/**
 * Encodes resume data (mtimes are rounded down to whole milliseconds).
 * @param data what to record
 * @returns bencoded bytes
 * @throws {RangeError} when the bitfield length differs from `pieceCount`
 * @example
 * ```ts
 * import { decodeResume, encodeResume } from "./mod.ts";
 * import { Bitfield } from "../util/bitfield.ts";
 * import { ok as assert } from "node:assert";
 * const infoHash = new Uint8Array(20).fill(7);
 * const bytes = encodeResume({
 *   infoHash, pieceCount: 3, have: Bitfield.full(3), files: [{ length: 9, mtimeMs: 5 }],
 * });
 * const back = decodeResume(bytes, { infoHash, pieceCount: 3, fileCount: 1 });
 * assert(!("error" in back) && back.have.isFull);
 * assert("error" in decodeResume(bytes.subarray(1), { infoHash, pieceCount: 3, fileCount: 1 }));
 * ```
 */
export function encodeResume(data: ResumeData): Uint8Array {
  if (data.have.length !== data.pieceCount) {
    throw new RangeError(
      `Cannot encode resume: ${data.have.length} bits for ${data.pieceCount} pieces`,
    );
  }
  return encode({
    format: FORMAT,
    version: VERSION,
    "info-hash": data.infoHash,
    pieces: data.pieceCount,
    have: data.have.toBytes(),
    files: data.files.map((f) => (f ? [f.length, Math.floor(f.mtimeMs)] : [])),
  });
}

/**
 * Decodes resume data and checks it belongs to this torrent. Never throws.
 * @param bytes the resume file's contents (untrusted)
 * @param expected what it must match
 * @returns the data, or `{ error }` saying why it cannot be used
 */
export function decodeResume(
  bytes: Uint8Array,
  expected: ResumeExpectation,
): ResumeData | { error: string } {
  let root: BencodeValue;
  try {
    root = decode(bytes, FILE_LIMITS);
  } catch (e) {
    return { error: `Resume data is not valid bencode: ${(e as Error).message}` };
  }
  try {
    return checkResume(root, expected);
  } catch (e) {
    // getters throw TypeError on a field of the wrong type: an answer, not a crash
    return { error: `Resume data is malformed: ${(e as Error).message}` };
  }
}

function checkResume(
  root: BencodeValue,
  expected: ResumeExpectation,
): ResumeData | { error: string } {
  if (!isDict(root)) return { error: "Resume data is not a dictionary" };
  const format = getBytes(root, "format");
  if (format === undefined || fromUtf8(format) !== FORMAT || getInt(root, "version") !== VERSION) {
    return { error: "Resume data has an unknown format or version" };
  }
  const infoHash = getBytes(root, "info-hash");
  if (infoHash === undefined || !bytesEqual(infoHash, expected.infoHash)) {
    const got = infoHash ? toHex(infoHash) : "none";
    return { error: `Resume data is for another torrent: info-hash ${got}` };
  }
  if (getInt(root, "pieces") !== expected.pieceCount) {
    return {
      error: `Resume data has ${getInt(root, "pieces")} pieces, expected ${expected.pieceCount}`,
    };
  }
  const have = Bitfield.fromBytes(getBytes(root, "have") ?? new Uint8Array(0), expected.pieceCount);
  if (have === undefined) return { error: "Resume data has a bitfield of the wrong length" };
  const list = getList(root, "files") ?? [];
  if (list.length !== expected.fileCount) {
    return { error: `Resume data lists ${list.length} files, expected ${expected.fileCount}` };
  }
  const files: (FileStat | undefined)[] = [];
  for (const entry of list) {
    if (!Array.isArray(entry)) return { error: "Resume data has a bad file entry" };
    if (entry.length === 0) {
      files.push(undefined);
      continue;
    }
    const [length, mtimeMs] = entry;
    if (
      entry.length !== 2 || typeof length !== "number" || typeof mtimeMs !== "number" || length < 0
    ) {
      return { error: "Resume data has a bad file entry" };
    }
    files.push({ length, mtimeMs });
  }
  return { infoHash, pieceCount: expected.pieceCount, have, files };
}

/**
 * Decides what a restart may trust (RELIABILITY F5): a piece is trusted only when
 * it was recorded as verified and every file it touches has the recorded size and
 * mtime; every piece of a changed file is rechecked, including ones not recorded
 * (data written after the last save), unless one of its files is now missing.
 * @param resume decoded resume data
 * @param stats current size and mtime per file (`undefined` = missing)
 * @param layout the torrent's layout
 * @returns trusted pieces and pieces to hash again
 * @throws {RangeError} when the counts of files or pieces disagree with `layout`
 * @example
 * ```ts
 * import { piecesToRecheck, StorageLayout } from "./mod.ts";
 * import { Bitfield } from "../util/bitfield.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const layout = new StorageLayout([{ length: 4 }, { length: 4 }], 4);
 * const files = [{ length: 4, mtimeMs: 1 }, { length: 4, mtimeMs: 1 }];
 * const resume = { infoHash: new Uint8Array(20), pieceCount: 2, have: Bitfield.full(2), files };
 * const plan = piecesToRecheck(resume, [files[0], { length: 4, mtimeMs: 2 }], layout);
 * assertEquals([...plan.trusted.indices()], [0]);
 * assertEquals(plan.recheck, [1]);
 * ```
 */
export function piecesToRecheck(
  resume: ResumeData,
  stats: readonly (FileStat | undefined)[],
  layout: StorageLayout,
): RecheckPlan {
  if (
    stats.length !== layout.fileCount || resume.files.length !== layout.fileCount ||
    resume.pieceCount !== layout.pieceCount
  ) {
    throw new RangeError("Cannot plan a recheck: file or piece counts disagree with the layout");
  }
  const changed = new Uint8Array(layout.pieceCount);
  const missing = new Uint8Array(layout.pieceCount);
  for (let f = 0; f < layout.fileCount; f++) {
    const range = layout.piecesOfFile(f);
    if (range === undefined) continue; // zero-length files hold no piece bytes
    const now = stats[f];
    const mark = now === undefined ? missing : sameStat(resume.files[f], now) ? undefined : changed;
    if (mark) mark.fill(1, range.first, range.last + 1);
  }
  const trusted = new Bitfield(layout.pieceCount);
  const recheck: number[] = [];
  for (let p = 0; p < layout.pieceCount; p++) {
    if (missing[p]) continue;
    if (changed[p]) recheck.push(p);
    else if (resume.have.has(p)) trusted.set(p);
  }
  return { trusted, recheck };
}

function sameStat(recorded: FileStat | undefined, now: FileStat): boolean {
  return recorded !== undefined && recorded.length === now.length &&
    recorded.mtimeMs === Math.floor(now.mtimeMs);
}
