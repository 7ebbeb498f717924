/**
 * What a torrent has on disk at start-up: resume data when it is valid and the
 * files are unchanged, a partial recheck of changed files, or a full verify
 * (RELIABILITY rule 4, F1, F2, F5). Resume data is a claim, not proof: a file edited
 * with its size and mtime put back passes the stat check, so a random sample of the
 * pieces it vouches for is hashed too (`spotCheck`, 16 by default: a torrent of up to 16
 * pieces is checked whole, a bigger one at the cost of 16 piece reads), and one bad
 * piece in the sample means the resume data is not used at all. Also captures resume
 * data to save.
 *
 * Layer: driver (async; talks only to the injected `DiskIo`).
 * @module
 */
import type { DiskIo, FileStat, StorageId } from "./disk_io.ts";
import type { Random } from "../runtime/types.ts";
import type { Bitfield } from "../util/bitfield.ts";
import type { StorageLayout } from "./layout.ts";
import { decodeResume, encodeResume, piecesToRecheck } from "./resume.ts";
import { verifyStorage } from "./verify.ts";

/** Inputs of {@linkcode checkExistingData}. */
export interface StartupCheckOptions {
  /** Concatenated 20-byte expected piece hashes. */
  readonly pieceHashes: Uint8Array;
  /** The torrent's layout. */
  readonly layout: StorageLayout;
  /** The resume file's bytes, or `undefined` when there is none. */
  readonly resume: Uint8Array | undefined;
  /** The torrent's 20-byte info-hash. */
  readonly infoHash: Uint8Array;
  /** Called with the number of pieces hashed so far. */
  readonly onProgress?: (done: number) => void;
  /** Stops hashing between batches. */
  readonly signal?: AbortSignal;
  /** Hash this many of the pieces resume data vouches for, picked at random (default none). */
  readonly spotCheck?: { readonly pieces: number; readonly random: Random };
}

/** Outcome of {@linkcode checkExistingData}. */
export interface StartupCheckResult {
  /** Pieces verified now, or recorded as verified in unchanged files. */
  readonly have: Bitfield;
  /** Number of pieces hashed. */
  readonly rechecked: number;
  /** True when valid resume data was used. */
  readonly usedResume: boolean;
  /** Why the resume data was ignored, when it was (show it; RELIABILITY F2). */
  readonly warning?: string;
}

/**
 * Finds the verified pieces already on disk.
 * @param disk the backend
 * @param id an open storage
 * @param options hashes, layout, resume bytes, info-hash, progress
 * @returns the pieces we have, how many were hashed, whether resume data was used
 * @throws {StorageError} when the backend fails (bad resume data is a warning, not an error)
 * @example
 * ```ts
 * import { checkExistingData, MemoryDiskIo, StorageLayout } from "./mod.ts";
 * import { sha1 } from "../util/sha1.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const disk = new MemoryDiskIo();
 * const pieceHashes = sha1(new Uint8Array(3));
 * const id = await disk.open({
 *   root: "/x", files: [{ path: ["f"], length: 3 }], pieceLength: 4,
 *   totalLength: 3, pieceHashes,
 * });
 * disk.putFile(id, 0, new Uint8Array(3));
 * const layout = new StorageLayout([{ length: 3 }], 4);
 * const infoHash = new Uint8Array(20);
 * const result = await checkExistingData(disk, id, {
 *   pieceHashes, layout, resume: new Uint8Array([1, 2]), infoHash,
 * });
 * assertEquals([result.have.count, result.usedResume], [1, false]);
 * assertEquals(typeof result.warning, "string");
 * await disk.shutdown();
 * ```
 */
