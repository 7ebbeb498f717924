import { join } from "node:path";
import { assertEquals } from "../../tests/assert.ts";
import { concatBytes } from "../util/bytes.ts";
import { SeededRandom } from "../util/prng.ts";
import { sha1 } from "../util/sha1.ts";
import { type HashContent, hashContent } from "./piece_hasher.ts";

/** Piece hashes of `bytes` computed the plain way. */
function expectedHashes(bytes: Uint8Array, pieceLength: number): Uint8Array {
  const out: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; at += pieceLength) {
    out.push(sha1(bytes.subarray(at, at + pieceLength)));
  }
  return concatBytes(out);
}

/**
 * Writes files of the given lengths (random bytes) under a temp dir; pieces of 16 KiB cross
 * file boundaries, and a zero-length file sits in the middle.
 */
async function withContent(
  lengths: readonly number[],
  fn: (content: HashContent, bytes: Uint8Array, dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    const random = new SeededRandom(7);
    const files = lengths.map((length, i) => ({ path: ["d", `f${i}.bin`], length }));
    const datas = lengths.map((length) => random.bytes(length));
    await Deno.mkdir(join(dir, "d"));
    for (const [i, f] of files.entries()) await Deno.writeFile(join(dir, ...f.path), datas[i]!);
    await fn({ root: dir, files, pieceLength: 16 * 1024 }, concatBytes(datas), dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const LENGTHS = [40_000, 0, 100_000, 16 * 1024, 7, 300_000];

for (
  const [name, options] of [
    ["the calling thread alone", { useCallingThread: true, workers: 0 }],
    ["the calling thread and 2 workers", { useCallingThread: true, workers: 2 }],
    ["1 worker alone", { workers: 1 }],
    ["3 workers alone", { workers: 3 }],
  ] as const
) {
  Deno.test(`hashContent() hashes pieces across files on ${name}`, async () => {
    await withContent(LENGTHS, async (content, bytes) => {
      const got = await hashContent(content, options);
      assertEquals(got, expectedHashes(bytes, content.pieceLength));
    });
  });
}

Deno.test("hashContent() gives 20 zero bytes for pieces of a file shorter than declared", async () => {
  await withContent([50_000, 50_000], async (content, bytes) => {
    const files = [content.files[0]!, { ...content.files[1]!, length: 60_000 }];
    const got = await hashContent({ ...content, files }, { workers: 1 });
    const want = expectedHashes(bytes, content.pieceLength);
    // Pieces 0–5 are readable; piece 6 (98,304..114,688) reads past the second file's end.
    assertEquals(got.subarray(0, 120), want.subarray(0, 120));
    assertEquals(got.subarray(120), new Uint8Array(20));
  });
});

Deno.test("hashContent() gives 20 zero bytes for pieces of a missing file", async () => {
  await withContent([50_000, 50_000], async (content, bytes, dir) => {
    await Deno.remove(join(dir, ...content.files[1]!.path));
    const got = await hashContent(content, { useCallingThread: true, workers: 1 });
    const want = expectedHashes(bytes, content.pieceLength);
    assertEquals(got.subarray(0, 60), want.subarray(0, 60)); // pieces 0–2: first file only
    assertEquals(got.subarray(60), new Uint8Array(80)); // pieces 3–6 need the missing file
  });
});

Deno.test("hashContent() hashes on the calling thread when its workers fail to load", async () => {
  await withContent(LENGTHS, async (content, bytes) => {
    const workerUrl = new URL("./no_such_worker.ts", import.meta.url);
    const got = await hashContent(content, { workers: 2, workerUrl });
    assertEquals(got, expectedHashes(bytes, content.pieceLength));
  });
});

Deno.test("hashContent() reports progress up to the piece count", async () => {
  await withContent(LENGTHS, async (content) => {
    const seen: number[] = [];
    await hashContent(content, {
      useCallingThread: true,
      workers: 1,
      onProgress: (done, count) => {
        assertEquals(count, 28);
        seen.push(done);
      },
    });
    assertEquals(seen.at(-1), 28);
    assertEquals(seen.every((n, i) => i === 0 || n >= seen[i - 1]!), true);
  });
});

Deno.test("hashContent() returns nothing for empty content", async () => {
  const got = await hashContent({ root: "/nonexistent", files: [], pieceLength: 16384 }, {
    useCallingThread: true,
  });
  assertEquals(got, new Uint8Array(0));
});
