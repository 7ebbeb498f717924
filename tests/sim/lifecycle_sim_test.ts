/**
 * The torrent lifecycle API on a real Session in the simulator: pause and resume (resume
 * data, no full rehash), file priorities and rate limits changed at runtime, per-file
 * progress, moving the data, recheck, and removal with the files.
 * @module
 */
import { assert, assertEquals } from "../assert.ts";
import { seededDisk, SimSwarm, type SimTorrent, storageOf } from "./swarm_harness.ts";
import { buildTorrent } from "../../src/metainfo/create.ts";
import { parseTorrent } from "../../src/metainfo/mod.ts";
import { SeededRandom } from "../../src/util/prng.ts";
import { sha1 } from "../../src/util/sha1.ts";
import { concatBytes } from "../../src/util/bytes.ts";
import type { ResumeStore } from "../../src/session/context.ts";
import type { EngineEvent } from "../../src/session/events.ts";
import type { Torrent } from "../../src/session/torrent_handle.ts";

const PIECE = 32 * 1024;

/** Two files of 6 and 4 pieces (the boundary on a piece edge). */
function twoFileTorrent(): SimTorrent {
  const random = new SeededRandom(5);
  const pieces = Array.from({ length: 10 }, () => random.bytes(PIECE));
  const bytes = buildTorrent({
    name: "pair",
    files: [{ path: ["a.bin"], length: 6 * PIECE }, { path: ["b.bin"], length: 4 * PIECE }],
    pieceLength: PIECE,
    pieceHashes: concatBytes(pieces.map((p) => sha1(p))),
  });
  return { meta: parseTorrent(bytes), pieces };
}

/** An in-memory resume store (as the Deno one writes beside the data). */
function memoryResume(): ResumeStore & { keys(): string[] } {
  const saved = new Map<string, Uint8Array>();
  return {
    load: (root, hex) => Promise.resolve(saved.get(`${root}|${hex}`)),
    save: (root, hex, bytes) => Promise.resolve(void saved.set(`${root}|${hex}`, bytes.slice())),
    remove: (root, hex) => Promise.resolve(void saved.delete(`${root}|${hex}`)),
    keys: () => [...saved.keys()],
  };
}

async function setup(t: SimTorrent, limit = 256 * 1024) {
  const swarm = new SimSwarm({ seed: 3, latencyMs: 5, uploadBytesPerSecond: limit });
  const seeder = await swarm.addPeer(0, {}, await seededDisk(t, "/seed"));
  seeder.torrent = await swarm.clock.runUntil(
    seeder.session.add(t.meta, { dir: "/seed", seed: true }),
    10_000,
  );
  const resume = memoryResume();
  const leecher = await swarm.addPeer(1, {}, undefined, resume);
  return { swarm, seeder, leecher, resume };
}

function collect(torrent: Torrent, into: EngineEvent[]): void {
  void (async () => {
    for await (const e of torrent.events({ categories: ["torrent", "storage"] })) into.push(e);
  })();
}

Deno.test("Torrent.pause() closes peers and files; resume() uses resume data and completes", async () => {
  const t = twoFileTorrent();
  const { swarm, seeder, leecher, resume } = await setup(t, 64 * 1024);
  const torrent = await swarm.clock.runUntil(
    leecher.session.add(t.meta, { dir: "/dl", peers: [seeder.address], seed: true }),
    10_000,
  );
  const events: EngineEvent[] = [];
  collect(torrent, events);
  await swarm.runChecked(() => torrent.stats().piecesHave >= 3, 60_000);
  await swarm.clock.runUntil(torrent.pause(), 10_000);
  const paused = torrent.stats();
  assertEquals(paused.state, "paused");
  assertEquals(paused.peers, 0);
  assert(paused.piecesHave >= 3 && paused.piecesHave < 10, `have ${paused.piecesHave}`);
  assertEquals(resume.keys(), [`/dl|${t.meta.infoHashHex}`]);
  // nothing moves while paused, and the seeder saw us go
  await swarm.clock.advance(5_000);
  assertEquals(torrent.stats().piecesHave, paused.piecesHave);
  assertEquals(seeder.torrent!.stats().peers, 0);
  let done = false;
  torrent.done.then(() => done = true, () => {});
  await swarm.clock.runUntil(torrent.resume(), 10_000);
  await swarm.runChecked(() => done, 120_000);
  assert(done, `not complete: ${JSON.stringify(torrent.stats())}`);
  const checks = events.filter((e) => e.type === "check-finished"); // subscribed after the first
  assertEquals(checks.length, 1);
  const second = checks[0]!;
  assert(second.type === "check-finished" && second.usedResume, "resume data used on resume");
  assert(second.type === "check-finished" && second.piecesHave >= paused.piecesHave);
  assert(events.some((e) => e.type === "torrent-paused"));
  assertEquals(torrent.fileProgress(), [6 * PIECE, 4 * PIECE]);
  await swarm.close();
});

Deno.test("Torrent.setFilePriorities() at runtime: a skipped file is fetched once wanted", async () => {
  const t = twoFileTorrent();
  const { swarm, seeder, leecher } = await setup(t);
  const torrent = await swarm.clock.runUntil(
    leecher.session.add(t.meta, {
      dir: "/dl",
      peers: [seeder.address],
      seed: true,
      filePriorities: [4, 0],
    }),
    10_000,
  );
  await swarm.runChecked(() => torrent.stats().state === "seeding", 60_000);
  assertEquals(torrent.stats().bytesWanted, 6 * PIECE);
  assertEquals(torrent.fileProgress(), [6 * PIECE, 0]);
  torrent.setFilePriorities([4, 7]);
  assertEquals(torrent.stats().state, "downloading");
  assertEquals(torrent.stats().bytesWanted, 10 * PIECE);
  await swarm.runChecked(() => torrent.stats().state === "seeding", 60_000);
  assertEquals(torrent.fileProgress(), [6 * PIECE, 4 * PIECE]);
  assertEquals(torrent.filePriorities, [4, 7]);
  const id = await leecher.disk.open(storageOf(t, "/dl"));
  assertEquals(await leecher.disk.hashPieces(id, 0, 10), t.meta.pieceHashes);
  await swarm.close();
});

