/**
 * Swarm behaviour on a virtual clock: rarest-first spreads pieces, the optimistic unchoke
 * rotates, and a peer that sends bad data is banned while the download stays correct.
 */
import { assert, assertEquals } from "../assert.ts";
import { makeSimTorrent, seededDisk, SimSwarm, storageOf } from "./swarm_harness.ts";
import { MemoryDiskIo } from "../../src/storage/mod.ts";
import type { DiskIo, StorageId } from "../../src/storage/disk_io.ts";
import type { EngineEvent } from "../../src/session/events.ts";
import type { Torrent } from "../../src/session/torrent_handle.ts";

function collect(t: Torrent, sink: EngineEvent[]): void {
  void (async () => {
    for await (const e of t.events({ categories: ["piece", "peer", "torrent", "storage"] })) {
      sink.push(e);
    }
  })();
}

function variance(xs: number[]): number {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  return xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length;
}

/**
 * Runs 1 seed and 10 leechers until the leechers together hold every piece; returns how
 * many copies of the torrent the seeder uploaded by then and the availability variance.
 */
async function spreadRun(
  sequential: boolean,
  seed: number,
  seedSuggestions = false,
): Promise<{ seedCopies: number; variance: number }> {
  const t = makeSimTorrent(64, 32 * 1024, seed);
  const swarm = new SimSwarm({ seed, latencyMs: 10, uploadBytesPerSecond: 512 * 1024 });
  // Unless asked for, the seed's own first-copy policy (suggestions, refusals) is off: it
  // evens out what the pickers ask for, and the first test compares the pickers alone.
  const seeder = await swarm.addPeer(0, { seedSuggestions }, await seededDisk(t, "/seed"));
  seeder.torrent = await swarm.clock.runUntil(
    seeder.session.add(t.meta, { dir: "/seed", seed: true }),
    5000,
  );
  const haves: Set<number>[] = [];
  const leechers = [];
  for (let n = 1; n <= 10; n++) leechers.push(await swarm.addPeer(n));
  for (const [i, l] of leechers.entries()) {
    const have = new Set<number>();
    haves.push(have);
    const peers = [seeder.address, ...leechers.filter((_, j) => j !== i).map((p) => p.address)];
    l.torrent = await swarm.clock.runUntil(
      l.session.add(t.meta, { dir: `/d${i}`, peers, sequential }),
      5000,
    );
    void (async () => {
      for await (const e of l.torrent!.events({ categories: ["piece"] })) {
        if (e.type === "piece-verified") have.add(e.index);
      }
    })();
  }
  const union = () => new Set(haves.flatMap((h) => [...h])).size;
  await swarm.clock.runUntil(() => union() === 64, 5 * 60_000, 50);
  const availability = Array.from({ length: 64 }, (_, i) => haves.filter((h) => h.has(i)).length);
  const seedCopies = seeder.torrent.stats().bytesUploaded / t.meta.totalLength;
  await swarm.close();
  return { seedCopies, variance: variance(availability) };
}

Deno.test("swarm: rarest-first spreads pieces; the seeder uploads fewer copies than with sequential picking", async () => {
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const seeds = [3, 4, 5];
  const rarestRuns = [], sequentialRuns = [];
  for (const seed of seeds) {
    rarestRuns.push(await spreadRun(false, seed));
    sequentialRuns.push(await spreadRun(true, seed));
  }
  const rarest = {
    seedCopies: mean(rarestRuns.map((r) => r.seedCopies)),
    variance: mean(rarestRuns.map((r) => r.variance)),
  };
  const sequential = {
    seedCopies: mean(sequentialRuns.map((r) => r.seedCopies)),
    variance: mean(sequentialRuns.map((r) => r.variance)),
  };
  if (Deno.env.get("SIM_REPORT")) {
    console.log(
      `until the leechers hold every piece (mean of ${seeds.length} seeds): seeder uploaded ` +
        `${rarest.seedCopies.toFixed(2)} copies (rarest-first) vs ` +
        `${sequential.seedCopies.toFixed(2)} (sequential); availability variance ` +
        `${rarest.variance.toFixed(2)} vs ${sequential.variance.toFixed(2)}`,
    );
  }
  // Measured: copies 2.54 vs 9.81, variance 1.35 vs 1.27. The variance is only reported:
  // it is taken when the union first holds every piece, which with sequential picking
  // comes late, when most leechers hold most pieces, so it follows write timing more than
  // picking (it was 2.10 vs 2.67 while a peer's queued messages left in one write, not in
  // chunks). The seeder's copies are the measure of spreading.
  assert(
    rarest.seedCopies < 0.6 * sequential.seedCopies,
    `${rarest.seedCopies} vs ${sequential.seedCopies}`,
  );
});

