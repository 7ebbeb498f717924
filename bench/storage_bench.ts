/**
 * Storage benchmarks: the worker pool's SHA-1 throughput (hashStorage over a
 * 256 MiB file, warm page cache) against single-threaded `node:crypto` over the
 * same bytes, and `StorageLayout.spans()` mapping.
 *
 * Run: `deno bench -A bench/storage_bench.ts`. MB/s = 268.4 / (ms per iteration).
 * @module
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import { join } from "node:path";
import { WorkerPoolDiskIo } from "../src/deno/worker_pool.ts";
import { StorageLayout } from "../src/storage/layout.ts";
import { hashStorage } from "../src/storage/verify.ts";

const TOTAL_BYTES = 256 * 1024 * 1024;
const PIECE_LENGTH = 256 * 1024;
const PIECE_COUNT = TOTAL_BYTES / PIECE_LENGTH;

const dir = await Deno.makeTempDir({ prefix: "storage_bench_" });
const path = join(dir, "data.bin");
{
  const chunk = new Uint8Array(4 * 1024 * 1024);
  for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 2654435761) >>> 24;
  using file = Deno.openSync(path, { write: true, create: true });
  for (let at = 0; at < TOTAL_BYTES; at += chunk.length) file.writeSync(chunk);
}
const pool = await WorkerPoolDiskIo.create();
const id = await pool.open({
  root: dir,
  files: [{ path: ["data.bin"], length: TOTAL_BYTES }],
  pieceLength: PIECE_LENGTH,
  totalLength: TOTAL_BYTES,
  pieceHashes: new Uint8Array(0),
});
globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));

/** Single-threaded: pread each piece into one reused buffer and hash it. */
function hashOnMainThread(): Uint8Array {
  const out = new Uint8Array(20 * PIECE_COUNT);
  const buffer = new Uint8Array(PIECE_LENGTH);
  const fd = fs.openSync(path, "r");
  try {
    for (let i = 0; i < PIECE_COUNT; i++) {
      fs.readSync(fd, buffer, 0, PIECE_LENGTH, i * PIECE_LENGTH);
      out.set(createHash("sha1").update(buffer).digest(), 20 * i);
    }
  } finally {
    fs.closeSync(fd);
  }
  return out;
}

Deno.bench({
  name: "sha1 256 MiB: node:crypto, main thread, 256 KiB pieces",
  group: "sha1-256MiB",
  baseline: true,
  n: 10,
  warmup: 2,
  fn: () => void hashOnMainThread(),
});

Deno.bench({
  name: `sha1 256 MiB: hashStorage on WorkerPoolDiskIo (${pool.parallelism} workers, 4 MiB jobs)`,
  group: "sha1-256MiB",
  n: 10,
  warmup: 2,
  fn: async () => void await hashStorage(pool, id, PIECE_COUNT, { pieceLength: PIECE_LENGTH }),
});

const layout = new StorageLayout(
  Array.from({ length: 5000 }, (_, i) => ({ length: 1000 + ((i * 7919) % 3_000_000) })),
  PIECE_LENGTH,
);

Deno.bench({
  name: `StorageLayout.spans() of all ${layout.pieceCount} pieces over 5000 files`,
  group: "layout",
  fn: () => {
    let n = 0;
    for (let i = 0; i < layout.pieceCount; i++) n += layout.spans(i).length;
    if (n < layout.pieceCount) throw new Error("unreachable");
  },
});

Deno.bench({
  name: "StorageLayout.spans() of one 16 KiB block",
  group: "layout",
  fn: () => void layout.spans(1234, 16384, 16384),
});
