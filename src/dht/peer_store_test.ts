import { assertEquals } from "../../tests/assert.ts";
import { SeededRandom } from "../util/prng.ts";
import { PeerStore } from "./peer_store.ts";

const MIN = 60_000;
const hash = (n: number) =>
  new Uint8Array(20).fill(0).map((_, i) => i < 4 ? (n >> (8 * i)) & 0xff : 0);
const peer = (n: number) => ({
  host: `11.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`,
  port: 6881,
});

Deno.test("PeerStore keeps at most 2,000 info-hashes, evicting the least recently announced (D4)", () => {
  const store = new PeerStore();
  for (let i = 0; i < 2500; i++) store.announce(hash(i), peer(1), i);
  store.announce(hash(600), peer(2), 3000); // refreshes 600: now most recent
  for (let i = 2500; i < 2600; i++) store.announce(hash(i), peer(1), i);
  assertEquals(store.infoHashCount, 2000);
  const random = new SeededRandom(1);
  assertEquals(store.peers(hash(0), 4000, random), []);
  assertEquals(store.peers(hash(600), 4000, random).length, 2);
  assertEquals(store.peers(hash(2599), 4000, random).length, 1);
  store.assertInvariants();
});

Deno.test("PeerStore keeps at most 500 peers per info-hash and replies with at most 100 (D4)", () => {
  const store = new PeerStore();
  for (let i = 0; i < 10_000; i++) store.announce(hash(1), peer(i), i);
  const random = new SeededRandom(2);
  const reply = store.peers(hash(1), 10_000, random);
  assertEquals(reply.length, 100);
  assertEquals(new Set(reply.map((p) => p.host)).size, 100);
  const newest = new Set(Array.from({ length: 500 }, (_, i) => peer(9500 + i).host));
  assertEquals(reply.every((p) => newest.has(p.host)), true);
  store.assertInvariants();
});

Deno.test("PeerStore keeps at most maxPeers in all, the least recently announced hash losing first (D4)", () => {
  const store = new PeerStore();
  // 200,000 distinct announces over 2,000 hashes (each under its 500-peer cap)
  for (let i = 0; i < 200_000; i++) store.announce(hash(i % 2000), peer(i), i);
  assertEquals(store.peerCount, 100_000);
  assertEquals(store.infoHashCount, 2000);
  store.assertInvariants();
  const small = new PeerStore({ maxPeers: 3 });
  small.announce(hash(1), peer(1), 0);
  small.announce(hash(1), peer(2), 1);
  small.announce(hash(2), peer(3), 2);
  small.announce(hash(2), peer(4), 3); // hash 1 is the least recently announced
  const random = new SeededRandom(4);
  assertEquals(small.peers(hash(1), 4, random), [peer(2)]);
  assertEquals(small.peers(hash(2), 4, random).length, 2);
  small.announce(hash(1), peer(2), 5); // a refresh adds nothing
  assertEquals(small.peerCount, 3);
  small.assertInvariants();
  assertEquals(small.peers(hash(2), 31 * MIN, random), []); // expiry counts down too
  assertEquals(small.peerCount, 1);
  small.assertInvariants();
});

Deno.test("PeerStore forgets announces after 30 minutes; a re-announce refreshes", () => {
  const store = new PeerStore();
  const random = new SeededRandom(3);
  store.announce(hash(1), peer(1), 0);
  store.announce(hash(1), peer(2), 0);
  store.announce(hash(1), peer(1), 20 * MIN);
  assertEquals(store.peers(hash(1), 29 * MIN, random).length, 2);
  assertEquals(store.peers(hash(1), 31 * MIN, random), [peer(1)]);
  store.expire(51 * MIN);
  assertEquals(store.infoHashCount, 0);
  store.assertInvariants();
});
