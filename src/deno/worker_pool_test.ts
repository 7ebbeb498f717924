import { join } from "node:path";
import { assert, assertEquals, assertRejects } from "../../tests/assert.ts";
import { StorageError } from "../errors.ts";
import { CONFORMANCE_CASES, fixture } from "../storage/disk_io_conformance_test.ts";
import { hashStorage } from "../storage/verify.ts";
import { WorkerPoolDiskIo } from "./worker_pool.ts";
import { SeededRandom } from "../util/prng.ts";
import { sha1 } from "../util/sha1.ts";
import { concatBytes } from "../util/bytes.ts";

for (const c of CONFORMANCE_CASES) {
  Deno.test(`WorkerPoolDiskIo.${c.name}`, () =>
    c.run(async (options) => {
      const dir = await Deno.makeTempDir();
      const disk = await WorkerPoolDiskIo.create({ workers: 2, ...options });
      return {
        disk,
        root: join(dir, "dl"),
        cleanup: () => Deno.remove(dir, { recursive: true }),
      };
    }));
}

/** Runs `fn` with a pool (2 workers by default) and a temp dir; always shuts down and cleans up. */
async function withPool(
  fn: (pool: WorkerPoolDiskIo, dir: string) => Promise<void>,
  options: { workerUrl?: string; workers?: number } = {},
): Promise<void> {
  const dir = await Deno.makeTempDir();
  const pool = await WorkerPoolDiskIo.create({ workers: 2, ...options });
  try {
    await fn(pool, dir);
  } finally {
    await pool.shutdown().catch(() => {}); // a test may leave a storage unflushable on purpose
    await Deno.remove(dir, { recursive: true });
  }
}

/** Every regular file below `dir`, as paths relative to it. */
function filesBelow(dir: string, prefix = ""): string[] {
  const out: string[] = [];
  for (const entry of Deno.readDirSync(join(dir, prefix))) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory) out.push(...filesBelow(dir, rel));
    else out.push(rel);
  }
  return out.sort();
}

Deno.test("WorkerPoolDiskIo.writePiece() creates files only under the root", async () => {
  await withPool(async (pool, dir) => {
    const { spec, pieces } = fixture(join(dir, "dl"));
    const id = await pool.open(spec);
    for (const [i, p] of pieces.entries()) assertEquals(await pool.writePiece(id, i, p), true);
    await pool.close(id);
    assertEquals(filesBelow(dir), ["dl/a.bin", "dl/c.bin", "dl/d/b.bin", "dl/empty"]);
  });
});

Deno.test("WorkerPoolDiskIo.writePiece() refuses a symlinked directory pointing outside the root", async () => {
  await withPool(async (pool, dir) => {
    await Deno.mkdir(join(dir, "outside"));
    await Deno.mkdir(join(dir, "dl"));
    await Deno.symlink(join(dir, "outside"), join(dir, "dl", "d"));
    const { spec, pieces } = fixture(join(dir, "dl"));
    const id = await pool.open(spec);
    const error = await assertRejects(
      () => pool.writePiece(id, 1, pieces[1]!),
      StorageError,
      "symlink",
    );
    assert(error.path?.endsWith("b.bin"), `error names the file: ${error.path}`);
    assertEquals(filesBelow(join(dir, "outside")), []);
    assertEquals(await pool.hashPieces(id, 1, 1), new Uint8Array(20)); // never read through it
    await assertRejects(() => pool.statFiles(id), StorageError, "symlink");
  });
});

Deno.test("WorkerPoolDiskIo.writePiece() refuses a file that is a symlink", async () => {
  await withPool(async (pool, dir) => {
    const target = join(dir, "victim");
    await Deno.writeTextFile(target, "keep me");
    await Deno.mkdir(join(dir, "dl"));
    await Deno.symlink(target, join(dir, "dl", "c.bin"));
    const { spec, pieces } = fixture(join(dir, "dl"));
    const id = await pool.open(spec);
    await assertRejects(() => pool.writePiece(id, 2, pieces[2]!), StorageError, "c.bin");
    assertEquals(await Deno.readTextFile(target), "keep me");
  });
});

