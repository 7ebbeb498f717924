/**
 * {@linkcode DiskIo} on a pool of Web Workers: SHA-1 and file I/O never run on the
 * main isolate (DESIGN principle 3).
 *
 * - Piece buffers cross as transferred `ArrayBuffer`s (0.3 ms for 64 MiB, against
 *   44–64 ms for a structured clone) and come back in the reply for reuse
 *   ({@linkcode WorkerPoolDiskIo.allocatePieceBuffer}).
 * - Every write to a file goes to the same worker (routed by the first file a piece
 *   touches), so each file has one writer; only the tail of a piece that crosses
 *   into the next file is written by that file's neighbour. Hash jobs go to the
 *   least-loaded worker.
 * - Jobs queued for one worker in the same tick travel in one `postMessage`.
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
import type {
  Job,
  JobType,
  OkReply,
  Reply,
  WorkerMessage,
  WorkerStorageSpec,
} from "../storage/worker_protocol.ts";
import { BufferRecycler, ownedBuffer } from "./buffer_recycler.ts";
import type { DiskIo, FileStat, StorageId, StorageSpec } from "../storage/disk_io.ts";

/** Default backpressure mark: 64 MiB of unfinished job bytes. */
export const DEFAULT_HIGH_WATER_BYTES = 64 * 1024 * 1024;
/** A worker that crashes this many times without answering a batch is not replaced. */
export const MAX_CONSECUTIVE_CRASHES = 3;
/** Default bytes of finished write buffers kept for {@linkcode WorkerPoolDiskIo.allocatePieceBuffer}. */
export const DEFAULT_RECYCLED_BYTES = 32 * 1024 * 1024;

/** Options for {@linkcode WorkerPoolDiskIo.create}. */
export interface WorkerPoolOptions {
  /** Worker count (default `navigator.hardwareConcurrency`, at least 1). */
  readonly workers?: number;
  /** Backpressure mark in bytes (default 64 MiB; the engine's `diskQueueBytes`). */
  readonly highWaterBytes?: number;
  /** Finished piece buffers kept for reuse, bytes (default 32 MiB; `recycledBufferBytes`). */
  readonly recycledBytes?: number;
  /** Worker module (default `workers/piece_worker.ts`); for tests and embedders. */
  readonly workerUrl?: URL | string;
}

interface Pending {
  readonly op: JobType;
  readonly bytes: number;
  readonly slot: Slot;
  /** Settles (never rejects) when the job does. */
  readonly done: Promise<void>;
  readonly resolve: (reply: OkReply) => void;
  readonly reject: (error: StorageError) => void;
}

interface Slot {
  worker: Worker | undefined;
  outbox: Job[];
  transfer: Transferable[];
  /** Ids posted to the current worker and not answered. */
  posted: Set<number>;
  bytes: number;
  flushScheduled: boolean;
  crashes: number;
}

interface OpenStorage {
  readonly spec: WorkerStorageSpec;
  readonly layout: StorageLayout;
  readonly pieceHashes: Uint8Array;
}

/** The worker-pool {@linkcode DiskIo}. Create with {@linkcode WorkerPoolDiskIo.create}. */
export class WorkerPoolDiskIo implements DiskIo {
  /** Whole writePiece operations in progress (two hops when hashing is split off). */
  readonly #writes = new Set<Promise<void>>();
  readonly #slots: Slot[] = [];
  readonly #pending = new Map<number, Pending>();
  readonly #storages = new Map<StorageId, OpenStorage>();
  readonly #waiters: (() => void)[] = [];
  readonly #recycled: BufferRecycler;
  readonly #highWaterBytes: number;
  readonly #workerUrl: URL | string;
  #queuedBytes = 0;
  #nextJobId = 1;
  #nextStorageId = 1;
  #nextSlot = 0;
  #isShutDown = false;
  #shutdown: Promise<void> | undefined;

