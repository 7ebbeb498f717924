/**
 * The conformance suite every {@linkcode DiskIo} backend passes: MemoryDiskIo
 * registers it in `memory_disk_io_test.ts`, WorkerPoolDiskIo in
 * `src/runtime/deno_worker_pool_test.ts`. This file registers no test itself.
 * @module
 */
import { assert, assertEquals, assertRejects } from "../../tests/assert.ts";
import { StorageError } from "../errors.ts";
import type { DiskIo, StorageSpec } from "./disk_io.ts";
import { concatBytes } from "../util/bytes.ts";
import { SeededRandom } from "../util/prng.ts";
import { sha1 } from "../util/sha1.ts";
import { hashStorage, verifyStorage } from "./verify.ts";

/** A backend under test, its storage root and how to clean up after it. */
export interface Harness {
  readonly disk: DiskIo;
  readonly root: string;
  cleanup(): Promise<void>;
}

/** Makes a fresh backend. */
export type HarnessFactory = (options: { highWaterBytes?: number }) => Promise<Harness>;

/** One conformance case. */
export interface ConformanceCase {
  readonly name: string;
  run(make: HarnessFactory): Promise<void>;
}

/**
 * Files a5, (empty), d/b10, c5 with 8-byte pieces: piece 0 = a[0..5) + b[0..3),
 * piece 1 = b[3..10) + c[0..1), piece 2 = c[1..5) (short).
 */
export function fixture(root: string, seed = 1): { spec: StorageSpec; pieces: Uint8Array[] } {
  const content = new SeededRandom(seed).bytes(20);
  const pieces = [content.slice(0, 8), content.slice(8, 16), content.slice(16, 20)];
  const spec: StorageSpec = {
    root,
    files: [
      { path: ["a.bin"], length: 5 },
      { path: ["empty"], length: 0 },
      { path: ["d", "b.bin"], length: 10 },
      { path: ["c.bin"], length: 5 },
    ],
    pieceLength: 8,
    totalLength: 20,
    pieceHashes: concatBytes(pieces.map(sha1)),
  };
  return { spec, pieces };
}

async function withHarness(
  make: HarnessFactory,
  fn: (h: Harness) => Promise<void>,
  options: { highWaterBytes?: number } = {},
): Promise<void> {
  const h = await make(options);
  try {
    await fn(h);
  } finally {
    await h.disk.shutdown().catch(() => {}); // some cases shut down on purpose
    await h.cleanup();
  }
}

const ZERO = new Uint8Array(20);

