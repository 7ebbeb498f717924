import { assert, assertEquals, assertThrows } from "../../tests/assert.ts";
import { settle, VirtualClock } from "../../tests/sim/virtual_clock.ts";
import { buildTorrent } from "../metainfo/create.ts";
import { parseTorrent } from "../metainfo/mod.ts";
import { PiecePicker } from "../picker/mod.ts";
import { MemoryDiskIo } from "../storage/mod.ts";
import { concatBytes } from "../util/bytes.ts";
import { SeededRandom } from "../util/prng.ts";
import { sha1 } from "../util/sha1.ts";
import type { TorrentContext } from "./context.ts";
import { testSettings } from "./settings.ts";
import { StreamReads } from "./stream_reads.ts";

const PIECE = 32 * 1024;

/** Two files (100,000 and 60,000 bytes) over 5 pieces; nothing verified yet. */
async function fixture(settings = {}) {
  const random = new SeededRandom(3);
  const content = random.bytes(160_000);
  const pieces: Uint8Array[] = [];
  for (let at = 0; at < content.length; at += PIECE) pieces.push(content.slice(at, at + PIECE));
  const meta = parseTorrent(buildTorrent({
    name: "d",
    files: [{ path: ["a.mkv"], length: 100_000 }, { path: ["b.txt"], length: 60_000 }],
    pieceLength: PIECE,
    pieceHashes: concatBytes(pieces.map((p) => sha1(p))),
  }));
  const disk = new MemoryDiskIo();
  const storage = await disk.open({
    root: "/d",
    files: meta.files.map((f) => ({ path: f.path, length: f.length })),
    pieceLength: PIECE,
    totalLength: meta.totalLength,
    pieceHashes: meta.pieceHashes,
  });
  const clock = new VirtualClock();
  const picker = new PiecePicker({
    pieceCount: meta.pieceCount,
    pieceLength: PIECE,
    totalLength: meta.totalLength,
    random,
  });
  let refills = 0;
  const ctx = { clock, disk, settings: testSettings(settings) } as unknown as TorrentContext;
  const streams = new StreamReads({
    ctx,
    meta,
    picker,
    storageId: () => storage,
    deadlinesAdded: () => refills++,
  });
  /** The piece arrives: written, verified, announced to the readers. */
  const verify = async (i: number) => {
    assert(await disk.writePiece(storage, i, pieces[i]!.slice()));
    picker.pieceVerified(i);
    streams.pieceVerified(i);
  };
  return { content, picker, streams, verify, refills: () => refills };
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const chunk of stream) parts.push(chunk);
  return concatBytes(parts);
}

Deno.test("StreamReads reads a file as its pieces verify, deadlines first under the reader", async () => {
  const { content, picker, streams, verify, refills } = await fixture({
    streamReadAheadBytes: 40_000,
    streamRateBytesPerSecond: 32 * 1024,
  });
  const reading = readAll(streams.openFile(1, { start: 10_000 }));
  await settle();
  // file 1 starts at 100,000 (piece 3); the reader is at 110,000: pieces 3 and 4 due
  assertEquals([picker.deadlineOf(3), picker.deadlineOf(4), picker.deadlineCount], [
    1_000_000,
    1_001_000,
    2,
  ]);
  assert(refills() > 0, "new deadlines refill the peers");
  await verify(4);
  await settle();
  assertEquals(picker.deadlineCount, 1, "piece 4 verified: its deadline is gone");
  await verify(3);
  assertEquals(await reading, content.slice(110_000));
  assertEquals(picker.deadlineCount, 0);
  assertEquals(streams.readerCount, 0);
  picker.assertInvariants();
});

Deno.test("StreamReads: a cancelled reader releases its deadlines and its wait", async () => {
  const { picker, streams, verify } = await fixture();
  const stream = streams.openFile(0, { start: 70_000, end: 70_009 });
  const reader = stream.getReader();
  const read = reader.read();
  await settle();
  assertEquals(picker.deadlineCount, 1);
  await reader.cancel();
  assertEquals(picker.deadlineCount, 0);
  assertEquals(streams.readerCount, 0);
  assertEquals((await read).done, true);
  await verify(2); // nobody waits any more
});

Deno.test("StreamReads reads only within a range, with several readers at once", async () => {
  const { content, streams, verify } = await fixture();
  for (let i = 0; i < 5; i++) await verify(i);
  const [x, y] = await Promise.all([
    readAll(streams.openFile(0, { start: 5, end: 99_999 })),
    readAll(streams.openFile(1, { start: 59_999 })),
  ]);
  assertEquals(x, content.slice(5, 100_000));
  assertEquals(y, content.slice(159_999));
  assertEquals(await readAll(streams.openFile(1, { start: 7, end: 6 })), new Uint8Array(0));
});

Deno.test("StreamReads refuses bad ranges, skipped pieces and readers past the cap", async () => {
  const { picker, streams } = await fixture({ maxStreamReaders: 2 });
  assertThrows(() => streams.openFile(2), RangeError, "No file 2");
  assertThrows(() => streams.openFile(0, { start: -1 }), RangeError);
  assertThrows(() => streams.openFile(0, { end: 100_000 }), RangeError, "ends past file 0");
  assertThrows(() => streams.openFile(0, { start: 10, end: 8 }), RangeError);
  picker.setPiecePriority(4, 0);
  assertThrows(() => streams.openFile(1, { start: 40_000 }), RangeError, "not selected");
  const a = streams.openFile(0), b = streams.openFile(0);
  assertThrows(() => streams.openFile(0), RangeError, "2 readers open");
  await a.cancel();
  await b.cancel();
  streams.openFile(0).cancel();
});

Deno.test("StreamReads.close() fails waiting reads and refuses new readers", async () => {
  const { streams } = await fixture();
  const reading = readAll(streams.openFile(0));
  await settle();
  streams.close(new Error("Torrent stopped"));
  let failed: unknown;
  await reading.catch((e) => failed = e);
  assert(failed instanceof Error && failed.message === "Torrent stopped", String(failed));
  assertThrows(() => streams.openFile(0), RangeError, "Torrent stopped");
});

Deno.test("StreamReads: an abort signal ends the stream with an error", async () => {
  const { picker, streams } = await fixture();
  const controller = new AbortController();
  const reading = readAll(streams.openFile(0, { signal: controller.signal }));
  await settle();
  controller.abort(new Error("gone"));
  let failed: unknown;
  await reading.catch((e) => failed = e);
  assertEquals((failed as Error).message, "gone");
  assertEquals(picker.deadlineCount, 0);
});