Deno.test("Torrent.setRateLimits() caps a running download at once", async () => {
  const t = twoFileTorrent();
  const { swarm, seeder, leecher } = await setup(t, 0);
  const torrent = await swarm.clock.runUntil(
    leecher.session.add(t.meta, { dir: "/dl", peers: [seeder.address] }),
    10_000,
  );
  torrent.setRateLimits({ download: 16 * 1024 });
  assertEquals(torrent.rateLimits, { download: 16 * 1024, upload: 0 });
  await swarm.clock.advance(10_000);
  const got = torrent.stats().bytesDownloaded;
  // 10 s at 16 KiB/s plus the bucket's burst (64 KiB) and the blocks already in flight
  assert(got <= 16 * 1024 * 10 + 64 * 1024 + 4 * 16 * 1024, `downloaded ${got}`);
  torrent.setRateLimits({ download: 0 });
  let done = false;
  torrent.done.then(() => done = true, () => {});
  await swarm.runChecked(() => done, 60_000);
  assert(done);
  await swarm.close();
});

Deno.test("Torrent.moveStorage() moves files and resume data, then seeds from there", async () => {
  const t = twoFileTorrent();
  const { swarm, seeder, leecher, resume } = await setup(t);
  const torrent = await swarm.clock.runUntil(
    leecher.session.add(t.meta, { dir: "/dl", peers: [seeder.address], seed: true }),
    10_000,
  );
  await swarm.runChecked(() => torrent.stats().state === "seeding", 60_000);
  const events: EngineEvent[] = [];
  collect(torrent, events);
  await swarm.clock.runUntil(torrent.moveStorage("/moved"), 10_000);
  await swarm.runChecked(() => torrent.stats().state === "seeding", 10_000);
  assertEquals(torrent.dir, "/moved");
  assert(leecher.disk.hasFile("/moved", ["pair", "a.bin"]));
  assert(!leecher.disk.hasFile("/dl", ["pair", "a.bin"]));
  assertEquals(resume.keys(), [`/moved|${t.meta.infoHashHex}`]);
  const check = events.find((e) => e.type === "check-finished");
  assert(check?.type === "check-finished" && check.piecesHave === 10 && check.usedResume);
  await swarm.close();
});

Deno.test("Torrent.recheck() rehashes ignoring resume data; a paused torrent stays paused", async () => {
  const t = twoFileTorrent();
  const { swarm, seeder, leecher } = await setup(t);
  const torrent = await swarm.clock.runUntil(
    leecher.session.add(t.meta, { dir: "/dl", peers: [seeder.address], seed: true }),
    10_000,
  );
  await swarm.runChecked(() => torrent.stats().state === "seeding", 60_000);
  await swarm.clock.runUntil(torrent.pause(), 10_000);
  // damage file b while paused, keeping size and mtime: only a rehash can tell
  const id = await leecher.disk.open(storageOf(t, "/dl"));
  const before = await leecher.disk.statFiles(id);
  leecher.disk.putFile(id, 1, new Uint8Array(4 * PIECE), before[1]!.mtimeMs);
  await leecher.disk.close(id);
  await swarm.clock.runUntil(torrent.recheck(), 10_000);
  assertEquals(torrent.stats().state, "paused");
  assertEquals(torrent.stats().piecesHave, 6);
  assertEquals(torrent.fileProgress(), [6 * PIECE, 0]);
  await swarm.close();
});

Deno.test("Session.remove() with deleteFiles deletes the torrent's own files only", async () => {
  const t = twoFileTorrent();
  const { swarm, seeder, leecher, resume } = await setup(t);
  const torrent = await swarm.clock.runUntil(
    leecher.session.add(t.meta, { dir: "/dl", peers: [seeder.address] }),
    10_000,
  );
  await swarm.runChecked(() => torrent.stats().state === "seeding", 60_000);
  let rejected = false;
  torrent.done.catch(() => rejected = true);
  await swarm.clock.runUntil(
    leecher.session.remove(t.meta.infoHashHex, { deleteFiles: true }),
    10_000,
  );
  assert(!leecher.disk.hasFile("/dl", ["pair", "a.bin"]));
  assert(!leecher.disk.hasFile("/dl", ["pair", "b.bin"]));
  assert(seeder.disk.hasFile("/seed", ["pair", "a.bin"]));
  assertEquals(resume.keys(), []);
  assertEquals(leecher.session.torrents().length, 0);
  assertEquals(rejected, false); // it was complete: done had resolved
  await swarm.close();
});

Deno.test("Session.add() with paused checks the data, then waits for resume()", async () => {
  const t = twoFileTorrent();
  const swarm = new SimSwarm({ seed: 4 });
  const peer = await swarm.addPeer(0, {}, await seededDisk(t, "/seed"));
  const torrent = await swarm.clock.runUntil(
    peer.session.add(t.meta, { dir: "/seed", paused: true, seed: true }),
    10_000,
  );
  assertEquals(torrent.stats().state, "paused");
  assertEquals(torrent.stats().piecesHave, 10);
  await swarm.clock.runUntil(torrent.resume(), 10_000);
  await swarm.runChecked(() => torrent.stats().state === "seeding", 10_000);
  await swarm.close();
});
