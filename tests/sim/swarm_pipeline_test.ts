/**
 * Request pipelining on a virtual clock: the queue of requests to a peer covers the
 * round trip, so a long link stays full however short the configured queue time.
 */
import { assert } from "../assert.ts";
import { makeSimTorrent, seededDisk, SimSwarm } from "./swarm_harness.ts";

Deno.test("swarm: a 1.6 s round trip still fills a 1 MiB/s link (the request queue covers the RTT)", async () => {
  const mib = 32;
  const t = makeSimTorrent(mib * 16, 64 * 1024, 21);
  const swarm = new SimSwarm({ seed: 21, latencyMs: 800, uploadBytesPerSecond: 1024 * 1024 });
  const seeder = await swarm.addPeer(0, {}, await seededDisk(t, "/seed"));
  seeder.torrent = await swarm.clock.runUntil(
    seeder.session.add(t.meta, { dir: "/seed", seed: true }),
    10_000,
  );
  const leecher = await swarm.addPeer(1);
  const start = swarm.clock.now();
  leecher.torrent = await swarm.clock.runUntil(
    leecher.session.add(t.meta, { dir: "/d", peers: [seeder.address] }),
    10_000,
  );
  await swarm.clock.runUntil(leecher.torrent.done, 10 * 60_000);
  const seconds = (swarm.clock.now() - start) / 1000;
  await swarm.close();
  // 32 s of payload plus ~5 round trips of connect, handshake, interest and unchoke, and
  // the slow start. Measured 44.6 s; a queue of 300 ms of data without the round-trip
  // rule took 428 s (the rate, and with it the queue, shrank to 5 blocks per round trip).
  assert(seconds < mib * 1.2 + 10, `${seconds} s for ${mib} MiB at 1 MiB/s`);
});
