/**
 * Whole-storage hashing over a {@linkcode DiskIo}: piece hashes for `create`, and
 * verification of existing data (BEP 3: a piece counts only once its SHA-1
 * matches; RELIABILITY rule 4). Pieces go in batches of about `batchBytes` per
 * job, with about two jobs per worker in flight so no worker idles between jobs.
 *
 * Layer: driver (async; talks only to the injected `DiskIo`).
 * @module
 */
import type { DiskIo, StorageId } from "./disk_io.ts";
import { Bitfield } from "../util/bitfield.ts";

/** Default bytes of pieces per hash job. */
export const DEFAULT_HASH_BATCH_BYTES = 4 * 1024 * 1024;
/** Piece length assumed for batching when the caller gives none. */
const ASSUMED_PIECE_LENGTH = 256 * 1024;

/** Options shared by {@linkcode hashStorage} and {@linkcode verifyStorage}. */
export interface HashOptions {
  /** Called after each batch with the number of pieces hashed so far. */
  readonly onProgress?: (done: number) => void;
  /** Bytes of pieces per job (default 4 MiB). */
  readonly batchBytes?: number;
  /** Piece length in bytes, to size batches (default: assume 256 KiB). */
  readonly pieceLength?: number;
  /** Stops between batches; the promise rejects with the signal's reason. */
  readonly signal?: AbortSignal;
}

/** Options for {@linkcode verifyStorage}. */
export interface VerifyOptions extends HashOptions {
  /** Only these pieces (default: all). Duplicates are ignored. */
  readonly indices?: Iterable<number>;
}

/** A run of consecutive pieces hashed by one job. */
interface Batch {
  readonly first: number;
  readonly count: number;
}

/**
 * SHA-1 of every piece of a storage, e.g. to create a torrent.
 * @param disk the backend
 * @param id an open storage
 * @param pieceCount number of pieces
 * @param options progress, batch size, piece length, abort signal
 * @returns `pieceCount` concatenated 20-byte digests (zeros for unreadable pieces)
 * @throws {RangeError} for a negative piece count
 * @throws {StorageError} when the backend fails
 * @example
 * ```ts
 * import { hashStorage, MemoryDiskIo } from "./mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const disk = new MemoryDiskIo();
 * const id = await disk.open({
 *   root: "/x", files: [{ path: ["f"], length: 5 }], pieceLength: 4,
 *   totalLength: 5, pieceHashes: new Uint8Array(0),
 * });
 * disk.putFile(id, 0, new Uint8Array(5));
 * assertEquals((await hashStorage(disk, id, 2, { pieceLength: 4 })).length, 40);
 * await disk.shutdown();
 * ```
 */
export async function hashStorage(
  disk: DiskIo,
  id: StorageId,
  pieceCount: number,
  options: HashOptions = {},
): Promise<Uint8Array> {
  if (!Number.isInteger(pieceCount) || pieceCount < 0) {
    throw new RangeError(`Cannot hash ${pieceCount} pieces`);
  }
  const out = new Uint8Array(20 * pieceCount);
  const per = piecesPerBatch(options);
  const batches: Batch[] = [];
  for (let first = 0; first < pieceCount; first += per) {
    batches.push({ first, count: Math.min(per, pieceCount - first) });
  }
  await runBatches(disk, id, batches, options, (batch, digests) => {
    out.set(digests, 20 * batch.first);
  });
  return out;
}

