import { assertEquals } from "../../tests/assert.ts";
import { VirtualClock } from "../../tests/sim/virtual_clock.ts";
import { TokenBucket } from "../util/token_bucket.ts";
import { DEFAULT_SETTINGS } from "./settings.ts";
import type { TorrentContext } from "./context.ts";
import { type PieceHandOff, TransferCounter } from "./transfer_counter.ts";
import { PiecePipeline, type PiecePipelineHost } from "./piece_pipeline.ts";

const MIB = 1024 * 1024;

/** A disk queue with a settable size: waitForCapacity resolves when `drain()` is called. */
function fakeDisk(queued: number) {
  let release = () => {};
  const disk = {
    queued,
    waits: 0,
    queuedBytes: () => disk.queued,
    waitForCapacity: () => {
      disk.waits++;
      return new Promise<void>((r) => release = r);
    },
    drain: () => release(),
  };
  return disk;
}

function counter(disk: ReturnType<typeof fakeDisk>, diskQueueBytes = 24 * MIB) {
  const clock = new VirtualClock();
  const ctx = {
    clock,
    disk,
    settings: { ...DEFAULT_SETTINGS, diskQueueBytes },
    downloadBucket: new TokenBucket(0, clock.now()),
  } as unknown as TorrentContext;
  return new TransferCounter(ctx, 0);
}

function handOff(heldBytes: number): PieceHandOff & { open(): void } {
  const { promise, resolve } = Promise.withResolvers<void>();
  return { heldBytes, whenWritable: () => promise, open: () => resolve() };
}

Deno.test("TransferCounter.readGate() waits on the disk queue only once there is piece work", () => {
  const disk = fakeDisk(MIB);
  const c = counter(disk);
  assertEquals(c.readGate(undefined), undefined);
  assertEquals(disk.waits, 0);
  assertEquals(c.readGate(handOff(0)) instanceof Promise, true);
  assertEquals(disk.waits, 1);
  disk.queued = 0;
  assertEquals(c.readGate(handOff(0)), undefined);
});

Deno.test("TransferCounter.readGate() counts pieces held for the first write against diskQueueBytes", async () => {
  const disk = fakeDisk(0);
  const c = counter(disk, 24 * MIB);
  // under the mark: reading goes on while the resume file is written
  assertEquals(c.readGate(handOff(23 * MIB)), undefined);
  disk.queued = 2 * MIB;
  const under = c.readGate(handOff(MIB));
  assertEquals(under instanceof Promise, true); // the disk queue's own wait, as before
  // at the mark: wait until the held pieces reach the disk queue, then for its capacity
  disk.queued = 0;
  disk.waits = 0;
  const work = handOff(24 * MIB);
  let passed = false;
  c.readGate(work)!.then(() => passed = true);
  await Promise.resolve();
  assertEquals([passed, disk.waits], [false, 0]);
  work.open();
  await new Promise((r) => setTimeout(r, 0));
  assertEquals([passed, disk.waits], [false, 1]);
  disk.drain();
  await new Promise((r) => setTimeout(r, 0));
  assertEquals(passed, true);
});

Deno.test("PiecePipeline.heldBytes counts whole pieces waiting for the first write", async () => {
  const first = Promise.withResolvers<void>();
  const writes: number[] = [];
  const host = {
    ctx: {
      disk: {
        writePiece: (_id: number, index: number) => {
          writes.push(index);
          return Promise.resolve(true);
        },
      },
      settings: DEFAULT_SETTINGS,
    },
    peers: new Map(),
    storageId: () => 1,
    pieceSize: () => 16384,
    pieceVerified: () => {},
    pieceFailed: () => [],
    writeFailed: () => {},
    refillAll: () => {},
    beforeFirstWrite: () => first.promise,
    ban: () => {},
  } as unknown as PiecePipelineHost;
  const pipeline = new PiecePipeline(host);
  pipeline.buffer(0);
  pipeline.buffer(1);
  pipeline.submit(0);
  pipeline.submit(1);
  assertEquals(pipeline.heldBytes, 2 * 16384);
  let writable = false;
  pipeline.whenWritable().then(() => writable = true);
  await Promise.resolve();
  assertEquals([writable, writes], [false, []]);
  first.resolve();
  await pipeline.whenWritable();
  assertEquals([pipeline.heldBytes, writes], [0, [0, 1]]);
  await pipeline.drain();
});
