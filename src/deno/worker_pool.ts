/**
 * {@linkcode DiskIo} on a pool of Web Workers: SHA-1 and file I/O never run on the
 * main isolate (DESIGN principle 3).
 *
 * - Piece buffers cross as transferred `ArrayBuffer`s (0.3 ms for 64 MiB, against
 *   44–64 ms for a structured clone) and come back in the reply for reuse
 *   ({@linkcode WorkerPoolDiskIo.allocatePieceBuffer}).
 * - A whole piece goes to the least-loaded worker, which hashes it and, on a match,
 *   writes it: one crossing each way. Verified pieces are written with O_DIRECT
 *   (`direct_writer.ts`), so any worker may write any file: two workers writing one file
 *   directly measured as fast as one. Against the earlier relay (hash on one worker,
 *   relay the buffer through the main isolate to the file's single writer) this saves the
 *   main isolate 40 % and the process 16 % of their CPU per GiB; a MessageChannel from
 *   hasher to writer measured the same as one worker per piece
 *   (`scripts/bench_disk_path.ts dispatch`, ARCHITECTURE.md step 7).
 *   Reads and hash jobs go to the least-loaded worker too.
 * - Jobs queued for one worker in the same tick travel in one `postMessage`
 *   (`worker_slots.ts`).
 * - Backpressure: {@linkcode WorkerPoolDiskIo.queuedBytes} counts unfinished job
 *   bytes; {@linkcode WorkerPoolDiskIo.waitForCapacity} resolves under the mark.
 * - A crashed worker's jobs reject with `StorageError`; the worker is replaced and
 *   its storages re-opened (at most {@linkcode MAX_CONSECUTIVE_CRASHES} in a row).
 *
 * Layer: platform.
 * @module
 */
import { StorageError } from "../errors.ts";
import { StorageLayout } from "../storage/layout.ts";
import type { Job, OkReply, WorkerStorageSpec } from "../storage/worker_protocol.ts";
import { BufferRecycler, ownedBuffer, wholeBuffer } from "./buffer_recycler.ts";
import type { DiskIo, FileStat, StorageId, StorageSpec } from "../storage/disk_io.ts";
import { DEFAULT_WRITE_BACK_BYTES } from "./write_back.ts";
import { MAX_CONSECUTIVE_CRASHES, WorkerSlots } from "./worker_slots.ts";

export { MAX_CONSECUTIVE_CRASHES };

/** Default backpressure mark: 16 MiB of unfinished job bytes (the engine's `diskQueueBytes`). */
export const DEFAULT_HIGH_WATER_BYTES = 16 * 1024 * 1024;
/** Default bytes of finished write buffers kept for {@linkcode WorkerPoolDiskIo.allocatePieceBuffer}. */
export const DEFAULT_RECYCLED_BYTES = 16 * 1024 * 1024;

/** Options for {@linkcode WorkerPoolDiskIo.create}. */
export interface WorkerPoolOptions {
  /** Worker count (default `navigator.hardwareConcurrency`, at least 1). */
  readonly workers?: number;
  /** Backpressure mark in bytes (default 16 MiB; the engine's `diskQueueBytes`). */
  readonly highWaterBytes?: number;
  /** Finished piece buffers kept for reuse, bytes (default 16 MiB; `recycledBufferBytes`). */
  readonly recycledBytes?: number;
  /** Worker module (default `workers/piece_worker.ts`); for tests and embedders. */
  readonly workerUrl?: URL | string;
  /**
   * Write verified pieces with O_DIRECT where the file system allows (default true, or
   * false when the environment variable `SWARMD_DIRECT_WRITES` is `0`, for comparisons).
   */
  readonly directWrites?: boolean;
  /**
   * Bytes written through the page cache to one file before its writeback is started
   * (default 32 MiB; 0 leaves it to the kernel). See `write_back.ts`.
   */
  readonly writeBackBytes?: number;
}

interface OpenStorage {
  readonly spec: WorkerStorageSpec;
  readonly layout: StorageLayout;
  readonly pieceHashes: Uint8Array;
}

/** The worker-pool {@linkcode DiskIo}. Create with {@linkcode WorkerPoolDiskIo.create}. */
export class WorkerPoolDiskIo implements DiskIo {
  readonly #storages = new Map<StorageId, OpenStorage>();
  readonly #waiters: (() => void)[] = [];
  readonly #recycled: BufferRecycler;
  readonly #highWaterBytes: number;
  #slots!: WorkerSlots;
  #nextStorageId = 1;
  #isShutDown = false;
  #shutdown: Promise<void> | undefined;

  private constructor(highWaterBytes: number, recycledBytes: number) {
    this.#highWaterBytes = highWaterBytes;
    this.#recycled = new BufferRecycler(recycledBytes);
  }