  private constructor(workerUrl: URL | string, highWaterBytes: number, recycledBytes: number) {
    this.#workerUrl = workerUrl;
    this.#highWaterBytes = highWaterBytes;
    this.#recycled = new BufferRecycler(recycledBytes);
  }

  /**
   * Starts the workers and waits until each has loaded.
   * @param options worker count, backpressure mark, worker module
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
    const url = options.workerUrl ?? new URL("../../workers/piece_worker.ts", import.meta.url);
    const pool = new WorkerPoolDiskIo(
      url,
      highWaterBytes,
      options.recycledBytes ?? DEFAULT_RECYCLED_BYTES,
    );
    const ready: Promise<void>[] = [];
    for (let i = 0; i < workers; i++) {
      const slot: Slot = {
        worker: undefined,
        outbox: [],
        transfer: [],
        posted: new Set(),
        bytes: 0,
        flushScheduled: false,
        crashes: 0,
      };
      pool.#slots.push(slot);
      ready.push(pool.#spawn(slot, true));
    }
    try {
      await Promise.all(ready);
    } catch (e) {
      for (const slot of pool.#slots) slot.worker?.terminate();
      throw new StorageError(`Cannot start the worker pool: ${(e as Error).message}`, {
        op: "start",
        cause: e,
      });
    }
    return pool;
  }

  /** Number of workers. */
  get parallelism(): number {
    return this.#slots.length;
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
      await this.#broadcast((jobId) => ({
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
   * on part of a larger buffer, it is copied once into a fresh buffer instead.
   */
  writePiece(id: StorageId, index: number, data: Uint8Array): Promise<boolean> {
    const op = this.#writePiece(id, index, data);
    const tracked = op.then(() => {}, () => {});
    this.#writes.add(tracked);
    tracked.then(() => this.#writes.delete(tracked));
    return op;
  }

  async #writePiece(id: StorageId, index: number, data: Uint8Array): Promise<boolean> {
    const storage = this.#storage(id, "write");
    if (storage.pieceHashes.length === 0) {
      throw new StorageError(`Cannot write piece ${index}: storage ${id} has no piece hashes`, {
        op: "write",
      });
    }
    const writer = this.#slotForPiece(id, storage, index);
    const expected = storage.pieceHashes.slice(20 * index, 20 * index + 20);
    let buffer = ownedBuffer(data);
    // Split hashing from writing when there is more than one worker: the least-loaded
    // worker hashes, then the file's single writer only writes. A one-file torrent
    // would otherwise hash and write on one core.
    const hasher = this.#leastLoaded();
    const split = hasher !== writer;
    if (split) {
      const check = await this.#submit(
        hasher,
        {
          id: this.#nextJobId++,
          type: "write",
          storage: id,
          index,
          data: buffer,
          expected,
          hashOnly: true,
        },
        [buffer],
        buffer.byteLength,
      );
      if (check.type !== "write") throw unexpected(check);
      buffer = check.data;
      if (!check.verified) {
        this.#recycled.give(buffer);
        return false;
      }
    }
    const job: Job = {
      id: this.#nextJobId++,
      type: "write",
      storage: id,
      index,
      data: buffer,
      expected,
      ...(split ? { skipHash: true } : {}),
    };
    const reply = await this.#submit(writer, job, [buffer], buffer.byteLength);
    if (reply.type !== "write") throw unexpected(reply);
    this.#recycled.give(reply.data);
    return reply.verified;
  }

