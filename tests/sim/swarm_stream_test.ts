/**
 * Streaming through a whole session on a virtual clock: a reader in the middle of a file
 * gets its first bytes long before the download ends (its pieces carry deadlines and go
 * first), a second reader seeks elsewhere at the same time, and every byte read equals
 * the source.
 */
import { assert, assertEquals } from "../assert.ts";
import { concatBytes } from "../../src/util/bytes.ts";
import { makeSimTorrent, seededDisk, SimSwarm } from "./swarm_harness.ts";

Deno.test("swarm: readers in the middle of a downloading file get their bytes first", async () => {
  const t = makeSimTorrent(64, 64 * 1024, 31); // 4 MiB
  const source = concatBytes(t.pieces);
  // 256 KiB/s uplinks: the whole torrent takes about 16 s
  const swarm = new SimSwarm({ seed: 31, uploadBytesPerSecond: 256 * 1024 });
  try {
    const seeder = await swarm.addPeer(0, {}, await seededDisk(t, "/seed"));
    const leecher = await swarm.addPeer(1, { streamReadAheadBytes: 512 * 1024 });
    const start = swarm.clock.now();
    seeder.torrent = await swarm.clock.runUntil(
      seeder.session.add(t.meta, { dir: "/seed", seed: true }),
      10_000,
    );
    const torrent = leecher.torrent = await swarm.clock.runUntil(
      leecher.session.add(t.meta, { dir: "/d", peers: [seeder.address] }),
      10_000,
    );
    const firstByteAt: number[] = [];
    const read = async (startByte: number, endByte: number, slot: number) => {
      const parts: Uint8Array[] = [];
      for await (const chunk of torrent.createReadStream(0, { start: startByte, end: endByte })) {
        firstByteAt[slot] ??= swarm.clock.now() - start;
        parts.push(chunk);
      }
      return concatBytes(parts);
    };
    const mid = 3 * 1024 * 1024 + 12_345;
    const reads = Promise.all([read(mid, mid + 600_000, 0), read(700_000, 900_000, 1)]);
    const [a, b] = await swarm.clock.runUntil(reads, 60_000);
    assertEquals(a, source.subarray(mid, mid + 600_001));
    assertEquals(b, source.subarray(700_000, 900_001));
    const readDone = swarm.clock.now() - start;
    await swarm.clock.runUntil(torrent.done, 60_000);
    const done = swarm.clock.now() - start;
    // measured: first bytes after 0.36 and 0.63 s, both reads done at 4.2 s, the download at 16.2 s
    for (const at of firstByteAt) assert(at < 3_000, `first byte after ${at} ms (done ${done} ms)`);
    assert(readDone < done * 0.6, `reads took ${readDone} ms, the download ${done} ms`);
    swarm.assertInvariants();
  } finally {
    await swarm.close();
  }
});