  /**
   * Starts the workers and waits until each has loaded.
   * @param options worker count, backpressure mark, worker module, write mode
   * @returns the pool
   * @throws {RangeError} for a bad option
   * @throws {StorageError} when a worker fails to start
   */
  static async create(options: WorkerPoolOptions = {}): Promise<WorkerPoolDiskIo> {
    const workers = options.workers ?? Math.max(1, navigator.hardwareConcurrency || 1);
    const highWaterBytes = options.highWaterBytes ?? DEFAULT_HIGH_WATER_BYTES;
    if (!Number.isInteger(workers) || workers < 1 || !(highWaterBytes > 0)) {
      throw new RangeError(`Cannot create a pool of ${workers} workers, mark ${highWaterBytes}`);
    }
    const pool = new WorkerPoolDiskIo(
      highWaterBytes,
      options.recycledBytes ?? DEFAULT_RECYCLED_BYTES,
    );
    pool.#slots = await WorkerSlots.start({
      url: options.workerUrl ?? new URL("../../workers/piece_worker.ts", import.meta.url),
      count: workers,
      config: {
        directWrites: options.directWrites ?? directWritesFromEnvironment(),
        writeBackBytes: options.writeBackBytes ?? DEFAULT_WRITE_BACK_BYTES,
      },
      reopen: (nextId) =>
        [...pool.#storages].map(([storage, s]) => ({
          id: nextId(),
          type: "open",
          storage,
          spec: s.spec,
        })),
      // Settlements before start() returns (a worker that died loading) have no waiters.
      onSettled: () => pool.#slots !== undefined && pool.#wake(false),
    });
    return pool;
  }

  /** Number of workers. */
  get parallelism(): number {
    return this.#slots.size;
  }

  /** {@inheritDoc DiskIo.open} */
  async open(spec: StorageSpec): Promise<StorageId> {
    this.#checkRunning("open");
    const layout = new StorageLayout(spec.files, spec.pieceLength);
    if (spec.pieceHashes.length !== 0 && spec.pieceHashes.length !== 20 * layout.pieceCount) {
      throw new RangeError(
        `Cannot open storage: ${spec.pieceHashes.length} hash bytes for ${layout.pieceCount} pieces`,
      );
    }
    const id = this.#nextStorageId++;
    const workerSpec: WorkerStorageSpec = {
      root: spec.root,
      files: spec.files.map((f) => ({ path: [...f.path], length: f.length })),
      pieceLength: spec.pieceLength,
    };
    this.#storages.set(id, { spec: workerSpec, layout, pieceHashes: spec.pieceHashes });
    try {
      await this.#slots.broadcast((jobId) => ({
        id: jobId,
        type: "open",
        storage: id,
        spec: workerSpec,
      }));
    } catch (e) {
      this.#storages.delete(id);
      throw e;
    }
    return id;
  }

  /**
   * {@inheritDoc DiskIo.writePiece}
   *
   * `data`'s buffer is transferred (detached for the caller). When `data` is a view
   * on part of a larger buffer, it is copied once into a fresh buffer instead, unless it
   * came from {@linkcode WorkerPoolDiskIo.allocatePieceBuffer} (a page-aligned view).
   */
  async writePiece(id: StorageId, index: number, data: Uint8Array): Promise<boolean> {
    const storage = this.#storage(id, "write");
    if (storage.pieceHashes.length === 0) {
      throw new StorageError(`Cannot write piece ${index}: storage ${id} has no piece hashes`, {
        op: "write",
      });
    }
    this.#checkPiece(storage, index);
    // A view of ours goes whole, with its offset; any other partial view is copied.
    const whole = wholeBuffer(data);
    const aligned = whole === undefined && this.#recycled.owns(data);
    const buffer = whole ?? (aligned ? data.buffer as ArrayBuffer : ownedBuffer(data));
    const offset = aligned ? data.byteOffset : 0, length = data.byteLength;
    const job: Job = {
      id: this.#slots.nextJobId(),
      type: "write",
      storage: id,
      index,
      data: buffer,
      ...(aligned ? { offset } : {}),
      expected: storage.pieceHashes.slice(20 * index, 20 * index + 20),
    };
    const reply = await this.#slots.submit(
      this.#slots.leastLoaded(),
      job,
      [buffer],
      buffer.byteLength,
    );
    if (reply.type !== "write") throw unexpected(reply);
    this.#recycled.give(this.#recycled.adopt(reply.data, offset, length));
    return reply.verified;
  }

  /** {@inheritDoc DiskIo.read} */
  async read(id: StorageId, index: number, begin: number, length: number): Promise<Uint8Array> {
    this.#checkPiece(this.#storage(id, "read"), index);
    const into = this.#recycled.reuse(length);
    const job: Job = {
      id: this.#slots.nextJobId(),
      type: "read",
      storage: id,
      index,
      begin,
      length,
      ...(into ? { into: into.buffer as ArrayBuffer, intoOffset: into.byteOffset } : {}),
    };
    const transfer = into ? [into.buffer as ArrayBuffer] : [];
    const reply = await this.#slots.submit(this.#slots.leastLoaded(), job, transfer, length);
    if (reply.type !== "read") throw unexpected(reply);
    return this.#recycled.adopt(reply.data, reply.offset ?? 0, length);
  }

  /** {@inheritDoc DiskIo.hashPieces} */
  async hashPieces(id: StorageId, first: number, count: number): Promise<Uint8Array> {
    const { layout } = this.#storage(id, "hash");
    const start = first * layout.pieceLength;
    const bytes = Math.max(
      0,
      Math.min(layout.totalLength, start + count * layout.pieceLength) - start,
    );
    const job: Job = { id: this.#slots.nextJobId(), type: "hash", storage: id, first, count };
    const reply = await this.#slots.submit(this.#slots.leastLoaded(), job, [], bytes);
    if (reply.type !== "hash") throw unexpected(reply);
    return new Uint8Array(reply.digests);
  }

  /** {@inheritDoc DiskIo.statFiles} */
  async statFiles(id: StorageId): Promise<(FileStat | undefined)[]> {
    this.#storage(id, "stat");
    const job: Job = { id: this.#slots.nextJobId(), type: "stat", storage: id };
    const reply = await this.#slots.submit(this.#slots.leastLoaded(), job, [], 0);
    if (reply.type !== "stat") throw unexpected(reply);
    return reply.files.map((f) => f ?? undefined);
  }

  /** {@inheritDoc DiskIo.close} */
  async close(id: StorageId): Promise<void> {
    this.#storage(id, "close");
    await this.#closeStorage(id);
  }

  async #closeStorage(id: StorageId): Promise<void> {
    try {
      await this.#slots.broadcast((jobId) => ({ id: jobId, type: "close", storage: id }));
    } finally {
      this.#storages.delete(id);
    }
  }

  /**
   * Waits for every job, flushes and closes every storage, then stops the workers.
   * Later calls reject with `StorageError`; calling it again returns the same promise.
   * @throws {StorageError} when flushing a storage fails (the workers stop anyway)
   */
  shutdown(): Promise<void> {
    if (this.#shutdown === undefined) {
      const closing = [...this.#storages.keys()].map((id) => this.#closeStorage(id));
      this.#isShutDown = true;
      this.#shutdown = this.#stop(closing);
    }
    return this.#shutdown;
  }

  async #stop(closing: Promise<void>[]): Promise<void> {
    const results = await Promise.allSettled([...closing, ...this.#slots.inFlight()]);
    this.#slots.terminate();
    this.#wake(true);
    const failed = results.find((r) => r.status === "rejected");
    if (failed) throw (failed as PromiseRejectedResult).reason;
  }

  /** {@inheritDoc DiskIo.queuedBytes} */
  queuedBytes(): number {
    return this.#slots.queuedBytes;
  }

  /** {@inheritDoc DiskIo.waitForCapacity} */
  waitForCapacity(): Promise<void> {
    if (this.#slots.queuedBytes < this.#highWaterBytes || this.#isShutDown) {
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** {@inheritDoc DiskIo.allocatePieceBuffer} */
  allocatePieceBuffer(length: number): Uint8Array {
    return this.#recycled.take(length);
  }

  /**
   * {@inheritDoc DiskIo.recycleBuffer}
   *
   * Reads of the same length then fill it: a piece read into a fresh 1 MiB buffer costs
   * 0.47 CPU-s per GiB here against 0.20 into a reused one (page faults). A view on part
   * of a buffer is ignored, unless it is one this pool made (a page-aligned piece).
   */
  recycleBuffer(data: Uint8Array): void {
    this.#recycled.give(data);
  }

  #storage(id: StorageId, op: string): OpenStorage {
    this.#checkRunning(op);
    const storage = this.#storages.get(id);
    if (storage === undefined) {
      throw new StorageError(`Cannot ${op}: storage ${id} is not open`, { op });
    }
    return storage;
  }

  #checkRunning(op: string): void {
    if (this.#isShutDown) {
      throw new StorageError(`Cannot ${op}: the worker pool is shut down`, { op });
    }
  }

  #checkPiece(storage: OpenStorage, index: number): void {
    const { pieceCount } = storage.layout;
    if (!Number.isInteger(index) || index < 0 || index >= pieceCount) {
      throw new RangeError(`Piece ${index} is outside 0..${pieceCount - 1}`);
    }
  }

  #wake(all: boolean): void {
    if (!all && this.#slots.queuedBytes >= this.#highWaterBytes) return;
    for (const resolve of this.#waiters.splice(0)) resolve();
  }
}

/** `SWARMD_DIRECT_WRITES=0` turns O_DIRECT off (for comparisons); anything else leaves it on. */
function directWritesFromEnvironment(): boolean {
  try {
    return Deno.env.get("SWARMD_DIRECT_WRITES") !== "0";
  } catch {
    return true; // no permission to read the environment: the default
  }
}

function unexpected(reply: OkReply): StorageError {
  return new StorageError(`Cannot use worker reply: unexpected type "${reply.type}"`, {
    op: reply.type,
  });
}
