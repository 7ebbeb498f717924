/**
 * Storage faults on a virtual clock (RELIABILITY F3, F6, F12): a write error no retry can
 * fix stops the torrent at once in the `error` state with one message naming the file and
 * the cause; errors a retry may fix back off a few rounds, then stop it too; verified data
 * that disappears from disk is an error, never a completion. A fake disk (MemoryDiskIo
 * with injected failures) stands in for the worker pool.
 * @module
 */
import { assert, assertEquals } from "../assert.ts";
import { makeSimTorrent, seededDisk, SimSwarm, type SimTorrent } from "./swarm_harness.ts";
import { MemoryDiskIo } from "../../src/storage/mod.ts";
import type { FileStat, StorageId } from "../../src/storage/disk_io.ts";
import { StorageError } from "../../src/errors.ts";
import type { EngineEvent } from "../../src/session/events.ts";
import type { Torrent } from "../../src/session/torrent_handle.ts";

/** A MemoryDiskIo whose writes fail as `fail` says and whose files can vanish from stat. */
class FaultyDisk extends MemoryDiskIo {
  /** Returns the error a write of piece `index` rejects with (its n-th write), if any. */
  fail: (index: number, n: number) => Error | undefined = () => undefined;
  /** Files that stat as missing (deleted while the writers still hold them open). */
  readonly hidden = new Set<number>();
  /** What stat rejects with, when set. */
  statError: Error | undefined;
  writes = 0;

  override writePiece(id: StorageId, index: number, data: Uint8Array): Promise<boolean> {
    const error = this.fail(index, ++this.writes);
    return error ? Promise.reject(error) : super.writePiece(id, index, data);
  }

  override async statFiles(id: StorageId): Promise<(FileStat | undefined)[]> {
    if (this.statError) throw this.statError;
    const stats = await super.statFiles(id);
    return stats.map((s, i) => this.hidden.has(i) ? undefined : s);
  }
}

function workerError(code: string, text: string, path = "/dl/sim.bin"): StorageError {
  return new StorageError(`Cannot write "${path}": ${code}: ${text}, open '${path}'`, {
    op: "write",
    path,
  });
}

/** A seed and one leecher on `disk`; resolves the leecher's torrent and its events. */
async function leech(t: SimTorrent, disk: MemoryDiskIo, seed: number, uplinkBps = 512 * 1024) {
  const swarm = new SimSwarm({ seed, latencyMs: 10, uploadBytesPerSecond: uplinkBps });
  const seeder = await swarm.addPeer(0, {}, await seededDisk(t, "/seed"));
  await swarm.clock.runUntil(seeder.session.add(t.meta, { dir: "/seed", seed: true }), 5000);
  const leecher = await swarm.addPeer(1, {}, disk);
  const torrent = await swarm.clock.runUntil(
    leecher.session.add(t.meta, { dir: "/dl", peers: [seeder.address] }),
    5000,
  );
  const events: EngineEvent[] = [];
  collect(torrent, events);
  const outcome = { done: false, error: undefined as string | undefined };
  torrent.done.then(() => outcome.done = true, (e) => outcome.error = (e as Error).message);
  return { swarm, torrent, events, outcome };
}

function collect(t: Torrent, sink: EngineEvent[]): void {
  void (async () => {
    for await (const e of t.events({ categories: ["piece", "peer", "torrent", "storage"] })) {
      sink.push(e);
    }
  })();
}

