/**
 * The work a piece worker does: SHA-1 with `node:crypto` and synchronous positional
 * file I/O with `node:fs` (pread/pwrite), which DENO-PERFORMANCE.md measured 20–50×
 * faster than Deno's async file ops. Runs inside a worker; never on the main isolate.
 *
 * Paths go through `safe_path.ts` (symlinks refused, `O_NOFOLLOW`). Files are created
 * lazily on the first write, with their parent directories.
 *
 * Layer: platform (worker side).
 * @module
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import { join } from "node:path";
import { StorageError } from "../errors.ts";
import { StorageLayout } from "../storage/layout.ts";
import { bytesEqual } from "../util/bytes.ts";
import type {
  CloseJob,
  HashJob,
  Job,
  JobError,
  OkReply,
  OpenJob,
  ReadJob,
  Reply,
  StatJob,
  WorkerStorageSpec,
  WriteJob,
} from "../storage/worker_protocol.ts";
import type { FileStat, StorageId } from "../storage/disk_io.ts";
import { DirectWriter } from "./direct_writer.ts";
import { DEFAULT_WRITE_BACK_BYTES, WriteBack, type WriteBackState } from "./write_back.ts";
import { checkComponents, errorMessage, fsCall, resolveSafePath } from "./safe_path.ts";

/** Default bound on open file handles per worker. */
export const DEFAULT_MAX_OPEN_FILES = 32;
/** Default size of the reused read buffer for hash jobs (reads ≤256 KiB are fastest). */
export const DEFAULT_READ_BUFFER_BYTES = 256 * 1024;

const { O_RDONLY, O_RDWR, O_CREAT, O_NOFOLLOW } = fs.constants;
const ZERO_DIGEST = new Uint8Array(20);

interface OpenStorage {
  readonly spec: WorkerStorageSpec;
  readonly layout: StorageLayout;
  /** Files this worker wrote since the last flush. */
  readonly dirty: Set<number>;
  /** Zero-length files were created (after the first verified write). */
  emptyFilesCreated: boolean;
}

interface Handle extends WriteBackState {
  readonly writable: boolean;
  /** O_DIRECT descriptor for piece writes: opened on the first write; null when refused. */
  direct?: number | null;
}

/** Options for {@linkcode WorkerOps}. */
export interface WorkerOpsOptions {
  /** Bound on cached open files (default 32). */
  readonly maxOpenFiles?: number;
  /** Size of the reused read buffer for hash jobs in bytes (default 256 KiB). */
  readonly readBufferBytes?: number;
  /** Write verified pieces with O_DIRECT where the file system allows (default true). */
  readonly directWrites?: boolean;
  /**
   * Bytes written through the page cache to one file before its writeback starts
   * (default 32 MiB; 0 leaves writeback to the kernel). See `write_back.ts`.
   */
  readonly writeBackBytes?: number;
}

/** Replies to one batch and the buffers to transfer back with them. */
export interface BatchResult {
  /** One reply per job, in job order. */
  readonly replies: Reply[];
  /** Buffers owned by the replies (the transfer list). */
  readonly transfer: ArrayBuffer[];
}

/** Executes jobs for one worker: per-storage layouts and an LRU cache of file handles. */
export class WorkerOps {
  readonly #storages = new Map<StorageId, OpenStorage>();
  /** Insertion order is LRU order; key `${storage}:${fileIndex}`. */
  readonly #handles = new Map<string, Handle>();
  readonly #maxOpenFiles: number;
  readonly #readBuffer: Uint8Array;
  readonly #direct: DirectWriter;
  readonly #writeBack: WriteBack;

