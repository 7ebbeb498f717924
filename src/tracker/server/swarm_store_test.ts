import { assert, assertEquals, assertThrows } from "../../../tests/assert.ts";
import { SeededRandom } from "../../util/prng.ts";
import { TrackerFailureError } from "../tracker_errors.ts";
import { addressOf, compactPeersOf } from "./stored_peer.ts";
import { type PeerAnnounce, SwarmStore, type SwarmStoreOptions } from "./swarm_store.ts";

const HASH = new Uint8Array(20).fill(1);
const OTHER = new Uint8Array(20).fill(2);

function id(n: number): Uint8Array {
  const out = new Uint8Array(20);
  new DataView(out.buffer).setUint32(0, n);
  return out;
}

function peer(n: number, extra: Partial<PeerAnnounce> = {}): PeerAnnounce {
  return { ip: `10.0.${n >> 8}.${n & 255}`, port: 1000 + n, peerId: id(n), left: 5, ...extra };
}

function store(options: Partial<SwarmStoreOptions> = {}): SwarmStore {
  return new SwarmStore({ random: new SeededRandom(1), intervalS: 100, ...options });
}

Deno.test("SwarmStore.announce() returns other peers, never the asker, with counts", () => {
  const s = store();
  assertEquals(s.announce(0, HASH, peer(1)).peers, []);
  s.announce(0, HASH, peer(2, { left: 0 }));
  const result = s.announce(0, HASH, peer(3));
  assertEquals([result.complete, result.incomplete, result.intervalS, result.minIntervalS], [
    1,
    2,
    100,
    60,
  ]);
  assertEquals(result.peers.map(addressOf).sort((a, b) => a.port - b.port), [
    { host: "10.0.0.1", port: 1001 },
    { host: "10.0.0.2", port: 1002 },
  ]);
  s.assertInvariants();
});

Deno.test("SwarmStore.announce() caps numwant at 100 and picks a random selection (TS4)", () => {
  const s = store();
  for (let n = 0; n < 300; n++) s.announce(0, HASH, peer(n));
  const cases: [number | undefined, number][] = [[undefined, 50], [-1, 50], [0, 0], [7, 7], [
    1e9,
    100,
  ]];
  for (const [numwant, expected] of cases) {
    const result = s.announce(0, HASH, peer(5, { numwant }));
    assertEquals(result.peers.length, expected, String(numwant));
    assert(!result.peers.some((p) => addressOf(p).port === 1005), "asker returned");
    assertEquals(new Set(result.peers).size, expected);
  }
  const seen = new Set<number>();
  for (let i = 0; i < 20; i++) {
    for (const p of s.announce(0, HASH, peer(5, { numwant: 10 })).peers) {
      seen.add(addressOf(p).port);
    }
  }
  assert(seen.size > 100, `only ${seen.size} distinct peers in 20 selections`);
  s.assertInvariants();
});

Deno.test("SwarmStore keys peers by source IP plus key, so nobody stops another host (TS6)", () => {
  const s = store();
  s.announce(0, HASH, peer(1, { key: "k1" }));
  const victim = peer(1, { key: "k1" });
  s.announce(0, HASH, { ...victim, ip: "10.66.66.66", event: "stopped" });
  assertEquals(s.scrape(HASH).incomplete, 1);
  s.announce(0, HASH, { ...victim, port: 2222 }); // same host, new port: updated, not duplicated
  assertEquals(s.scrape(HASH).incomplete, 1);
  assertEquals(addressOf(s.announce(0, HASH, peer(9)).peers[0]!).port, 2222);
  s.announce(0, HASH, { ...victim, event: "stopped" });
  assertEquals(s.scrape(HASH).incomplete, 1);
  s.assertInvariants();
});

Deno.test("SwarmStore.announce() refuses port 0, bad ids and unlisted hashes", () => {
  const s = store({ allowlist: ["01".repeat(20)] });
  const cases: [() => unknown, string][] = [
    [() => s.announce(0, HASH, peer(1, { port: 0 })), "Invalid port 0"],
    [() => s.announce(0, HASH, peer(1, { port: 65536 })), "Invalid port"],
    [() => s.announce(0, HASH, peer(1, { peerId: new Uint8Array(19) })), "Invalid peer_id"],
    [() => s.announce(0, new Uint8Array(21), peer(1)), "Invalid info_hash"],
    [() => s.announce(0, OTHER, peer(1)), "not authorized"],
    [() => s.announce(0, HASH, peer(1, { ip: "evil.example" })), "Invalid source address"],
  ];
  for (const [fn, message] of cases) assertThrows(fn, TrackerFailureError, message);
  assertEquals([s.isAllowed(HASH), s.isAllowed(OTHER)], [true, false]);
  s.announce(0, HASH, peer(1));
  assertThrows(() => store({ allowlist: ["abc"] }), SyntaxError);
});