Deno.test("a write error no retry fixes puts the torrent in the error state within a second (F6)", async () => {
  const t = makeSimTorrent(24, 32 * 1024, 21);
  const disk = new FaultyDisk();
  let failedAt: number | undefined;
  disk.fail = (_, n) => {
    if (n <= 4) return undefined;
    failedAt ??= swarm.clock.now();
    return workerError("EACCES", "permission denied");
  };
  const { swarm, torrent, events, outcome } = await leech(t, disk, 21);
  await swarm.runChecked(() => outcome.error !== undefined, 60_000, 50);
  // confirmed once after writeConfirmMs (1 s), then stopped
  const took = swarm.clock.now() - failedAt!;
  assert(took >= 1_000 && took <= 1_200, `stopped ${took} ms after the first failed write`);
  const errors = events.filter((e) => e.type === "torrent-error");
  assertEquals(errors.length, 1, "one error");
  const st = torrent.stats();
  assertEquals(st.state, "error");
  assert(
    /^Cannot write piece \d+ to "\/dl\/sim.bin": permission denied \(EACCES\)$/.test(
      st.errorString!,
    ),
    st.errorString,
  );
  assertEquals(outcome.error, st.errorString);
  assertEquals(events.filter((e) => e.type === "storage-warning").length, 0, "no retry warnings");
  assertEquals(st.piecesHave, 4, "the verified pieces are kept");
  assertEquals(st.peers, 0, "connections closed");
  // Later failures of pieces in flight add nothing, and nothing is requested any more.
  const requestsAfter = events.length;
  await swarm.clock.advance(30_000);
  assertEquals(events.slice(requestsAfter).filter((e) => e.type === "piece-verified").length, 0);
  assertEquals(torrent.stats().state, "error");
  await swarm.close();
});

Deno.test("no space left: the error says how much more space the download needs (F3)", async () => {
  const t = makeSimTorrent(16, 32 * 1024, 22);
  const disk = new FaultyDisk();
  disk.fail = (_, n) => n > 6 ? workerError("ENOSPC", "no space left on device") : undefined;
  const { swarm, torrent, outcome } = await leech(t, disk, 22);
  await swarm.runChecked(() => outcome.error !== undefined, 60_000, 50);
  const st = torrent.stats();
  assertEquals(st.state, "error");
  const left = st.bytesWanted - st.bytesVerified;
  assert(st.errorString!.includes("no space left on device (ENOSPC)"), st.errorString);
  assert(
    st.errorString!.endsWith(
      `; ${(left / 1024).toFixed(0)} KiB more free space is needed to finish`,
    ),
    st.errorString,
  );
  assertEquals(st.piecesHave, 6);
  await swarm.close();
});

Deno.test("errors a retry may fix back off a few rounds, then stop the torrent (F12)", async () => {
  const t = makeSimTorrent(16, 32 * 1024, 23);
  const disk = new FaultyDisk();
  disk.fail = (_, n) => n > 2 ? workerError("EIO", "i/o error") : undefined;
  const { swarm, torrent, events, outcome } = await leech(t, disk, 23);
  const took = await swarm.runChecked(() => outcome.error !== undefined, 10 * 60_000, 250);
  const warnings = events.filter((e) => e.type === "storage-warning");
  // Pieces in flight fail together: each round may warn several times, and waits 5, 10, 20 s.
  assert(warnings.length >= 3, `warnings: ${warnings.length}`);
  assert(took >= 35_000 && took < 60_000, `gave up after ${took} ms`);
  const st = torrent.stats();
  assertEquals(st.state, "error");
  assert(st.errorString!.includes("EIO: i/o error"), st.errorString);
  assert(st.errorString!.includes("still failing after 3 retries"), st.errorString);
  await swarm.close();
});

Deno.test("a file deleted while downloading is an error, not a completion (F6)", async () => {
  const t = makeSimTorrent(16, 32 * 1024, 24);
  const disk = new FaultyDisk();
  // The file vanishes after the 5th write; the writers keep writing into the unlinked file.
  disk.fail = (_, n) => {
    if (n === 6) disk.hidden.add(0);
    return undefined;
  };
  const { swarm, torrent, events, outcome } = await leech(t, disk, 24);
  await swarm.runChecked(() => outcome.error !== undefined || outcome.done, 60_000, 50);
  assertEquals(outcome.done, false, "never reported complete");
  assertEquals(events.filter((e) => e.type === "torrent-completed").length, 0);
  const st = torrent.stats();
  assertEquals(st.state, "error");
  assertEquals(
    st.errorString,
    `Cannot finish the download: "/dl/sim.bin" is missing (deleted or moved while downloading)`,
  );
  await swarm.close();
});

