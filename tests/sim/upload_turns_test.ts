/**
 * Upload turns under an upload limit: the seed sends one peer's piece block after block
 * before the next peer's turn, so a piece is whole (and the peer can share it) after one
 * piece's time at the limit, not after one block to every other peer in between; and every
 * peer still gets its turn.
 */
import { assert } from "../assert.ts";
import { makeSimTorrent, seededDisk, SimSwarm } from "./swarm_harness.ts";

const PIECE = 64 * 1024;
const LIMIT = 256 * 1024; // bytes/s: a piece takes 250 ms at the limit

/** Leechers of one limited seed (no other peers): when each verified its first piece, in ms. */
async function firstPieceTimes(leecherCount: number, seed: number): Promise<number[]> {
  const t = makeSimTorrent(32, PIECE, seed);
  // The line is much faster than the limit: the limit alone paces the seed's uploads.
  const swarm = new SimSwarm({ seed, latencyMs: 5, uploadBytesPerSecond: 8 * LIMIT });
  const seeder = await swarm.addPeer(
    0,
    { maxUploadBytesPerSecond: LIMIT, seedSuggestions: false },
    await seededDisk(t, "/seed"),
  );
  seeder.torrent = await swarm.clock.runUntil(
    seeder.session.add(t.meta, { dir: "/seed", seed: true }),
    5000,
  );
  const firsts: number[] = [];
  const start = swarm.clock.now();
  const leechers = [];
  for (let n = 1; n <= leecherCount; n++) leechers.push(await swarm.addPeer(n));
  // All ask at once.
  const adds = leechers.map((l, i) =>
    l.session.add(t.meta, { dir: `/d${i}`, peers: [seeder.address] })
  );
  const torrents = await swarm.clock.runUntil(Promise.all(adds), 5000);
  for (const torrent of torrents) {
    void (async () => {
      for await (const e of torrent.events({ categories: ["piece"] })) {
        if (e.type === "piece-verified") {
          firsts.push(swarm.clock.now() - start);
          return;
        }
      }
    })();
  }
  await swarm.clock.runUntil(() => firsts.length === leecherCount, 30_000, 10);
  await swarm.close();
  return firsts.sort((a, b) => a - b);
}

Deno.test("upload limit: one peer's piece goes out whole before the next peer's turn, and every peer gets a turn", async () => {
  for (const seed of [1, 2]) {
    const firsts = await firstPieceTimes(8, seed);
    assert(firsts.length === 8, `seed ${seed}: every leecher got a piece (${firsts})`);
    // The bucket's burst (1 s of the limit) goes at once to the first 4 that ask; then at
    // the limit one piece is whole every 250 ms. Round-robin by block spreads the rest over
    // the 4 other peers, so each of their first pieces completes after ~700-1,150 ms.
    assert(firsts[5]! < 750, `seed ${seed}: 6th first piece at ${firsts[5]} ms (${firsts})`);
    assert(firsts[7]! < 1500, `seed ${seed}: last first piece at ${firsts[7]} ms (${firsts})`);
  }
});