  /**
   * Creates an executor with no storages.
   * @param options handle cache size and read buffer size
   * @throws {RangeError} for a bound below 1
   */
  constructor(options: WorkerOpsOptions = {}) {
    this.#maxOpenFiles = options.maxOpenFiles ?? DEFAULT_MAX_OPEN_FILES;
    const bufferBytes = options.readBufferBytes ?? DEFAULT_READ_BUFFER_BYTES;
    if (this.#maxOpenFiles < 1 || bufferBytes < 1) {
      throw new RangeError("Cannot create WorkerOps: bounds must be at least 1");
    }
    this.#readBuffer = new Uint8Array(bufferBytes);
    this.#direct = new DirectWriter(options.directWrites ?? true);
    this.#writeBack = new WriteBack(options.writeBackBytes ?? DEFAULT_WRITE_BACK_BYTES);
  }

  /** Bytes written with O_DIRECT so far. */
  get directBytes(): number {
    return this.#direct.directBytes;
  }

  /** Early writebacks started and waited for (see `write_back.ts`). */
  get writeBacks(): { started: number; waited: number } {
    return { started: this.#writeBack.started, waited: this.#writeBack.waited };
  }

  /** Number of cached open file handles. */
  get openFileCount(): number {
    return this.#handles.size;
  }

  /**
   * Runs a batch of jobs in order; a failing job yields an error reply, never a throw.
   * @param jobs the batch
   * @returns the replies and their transfer list
   */
  runBatch(jobs: readonly Job[]): BatchResult {
    const replies: Reply[] = [];
    const transfer: ArrayBuffer[] = [];
    for (const job of jobs) {
      const reply = this.run(job);
      replies.push(reply);
      if (reply.ok && (reply.type === "write" || reply.type === "read")) transfer.push(reply.data);
      if (reply.ok && reply.type === "hash") transfer.push(reply.digests);
    }
    return { replies, transfer };
  }

  /**
   * Runs one job.
   * @param job the job
   * @returns its reply; failures become `{ ok: false, error }`
   */
  run(job: Job): Reply {
    try {
      switch (job.type) {
        case "open":
          return this.#open(job);
        case "write":
          return this.#write(job);
        case "read":
          return this.#read(job);
        case "hash":
          return this.#hash(job);
        case "stat":
          return this.#stat(job);
        case "close":
          return this.#close(job);
      }
    } catch (e) {
      return { id: job.id, ok: false, error: toJobError(e, job.type) };
    }
  }

  /** Closes every cached handle without flushing (the worker is going away). */
  closeAll(): void {
    for (const handle of this.#handles.values()) closeHandle(handle);
    this.#handles.clear();
  }

  #open(job: OpenJob): OkReply {
    for (const file of job.spec.files) checkComponents(file.path);
    const layout = new StorageLayout(job.spec.files, job.spec.pieceLength);
    this.#storages.set(job.storage, {
      spec: job.spec,
      layout,
      dirty: new Set(),
      emptyFilesCreated: false,
    });
    return { id: job.id, ok: true, type: "open" };
  }

  #write(job: WriteJob): OkReply {
    const storage = this.#storage(job.storage, "write");
    const size = storage.layout.pieceSize(job.index);
    const offset = job.offset ?? 0;
    const fits = job.offset === undefined
      ? job.data.byteLength === size
      : offset >= 0 && offset + size <= job.data.byteLength;
    if (!fits) {
      throw new StorageError(
        `Cannot write piece ${job.index}: got ${job.data.byteLength} bytes from ${offset}, expected ${size}`,
        { op: "write" },
      );
    }
    const bytes = new Uint8Array(job.data, offset, size);
    // The pool sends an offset only for a piece it placed at a page boundary.
    const aligned = job.offset !== undefined;
    const digest = createHash("sha1").update(bytes).digest();
    if (!bytesEqual(digest, job.expected)) {
      return { id: job.id, ok: true, type: "write", verified: false, data: job.data };
    }
    let at = 0;
    for (const span of storage.layout.spans(job.index)) {
      const path = this.#path(storage, span.fileIndex);
      const handle = this.#handle(job.storage, storage, span.fileIndex, true);
      const direct = this.#directHandle(handle, path);
      storage.dirty.add(span.fileIndex);
      const write = { bytes, at, length: span.length, pos: span.fileOffset, aligned };
      fsCall("write", path, () => {
        this.#writeBack.wrote(handle, this.#direct.write(write, handle.fd, direct));
      });
      at += span.length;
    }
    if (!storage.emptyFilesCreated) this.#createEmptyFiles(storage);
    return { id: job.id, ok: true, type: "write", verified: true, data: job.data };
  }

  /** Zero-length files have no spans: create them with the storage's first verified write. */
  #createEmptyFiles(storage: OpenStorage): void {
    storage.emptyFilesCreated = true;
    storage.spec.files.forEach((file, i) => {
      if (file.length !== 0) return;
      const path = resolveSafePath(storage.spec.root, file.path, true);
      if (path === undefined) return;
      const where = this.#path(storage, i);
      fsCall(
        "write",
        where,
        () => fs.closeSync(fs.openSync(path, O_RDWR | O_CREAT | O_NOFOLLOW, 0o644)),
      );
    });
  }

  #read(job: ReadJob): OkReply {
    const storage = this.#storage(job.storage, "read");
    const spans = storage.layout.spans(job.index, job.begin, job.length);
    const at = job.intoOffset ?? 0;
    const into = job.into !== undefined && at >= 0 && at + job.length <= job.into.byteLength;
    const data = into ? job.into! : new ArrayBuffer(job.length);
    const offset = into ? at : 0;
    const view = new Uint8Array(data, offset, job.length);
    this.#readSpans(job.storage, storage, spans, view, job.index);
    return { id: job.id, ok: true, type: "read", data, ...(offset > 0 ? { offset } : {}) };
  }

  #hash(job: HashJob): OkReply {
    const storage = this.#storage(job.storage, "hash");
    const { first, count } = job;
    if (!Number.isInteger(count) || count < 0 || first + count > storage.layout.pieceCount) {
      throw new RangeError(`Cannot hash pieces ${first}+${count}: outside the storage`);
    }
    const digests = new Uint8Array(20 * count);
    for (let k = 0; k < count; k++) {
      digests.set(this.#hashPiece(job.storage, storage, first + k), 20 * k);
    }
    return { id: job.id, ok: true, type: "hash", digests: digests.buffer };
  }

  #hashPiece(id: StorageId, storage: OpenStorage, index: number): Uint8Array {
    const hash = createHash("sha1");
    try {
      for (const span of storage.layout.spans(index)) {
        for (let done = 0; done < span.length;) {
          const n = Math.min(this.#readBuffer.length, span.length - done);
          const view = this.#readBuffer.subarray(0, n);
          const one = { fileIndex: span.fileIndex, fileOffset: span.fileOffset + done, length: n };
          this.#readSpans(id, storage, [one], view, index);
          hash.update(view);
          done += n;
        }
      }
    } catch {
      return ZERO_DIGEST; // DiskIo contract: a piece that cannot be read in full hashes to zeros
    }
    return hash.digest();
  }

  #stat(job: StatJob): OkReply {
    const storage = this.#storage(job.storage, "stat");
    const files: (FileStat | null)[] = storage.spec.files.map((file) => {
      const path = resolveSafePath(storage.spec.root, file.path, false);
      if (path === undefined) return null;
      const stat = fsCall("stat", path, () => fs.lstatSync(path));
      return stat.isFile() ? { length: stat.size, mtimeMs: stat.mtimeMs } : null;
    });
    return { id: job.id, ok: true, type: "stat", files };
  }

  #close(job: CloseJob): OkReply {
    const storage = this.#storages.get(job.storage);
    if (storage === undefined) return { id: job.id, ok: true, type: "close" };
    try {
      for (const fileIndex of storage.dirty) {
        const path = this.#path(storage, fileIndex);
        const { fd } = this.#handle(job.storage, storage, fileIndex, true);
        fsCall("flush", path, () => fs.fdatasyncSync(fd));
      }
    } finally {
      for (const [key, handle] of this.#handles) {
        if (key.startsWith(`${job.storage}:`)) {
          closeHandle(handle);
          this.#handles.delete(key);
        }
      }
      this.#storages.delete(job.storage);
    }
    return { id: job.id, ok: true, type: "close" };
  }

  #readSpans(
    id: StorageId,
    storage: OpenStorage,
    spans: readonly { fileIndex: number; fileOffset: number; length: number }[],
    into: Uint8Array,
    index: number,
  ): void {
    let at = 0;
    for (const span of spans) {
      const path = this.#path(storage, span.fileIndex);
      const { fd } = this.#handle(id, storage, span.fileIndex, false);
      const got = fsCall("read", path, () => readFully(fd, into, at, span.length, span.fileOffset));
      if (got < span.length) {
        throw new StorageError(`Cannot read piece ${index}: file is too short: "${path}"`, {
          op: "read",
          path,
        });
      }
      at += span.length;
    }
  }

  #storage(id: StorageId, op: string): OpenStorage {
    const storage = this.#storages.get(id);
    if (storage === undefined) {
      throw new StorageError(`Cannot ${op}: storage ${id} is not open`, { op });
    }
    return storage;
  }

  #path(storage: OpenStorage, fileIndex: number): string {
    return join(storage.spec.root, ...storage.spec.files[fileIndex]!.path);
  }

  /** The O_DIRECT descriptor beside a writable handle (opened once, may be refused). */
  #directHandle(handle: Handle, path: string): number | undefined {
    if (!this.#direct.enabled) return undefined;
    if (handle.direct === undefined) {
      handle.direct = fsCall("write", path, () => this.#direct.openDirect(path)) ?? null;
    }
    return handle.direct ?? undefined;
  }

  /** A cached or newly opened handle; opening for write creates the file and its parents. */
  #handle(id: StorageId, storage: OpenStorage, fileIndex: number, writable: boolean): Handle {
    const key = `${id}:${fileIndex}`;
    const cached = this.#handles.get(key);
    this.#handles.delete(key);
    if (cached !== undefined && (cached.writable || !writable)) {
      this.#handles.set(key, cached); // most recently used goes last
      return cached;
    }
    if (cached !== undefined) closeHandle(cached); // reopen read-write
    const file = storage.spec.files[fileIndex]!;
    const op = writable ? "write" : "read";
    const path = resolveSafePath(storage.spec.root, file.path, writable);
    if (path === undefined) {
      const missing = this.#path(storage, fileIndex);
      throw new StorageError(`Cannot read file: it does not exist: "${missing}"`, {
        op,
        path: missing,
      });
    }
    const flags = writable ? O_RDWR | O_CREAT | O_NOFOLLOW : O_RDONLY | O_NOFOLLOW;
    const fd = fsCall(op, path, () => fs.openSync(path, flags, 0o644));
    const handle: Handle = { fd, writable, unflushed: 0, flushing: undefined };
    this.#handles.set(key, handle);
    while (this.#handles.size > this.#maxOpenFiles) {
      const [oldKey, oldest] = this.#handles.entries().next().value!;
      closeHandle(oldest);
      this.#handles.delete(oldKey);
    }
    return handle;
  }
}

function closeHandle(handle: Handle): void {
  closeQuietly(handle.fd);
  if (typeof handle.direct === "number") closeQuietly(handle.direct);
}

/** Reads until `length` bytes or end of file; returns the count read. */
function readFully(fd: number, into: Uint8Array, at: number, length: number, pos: number): number {
  let done = 0;
  while (done < length) {
    const n = fs.readSync(fd, into, at + done, length - done, pos + done);
    if (n <= 0) break;
    done += n;
  }
  return done;
}

function closeQuietly(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    // closing can only fail for an already-closed fd; nothing is lost
  }
}

/**
 * Converts a thrown value into the wire form of a job failure.
 * @param e what was thrown
 * @param op the job type, used when `e` carries no operation
 * @returns a structured-clone-safe error description
 */
export function toJobError(e: unknown, op: string): JobError {
  if (e instanceof StorageError) {
    return e.path === undefined
      ? { message: e.message, op: e.op }
      : { message: e.message, op: e.op, path: e.path };
  }
  return { message: errorMessage(e), op };
}