Deno.test("a file truncated as the last piece lands is caught by the final check (F6)", async () => {
  const t = makeSimTorrent(16, 32 * 1024, 25);
  const disk = new FaultyDisk();
  const write = disk.writePiece.bind(disk);
  disk.writePiece = async (id, index, data) => {
    const ok = await write(id, index, data);
    if (disk.writes === 16) disk.putFile(id, 0, disk.fileBytes(id, 0)!.subarray(0, 1000));
    return ok;
  };
  const { swarm, torrent, outcome } = await leech(t, disk, 25);
  await swarm.runChecked(() => outcome.error !== undefined || outcome.done, 60_000, 50);
  assertEquals(outcome.done, false, "never reported complete");
  const st = torrent.stats();
  assertEquals([st.state, st.piecesHave], ["error", 16]);
  assert(
    st.errorString!.startsWith(`Cannot finish the download: "/dl/sim.bin" is 1000 bytes, shorter`),
    st.errorString,
  );
  await swarm.close();
});

Deno.test("a file deleted mid-download stops the torrent within the file check interval (F6)", async () => {
  const t = makeSimTorrent(64, 32 * 1024, 26);
  const disk = new FaultyDisk();
  // 2 MiB at 64 KiB/s: about 30 s to download; the file vanishes after 8 pieces.
  const { swarm, torrent, outcome } = await leech(t, disk, 26, 64 * 1024);
  await swarm.runChecked(() => torrent.stats().piecesHave >= 8, 60_000, 50);
  disk.hidden.add(0);
  const took = await swarm.runChecked(() => outcome.error !== undefined, 60_000, 50);
  assert(took <= 6_000, `error ${took} ms after the deletion`);
  assert(torrent.stats().piecesHave < 64, "long before the download would have completed");
  assert(outcome.error!.includes('"/dl/sim.bin" is missing'), outcome.error);
  await swarm.close();
});

Deno.test("files that cannot be checked at the end are not a completion", async () => {
  const t = makeSimTorrent(8, 32 * 1024, 27);
  const disk = new FaultyDisk();
  disk.fail = (_, n) => {
    const link = new StorageError(`Cannot use file "/dl/sim.bin": "/dl" is a symlink`, {
      op: "open",
      path: "/dl/sim.bin",
    });
    if (n === 8) disk.statError = link; // planted before the last piece lands
    return undefined;
  };
  const { swarm, torrent, outcome } = await leech(t, disk, 27);
  await swarm.runChecked(() => outcome.error !== undefined || outcome.done, 60_000, 50);
  assertEquals(outcome.done, false);
  assertEquals(
    torrent.stats().errorString,
    `Cannot finish the download: its files cannot be checked: Cannot use file "/dl/sim.bin": "/dl" is a symlink`,
  );
  await swarm.close();
});

Deno.test("a fault no retry should fix that does not come back (a mkdir race) costs a pause, not the download", async () => {
  const t = makeSimTorrent(16, 32 * 1024, 28);
  const disk = new FaultyDisk();
  // Two writers make one directory: one of them sees EEXIST once.
  disk.fail = (_, n) => n === 2 ? workerError("EEXIST", "file already exists", "/dl") : undefined;
  const { swarm, torrent, events, outcome } = await leech(t, disk, 28);
  await swarm.runChecked(() => outcome.error !== undefined || outcome.done, 60_000, 50);
  assertEquals([outcome.done, torrent.stats().state], [true, "seeding"]);
  assertEquals(events.filter((e) => e.category === "storage" && e.type !== "check-finished"), []);
  await swarm.close();
});
