/**
 * The worker side of the pool's bookkeeping: one slot per Web Worker, the jobs posted to
 * it and not answered, and the bytes they carry.
 *
 * - Jobs queued for one worker in the same tick travel in one `postMessage` (one wake-up
 *   of the worker, one reply batch).
 * - Every job's bytes count in {@linkcode WorkerSlots.queuedBytes} (the backpressure
 *   figure) and in its slot's `bytes` (the load figure) until its reply arrives.
 * - A crashed worker's posted jobs reject with `StorageError`; the worker is replaced,
 *   configured again and its storages re-opened (the `reopen` callback) before the jobs
 *   that were still waiting, at most {@linkcode MAX_CONSECUTIVE_CRASHES} times in a row.
 *
 * Layer: platform (part of the worker pool).
 * @module
 */
import { StorageError } from "../errors.ts";
import type {
  Job,
  JobType,
  OkReply,
  Reply,
  WorkerConfig,
  WorkerMessage,
} from "../storage/worker_protocol.ts";

/** A worker that crashes this many times without answering a batch is not replaced. */
export const MAX_CONSECUTIVE_CRASHES = 3;

/** One worker and its queue. */
export interface Slot {
  worker: Worker | undefined;
  outbox: Job[];
  transfer: Transferable[];
  /** Ids posted to the current worker and not answered. */
  readonly posted: Set<number>;
  /** Bytes of this slot's unfinished jobs. */
  bytes: number;
  flushScheduled: boolean;
  crashes: number;
}

/** What {@linkcode WorkerSlots.start} needs. */
export interface WorkerSlotsOptions {
  /** Worker module. */
  readonly url: URL | string;
  /** Worker count (at least 1). */
  readonly count: number;
  /** Sent to every worker before its first job. */
  readonly config: WorkerConfig;
  /** Jobs that bring a replacement worker up to date (re-open the storages). */
  readonly reopen: (nextId: () => number) => Job[];
  /** Called after replies or a crash settled jobs (backpressure waiters check here). */
  readonly onSettled: () => void;
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

/** The pool's workers, their queues and the unanswered jobs. */
export class WorkerSlots {
  readonly #options: WorkerSlotsOptions;
  readonly #slots: Slot[] = [];
  readonly #pending = new Map<number, Pending>();
  #queuedBytes = 0;
  #nextJobId = 1;
  #nextSlot = 0;
  #isStopped = false;

  private constructor(options: WorkerSlotsOptions) {
    this.#options = options;
  }

  /**
   * Starts the workers and waits until each has loaded.
   * @param options worker module, count, configuration, callbacks
   * @returns the slots
   * @throws {StorageError} when a worker fails to start
   */
  static async start(options: WorkerSlotsOptions): Promise<WorkerSlots> {
    const slots = new WorkerSlots(options);
    const ready: Promise<void>[] = [];
    for (let i = 0; i < options.count; i++) {
      const slot: Slot = {
        worker: undefined,
        outbox: [],
        transfer: [],
        posted: new Set(),
        bytes: 0,
        flushScheduled: false,
        crashes: 0,
      };
      slots.#slots.push(slot);
      ready.push(slots.#spawn(slot, true));
    }
    try {
      await Promise.all(ready);
    } catch (e) {
      slots.terminate();
      throw new StorageError(`Cannot start the worker pool: ${(e as Error).message}`, {
        op: "start",
        cause: e,
      });
    }
    return slots;
  }

  /** Number of workers. */
  get size(): number {
    return this.#slots.length;
  }

  /** Bytes of all unfinished jobs. */
  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  /** A fresh pool-wide job id. */
  nextJobId(): number {
    return this.#nextJobId++;
  }

  /** The running worker with the fewest queued bytes (ties rotate). */
  leastLoaded(): Slot {
    this.#nextSlot = (this.#nextSlot + 1) % this.#slots.length;
    let best = this.#slots[this.#nextSlot]!;
    for (const slot of this.#slots) {
      if (slot.worker && (best.worker === undefined || slot.bytes < best.bytes)) best = slot;
    }
    return best;
  }

  /**
   * Queues `job` for `slot`; it is posted with the rest of this tick's jobs.
   * @param slot the worker
   * @param job the job (its id from {@linkcode WorkerSlots.nextJobId})
   * @param transfer buffers to move with it
   * @param bytes what the job counts for backpressure and load
   * @returns its reply
   * @throws {StorageError} (rejects) when the job fails or its worker crashed or stopped
   */
  submit(slot: Slot, job: Job, transfer: Transferable[], bytes: number): Promise<OkReply> {
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

  /**
   * Sends one job to every worker and waits for all of them.
   * @param make builds the job for a given id
   * @throws {StorageError} the first failure, after every worker answered
   */
  async broadcast(make: (jobId: number) => Job): Promise<void> {
    const results = await Promise.allSettled(
      this.#slots.map((slot) => this.submit(slot, make(this.nextJobId()), [], 0)),
    );
    const failed = results.find((r) => r.status === "rejected");
    if (failed) throw (failed as PromiseRejectedResult).reason;
  }

  /** Promises that settle with each unfinished job. */
  inFlight(): Promise<void>[] {
    return [...this.#pending.values()].map((p) => p.done);
  }

  /** Stops every worker at once; later crashes are not replaced. */
  terminate(): void {
    this.#isStopped = true;
    for (const slot of this.#slots) {
      slot.worker?.terminate();
      slot.worker = undefined;
    }
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
    const worker = new Worker(this.#options.url, { type: "module" });
    slot.worker = worker;
    worker.postMessage({ config: this.#options.config });
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
        // start() gives up on a worker that never started; later ones are replaced
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
    this.#options.onSettled();
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
    if (slot.crashes < MAX_CONSECUTIVE_CRASHES && !this.#isStopped) {
      slot.outbox = [...this.#options.reopen(() => this.nextJobId()), ...slot.outbox];
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
    this.#options.onSettled();
  }

  #settle(id: number): Pending | undefined {
    const pending = this.#pending.get(id);
    if (pending === undefined) return undefined;
    this.#pending.delete(id);
    this.#queuedBytes -= pending.bytes;
    pending.slot.bytes -= pending.bytes;
    return pending;
  }
}
