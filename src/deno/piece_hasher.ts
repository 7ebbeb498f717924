/**
 * Hashes every piece of some content for `create`, on hash workers and, when asked, on the
 * calling isolate too, all sharing one piece counter in shared memory (`hash_loop.ts`).
 *
 * Why not the worker pool (`worker_pool.ts`): for `create` the fixed cost dominates. Each
 * pool worker loads `node:fs` and the storage code before it answers; the pool waits for
 * every worker, then opens the storage on each, then sends 4 MiB hash jobs. Here a worker
 * is spawned with the job already posted, reads its own pieces and hashes from the moment it
 * has loaded, and the calling isolate (the CLI, with no peers to serve) hashes meanwhile.
 * Workers are spawned only for content big enough to repay their start-up (each `new Worker`
 * blocks the caller ~13 ms here, and loading `node:crypto` takes the worker ~20 ms more), so
 * the main isolate hashes files under 64 MiB alone.
 *
 * A worker that crashes or fails to load costs nothing but speed: the pieces it claimed and
 * did not finish are hashed on the calling isolate at the end.
 *
 * Layer: platform.
 * @module
 */
import { createHash } from "node:crypto";
import {
  hashClaimedPieces,
  hashOnePiece,
  type HashWorkerReply,
  newSharedHashJob,
  PIECES_DONE,
  type SharedHashJob,
} from "./hash_loop.ts";

/**
 * Bytes of content per worker spawned, when the calling thread hashes too. A worker blocks the
 * caller ~13 ms to spawn and hashes ~20 ms later; measured here (9 alternating rounds, median
 * ms, main alone / main + 1 worker): 64 MiB 136 / 141, 96 MiB 163 / 156, 128 MiB 179 / 161.
 */
export const MIN_BYTES_PER_WORKER = 64 * 1024 * 1024;

/** What to hash. */
export interface HashContent {
  /** Directory the files live under. */
  readonly root: string;
  /** Files in torrent order: path components below `root` and length in bytes. */
  readonly files: readonly { readonly path: readonly string[]; readonly length: number }[];
  /** Nominal piece length in bytes. */
  readonly pieceLength: number;
}

/** Options for {@linkcode hashContent}. */
export interface HashContentOptions {
  /**
   * Hash on the calling isolate too. It is then blocked until every piece is claimed, so
   * only a caller with nothing else to do (the `create` command) should ask. Default false.
   */
  readonly useCallingThread?: boolean;
  /**
   * Workers to spawn (at least one when the calling thread does not hash). Default: one per
   * core, less one when the calling thread hashes, and at most one per
   * {@linkcode MIN_BYTES_PER_WORKER} of content.
   */
  readonly workers?: number;
  /** Worker module (default `workers/hash_worker.ts`); for tests. */
  readonly workerUrl?: URL | string;
  /** Called with the number of finished pieces (from the calling thread, when it hashes). */
  readonly onProgress?: (piecesDone: number, pieceCount: number) => void;
}

/** The spawned workers of one run. */
interface Helpers {
  readonly workers: Worker[];
  /** Workers that posted their reply or failed. */
  done: number;
  /** Called after each reply or failure. */
  onChange: () => void;
}

const sha1 = () => createHash("sha1");

/**
 * SHA-1 of every piece of `content`.
 * @param content root, files and piece length
 * @param options calling-thread use, worker count, progress
 * @returns 20 bytes per piece; 20 zero bytes for a piece that could not be read in full
 * @throws {RangeError} for a bad piece length or file length
 */
export async function hashContent(
  content: HashContent,
  options: HashContentOptions = {},
): Promise<Uint8Array> {
  const job = newSharedHashJob(content);
  const pieceCount = job.finished.byteLength;
  const control = new Int32Array(job.control);
  const helpers = spawnHelpers(job, workerCount(content, options), options);
  try {
    const progress = options.onProgress;
    const report = progress && (() => progress(Atomics.load(control, PIECES_DONE), pieceCount));
    if (options.useCallingThread || helpers.workers.length === 0) {
      hashClaimedPieces(job, sha1, report);
    }
    await settled(helpers, control, pieceCount, report);
    // Pieces claimed by a worker that crashed: hash them here.
    const finished = new Uint8Array(job.finished);
    for (let i = 0; i < pieceCount; i++) {
      if (Atomics.load(finished, i) === 0) hashOnePiece(job, i, sha1);
    }
  } finally {
    for (const worker of helpers.workers) worker.terminate();
  }
  return new Uint8Array(job.digests).slice();
}

/** How many workers to spawn for `content`: the option, else one per core and per 64 MiB. */
function workerCount(content: HashContent, options: HashContentOptions): number {
  const floor = options.useCallingThread ? 0 : 1;
  if (options.workers !== undefined) return Math.max(floor, options.workers);
  const cores = Math.max(1, navigator.hardwareConcurrency || 1);
  const totalLength = content.files.reduce((sum, f) => sum + f.length, 0);
  const worthIt = Math.floor(totalLength / MIN_BYTES_PER_WORKER);
  return Math.max(floor, Math.min(options.useCallingThread ? cores - 1 : cores, worthIt));
}

/** Spawns `count` workers with the job already posted (it waits in their queue). */
function spawnHelpers(
  job: SharedHashJob,
  count: number,
  options: HashContentOptions,
): Helpers {
  const url = options.workerUrl ?? new URL("../../workers/hash_worker.ts", import.meta.url);
  const helpers: Helpers = { workers: [], done: 0, onChange: () => {} };
  for (let i = 0; i < count; i++) {
    const worker = new Worker(url, { type: "module", name: `swarmd-hash-${i}` });
    let isDone = false;
    const end = (event?: Event) => {
      event?.preventDefault(); // handled here: the caller hashes the worker's unfinished pieces
      if (isDone) return;
      isDone = true;
      helpers.done++;
      helpers.onChange();
    };
    worker.onmessage = (_: MessageEvent<HashWorkerReply>) => end();
    worker.onerror = end;
    worker.onmessageerror = end;
    worker.postMessage(job);
    helpers.workers.push(worker);
  }
  return helpers;
}

/** How often progress is reported while the calling thread waits for workers. */
const PROGRESS_INTERVAL_MS = 100;

/**
 * Resolves once every piece is finished, or once every worker has replied or failed (then
 * the caller hashes what is left). A worker still loading when the last piece finishes is
 * not waited for. Reports progress every {@linkcode PROGRESS_INTERVAL_MS} meanwhile.
 */
async function settled(
  helpers: Helpers,
  control: Int32Array,
  pieceCount: number,
  report: (() => void) | undefined,
): Promise<void> {
  const isOver = () =>
    Atomics.load(control, PIECES_DONE) >= pieceCount || helpers.done === helpers.workers.length;
  if (isOver()) return;
  const { promise, resolve } = Promise.withResolvers<void>();
  helpers.onChange = () => {
    if (isOver()) resolve();
  };
  const timer = report ? setInterval(report, PROGRESS_INTERVAL_MS) : undefined;
  try {
    await promise;
  } finally {
    clearInterval(timer);
    report?.();
  }
}