  /** {@inheritDoc DiskIo.read} */
  async read(id: StorageId, index: number, begin: number, length: number): Promise<Uint8Array> {
    const storage = this.#storage(id, "read");
    const slot = this.#slotForPiece(id, storage, index);
    const job: Job = { id: this.#nextJobId++, type: "read", storage: id, index, begin, length };
    const reply = await this.#submit(slot, job, [], length);
    if (reply.type !== "read") throw unexpected(reply);
    return new Uint8Array(reply.data);
  }

  /** {@inheritDoc DiskIo.hashPieces} */
  async hashPieces(id: StorageId, first: number, count: number): Promise<Uint8Array> {
    const { layout } = this.#storage(id, "hash");
    const start = first * layout.pieceLength;
    const bytes = Math.max(
      0,
      Math.min(layout.totalLength, start + count * layout.pieceLength) - start,
    );
    const job: Job = { id: this.#nextJobId++, type: "hash", storage: id, first, count };
    const reply = await this.#submit(this.#leastLoaded(), job, [], bytes);
    if (reply.type !== "hash") throw unexpected(reply);
    return new Uint8Array(reply.digests);
  }

  /** {@inheritDoc DiskIo.statFiles} */
  async statFiles(id: StorageId): Promise<(FileStat | undefined)[]> {
    this.#storage(id, "stat");
    const job: Job = { id: this.#nextJobId++, type: "stat", storage: id };
    const reply = await this.#submit(this.#leastLoaded(), job, [], 0);
    if (reply.type !== "stat") throw unexpected(reply);
    return reply.files.map((f) => f ?? undefined);
  }

  /** {@inheritDoc DiskIo.close} */
  async close(id: StorageId): Promise<void> {
    this.#storage(id, "close");
    await this.#closeStorage(id);
  }

  async #closeStorage(id: StorageId): Promise<void> {
    // A split write's second hop must reach the writer before the storage closes.
    await Promise.allSettled([...this.#writes]);
    try {
      await this.#broadcast((jobId) => ({ id: jobId, type: "close", storage: id }));
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
    const results = await Promise.allSettled([...closing, ...this.#inFlight()]);
    for (const slot of this.#slots) {
      slot.worker?.terminate();
      slot.worker = undefined;
    }
    this.#wake(true);
    const failed = results.find((r) => r.status === "rejected");
    if (failed) throw (failed as PromiseRejectedResult).reason;
  }

  /** {@inheritDoc DiskIo.queuedBytes} */
  queuedBytes(): number {
    return this.#queuedBytes;
  }

  /** {@inheritDoc DiskIo.waitForCapacity} */
  waitForCapacity(): Promise<void> {
    if (this.#queuedBytes < this.#highWaterBytes || this.#isShutDown) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** {@inheritDoc DiskIo.allocatePieceBuffer} */
  allocatePieceBuffer(length: number): Uint8Array {
    return this.#recycled.take(length);
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

  #slotForPiece(id: StorageId, storage: OpenStorage, index: number): Slot {
    const { layout } = storage;
    if (!Number.isInteger(index) || index < 0 || index >= layout.pieceCount) {
      throw new RangeError(`Piece ${index} is outside 0..${layout.pieceCount - 1}`);
    }
    const file = layout.fileAt(index * layout.pieceLength);
    return this.#slots[(id + file) % this.#slots.length]!;
  }

  #leastLoaded(): Slot {
    this.#nextSlot = (this.#nextSlot + 1) % this.#slots.length;
    let best = this.#slots[this.#nextSlot]!;
    for (const slot of this.#slots) {
      if (slot.worker && (best.worker === undefined || slot.bytes < best.bytes)) best = slot;
    }
    return best;
  }

  #submit(slot: Slot, job: Job, transfer: Transferable[], bytes: number): Promise<OkReply> {
    if (slot.worker === undefined) {
      return Promise.reject(
        new StorageError(`Cannot ${job.type}: its worker stopped after repeated crashes`, {
          op: job.type,
        }),
      );
    }
    const { promise, resolve, reject } = Promise.withResolvers<OkReply>();
    const done = promise.then(() => {}, () => {});
    this.#pending.set(job.id, { op: job.type, bytes, slot, done, resolve, reject });
    this.#queuedBytes += bytes;
    slot.bytes += bytes;
    slot.outbox.push(job);
    slot.transfer.push(...transfer);
    if (!slot.flushScheduled) {
      slot.flushScheduled = true;
      queueMicrotask(() => this.#flush(slot));
    }
    return promise;
  }

  async #broadcast(make: (jobId: number) => Job): Promise<void> {
    const results = await Promise.allSettled(
      this.#slots.map((slot) => this.#submit(slot, make(this.#nextJobId++), [], 0)),
    );
    const failed = results.find((r) => r.status === "rejected");
    if (failed) throw (failed as PromiseRejectedResult).reason;
  }

  #flush(slot: Slot): void {
    slot.flushScheduled = false;
    if (slot.outbox.length === 0 || slot.worker === undefined) return;
    const jobs = slot.outbox;
    const transfer = slot.transfer;
    slot.outbox = [];
    slot.transfer = [];
    for (const job of jobs) slot.posted.add(job.id);
    slot.worker.postMessage({ jobs }, transfer);
  }

  #spawn(slot: Slot, isInitial: boolean): Promise<void> {
    const worker = new Worker(this.#workerUrl, { type: "module" });
    slot.worker = worker;
    return new Promise((resolve, reject) => {
      let isReady = false;
      worker.onmessage = (event: MessageEvent<WorkerMessage>) => {
        if ("ready" in event.data) {
          isReady = true;
          resolve();
        } else this.#onReplies(slot, event.data.replies);
      };
      const fail = (event: Event, message: string) => {
        event.preventDefault(); // handled here: never let a worker error reach the main isolate
        if (!isReady) reject(new Error(message));
        // create() gives up on a worker that never started; later ones are replaced
        if (slot.worker === worker && !(isInitial && !isReady)) this.#onCrash(slot, message);
      };
      worker.onerror = (event) => fail(event, event.message);
      worker.onmessageerror = (event) => fail(event, "a message could not be deserialised");
    });
  }

  #onReplies(slot: Slot, replies: readonly Reply[]): void {
    slot.crashes = 0;
    for (const reply of replies) {
      slot.posted.delete(reply.id);
      const pending = this.#settle(reply.id);
      if (pending === undefined) continue; // a re-open after a crash: nobody waits for it
      if (reply.ok) pending.resolve(reply);
      else pending.reject(new StorageError(reply.error.message, reply.error));
    }
    this.#wake(false);
  }

  #onCrash(slot: Slot, message: string): void {
    slot.worker?.terminate();
    slot.worker = undefined;
    slot.crashes++;
    for (const id of slot.posted) {
      const pending = this.#settle(id);
      pending?.reject(
        new StorageError(`Cannot ${pending.op}: the worker crashed: ${message}`, {
          op: pending.op,
        }),
      );
    }
    slot.posted.clear();
    if (slot.crashes < MAX_CONSECUTIVE_CRASHES && !this.#isShutDown) {
      const reopen: Job[] = [...this.#storages].map(([storage, s]) => ({
        id: this.#nextJobId++,
        type: "open",
        storage,
        spec: s.spec,
      }));
      slot.outbox = [...reopen, ...slot.outbox];
      // Its ready signal is not awaited: messages wait in the new worker's queue.
      this.#spawn(slot, false).catch(() => {}); // a failed start is another crash, handled there
      this.#flush(slot);
    } else {
      for (const job of slot.outbox) {
        const pending = this.#settle(job.id);
        pending?.reject(
          new StorageError(`Cannot ${job.type}: the worker stopped`, { op: job.type }),
        );
      }
      slot.outbox = [];
      slot.transfer = [];
    }
    this.#wake(false);
  }

  #settle(id: number): Pending | undefined {
    const pending = this.#pending.get(id);
    if (pending === undefined) return undefined;
    this.#pending.delete(id);
    this.#queuedBytes -= pending.bytes;
    pending.slot.bytes -= pending.bytes;
    return pending;
  }

  #inFlight(): Promise<void>[] {
    return [...this.#pending.values()].map((p) => p.done);
  }

  #wake(all: boolean): void {
    if (!all && this.#queuedBytes >= this.#highWaterBytes) return;
    for (const resolve of this.#waiters.splice(0)) resolve();
  }
}

function unexpected(reply: OkReply): StorageError {
  return new StorageError(`Cannot use worker reply: unexpected type "${reply.type}"`, {
    op: reply.type,
  });
}
