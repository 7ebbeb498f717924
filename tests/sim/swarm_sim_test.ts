import { assert, assertEquals } from "../assert.ts";
import { makeSimTorrent, seededDisk, SimSwarm, storageOf } from "./swarm_harness.ts";
import { SeededRandom } from "../../src/util/prng.ts";
import type { EngineEvent } from "../../src/session/events.ts";

Deno.test("Session swarm: 1 seed and 20 leechers all complete with verified data", async () => {
  const t = makeSimTorrent(48, 64 * 1024, 7);
  const swarm = new SimSwarm({ seed: 7, latencyMs: 10, uploadBytesPerSecond: 2 * 1024 * 1024 });
  const seeder = await swarm.addPeer(0, {}, await seededDisk(t, "/seed"));
  seeder.torrent = await swarm.clock.runUntil(
    seeder.session.add(t.meta, { dir: "/seed", seed: true }),
    10_000,
  );
  assertEquals(seeder.torrent.stats().piecesHave, 48);
  const leechers = [];
  for (let n = 1; n <= 20; n++) leechers.push(await swarm.addPeer(n));
  const random = new SeededRandom(99);
  let completed = 0;
  const verified: number[] = [];
  for (const [i, l] of leechers.entries()) {
    // Like a tracker reply: the seed plus a few random other leechers.
    const others = leechers.filter((_, j) => j !== i && random.next() < 0.2).map((p) => p.address);
    l.torrent = await swarm.clock.runUntil(
      l.session.add(t.meta, { dir: `/dl${i}`, peers: [seeder.address, ...others] }),
      10_000,
    );
    l.torrent.done.then(() => completed++, () => {});
    void (async () => {
      let n = 0;
      for await (
        const e of l.torrent!.events({ categories: ["piece"] }) as AsyncIterable<EngineEvent>
      ) {
        if (e.type === "piece-verified") n++;
      }
      verified.push(n);
    })();
  }
  const elapsed = await swarm.runChecked(() => completed === 20, 10 * 60_000, 250);
  assertEquals(completed, 20, `only ${completed} of 20 completed in ${elapsed} ms`);
  if (Deno.env.get("SIM_REPORT")) {
    console.log(
      `virtual ms ${elapsed}, seeder uploaded ${
        seeder.torrent.stats().bytesUploaded / t.meta.totalLength
      } copies`,
    );
  }
  // Leechers traded with each other: the seeder uploaded less than 20 full copies.
  const seedUp = seeder.torrent.stats().bytesUploaded;
  assert(seedUp < 20 * t.meta.totalLength, `seeder uploaded ${seedUp}`);
  for (const l of leechers) {
    const id = await l.disk.open(storageOf(t, `/dl${leechers.indexOf(l)}`));
    const hashes = await l.disk.hashPieces(id, 0, t.meta.pieceCount);
    assertEquals(hashes, t.meta.pieceHashes);
  }
  await swarm.close();
});