Deno.test("SwarmStore.sweep() expires peers that missed their announces (2 × interval)", () => {
  const s = store({ intervalS: 1800 }); // TTL 3,600 s
  s.announce(0, HASH, peer(1));
  s.announce(1_000_000, HASH, peer(2));
  s.announce(1_500_000, OTHER, peer(3));
  assertEquals(s.sweep(3_600_999), 0);
  assertEquals(s.sweep(3_601_000), 1);
  assertEquals(s.scrape(HASH).incomplete, 1);
  s.announce(2_500_000, HASH, peer(2)); // re-announce refreshes
  assertEquals(s.sweep(5_101_000), 1); // peer 3 (OTHER) expired, its swarm removed
  assertEquals(s.stats().swarms, 1);
  assertEquals(s.stats().evicted, 2);
  s.assertInvariants();
});

Deno.test("SwarmStore keeps a peer 900 s however short the interval: clients announce every 60–300 s", () => {
  // `tracker --interval 10` once dropped peers after 20 s, while libtorrent waits at least
  // 300 s between announces (min_announce_interval), Transmission 120 s and we 60 s.
  const s = store({ intervalS: 60 });
  assertEquals([s.settings.intervalS, s.settings.minIntervalS, s.settings.peerTtlS], [60, 60, 900]);
  s.announce(0, HASH, peer(1, { left: 0 })); // a libtorrent seeder, announcing every 300 s
  for (let t = 300_000; t <= 3_000_000; t += 300_000) {
    assertEquals(s.sweep(t - 1), 0);
    if (t !== 600_000) s.announce(t, HASH, peer(1, { left: 0 })); // one announce lost at 600 s
    assertEquals(s.scrape(HASH).complete, 1, `at ${t / 1000} s`);
  }
  assertEquals(s.sweep(3_901_000), 1); // gone once 900 s passed since its last announce
  for (const bad of [{ intervalS: 10 }, { intervalS: 59 }, { peerTtlS: 120 }]) {
    assertThrows(() => store(bad), RangeError);
  }
});

Deno.test("SwarmStore caps swarms, peers per swarm and total peers with LRU eviction (TS4)", () => {
  const s = store({ maxSwarms: 3, maxPeersPerSwarm: 4, maxPeers: 10 });
  for (let n = 0; n < 6; n++) s.announce(n, id(n), peer(n));
  assertEquals(s.stats().swarms, 3);
  assertEquals([s.scrape(id(0)).incomplete, s.scrape(id(5)).incomplete], [0, 1]);
  for (let n = 0; n < 10; n++) s.announce(100 + n, HASH, peer(n));
  assertEquals(s.scrape(HASH).incomplete, 4);
  const left = s.announce(200, HASH, peer(50, { numwant: 10 })).peers.map((p) => addressOf(p).port)
    .sort();
  assertEquals(left, [1007, 1008, 1009]); // the stalest were evicted
  const t = store({ maxPeers: 5 });
  for (let n = 0; n < 8; n++) t.announce(n, id(n % 2), peer(n));
  assertEquals(t.stats().peers, 5);
  t.assertInvariants();
  s.assertInvariants();
});

Deno.test("SwarmStore tracks seeders, leechers and completed, and serves IPv6 peers", () => {
  const s = store();
  s.announce(0, HASH, peer(1));
  s.announce(0, HASH, peer(1, { left: 0, event: "completed" }));
  s.announce(0, HASH, { ip: "2001:db8::5", port: 7, peerId: id(7), left: 1 });
  s.announce(0, HASH, { ip: "::ffff:10.0.0.9", port: 9, peerId: id(9), left: 1 });
  assertEquals(s.scrape(HASH), { complete: 1, incomplete: 2, downloaded: 1 });
  const v6 = s.announce(0, HASH, { ip: "2001:db8::6", port: 8, peerId: id(8), left: 1 }, 6).peers;
  assertEquals(v6.map(addressOf), [{ host: "2001:db8::5", port: 7 }]);
  const any = s.announce(0, HASH, { ip: "2001:db8::6", port: 8, peerId: id(8), left: 1 }).peers;
  assertEquals(any.length, 3);
  assertEquals(compactPeersOf(any, 4).length, 12);
  assertEquals(compactPeersOf(any, 6).length, 18);
  assertEquals(s.stats(), {
    swarms: 1,
    peers: 4,
    seeders: 1,
    leechers: 3,
    announces: 6,
    scrapes: 1,
    evicted: 0,
  });
  assertEquals(s.topSwarms(5), [{
    infoHash: "01".repeat(20),
    complete: 1,
    incomplete: 3,
    downloaded: 1,
  }]);
  s.assertInvariants();
});