Deno.test("WorkerPoolDiskIo.open() rejects unsafe path components", async () => {
  await withPool(async (pool, dir) => {
    const { spec } = fixture(join(dir, "dl"));
    for (const bad of [[".."], ["a", "..", "b"], ["a/b"], [""], ["x\\y"], ["nul\0"], []]) {
      const files = [{ path: bad, length: 20 }];
      await assertRejects(() => pool.open({ ...spec, files }), StorageError, "unsafe");
    }
  });
});

Deno.test("WorkerPoolDiskIo.writePiece() transfers the caller's buffer and copies views", async () => {
  await withPool(async (pool, dir) => {
    const { spec, pieces } = fixture(join(dir, "dl"));
    const id = await pool.open(spec);
    const whole = pieces[0]!.slice();
    assertEquals(await pool.writePiece(id, 0, whole), true);
    assertEquals(whole.buffer.byteLength, 0); // detached: transferred, not cloned
    const big = new Uint8Array(100);
    big.set(pieces[1]!, 10);
    const view = big.subarray(10, 18);
    assertEquals(await pool.writePiece(id, 1, view), true);
    assertEquals(big.buffer.byteLength, 100); // a partial view is copied once instead
    assertEquals(pool.allocatePieceBuffer(8).length, 8); // recycled from the writes
  });
});

Deno.test("WorkerPoolDiskIo rejects the jobs of a crashed worker, replaces it, and batches per tick", async () => {
  const real = new URL("../../workers/piece_worker.ts", import.meta.url).href;
  const source = `self.addEventListener("message", (e) => {
      if (e.data.jobs?.some((j) => j.type === "read" && j.length === 3)) {
        e.stopImmediatePropagation();
        throw new Error("boom");
      }
    });
    await import(${JSON.stringify(real)});`;
  const workerUrl = `data:application/javascript,${encodeURIComponent(source)}`;
  await withPool(async (pool, dir) => {
    const { spec, pieces } = fixture(join(dir, "dl"));
    const id = await pool.open(spec);
    for (const [i, p] of pieces.entries()) {
      assertEquals(await pool.writePiece(id, i, p.slice()), true);
    }
    // Three reads in one tick travel in one message, so the crash takes all three.
    const reads = [1, 2, 3].map((n) => pool.read(id, 0, 0, n));
    for (const read of reads) {
      const error = await assertRejects(() => read, StorageError, "crashed");
      assertEquals(error.op, "read");
    }
    // The replacement worker re-opened the storage: every worker answers again.
    assertEquals(
      await hashStorage(pool, id, 3, { pieceLength: 8, batchBytes: 8 }),
      spec.pieceHashes,
    );
    for (let i = 0; i < 3; i++) {
      assertEquals(await pool.read(id, i, 0, 2), pieces[i]!.subarray(0, 2));
    }
    assertEquals(pool.queuedBytes(), 0);
  }, { workerUrl, workers: 1 }); // one worker: the three reads share its batch
});

Deno.test("WorkerPoolDiskIo.create() rejects with StorageError when workers cannot start", async () => {
  const workerUrl = `data:application/javascript,${encodeURIComponent("throw new Error('no');")}`;
  await assertRejects(() => WorkerPoolDiskIo.create({ workers: 1, workerUrl }), StorageError);
});

