import { assertEquals, assertRejects } from "../../tests/assert.ts";
import { concatBytes } from "../util/bytes.ts";
import { SeededRandom } from "../util/prng.ts";
import { sha1 } from "../util/sha1.ts";
import { MemoryDiskIo } from "./memory_disk_io.ts";
import { hashStorage, verifyStorage } from "./verify.ts";

/** 10 pieces of 16 bytes (the last 9) over three files, all present. */
async function setup(hashes = true) {
  const content = new SeededRandom(5).bytes(153);
  const pieces = Array.from({ length: 10 }, (_, i) => content.slice(16 * i, 16 * i + 16));
  const disk = new MemoryDiskIo();
  const id = await disk.open({
    root: "/v",
    files: [{ path: ["a"], length: 50 }, { path: ["b"], length: 3 }, { path: ["c"], length: 100 }],
    pieceLength: 16,
    totalLength: 153,
    pieceHashes: hashes ? concatBytes(pieces.map(sha1)) : new Uint8Array(0),
  });
  disk.putFile(id, 0, content.subarray(0, 50));
  disk.putFile(id, 1, content.subarray(50, 53));
  disk.putFile(id, 2, content.subarray(53));
  return { disk, id, pieces, expected: concatBytes(pieces.map(sha1)) };
}

Deno.test("hashStorage() hashes every piece in batches and reports progress", async () => {
  const { disk, id, expected } = await setup(false);
  for (const batchBytes of [1, 16, 40, 1 << 20]) {
    const progress: number[] = [];
    const got = await hashStorage(disk, id, 10, {
      pieceLength: 16,
      batchBytes,
      onProgress: (done) => progress.push(done),
    });
    assertEquals(got, expected, `batchBytes ${batchBytes}`);
    assertEquals(progress.at(-1), 10);
    assertEquals(progress, [...progress].sort((a, b) => a - b));
  }
  assertEquals(await hashStorage(disk, id, 0), new Uint8Array(0));
  await disk.shutdown();
});

Deno.test("verifyStorage() sets only pieces whose hash matches", async () => {
  const { disk, id, expected } = await setup();
  const content = disk.fileBytes(id, 2)!;
  content[20]! ^= 0xff; // byte 73 of the torrent: piece 4
  disk.putFile(id, 2, content);
  disk.removeFile(id, 1); // piece 3 (bytes 48..64) spans a, b and c
  const have = await verifyStorage(disk, id, expected, { pieceLength: 16, batchBytes: 48 });
  assertEquals([...have.indices()], [0, 1, 2, 5, 6, 7, 8, 9]);
  const some = await verifyStorage(disk, id, expected, { indices: [9, 0, 4, 0], pieceLength: 16 });
  assertEquals([...some.indices()], [0, 9]);
  await disk.shutdown();
});

Deno.test("verifyStorage() rejects bad arguments and honours an abort signal", async () => {
  const { disk, id, expected } = await setup();
  await assertRejects(
    () => verifyStorage(disk, id, expected.subarray(1)),
    RangeError,
    "multiple of 20",
  );
  await assertRejects(() => verifyStorage(disk, id, expected, { indices: [10] }), RangeError);
  await assertRejects(() => hashStorage(disk, id, -1), RangeError);
  const controller = new AbortController();
  controller.abort(new Error("stop"));
  await assertRejects(
    () => verifyStorage(disk, id, expected, { signal: controller.signal }),
    Error,
    "stop",
  );
  await disk.shutdown();
});
