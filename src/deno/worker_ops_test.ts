import { join } from "node:path";
import { assert, assertEquals, assertThrows } from "../../tests/assert.ts";
import { StorageError } from "../errors.ts";
import { fixture } from "../storage/disk_io_conformance_test.ts";
import type { Job, OkReply, Reply, WriteJob } from "../storage/worker_protocol.ts";
import { sha1 } from "../util/sha1.ts";
import { checkComponents, resolveSafePath } from "./safe_path.ts";
import { WorkerOps } from "./worker_ops.ts";

async function withDir(fn: (dir: string) => void | Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function ok(reply: Reply): OkReply {
  if (!reply.ok) throw new Error(`job failed: ${reply.error.message}`);
  return reply;
}

function openJob(ops: WorkerOps, root: string, files = fixture(root).spec.files): void {
  ok(ops.run({ id: 1, type: "open", storage: 1, spec: { root, files, pieceLength: 8 } }));
}

function writeJob(index: number, piece: Uint8Array, expected = sha1(piece)): Job {
  return { id: 2, type: "write", storage: 1, index, data: piece.slice().buffer, expected };
}

Deno.test("checkComponents() refuses unsafe path components", () => {
  const rows: [string[], boolean][] = [
    [["a", "b.txt"], true],
    [[".hidden"], true],
    [["..."], true],
    [[], false],
    [[""], false],
    [["."], false],
    [[".."], false],
    [["a/b"], false],
    [["a\\b"], false],
    [["a\0"], false],
  ];
  for (const [path, safe] of rows) {
    if (safe) checkComponents(path);
    else assertThrows(() => checkComponents(path), StorageError, "unsafe");
  }
});

Deno.test("resolveSafePath() refuses a symlink anywhere below the root, naming the file", async () => {
  await withDir(async (dir) => {
    const root = join(dir, "dl");
    await Deno.mkdir(join(root, "a"), { recursive: true });
    await Deno.mkdir(join(dir, "outside"));
    await Deno.symlink(join(dir, "outside"), join(root, "a", "link"));
    const error = assertThrows(
      () => resolveSafePath(root, ["a", "link", "f"], true),
      StorageError,
      "symlink",
    );
    assertEquals(error.path, join(root, "a", "link", "f"));
    assertThrows(() => resolveSafePath(root, ["a", "link"], false), StorageError, "symlink");
    assertEquals([...Deno.readDirSync(join(dir, "outside"))], []);
    assertEquals(resolveSafePath(root, ["a", "new", "f"], false), undefined);
    assertEquals(resolveSafePath(root, ["a", "new", "f"], true), join(root, "a", "new", "f"));
    assert(Deno.statSync(join(root, "a", "new")).isDirectory);
    await Deno.writeTextFile(join(root, "plain"), "x");
    assertThrows(
      () => resolveSafePath(root, ["plain", "f"], true),
      StorageError,
      "not a directory",
    );
  });
});

Deno.test("WorkerOps.run() writes only verified pieces and hashes them back", async () => {
  await withDir((dir) => {
    const ops = new WorkerOps({ readBufferBytes: 3 }); // forces reads across buffer refills
    const { spec, pieces } = fixture(join(dir, "dl"));
    openJob(ops, spec.root);
    const mismatch = ok(ops.run(writeJob(0, pieces[0]!, new Uint8Array(20))));
    assertEquals(mismatch.type === "write" && mismatch.verified, false);
    assertEquals([...Deno.readDirSync(dir)], []); // nothing created for a bad piece
    for (const [i, p] of pieces.entries()) {
      const reply = ok(ops.run(writeJob(i, p)));
      assertEquals(reply.type === "write" && reply.verified, true);
    }
    const hashed = ok(ops.run({ id: 3, type: "hash", storage: 1, first: 0, count: 3 }));
    assert(hashed.type === "hash");
    assertEquals(new Uint8Array(hashed.digests), spec.pieceHashes);
    ok(ops.run({ id: 4, type: "close", storage: 1 }));
    assertEquals(ops.openFileCount, 0);
  });
});

Deno.test("WorkerOps.run() keeps at most maxOpenFiles handles open", async () => {
  await withDir((dir) => {
    const ops = new WorkerOps({ maxOpenFiles: 4 });
    const files = Array.from({ length: 10 }, (_, i) => ({ path: [`f${i}`], length: 8 }));
    openJob(ops, dir, files);
    const piece = new Uint8Array(8).fill(7);
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 10; i++) {
        const reply = ok(ops.run(writeJob(i, piece)));
        assert(reply.type === "write" && reply.verified);
        assert(ops.openFileCount <= 4, `open files: ${ops.openFileCount}`);
      }
    }
    const read = ok(ops.run({ id: 5, type: "read", storage: 1, index: 9, begin: 2, length: 3 }));
    assert(read.type === "read");
    assertEquals(new Uint8Array(read.data), new Uint8Array(3).fill(7));
    ok(ops.run({ id: 6, type: "close", storage: 1 }));
  });
});