Deno.test("swarm: the seed's first-copy screening sends each piece about once before the leechers hold them all", async () => {
  for (const seed of [3, 4, 5]) {
    const screened = await spreadRun(false, seed, true);
    // Measured: 1.00 copies with screening and suggestions, 2.38 (mean) without.
    assert(screened.seedCopies < 1.2, `seed ${seed}: ${screened.seedCopies} copies`);
  }
});

Deno.test("swarm: the optimistic unchoke rotates through every leecher of a 1-slot seeder", async () => {
  const t = makeSimTorrent(40, 32 * 1024, 4);
  const swarm = new SimSwarm({ seed: 4, latencyMs: 10, uploadBytesPerSecond: 32 * 1024 });
  const seeder = await swarm.addPeer(0, { unchokeSlots: 1 }, await seededDisk(t, "/seed"));
  seeder.torrent = await swarm.clock.runUntil(
    seeder.session.add(t.meta, { dir: "/seed", seed: true }),
    5000,
  );
  const received = new Map<number, number>();
  for (let n = 1; n <= 5; n++) {
    const l = await swarm.addPeer(n);
    // Each leecher knows only the seeder: what it gets, the seeder's choker gave it.
    l.torrent = await swarm.clock.runUntil(
      l.session.add(t.meta, { dir: "/d", peers: [seeder.address] }),
      5000,
    );
    const torrent = l.torrent;
    received.set(n, 0);
    swarm.clock.schedule(0, function poll() {
      received.set(n, torrent.stats().bytesDownloaded);
      swarm.clock.schedule(1000, poll);
    });
  }
  await swarm.clock.advance(3 * 60_000);
  const got = [...received.values()];
  assert(got.every((b) => b > 0), `every leecher got data in 3 minutes: ${got}`);
  await swarm.clock.runUntil(swarm.close(), 60_000);
});

/** Serves corrupted blocks while claiming every piece (its hashes come from the real data). */
class LyingDisk extends MemoryDiskIo {
  override async read(
    id: StorageId,
    index: number,
    begin: number,
    length: number,
  ): Promise<Uint8Array> {
    const data = await super.read(id, index, begin, length);
    if (index % 2 === 0) data[0] = data[0]! ^ 0xff;
    return data;
  }
}

Deno.test("swarm: a peer that sends bad data is banned and the download is still correct", async () => {
  const t = makeSimTorrent(24, 32 * 1024, 5);
  const swarm = new SimSwarm({ seed: 5, latencyMs: 10, uploadBytesPerSecond: 512 * 1024 });
  const honest = await swarm.addPeer(0, {}, await seededDisk(t, "/seed"));
  honest.torrent = await swarm.clock.runUntil(
    honest.session.add(t.meta, { dir: "/seed", seed: true }),
    5000,
  );
  const liarDisk = new LyingDisk();
  const good = await seededDisk(t, "/liar");
  const id = await good.open(storageOf(t, "/liar"));
  const lid = await (liarDisk as DiskIo).open(storageOf(t, "/liar"));
  for (let i = 0; i < 24; i++) {
    await liarDisk.writePiece(
      lid,
      i,
      await good.read(
        id,
        i,
        0,
        t.meta.pieceLength > 0
          ? (i === 23 ? t.meta.totalLength - 23 * t.meta.pieceLength : t.meta.pieceLength)
          : 0,
      ),
    );
  }
  await liarDisk.close(lid);
  const liar = await swarm.addPeer(1, {}, liarDisk);
  liar.torrent = await swarm.clock.runUntil(
    liar.session.add(t.meta, { dir: "/liar", seed: true }),
    5000,
  );
  assertEquals(liar.torrent.stats().piecesHave, 24);
  const leecher = await swarm.addPeer(2);
  const events: EngineEvent[] = [];
  leecher.torrent = await swarm.clock.runUntil(
    leecher.session.add(t.meta, { dir: "/d", peers: [liar.address, honest.address] }),
    5000,
  );
  collect(leecher.torrent, events);
  let done = false;
  leecher.torrent.done.then(() => done = true, () => {});
  await swarm.runChecked(() => done, 5 * 60_000);
  assert(done, "download completed");
  const banned = events.filter((e) => e.type === "peer-banned").map((e) =>
    (e as { peer: string }).peer
  );
  assert(banned.some((p) => p.startsWith(liar.address.host)), `liar banned: ${banned}`);
  assert(!banned.some((p) => p.startsWith(honest.address.host)), "honest peer never banned");
  assert(events.some((e) => e.type === "piece-hash-failed"));
  const lidCheck = await leecher.disk.open(storageOf(t, "/d"));
  assertEquals(await leecher.disk.hashPieces(lidCheck, 0, 24), t.meta.pieceHashes);
  await swarm.close();
});

