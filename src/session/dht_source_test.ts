import { assertEquals } from "../../tests/assert.ts";
import { VirtualClock } from "../../tests/sim/virtual_clock.ts";
import { SILENT_LOGGER } from "../runtime/types.ts";
import type { PeerAddress } from "../runtime/types.ts";
import type { DhtNode } from "../dht/mod.ts";
import { DhtPeerSource } from "./dht_source.ts";
import { testSettings } from "./settings.ts";
import type { TorrentContext } from "./context.ts";
import type { TorrentRuntime } from "./torrent.ts";

Deno.test("DhtPeerSource asks again at 10 s, 20 s, 40 s... while the torrent has no peer, and starts over", async () => {
  const clock = new VirtualClock();
  const lookups: number[] = [];
  const dht = {
    announce: (
      _hash: Uint8Array,
      _port: number,
      o: { onPeers(p: PeerAddress[], f: PeerAddress): void },
    ) => {
      lookups.push(Math.round((clock.now() - start) / 1000));
      o.onPeers([{ host: "8.8.8.8", port: 1 }], { host: "9.9.9.9", port: 2 });
      const lookup = { closest: [], peers: [], queries: 1, replies: 1, failures: 0, end: "done" };
      return Promise.resolve({ announcedTo: 0, peers: [], lookup });
    },
    stats: { tableSize: 8 },
  } as unknown as DhtNode;
  const settings = testSettings({ enableDht: true });
  const ctx = {
    clock,
    settings,
    logger: SILENT_LOGGER,
    listenPort: () => 6881,
    dht: () => dht,
  } as unknown as TorrentContext;
  const hooks: (() => void)[] = [];
  const added: string[] = [];
  const torrent = {
    infoHash: new Uint8Array(20),
    isStopped: false,
    isPrivate: () => false,
    whenStarved: (fn: () => void) => {
      hooks.push(fn);
      return () => hooks.splice(hooks.indexOf(fn), 1);
    },
    addPeers: (peers: PeerAddress[], source: string, via: PeerAddress) => {
      added.push(`${peers[0]!.host} ${source} via ${via.host}`);
      return 1;
    },
  } as unknown as TorrentRuntime;
  const start = clock.now();
  const source = new DhtPeerSource(ctx, torrent);
  source.start();
  const tickUntil = async (seconds: number) => {
    while (clock.now() - start < seconds * 1000) {
      await clock.advance(1000);
      for (const fn of hooks) fn(); // the torrent is starved: its tick calls the hooks
    }
  };
  await tickUntil(80);
  assertEquals(lookups, [0, 11, 31, 71]);
  assertEquals(added[0], "8.8.8.8 dht via 9.9.9.9");
  // Peers came (no starved ticks for a while), then none again: back to 10 s.
  await clock.advance(30_000);
  const again = clock.now();
  for (let i = 0; i < 12; i++) {
    await clock.advance(1000);
    for (const fn of hooks) fn();
  }
  assertEquals(lookups.filter((s) => s * 1000 > again - start).length, 1);
  source.stop();
});

/** A source over `dht` for a torrent that never starves (only the first round runs). */
function quietSource(clock: VirtualClock, dht: DhtNode): DhtPeerSource {
  const ctx = {
    clock,
    settings: testSettings({ enableDht: true }),
    logger: SILENT_LOGGER,
    listenPort: () => 6881,
    dht: () => dht,
  } as unknown as TorrentContext;
  const torrent = {
    infoHash: new Uint8Array(20),
    isStopped: false,
    isPrivate: () => false,
    whenStarved: () => () => {},
    addPeers: () => 0,
  } as unknown as TorrentRuntime;
  return new DhtPeerSource(ctx, torrent);
}

Deno.test("DhtPeerSource waits for the routing table's first node before its first lookup", async () => {
  const clock = new VirtualClock();
  const lookups: { at: number; nodes: number }[] = [];
  const stats = { tableSize: 0 };
  const dht = {
    announce: () => {
      lookups.push({ at: clock.now(), nodes: stats.tableSize });
      const lookup = { closest: [], peers: [], queries: 1, replies: 1, failures: 0, end: "done" };
      return Promise.resolve({ announcedTo: 0, peers: [], lookup });
    },
    stats,
  } as unknown as DhtNode;
  const start = clock.now();
  const source = quietSource(clock, dht);
  source.start();
  await clock.advance(1_000);
  assertEquals(lookups, [], "no lookup with nobody to ask");
  stats.tableSize = 1; // the bootstrap's first reply
  await clock.advance(300);
  assertEquals(lookups.map((l) => [l.nodes, l.at - start <= 1_300]), [[1, true]]);
  source.stop();
});

Deno.test("DhtPeerSource runs the lookup anyway when no node comes within 30 s", async () => {
  const clock = new VirtualClock();
  let lookups = 0;
  const dht = {
    announce: () => {
      lookups++;
      const lookup = { closest: [], peers: [], queries: 0, replies: 0, failures: 0, end: "done" };
      return Promise.resolve({ announcedTo: 0, peers: [], lookup });
    },
    stats: { tableSize: 0 },
  } as unknown as DhtNode;
  const source = quietSource(clock, dht);
  source.start();
  await clock.advance(29_000);
  assertEquals(lookups, 0);
  await clock.advance(2_000);
  assertEquals(lookups, 1);
  source.stop();
});