Deno.test("WorkerPoolDiskIo.writePiece() on several workers never fails creating shared parent directories", async () => {
  // Regression: each worker made a missing parent with lstat then a plain mkdir, so two
  // workers creating the same directory raced and the loser's write failed with EEXIST.
  // Files share fresh nested directories and every piece straddles two files, so the
  // writes of one tick reach several workers that all create the same parents at once.
  const fileLength = 12, pieceLength = 16, fileCount = 24;
  const content = new SeededRandom(7).bytes(fileLength * fileCount);
  const pieces: Uint8Array[] = [];
  for (let at = 0; at < content.length; at += pieceLength) {
    pieces.push(content.slice(at, at + pieceLength));
  }
  const files = Array.from({ length: fileCount }, (_, i) => ({
    path: ["top", "mid", `d${i % 3}`, "deep", `f${i}.bin`],
    length: fileLength,
  }));
  const dir = await Deno.makeTempDir();
  const pool = await WorkerPoolDiskIo.create({ workers: 4 });
  try {
    for (let round = 0; round < 25; round++) {
      const root = join(dir, `dl${round}`);
      const id = await pool.open({
        root,
        files,
        pieceLength,
        totalLength: content.length,
        pieceHashes: concatBytes(pieces.map(sha1)),
      });
      const results = await Promise.allSettled(
        pieces.map((p, i) => pool.writePiece(id, i, p.slice())),
      );
      const failed = results.flatMap((r) => r.status === "rejected" ? [String(r.reason)] : []);
      assertEquals(failed, [], `round ${round}`);
      assertEquals(results.map((r) => r.status === "fulfilled" && r.value), pieces.map(() => true));
      assertEquals(await pool.read(id, 5, 0, pieceLength), pieces[5]);
      await pool.close(id);
    }
  } finally {
    await pool.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("WorkerPoolDiskIo.read() fills a buffer given back with recycleBuffer()", async () => {
  await withPool(async (pool, dir) => {
    const { spec, pieces } = fixture(join(dir, "dl"));
    const id = await pool.open(spec);
    for (const [i, p] of pieces.entries()) {
      assertEquals(await pool.writePiece(id, i, p.slice()), true);
    }
    const first = await pool.read(id, 0, 0, 8);
    assertEquals(first, pieces[0]);
    pool.recycleBuffer(first);
    const second = await pool.read(id, 1, 0, 8);
    assertEquals(second, pieces[1]);
    assertEquals(first.buffer.byteLength, 0); // it went to the worker and came back as `second`
    pool.recycleBuffer(second.subarray(0, 4)); // a partial view is ignored
    assertEquals((await pool.read(id, 0, 0, 8)).buffer.byteLength, 8);
  });
});

Deno.test("WorkerPoolDiskIo moves page-aligned piece buffers whole: written, read into and reused", async () => {
  await withPool(async (pool, dir) => {
    const pieceLength = 1 << 20;
    const random = new SeededRandom(7);
    const pieces = [0, 1].map(() => random.bytes(pieceLength));
    const id = await pool.open({
      root: join(dir, "dl"),
      files: [{ path: ["f.bin"], length: 2 * pieceLength }],
      pieceLength,
      totalLength: 2 * pieceLength,
      pieceHashes: concatBytes(pieces.map((p) => sha1(p))),
    });
    const buffer = pool.allocatePieceBuffer(pieceLength);
    assert(buffer.buffer.byteLength > pieceLength); // a view inside a longer buffer
    const { byteOffset } = buffer;
    buffer.set(pieces[0]!);
    assertEquals(await pool.writePiece(id, 0, buffer), true);
    assertEquals(buffer.buffer.byteLength, 0); // transferred whole, not copied
    const reused = pool.allocatePieceBuffer(pieceLength);
    assertEquals(reused.byteOffset, byteOffset); // the same place in the same memory
    reused.set(pieces[1]!);
    assertEquals(await pool.writePiece(id, 1, reused), true);
    const read = await pool.read(id, 0, 0, pieceLength); // into the recycled aligned buffer
    assertEquals([read.byteOffset, read.buffer.byteLength > pieceLength], [byteOffset, true]);
    assertEquals(read, pieces[0]);
    pool.recycleBuffer(read);
    assertEquals(await pool.read(id, 1, 0, pieceLength), pieces[1]);
    assertEquals(read.buffer.byteLength, 0); // it was read into again
    assertEquals(await Deno.readFile(join(dir, "dl", "f.bin")), concatBytes(pieces));
  });
});
