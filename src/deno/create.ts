/**
 * Library entry for making a `.torrent` from a file or directory: walk the files,
 * hash every piece in the worker pool, build the metainfo.
 *
 * Layer: platform.
 * @module
 */
import { buildTorrent, choosePieceLength, type Metainfo, parseTorrent } from "../metainfo/mod.ts";
import { hashStorage } from "../storage/verify.ts";
import type { DiskIo } from "../storage/disk_io.ts";
import { collectFiles, type WalkResult } from "./walk.ts";
import { WorkerPoolDiskIo } from "./worker_pool.ts";

/** Options for {@linkcode createTorrent}. */
export interface CreateTorrentOptions {
  /** Piece length in bytes (power of two ≥ 16 KiB); default from the total size. */
  readonly pieceLength?: number;
  /** Tracker tiers. */
  readonly trackers?: readonly (readonly string[])[];
  /** BEP 27 private flag. */
  readonly isPrivate?: boolean;
  /** BEP 19 web seeds. */
  readonly webSeeds?: readonly string[];
  /** Free-text comment. */
  readonly comment?: string;
  /** `creation date` in seconds; omitted when undefined. */
  readonly creationDate?: number;
  /** `created by`; omitted when undefined. */
  readonly createdBy?: string;
  /** Hash in this backend instead of a new worker pool. */
  readonly disk?: DiskIo;
  /** Progress callback: pieces hashed so far. */
  readonly onProgress?: (piecesDone: number, pieceCount: number) => void;
}

/** A created torrent. */
export interface CreatedTorrent {
  /** The `.torrent` file bytes. */
  readonly bytes: Uint8Array;
  /** The same, parsed. */
  readonly meta: Metainfo;
  /** The walk (files, skipped entries such as symbolic links). */
  readonly walk: WalkResult;
}

/**
 * Makes a torrent of `path` (a file or a directory).
 * @param path the content
 * @param options piece length, trackers, flags
 * @returns the torrent bytes and metainfo
 * @throws {StorageError} when the content cannot be read
 */
export async function createTorrent(
  path: string,
  options: CreateTorrentOptions = {},
): Promise<CreatedTorrent> {
  const walk = await collectFiles(path);
  const totalLength = walk.files.reduce((n, f) => n + f.length, 0);
  const pieceLength = options.pieceLength ?? choosePieceLength(totalLength);
  const pieceCount = Math.ceil(totalLength / pieceLength);
  const disk = options.disk ?? await WorkerPoolDiskIo.create();
  let hashes: Uint8Array;
  try {
    const id = await disk.open({
      root: walk.root,
      files: walk.files.map((f) => ({
        path: f.path.length === 0 ? [walk.name] : f.path,
        length: f.length,
      })),
      pieceLength,
      totalLength,
      pieceHashes: new Uint8Array(0),
    });
    hashes = await hashStorage(disk, id, pieceCount, {
      pieceLength,
      ...(options.onProgress
        ? { onProgress: (n: number) => options.onProgress!(n, pieceCount) }
        : {}),
    });
    await disk.close(id);
  } finally {
    if (!options.disk) await disk.shutdown();
  }
  const bytes = buildTorrent({
    name: walk.name,
    files: walk.files,
    pieceLength,
    pieceHashes: hashes,
    ...(options.trackers ? { trackers: options.trackers } : {}),
    ...(options.isPrivate ? { isPrivate: true } : {}),
    ...(options.webSeeds ? { webSeeds: options.webSeeds } : {}),
    ...(options.comment !== undefined ? { comment: options.comment } : {}),
    ...(options.creationDate !== undefined ? { creationDate: options.creationDate } : {}),
    ...(options.createdBy !== undefined ? { createdBy: options.createdBy } : {}),
  });
  return { bytes, meta: parseTorrent(bytes), walk };
}