Deno.test("swarm: a super-seeding seed (BEP 16) uploads each piece about once", async () => {
  const t = makeSimTorrent(48, 32 * 1024, 12);
  const swarm = new SimSwarm({ seed: 12, latencyMs: 10, uploadBytesPerSecond: 256 * 1024 });
  const seeder = await swarm.addPeer(0, {}, await seededDisk(t, "/seed"));
  seeder.torrent = await swarm.clock.runUntil(
    seeder.session.add(t.meta, { dir: "/seed", seed: true, superSeed: true }),
    5000,
  );
  const leechers = [];
  for (let n = 1; n <= 8; n++) leechers.push(await swarm.addPeer(n));
  let done = 0;
  for (const [i, l] of leechers.entries()) {
    const peers = [seeder.address, ...leechers.filter((_, j) => j !== i).map((p) => p.address)];
    l.torrent = await swarm.clock.runUntil(l.session.add(t.meta, { dir: `/d${i}`, peers }), 5000);
    l.torrent.done.then(() => done++, () => {});
  }
  await swarm.clock.runUntil(() => done === 8, 10 * 60_000, 250);
  assertEquals(done, 8);
  const copies = seeder.torrent.stats().bytesUploaded / t.meta.totalLength;
  assert(copies < 1.3, `the seed uploaded ${copies.toFixed(2)} copies`);
  await swarm.close();
});

Deno.test("swarm: write errors a retry may fix pause downloading with back-off, then the download completes (F12)", async () => {
  const t = makeSimTorrent(16, 32 * 1024, 13);
  const swarm = new SimSwarm({ seed: 13, latencyMs: 10, uploadBytesPerSecond: 512 * 1024 });
  const seeder = await swarm.addPeer(0, {}, await seededDisk(t, "/seed"));
  await swarm.clock.runUntil(seeder.session.add(t.meta, { dir: "/seed", seed: true }), 5000);
  let failures = 0;
  // The first three writes fail in a way a retry may fix (not a permission or a full disk).
  const disk = new MemoryDiskIo({ failWrites: () => failures++ < 3 });
  const leecher = await swarm.addPeer(1, {}, disk);
  const events: EngineEvent[] = [];
  const torrent = await swarm.clock.runUntil(
    leecher.session.add(t.meta, { dir: "/dl", peers: [seeder.address] }),
    5000,
  );
  collect(torrent, events);
  let done = false;
  torrent.done.then(() => done = true, () => {});
  const took = await swarm.runChecked(() => done, 10 * 60_000, 250);
  assert(done, "completed once the disk had room");
  const warnings = events.filter((e) => e.type === "storage-warning");
  assert(warnings.length >= 3 && warnings.length <= 4, `warnings: ${warnings.length}`);
  assert(took >= 5_000 + 10_000, `backed off (5 s, 10 s, ...) before completing: ${took} ms`);
  await swarm.close();
});