/**
 * Verifies pieces against their expected hashes.
 * @param disk the backend
 * @param id an open storage
 * @param pieceHashes concatenated 20-byte expected digests, one per piece
 * @param options which pieces, progress, batch size, piece length, abort signal
 * @returns a bitfield of the pieces whose data matches
 * @throws {RangeError} when `pieceHashes` is not a multiple of 20 bytes or an index is out of range
 * @throws {StorageError} when the backend fails
 * @example
 * ```ts
 * import { MemoryDiskIo, verifyStorage } from "./mod.ts";
 * import { sha1 } from "../util/sha1.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const disk = new MemoryDiskIo();
 * const hashes = new Uint8Array([...sha1(new Uint8Array(4)), ...sha1(new Uint8Array(1))]);
 * const id = await disk.open({
 *   root: "/x", files: [{ path: ["f"], length: 5 }], pieceLength: 4,
 *   totalLength: 5, pieceHashes: hashes,
 * });
 * disk.putFile(id, 0, new Uint8Array([0, 0, 0, 0, 9]));
 * const have = await verifyStorage(disk, id, hashes);
 * assertEquals([...have.indices()], [0]);
 * await disk.shutdown();
 * ```
 */
export async function verifyStorage(
  disk: DiskIo,
  id: StorageId,
  pieceHashes: Uint8Array,
  options: VerifyOptions = {},
): Promise<Bitfield> {
  if (pieceHashes.length % 20 !== 0) {
    throw new RangeError(`Cannot verify: ${pieceHashes.length} hash bytes is not a multiple of 20`);
  }
  const pieceCount = pieceHashes.length / 20;
  const wanted = sortedIndices(options.indices, pieceCount);
  const have = new Bitfield(pieceCount);
  await runBatches(disk, id, runsOf(wanted, piecesPerBatch(options)), options, (batch, digests) => {
    for (let k = 0; k < batch.count; k++) {
      const index = batch.first + k;
      if (digestMatches(digests, 20 * k, pieceHashes, 20 * index)) have.set(index);
    }
  });
  return have;
}

/** Runs batches with about two jobs per worker in flight, in any completion order. */
async function runBatches(
  disk: DiskIo,
  id: StorageId,
  batches: readonly Batch[],
  options: HashOptions,
  onBatch: (batch: Batch, digests: Uint8Array) => void,
): Promise<void> {
  const lanes = Math.max(1, 2 * (disk.parallelism ?? 1));
  let next = 0;
  let done = 0;
  const lane = async () => {
    while (next < batches.length) {
      options.signal?.throwIfAborted();
      const batch = batches[next++]!;
      const digests = await disk.hashPieces(id, batch.first, batch.count);
      onBatch(batch, digests);
      done += batch.count;
      options.onProgress?.(done);
    }
  };
  await Promise.all(Array.from({ length: Math.min(lanes, batches.length) }, lane));
}

function piecesPerBatch(options: HashOptions): number {
  const batchBytes = options.batchBytes ?? DEFAULT_HASH_BATCH_BYTES;
  const pieceLength = options.pieceLength ?? ASSUMED_PIECE_LENGTH;
  if (!(batchBytes > 0) || !(pieceLength > 0)) {
    throw new RangeError(`Cannot batch ${batchBytes} bytes of ${pieceLength}-byte pieces`);
  }
  return Math.max(1, Math.floor(batchBytes / pieceLength));
}

function sortedIndices(indices: Iterable<number> | undefined, pieceCount: number): number[] {
  if (indices === undefined) return Array.from({ length: pieceCount }, (_, i) => i);
  const unique = [...new Set(indices)].sort((a, b) => a - b);
  for (const index of unique) {
    if (!Number.isInteger(index) || index < 0 || index >= pieceCount) {
      throw new RangeError(`Cannot verify piece ${index}: outside 0..${pieceCount - 1}`);
    }
  }
  return unique;
}

/** Groups ascending indices into runs of consecutive pieces, at most `max` each. */
function runsOf(sorted: readonly number[], max: number): Batch[] {
  const out: Batch[] = [];
  for (const index of sorted) {
    const last = out[out.length - 1];
    if (last && last.first + last.count === index && last.count < max) {
      out[out.length - 1] = { first: last.first, count: last.count + 1 };
    } else out.push({ first: index, count: 1 });
  }
  return out;
}

function digestMatches(a: Uint8Array, at: number, b: Uint8Array, bt: number): boolean {
  for (let i = 0; i < 20; i++) if (a[at + i] !== b[bt + i]) return false;
  return true;
}
