/**
 * Peer exchange (BEP 11) in a simulated swarm: a leecher that knows only a peer with no
 * data finds the seeder through PEX; with a private torrent (BEP 27) it never does.
 */
import { assert, assertEquals } from "../assert.ts";
import { makeSimTorrent, seededDisk, SimSwarm } from "./swarm_harness.ts";
import { buildTorrent } from "../../src/metainfo/create.ts";
import { parseTorrent } from "../../src/metainfo/mod.ts";

async function pexRun(isPrivate: boolean): Promise<{ done: boolean; peersKnown: number }> {
  const base = makeSimTorrent(16, 32 * 1024, 9);
  const meta = isPrivate
    ? parseTorrent(buildTorrent({
      name: "sim.bin",
      files: [{ path: [], length: base.meta.totalLength }],
      pieceLength: base.meta.pieceLength,
      pieceHashes: base.meta.pieceHashes,
      isPrivate: true,
    }))
    : base.meta;
  const t = { meta, pieces: base.pieces };
  const swarm = new SimSwarm({ seed: 9, latencyMs: 10, uploadBytesPerSecond: 256 * 1024 });
  const seeder = await swarm.addPeer(0, {}, await seededDisk(t, "/seed"));
  await swarm.clock.runUntil(seeder.session.add(meta, { dir: "/seed", seed: true }), 5000);
  // The middleman barely downloads (one burst, then 1 byte/s): it stays connected to the
  // seeder while holding almost nothing.
  const middle = await swarm.addPeer(1, { maxDownloadBytesPerSecond: 1 });
  await swarm.clock.runUntil(
    middle.session.add(meta, { dir: "/m", peers: [seeder.address] }),
    5000,
  );
  const leecher = await swarm.addPeer(2);
  const torrent = await swarm.clock.runUntil(
    leecher.session.add(meta, { dir: "/l", peers: [middle.address] }),
    5000,
  );
  let done = false;
  torrent.done.then(() => done = true, () => {});
  await swarm.clock.runUntil(() => done, 3 * 60_000, 250);
  const peersKnown = torrent.stats().knownPeers;
  await swarm.close();
  return { done, peersKnown };
}

Deno.test("swarm PEX: a leecher that knows only an empty peer finds the seeder and completes", async () => {
  const r = await pexRun(false);
  assert(r.done, "completed through a peer learned by PEX");
  assert(r.peersKnown >= 2, `peers known: ${r.peersKnown}`);
});

Deno.test("swarm PEX: a private torrent never learns peers by PEX (BEP 27)", async () => {
  const r = await pexRun(true);
  assertEquals(r.done, false);
  assertEquals(r.peersKnown, 1);
});
