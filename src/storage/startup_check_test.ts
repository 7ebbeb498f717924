import { assert, assertEquals } from "../../tests/assert.ts";
import { concatBytes } from "../util/bytes.ts";
import { SeededRandom } from "../util/prng.ts";
import { sha1 } from "../util/sha1.ts";
import { StorageLayout } from "./layout.ts";
import { MemoryDiskIo } from "./memory_disk_io.ts";
import { captureResume, checkExistingData } from "./startup_check.ts";

const INFO_HASH = new Uint8Array(20).fill(3);

/** Three 32-byte files, 8-byte pieces: file f holds pieces 4f..4f+3. All written. */
async function setup() {
  let now = 100;
  const disk = new MemoryDiskIo({ now: () => now });
  const content = new SeededRandom(9).bytes(96);
  const pieces = Array.from({ length: 12 }, (_, i) => content.slice(8 * i, 8 * i + 8));
  const pieceHashes = concatBytes(pieces.map(sha1));
  const files = [0, 1, 2].map((f) => ({ path: [`f${f}`], length: 32 }));
  const id = await disk.open({ root: "/s", files, pieceLength: 8, totalLength: 96, pieceHashes });
  for (const [i, p] of pieces.entries()) assertEquals(await disk.writePiece(id, i, p), true);
  const layout = new StorageLayout(files, 8);
  return { disk, id, pieceHashes, layout, tick: (ms: number) => (now = ms) };
}

/** Resume data recording every piece of `setup()` as verified, as a clean stop saves it. */
async function fullResume(ctx: Awaited<ReturnType<typeof setup>>): Promise<Uint8Array> {
  const { disk, id, pieceHashes, layout } = ctx;
  const checked = await checkExistingData(disk, id, {
    pieceHashes,
    layout,
    resume: undefined,
    infoHash: INFO_HASH,
  });
  return await captureResume(disk, id, { infoHash: INFO_HASH, have: checked.have });
}

Deno.test("checkExistingData() verifies everything without resume data", async () => {
  const { disk, id, pieceHashes, layout } = await setup();
  const result = await checkExistingData(disk, id, {
    pieceHashes,
    layout,
    resume: undefined,
    infoHash: INFO_HASH,
  });
  assertEquals([result.have.count, result.rechecked, result.usedResume], [12, 12, false]);
  assertEquals(result.warning, undefined);
  await disk.shutdown();
});

Deno.test("checkExistingData() without resume data reads no piece of a missing file", async () => {
  const disk = new MemoryDiskIo();
  const content = new SeededRandom(9).bytes(96);
  const pieces = Array.from({ length: 12 }, (_, i) => content.slice(8 * i, 8 * i + 8));
  const pieceHashes = concatBytes(pieces.map(sha1));
  const files = [0, 1, 2].map((f) => ({ path: [`f${f}`], length: 32 }));
  const id = await disk.open({ root: "/s", files, pieceLength: 8, totalLength: 96, pieceHashes });
  for (const i of [0, 1, 2, 3, 9]) assertEquals(await disk.writePiece(id, i, pieces[i]!), true);
  const layout = new StorageLayout(files, 8);
  const fresh = await checkExistingData(disk, id, {
    pieceHashes,
    layout,
    resume: undefined,
    infoHash: INFO_HASH,
  });
  // f1 was never written: its 4 pieces are not read; f0 and f2 (9 only, the rest a hole) are
  assertEquals([fresh.rechecked, [...fresh.have.indices()]], [8, [0, 1, 2, 3, 9]]);
  await disk.shutdown();
});

Deno.test("checkExistingData() without resume data tries every piece when the files cannot be stat'ed", async () => {
  const { disk, id, pieceHashes, layout } = await setup();
  disk.statFiles = () => Promise.reject(new Error("ENOTDIR")); // a path through a regular file
  const result = await checkExistingData(disk, id, {
    pieceHashes,
    layout,
    resume: undefined,
    infoHash: INFO_HASH,
  });
  assertEquals([result.rechecked, result.have.count], [12, 12]);
  await disk.shutdown();
});

Deno.test("checkExistingData() rechecks only the file whose mtime changed (RELIABILITY F5)", async () => {
  const { disk, id, pieceHashes, layout, tick } = await setup();
  const have = (await checkExistingData(disk, id, {
    pieceHashes,
    layout,
    resume: undefined,
    infoHash: INFO_HASH,
  }))
    .have;
  const resume = await captureResume(disk, id, { infoHash: INFO_HASH, have });
  tick(500); // edited while stopped: file 1 gets a new mtime and one corrupt piece
  const bytes = disk.fileBytes(id, 1)!;
  bytes[9]! ^= 1; // piece 5
  disk.putFile(id, 1, bytes);
  const progress: number[] = [];
  const result = await checkExistingData(disk, id, {
    pieceHashes,
    layout,
    resume,
    infoHash: INFO_HASH,
    onProgress: (done) => progress.push(done),
  });
  assertEquals([result.rechecked, result.usedResume], [4, true]);
  assertEquals([...result.have.indices()], [0, 1, 2, 3, 4, 6, 7, 8, 9, 10, 11]);
  assertEquals(progress.at(-1), 4);
  await disk.shutdown();
});