/** The cases, named "<Backend>.method() does X" by the registering file. */
export const CONFORMANCE_CASES: readonly ConformanceCase[] = [
  {
    name: "writePiece() writes verified pieces and read() crosses file boundaries",
    run: (make) =>
      withHarness(make, async ({ disk, root }) => {
        const { spec, pieces } = fixture(root);
        const id = await disk.open(spec);
        for (const [i, p] of pieces.entries()) {
          assertEquals(await disk.writePiece(id, i, p.slice()), true);
        }
        assertEquals(await disk.read(id, 0, 0, 8), pieces[0]);
        assertEquals(await disk.read(id, 0, 3, 5), pieces[0]!.subarray(3, 8)); // a + b
        assertEquals(await disk.read(id, 1, 6, 2), pieces[1]!.subarray(6, 8)); // b + c
        assertEquals(await disk.read(id, 2, 0, 4), pieces[2]);
      }),
  },
  {
    name: "writePiece() answers false on a hash mismatch and writes nothing",
    run: (make) =>
      withHarness(make, async ({ disk, root }) => {
        const { spec, pieces } = fixture(root);
        const id = await disk.open(spec);
        const bad = pieces[1]!.slice();
        bad[0]! ^= 1;
        assertEquals(await disk.writePiece(id, 1, bad), false);
        await assertRejects(() => disk.read(id, 1, 0, 8), StorageError);
        assertEquals(await disk.statFiles(id), [undefined, undefined, undefined, undefined]);
      }),
  },
  {
    name: "writePiece() rejects a piece of the wrong length with StorageError",
    run: (make) =>
      withHarness(make, async ({ disk, root }) => {
        const id = await disk.open(fixture(root).spec);
        await assertRejects(() => disk.writePiece(id, 2, new Uint8Array(8)), StorageError);
      }),
  },
  {
    name: "read() of missing data rejects with StorageError",
    run: (make) =>
      withHarness(make, async ({ disk, root }) => {
        const { spec, pieces } = fixture(root);
        const id = await disk.open(spec);
        await assertRejects(() => disk.read(id, 0, 0, 8), StorageError);
        assertEquals(await disk.writePiece(id, 0, pieces[0]!.slice()), true);
        await assertRejects(() => disk.read(id, 1, 0, 8), StorageError); // b is short
      }),
  },
  {
    name: "hashPieces() gives zero hashes for pieces with missing files",
    run: (make) =>
      withHarness(make, async ({ disk, root }) => {
        const { spec, pieces } = fixture(root);
        const id = await disk.open(spec);
        assertEquals(await disk.hashPieces(id, 0, 3), new Uint8Array(60));
        assertEquals(await disk.writePiece(id, 2, pieces[2]!.slice()), true);
        const got = await disk.hashPieces(id, 0, 3);
        assertEquals(got, concatBytes([ZERO, ZERO, sha1(pieces[2]!)]));
        assertEquals(await disk.hashPieces(id, 2, 1), sha1(pieces[2]!));
      }),
  },
  {
    name: "statFiles() reports written files (empty ones too) with size and mtime",
    run: (make) =>
      withHarness(make, async ({ disk, root }) => {
        const { spec, pieces } = fixture(root);
        const id = await disk.open(spec);
        for (const [i, p] of pieces.entries()) await disk.writePiece(id, i, p.slice());
        const stats = await disk.statFiles(id);
        assertEquals(stats.map((s) => s?.length), [5, 0, 10, 5]); // empty files made on first write
        assert(stats.every((s) => s === undefined || Number.isFinite(s.mtimeMs)));
      }),
  },
  {
    name: "close() keeps the data for a later open() of the same root",
    run: (make) =>
      withHarness(make, async ({ disk, root }) => {
        const { spec, pieces } = fixture(root);
        const first = await disk.open(spec);
        for (const [i, p] of pieces.entries()) await disk.writePiece(first, i, p.slice());
        await disk.close(first);
        await assertRejects(() => disk.read(first, 0, 0, 8), StorageError);
        const again = await disk.open(spec);
        const have = await verifyStorage(disk, again, spec.pieceHashes, { pieceLength: 8 });
        assertEquals(have.count, 3);
        assertEquals(
          await hashStorage(disk, again, 3, { pieceLength: 8, batchBytes: 8 }),
          spec.pieceHashes,
        );
      }),
  },
  {
    name: "queuedBytes() grows with submitted jobs and waitForCapacity() resolves once drained",
    run: (make) =>
      withHarness(make, async ({ disk, root }) => {
        const { spec, pieces } = fixture(root);
        const id = await disk.open(spec);
        assertEquals(disk.queuedBytes(), 0);
        const writes = pieces.map((p, i) => disk.writePiece(id, i, p.slice()));
        const reads = [disk.read(id, 0, 0, 1).catch(() => undefined)];
        assertEquals(disk.queuedBytes(), 21);
        let drained = false;
        const capacity = disk.waitForCapacity().then(() => (drained = true));
        await Promise.resolve();
        assertEquals(drained, false);
        assertEquals(await Promise.all(writes), [true, true, true]);
        await Promise.all(reads);
        await capacity;
        assertEquals(disk.queuedBytes(), 0);
        await disk.waitForCapacity(); // under the mark: resolves at once
      }, { highWaterBytes: 16 }),
  },
  {
    name: "shutdown() waits for jobs in flight, then later calls reject with StorageError",
    run: (make) =>
      withHarness(make, async ({ disk, root }) => {
        const { spec, pieces } = fixture(root);
        const id = await disk.open(spec);
        const writes = pieces.map((p, i) => disk.writePiece(id, i, p.slice()));
        await disk.shutdown();
        assertEquals(await Promise.all(writes), [true, true, true]);
        await assertRejects(() => disk.read(id, 0, 0, 8), StorageError);
        await assertRejects(() => disk.open(spec), StorageError);
        await disk.shutdown(); // idempotent
      }),
  },
];
