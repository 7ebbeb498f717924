/**
 * Magnet links (BEP 9) in a simulated swarm: the torrent is usable in the metadata
 * phase, fetches and verifies the info dictionary from peers, then downloads.
 */
import { assert, assertEquals } from "../assert.ts";
import { makeSimTorrent, seededDisk, SimSwarm, storageOf } from "./swarm_harness.ts";
import { formatMagnet, parseMagnet } from "../../src/metainfo/mod.ts";
import type { EngineEvent } from "../../src/session/events.ts";

Deno.test("swarm magnet: metadata from peers, verified against the info-hash, then the data", async () => {
  const t = makeSimTorrent(20, 32 * 1024, 11);
  const swarm = new SimSwarm({ seed: 11, latencyMs: 10, uploadBytesPerSecond: 512 * 1024 });
  const seeder = await swarm.addPeer(0, {}, await seededDisk(t, "/seed"));
  await swarm.clock.runUntil(seeder.session.add(t.meta, { dir: "/seed", seed: true }), 5000);
  const link = parseMagnet(formatMagnet({
    infoHash: t.meta.infoHash,
    infoHashHex: t.meta.infoHashHex,
    displayName: "from a magnet",
    trackers: [],
    peers: [seeder.address],
    webSeeds: [],
    warnings: [],
  }));
  const leecher = await swarm.addPeer(1);
  const events: EngineEvent[] = [];
  const sub = leecher.session.events();
  void (async () => {
    for await (const e of sub) if (e.type !== "progress" || events.length < 200) events.push(e);
  })();
  const torrent = leecher.session.addMagnet(link, { dir: "/dl" });
  assertEquals(torrent.stats().state, "metadata");
  assertEquals(torrent.name, "from a magnet");
  let done = false;
  torrent.done.then(() => done = true, () => {});
  await swarm.clock.runUntil(() => done, 2 * 60_000, 100);
  assert(done, "magnet download completed");
  assertEquals(torrent.name, "sim.bin");
  const got = events.find((e) => e.type === "metadata-received");
  assertEquals(got && "bytes" in got ? got.bytes : 0, t.meta.infoBytes.length);
  const id = await leecher.disk.open(storageOf(t, "/dl"));
  assertEquals(await leecher.disk.hashPieces(id, 0, 20), t.meta.pieceHashes);
  await swarm.close();
});