export async function checkExistingData(
  disk: DiskIo,
  id: StorageId,
  options: StartupCheckOptions,
): Promise<StartupCheckResult> {
  const { layout, pieceHashes } = options;
  const hashOptions = {
    pieceLength: layout.pieceLength,
    ...(options.onProgress && { onProgress: options.onProgress }),
    ...(options.signal && { signal: options.signal }),
  };
  let warning: string | undefined;
  if (options.resume !== undefined) {
    const resume = decodeResume(options.resume, {
      infoHash: options.infoHash,
      pieceCount: layout.pieceCount,
      fileCount: layout.fileCount,
    });
    if (!("error" in resume)) {
      const plan = piecesToRecheck(resume, await disk.statFiles(id), layout);
      const sample = options.spotCheck ? samplePieces(plan.trusted, options.spotCheck) : [];
      const hashed = [...plan.recheck, ...sample];
      const verified = await verifyStorage(disk, id, pieceHashes, {
        ...hashOptions,
        indices: hashed,
      });
      const bad = sample.find((index) => !verified.has(index));
      if (bad === undefined) {
        const have = plan.trusted;
        for (const index of verified.indices()) have.set(index);
        return { have, rechecked: new Set(hashed).size, usedResume: true };
      }
      warning = `Resume data ignored, checking all pieces: piece ${bad} fails its hash ` +
        `though its files' sizes and mtimes are as recorded`;
      const rest = await verifyStorage(disk, id, pieceHashes, {
        ...hashOptions,
        indices: complement(hashed, layout.pieceCount),
      });
      for (const index of verified.indices()) rest.set(index);
      return { have: rest, rechecked: layout.pieceCount, usedResume: false, warning };
    }
    warning = `Resume data ignored, checking all pieces: ${resume.error}`;
  }
  // A piece with bytes in a missing file cannot be on disk: it is not read. (A fresh
  // download used to "hash" all its pieces, each a failed open: 95 ms for 1 GiB.) When the
  // files cannot be stat'ed (a path through a regular file), every piece is tried as before:
  // the reads find nothing and the first write reports the error.
  const stats = await disk.statFiles(id).catch(() => undefined);
  const indices = stats ? piecesOnDisk(layout, stats) : undefined;
  const have = await verifyStorage(disk, id, pieceHashes, {
    ...hashOptions,
    ...(indices ? { indices } : {}),
  });
  const result = {
    have,
    rechecked: indices?.length ?? layout.pieceCount,
    usedResume: false,
  };
  return warning === undefined ? result : { ...result, warning };
}

/** The pieces none of whose bytes lie in a missing file, ascending. */
function piecesOnDisk(layout: StorageLayout, stats: readonly (FileStat | undefined)[]): number[] {
  const missing = new Uint8Array(layout.pieceCount);
  for (let f = 0; f < layout.fileCount; f++) {
    const range = layout.piecesOfFile(f);
    if (range !== undefined && stats[f] === undefined) missing.fill(1, range.first, range.last + 1);
  }
  const indices: number[] = [];
  for (let p = 0; p < layout.pieceCount; p++) if (!missing[p]) indices.push(p);
  return indices;
}

/** The piece indices below `count` that are not in `taken`, ascending. */
function complement(taken: readonly number[], count: number): number[] {
  const skip = new Set(taken);
  const rest: number[] = [];
  for (let i = 0; i < count; i++) if (!skip.has(i)) rest.push(i);
  return rest;
}

/**
 * Up to `pieces` distinct set bits of `trusted`, uniformly at random (reservoir sampling:
 * memory is the sample, not the torrent).
 */
function samplePieces(
  trusted: Bitfield,
  spot: { readonly pieces: number; readonly random: Random },
): number[] {
  const sample: number[] = [];
  let seen = 0;
  for (const index of trusted.indices()) {
    seen++;
    if (sample.length < spot.pieces) sample.push(index);
    else {
      const at = spot.random.int(seen);
      if (at < spot.pieces) sample[at] = index;
    }
  }
  return sample;
}

/**
 * Builds the bytes of a resume file for the current state. The bitfield is copied
 * before the files are stat'ed, so every recorded piece was written before its
 * file's recorded mtime.
 * @param disk the backend
 * @param id an open storage
 * @param options the torrent's info-hash and the verified pieces
 * @returns bencoded resume data, to save with `writeFileAtomic`
 * @throws {StorageError} when the files cannot be stat'ed
 */
export async function captureResume(
  disk: DiskIo,
  id: StorageId,
  options: { readonly infoHash: Uint8Array; readonly have: Bitfield },
): Promise<Uint8Array> {
  const have = options.have.clone();
  const files = await disk.statFiles(id);
  return encodeResume({ infoHash: options.infoHash, pieceCount: have.length, have, files });
}