Deno.test("WorkerOps.runBatch() answers each job and lists buffers to transfer", async () => {
  await withDir((dir) => {
    const ops = new WorkerOps();
    const { spec, pieces } = fixture(join(dir, "dl"));
    openJob(ops, spec.root);
    const { replies, transfer } = ops.runBatch([
      writeJob(2, pieces[2]!),
      { id: 7, type: "read", storage: 1, index: 2, begin: 0, length: 4 },
      { id: 8, type: "read", storage: 1, index: 0, begin: 0, length: 8 }, // missing file
      { id: 9, type: "hash", storage: 9, first: 0, count: 1 }, // unknown storage
      { id: 10, type: "stat", storage: 1 },
    ]);
    assertEquals(replies.map((r) => r.ok), [true, true, false, false, true]);
    assertEquals(transfer.length, 2);
    const failed = replies[2]!;
    assert(!failed.ok && failed.error.op === "read" && failed.error.path?.endsWith("a.bin"));
    const stat = replies[4]!;
    assert(stat.ok && stat.type === "stat");
    assertEquals(stat.files.map((f) => f?.length ?? null), [null, 0, null, 5]);
    ok(ops.run({ id: 11, type: "close", storage: 1 }));
  });
});

Deno.test("WorkerOps.run() starts writeback of page-cache writes on its byte budget", async () => {
  await withDir((dir) => {
    const ops = new WorkerOps({ directWrites: false, writeBackBytes: 8 });
    const { spec, pieces } = fixture(join(dir, "dl"));
    openJob(ops, spec.root);
    for (const [i, p] of pieces.entries()) ok(ops.run(writeJob(i, p)));
    // 20 bytes over three files: only d/b.bin (10 bytes) reaches the 8-byte budget
    assertEquals(ops.writeBacks.started, 1);
    ok(ops.run({ id: 4, type: "close", storage: 1 }));
  });
});

Deno.test("WorkerOps.run() writes a piece from its offset in a longer buffer and reads into one", async () => {
  await withDir((dir) => {
    const ops = new WorkerOps();
    const { spec, pieces } = fixture(join(dir, "dl"));
    openJob(ops, spec.root);
    const piece = pieces[1]!;
    const data = new Uint8Array(piece.length + 20);
    data.set(piece, 12);
    const job = (offset?: number): WriteJob => ({
      id: 2,
      type: "write",
      storage: 1,
      index: 1,
      data: data.buffer,
      expected: sha1(piece),
      ...(offset === undefined ? {} : { offset }),
    });
    const reply = ok(ops.run(job(12)));
    assertEquals(reply.type === "write" && reply.verified && reply.data === data.buffer, true);
    const tooFar = ops.run(job(21)); // 21 + 8 bytes run past the 28-byte buffer
    assertEquals(tooFar.ok ? "ok" : tooFar.error.message.includes("from 21"), true);
    assertEquals(ops.run(job()).ok, false); // without an offset the buffer is exactly the piece
    const into = new ArrayBuffer(piece.length + 20);
    const read = ok(
      ops.run({
        id: 5,
        type: "read",
        storage: 1,
        index: 1,
        begin: 0,
        length: 8,
        into,
        intoOffset: 12,
      }),
    );
    assert(read.type === "read" && read.data === into && read.offset === 12);
    assertEquals(new Uint8Array(into, 12, piece.length), piece);
  });
});
