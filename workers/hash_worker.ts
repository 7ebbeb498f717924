/**
 * Hash worker entry point for `create`: receives a {@linkcode SharedHashJob}, claims and
 * hashes pieces from it until none is left (reading the content files itself), then posts
 * how many it hashed. Digests travel through the job's shared memory, not in messages.
 *
 * Loads only `node:crypto` and the loop's small module graph (no `node:fs`), so it is
 * hashing about 20 ms after it is spawned.
 *
 * Layer: platform (worker entry; stays under 100 lines, logic lives in
 * `src/deno/hash_loop.ts`).
 * @module
 */
import { createHash } from "node:crypto";
import {
  hashClaimedPieces,
  type HashWorkerReply,
  type SharedHashJob,
} from "../src/deno/hash_loop.ts";

/** The slice of the worker global scope this entry point uses. */
interface WorkerScope {
  onmessage: ((event: MessageEvent<SharedHashJob>) => void) | null;
  postMessage(message: HashWorkerReply): void;
}

const scope = self as unknown as WorkerScope;
const sha1 = () => createHash("sha1");

scope.onmessage = (event) => {
  try {
    scope.postMessage({ hashed: hashClaimedPieces(event.data, sha1) });
  } catch (e) {
    scope.postMessage({ error: e instanceof Error ? e.message : String(e) });
  }
};
