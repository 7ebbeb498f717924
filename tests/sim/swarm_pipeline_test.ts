/**
 * Request pipelining on a virtual clock: the queue of requests to a peer covers the
 * round trip, so a long link stays full however short the configured queue time, on
 * connections we dialed and on those the peer dialed.
 */
import { assert } from "../assert.ts";
import { makeSimTorrent, seededDisk, SimSwarm } from "./swarm_harness.ts";

/** Seconds a leecher takes to fetch `mib` MiB from a seed over a 1.6 s RTT, 1 MiB/s link. */
async function longLinkSeconds(mib: number, leecherDials: boolean): Promise<number> {
  const t = makeSimTorrent(mib * 16, 64 * 1024, 21);
  const swarm = new SimSwarm({ seed: 21, latencyMs: 800, uploadBytesPerSecond: 1024 * 1024 });
  // Plain BitTorrent: what is measured is the request pipeline, not MSE's extra round trip.
  const plain = { encryption: "plaintext" } as const;
  const seeder = await swarm.addPeer(0, plain, await seededDisk(t, "/seed"));
  const leecher = await swarm.addPeer(1, plain);
  const start = swarm.clock.now();
  seeder.torrent = await swarm.clock.runUntil(
    seeder.session.add(t.meta, {
      dir: "/seed",
      seed: true,
      peers: leecherDials ? [] : [leecher.address],
    }),
    10_000,
  );
  leecher.torrent = await swarm.clock.runUntil(
    leecher.session.add(t.meta, { dir: "/d", peers: leecherDials ? [seeder.address] : [] }),
    10_000,
  );
  await swarm.clock.runUntil(leecher.torrent.done, 10 * 60_000);
  const seconds = (swarm.clock.now() - start) / 1000;
  await swarm.close();
  return seconds;
}

// 32 s of payload plus ~5 round trips of connect, handshake, interest and unchoke, and
// the slow start. A queue of 300 ms of data without the round-trip rule took 428 s: the
// rate, and with it the queue, shrank to 5 blocks per round trip.
Deno.test("swarm: a 1.6 s round trip still fills a 1 MiB/s link we dialed (RTT from the connect)", async () => {
  const seconds = await longLinkSeconds(32, true);
  assert(seconds < 32 * 1.2 + 10, `${seconds} s for 32 MiB at 1 MiB/s`); // measured 44.6 s
});

Deno.test("swarm: a 1.6 s round trip still fills a 1 MiB/s link the peer dialed (RTT from the handshake)", async () => {
  const seconds = await longLinkSeconds(32, false);
  assert(seconds < 32 * 1.2 + 10, `${seconds} s for 32 MiB at 1 MiB/s`); // measured 45.3 s
});
