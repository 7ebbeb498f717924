/**
 * The disk seam: SHA-1 and file I/O of a torrent's storage, off the main isolate (the
 * worker pool in `src/deno/worker_pool.ts`) or in memory (`MemoryDiskIo`, for tests and
 * the simulator). Buffers passed in are transferred, never copied.
 *
 * Layer: storage contract (types only).
 * @module
 */

/** One file of a torrent's storage, in torrent order. */
export interface StorageFile {
  /** Sanitised path components below the storage root (never empty, never `..`). */
  readonly path: readonly string[];
  /** Length in bytes. */
  readonly length: number;
}

/** Everything a disk backend needs to map pieces onto files. */
export interface StorageSpec {
  /** Directory all files live under. */
  readonly root: string;
  /** Files in torrent order. */
  readonly files: readonly StorageFile[];
  /** Nominal piece length in bytes (the last piece may be shorter). */
  readonly pieceLength: number;
  /** Sum of file lengths in bytes. */
  readonly totalLength: number;
  /** Concatenated 20-byte SHA-1 piece hashes; empty when hashing to create a torrent. */
  readonly pieceHashes: Uint8Array;
}

/** Handle of a storage opened on a {@linkcode DiskIo}. */
export type StorageId = number;

/**
 * SHA-1 and file I/O, off the main isolate (the worker pool) or in memory (tests).
 *
 * Buffers passed in are transferred: the caller must not touch them after the call.
 */
export interface DiskIo {
  /** Registers a storage; no file is created until the first write. */
  open(spec: StorageSpec): Promise<StorageId>;
  /**
   * Hashes a whole piece and writes it only when the hash matches.
   * Resolves `true` when verified and written, `false` on a hash mismatch;
   * rejects with a `StorageError` when the write fails.
   */
  writePiece(id: StorageId, index: number, data: Uint8Array): Promise<boolean>;
  /** Reads `length` bytes of piece `index` from `begin`; rejects with `StorageError`. */
  read(id: StorageId, index: number, begin: number, length: number): Promise<Uint8Array>;
  /**
   * Reads and hashes `count` pieces from `first`. Resolves their concatenated
   * 20-byte SHA-1 digests; a piece that cannot be read in full gets 20 zero bytes.
   */
  hashPieces(id: StorageId, first: number, count: number): Promise<Uint8Array>;
  /** Flushes and closes a storage's files. */
  close(id: StorageId): Promise<void>;
  /** Closes every storage and stops the backend. */
  shutdown(): Promise<void>;
  /** Bytes of submitted jobs (writes, reads, hashes) not finished yet. */
  queuedBytes(): number;
  /**
   * Resolves once {@linkcode DiskIo.queuedBytes} is under the backend's high-water mark.
   * Backpressure: the session stops reading sockets until then.
   */
  waitForCapacity(): Promise<void>;
  /**
   * Size and modification time of each file of a storage, in torrent order
   * (`undefined` for a missing file), for resume data. Rejects with `StorageError`.
   */
  statFiles(id: StorageId): Promise<(FileStat | undefined)[]>;
  /** Jobs the backend runs at once (worker count); verification keeps twice this many in flight. */
  readonly parallelism?: number;
  /**
   * A buffer of `length` bytes for assembling a piece, recycled from finished writes
   * when possible (fresh buffers cost page faults). Contents are unspecified.
   */
  allocatePieceBuffer?(length: number): Uint8Array;
  /**
   * Gives back a buffer from {@linkcode DiskIo.read} (or a piece buffer) that the caller no
   * longer uses, e.g. a piece leaving an upload cache, so that later reads fill it instead of
   * a fresh one (fresh buffers cost page faults). The caller must not touch it afterwards.
   */
  recycleBuffer?(data: Uint8Array): void;
}

/** What {@linkcode DiskIo.statFiles} reports for a file that exists. */
export interface FileStat {
  /** Size in bytes. */
  readonly length: number;
  /** Last modification, milliseconds since the Unix epoch. */
  readonly mtimeMs: number;
}
