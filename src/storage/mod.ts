/**
 * Storage (BEP 3 piece ↔ file layout, SHA-1 piece verification): the layout that
 * maps pieces and blocks onto files, an in-memory {@linkcode DiskIo} for tests and
 * simulations, whole-storage hashing and verification, resume data and the
 * start-up check. The Deno worker pool lives in the roof, `src/deno/worker_pool.ts`.
 *
 * BEPs: 3 (pieces, multi-file layout, SHA-1 piece hashes).
 *
 * @example
 * ```ts
 * import { StorageLayout } from "./mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const layout = new StorageLayout([{ length: 3 }, { length: 5 }], 4);
 * assertEquals(layout.spans(0), [
 *   { fileIndex: 0, fileOffset: 0, length: 3 },
 *   { fileIndex: 1, fileOffset: 0, length: 1 },
 * ]);
 * ```
 * @module
 */
export { type FileSpan, type LayoutFile, type PieceRange, StorageLayout } from "./layout.ts";
export { MemoryDiskIo, type MemoryDiskIoOptions } from "./memory_disk_io.ts";
export {
  DEFAULT_HASH_BATCH_BYTES,
  type HashOptions,
  hashStorage,
  type VerifyOptions,
  verifyStorage,
} from "./verify.ts";
export {
  decodeResume,
  encodeResume,
  piecesToRecheck,
  type RecheckPlan,
  type ResumeData,
  type ResumeExpectation,
} from "./resume.ts";
export {
  captureResume,
  checkExistingData,
  type StartupCheckOptions,
  type StartupCheckResult,
} from "./startup_check.ts";
export type * from "./worker_protocol.ts";
export type { DiskIo, FileStat, StorageFile, StorageId, StorageSpec } from "./disk_io.ts";
export type { Bitfield } from "../util/bitfield.ts";
