/**
 * Library entry for making a `.torrent` from a file or directory: walk the files,
 * hash every piece on hash workers (`piece_hasher.ts`; or in a given `DiskIo`), build the
 * metainfo. The calling isolate never hashes here: a library caller may be serving peers.
 *
 * Layer: platform.
 * @module
 */
import { buildTorrent, choosePieceLength, type Metainfo, parseTorrent } from "../metainfo/mod.ts";
import { hashStorage } from "../storage/verify.ts";
import type { DiskIo, StorageSpec } from "../storage/disk_io.ts";
import { hashContent } from "./piece_hasher.ts";
import { collectFiles, type WalkResult } from "./walk.ts";

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
  /** Hash in this backend instead of on new hash workers. */
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
  const files = walk.files.map((f) => ({
    path: f.path.length === 0 ? [walk.name] : f.path,
    length: f.length,
  }));
  const onProgress = options.onProgress;
  const hashes = options.disk
    ? await hashOnDisk(options.disk, { root: walk.root, files, pieceLength, totalLength }, {
      pieceCount,
      ...(onProgress ? { onProgress: (n: number) => onProgress(n, pieceCount) } : {}),
    })
    : await hashContent({ root: walk.root, files, pieceLength }, {
      ...(onProgress ? { onProgress } : {}),
    });
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

/** Hashes every piece through a caller's {@linkcode DiskIo}. */
async function hashOnDisk(
  disk: DiskIo,
  spec: Omit<StorageSpec, "pieceHashes">,
  options: { pieceCount: number; onProgress?: (done: number) => void },
): Promise<Uint8Array> {
  const id = await disk.open({ ...spec, pieceHashes: new Uint8Array(0) });
  try {
    return await hashStorage(disk, id, options.pieceCount, {
      pieceLength: spec.pieceLength,
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
  } finally {
    await disk.close(id);
  }
}