Deno.test("checkExistingData() ignores bad resume data with a warning and verifies all (RELIABILITY F2)", async () => {
  const { disk, id, pieceHashes, layout } = await setup();
  const checked = await checkExistingData(disk, id, {
    pieceHashes,
    layout,
    resume: undefined,
    infoHash: INFO_HASH,
  });
  const good = await captureResume(disk, id, { infoHash: INFO_HASH, have: checked.have });
  const rows: [string, Uint8Array, Uint8Array][] = [
    ["truncated", good.subarray(0, good.length - 3), INFO_HASH],
    ["garbage", new Uint8Array([0xde, 0xad]), INFO_HASH],
    ["other torrent", good, new Uint8Array(20)],
  ];
  for (const [name, resume, infoHash] of rows) {
    const result = await checkExistingData(disk, id, { pieceHashes, layout, resume, infoHash });
    assertEquals([result.usedResume, result.rechecked, result.have.count], [false, 12, 12], name);
    assert(result.warning?.startsWith("Resume data ignored"), name);
  }
  await disk.shutdown();
});

Deno.test("checkExistingData() trusts nothing recorded once the file is gone", async () => {
  const ctx = await setup();
  const { disk, id, pieceHashes, layout } = ctx;
  const resume = await fullResume(ctx);
  disk.removeFile(id, 2);
  const result = await checkExistingData(disk, id, {
    pieceHashes,
    layout,
    resume,
    infoHash: INFO_HASH,
  });
  assertEquals([result.usedResume, result.rechecked, result.have.count], [true, 0, 8]);
  await disk.shutdown();
});

Deno.test("checkExistingData() spot-checks resume data: a piece edited with the mtime put back is caught", async () => {
  const ctx = await setup();
  const { disk, id, pieceHashes, layout } = ctx;
  const resume = await fullResume(ctx);
  const stat = (await disk.statFiles(id))[1]!;
  const bytes = disk.fileBytes(id, 1)!;
  bytes[17]! ^= 0x40; // piece 6; same size, same mtime: the stat check passes
  disk.putFile(id, 1, bytes, stat.mtimeMs);
  const trusting = await checkExistingData(disk, id, {
    pieceHashes,
    layout,
    resume,
    infoHash: INFO_HASH,
  });
  assertEquals([trusting.usedResume, trusting.have.has(6)], [true, true], "without a spot check");
  const spotCheck = { pieces: 16, random: new SeededRandom(1) }; // covers all 12 pieces
  const checked = await checkExistingData(disk, id, {
    pieceHashes,
    layout,
    resume,
    infoHash: INFO_HASH,
    spotCheck,
  });
  assertEquals([checked.usedResume, checked.rechecked, checked.have.count], [false, 12, 11]);
  assert(!checked.have.has(6), "the edited piece is not trusted");
  assert(checked.warning?.includes("piece 6 fails its hash"), checked.warning);
  await disk.shutdown();
});

Deno.test("checkExistingData() hashes a random sample of trusted pieces, the rest stays trusted", async () => {
  const ctx = await setup();
  const { disk, id, pieceHashes, layout } = ctx;
  const resume = await fullResume(ctx);
  const hashed: number[] = [];
  const hashPieces = disk.hashPieces.bind(disk);
  disk.hashPieces = (storage, first, count) => {
    for (let i = first; i < first + count; i++) hashed.push(i);
    return hashPieces(storage, first, count);
  };
  const seen = new Set<number>();
  for (let seed = 1; seed <= 20; seed++) {
    hashed.length = 0;
    const result = await checkExistingData(disk, id, {
      pieceHashes,
      layout,
      resume,
      infoHash: INFO_HASH,
      spotCheck: { pieces: 3, random: new SeededRandom(seed) },
    });
    assertEquals([result.usedResume, result.rechecked, result.have.count], [true, 3, 12]);
    assertEquals(new Set(hashed).size, 3, `seed ${seed}: ${hashed}`);
    for (const i of hashed) seen.add(i);
  }
  assert(seen.size >= 10, `samples differ between runs: ${[...seen]}`);
  await disk.shutdown();
});
