/**
 * Piece worker entry point: receives its configuration, then job batches from the pool,
 * runs them with {@linkcode WorkerOps} (SHA-1 and positional file I/O) and posts one reply
 * batch per job batch, transferring piece buffers back.
 *
 * Layer: platform (worker entry; stays under 100 lines, logic lives in
 * `src/deno/worker_ops.ts`).
 * @module
 */
import { WorkerOps } from "../src/deno/worker_ops.ts";
import type { JobBatch, WorkerMessage } from "../src/storage/worker_protocol.ts";

/** The slice of the worker global scope this entry point uses. */
interface WorkerScope {
  onmessage: ((event: MessageEvent<JobBatch>) => void) | null;
  postMessage(message: WorkerMessage, transfer: Transferable[]): void;
}

const scope = self as unknown as WorkerScope;
/** Made from the pool's configuration, which comes first (defaults if a job comes first). */
let ops: WorkerOps | undefined;

scope.onmessage = (event) => {
  const message = event.data;
  if ("config" in message) {
    ops = new WorkerOps(message.config);
    return;
  }
  ops ??= new WorkerOps();
  const { replies, transfer } = ops.runBatch(message.jobs);
  scope.postMessage({ replies }, transfer);
};

scope.postMessage({ ready: true }, []);
