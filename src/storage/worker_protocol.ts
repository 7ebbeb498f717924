/**
 * Messages between the worker pool (main isolate) and its piece workers.
 *
 * Jobs are a discriminated union on `type` with a pool-wide `id`; one message may
 * carry several jobs ({@linkcode JobBatch}) and the worker answers each batch with
 * one {@linkcode ReplyBatch}. Piece bytes travel as `ArrayBuffer`s in the transfer
 * list, never as structured clones.
 *
 * Layer: core (types only).
 * @module
 */
import type { FileStat, StorageId } from "./disk_io.ts";

/** Job kinds. */
export type JobType = "open" | "write" | "read" | "hash" | "stat" | "close";

/** What a worker needs to map pieces onto files (no piece hashes: writes carry their own). */
export interface WorkerStorageSpec {
  /** Directory all files live under. */
  readonly root: string;
  /** Files in torrent order: sanitised path components and length in bytes. */
  readonly files: readonly { readonly path: readonly string[]; readonly length: number }[];
  /** Nominal piece length in bytes. */
  readonly pieceLength: number;
}

/** Fields every job carries. */
export interface JobBase {
  /** Pool-wide job id, echoed in the reply. */
  readonly id: number;
  /** The storage the job is for. */
  readonly storage: StorageId;
}

/** Registers a storage with a worker; files are opened lazily. */
export interface OpenJob extends JobBase {
  /** Discriminant. */
  readonly type: "open";
  /** How pieces map onto files. */
  readonly spec: WorkerStorageSpec;
}

/**
 * Hash a whole piece, compare with `expected`, write its spans only on a match. One worker
 * does both, so the piece crosses to a worker and back once.
 */
export interface WriteJob extends JobBase {
  /** Discriminant. */
  readonly type: "write";
  /** Piece index. */
  readonly index: number;
  /** The whole piece (transferred; returned in the reply for reuse). */
  readonly data: ArrayBuffer;
  /**
   * Where the piece starts in `data`, when `data` is longer than the piece: set only for a
   * piece the pool placed at a page-aligned address, which O_DIRECT writes without a copy.
   * Without it, `data` is exactly the piece.
   */
  readonly offset?: number;
  /** The expected 20-byte SHA-1 (its own small buffer, never a view of a big one). */
  readonly expected: Uint8Array;
}

/** Read `length` bytes of piece `index` from `begin`. */
export interface ReadJob extends JobBase {
  /** Discriminant. */
  readonly type: "read";
  /** Piece index. */
  readonly index: number;
  /** Byte offset inside the piece. */
  readonly begin: number;
  /** Byte count. */
  readonly length: number;
  /** A buffer to read into (transferred; returned as `data`): `length` bytes from `intoOffset`. */
  readonly into?: ArrayBuffer;
  /** Where in `into` the bytes go (default 0). */
  readonly intoOffset?: number;
}

/** Read and hash `count` pieces from `first`. */
export interface HashJob extends JobBase {
  /** Discriminant. */
  readonly type: "hash";
  /** First piece index. */
  readonly first: number;
  /** Number of pieces. */
  readonly count: number;
}

/** Report each file's size and mtime. */
export interface StatJob extends JobBase {
  /** Discriminant. */
  readonly type: "stat";
}

/** Flush (fdatasync) written files and close every handle of a storage. */
export interface CloseJob extends JobBase {
  /** Discriminant. */
  readonly type: "close";
}

/** Any job. */
export type Job = OpenJob | WriteJob | ReadJob | HashJob | StatJob | CloseJob;

/** Why a job failed (becomes a `StorageError` in the main isolate). */
export interface JobError {
  /** Human-readable message (STYLE §6). */
  readonly message: string;
  /** The operation that failed: the job type, or a finer step such as `"mkdir"`. */
  readonly op: string;
  /** The file involved, when one is. */
  readonly path?: string;
}

/** Success replies, one shape per job type. */
export type OkReply =
  | { readonly id: number; readonly ok: true; readonly type: "open" | "close" }
  | {
    readonly id: number;
    readonly ok: true;
    readonly type: "write";
    /** True when the hash matched and the piece was written. */
    readonly verified: boolean;
    /** The piece buffer, handed back for reuse. */
    readonly data: ArrayBuffer;
  }
  | {
    readonly id: number;
    readonly ok: true;
    readonly type: "read";
    /** The bytes read, from `offset` (the job's `into`, or a new buffer of exactly them). */
    readonly data: ArrayBuffer;
    /** Where the bytes start in `data` (absent: 0). */
    readonly offset?: number;
  }
  | {
    readonly id: number;
    readonly ok: true;
    readonly type: "hash";
    /** `count` concatenated 20-byte digests; zeros for unreadable pieces. */
    readonly digests: ArrayBuffer;
  }
  | {
    readonly id: number;
    readonly ok: true;
    readonly type: "stat";
    /** Per file; `null` when missing (structured clone keeps `null`, not `undefined`, in arrays). */
    readonly files: (FileStat | null)[];
  };

/** A failure reply. */
export interface ErrorReply {
  /** The job's id. */
  readonly id: number;
  /** Always false. */
  readonly ok: false;
  /** What went wrong. */
  readonly error: JobError;
}

/** Any reply. */
export type Reply = OkReply | ErrorReply;

/** How a worker writes; sent once, before any job. */
export interface WorkerConfig {
  /** Write verified pieces with O_DIRECT where the file system allows. */
  readonly directWrites: boolean;
  /**
   * Bytes written through the page cache to one file before its writeback is started
   * (an asynchronous `fdatasync`); at four times this, the worker waits for it.
   */
  readonly writeBackBytes: number;
}

/** One message from the pool to a worker: its configuration, or jobs to run in order. */
export type JobBatch = { readonly jobs: readonly Job[] } | { readonly config: WorkerConfig };

/** One message from a worker to the pool: a batch's replies, or the start-up signal. */
export type WorkerMessage = { readonly replies: readonly Reply[] } | { readonly ready: true };
