import { assert, assertEquals } from "../../tests/assert.ts";
import type { PeerConnection } from "../net/peer_connection.ts";
import { Bitfield } from "../util/bitfield.ts";
import { SeededRandom } from "../util/prng.ts";
import { SeedSuggester } from "./seed_suggester.ts";

function fakePeer(pieceCount: number, fast = true) {
  const sent: number[] = [];
  const peer = {
    remote: { fastExtension: fast },
    isSeed: false,
    amChoking: false,
    has: new Bitfield(pieceCount),
    send(m: { type: string; index?: number }) {
      if (m.type === "suggest") sent.push(m.index!);
    },
  };
  return { peer: peer as unknown as PeerConnection, sent, raw: peer };
}

function suggester(
  pieceCount: number,
  pieceLength: number,
  have = (_: number) => true,
  availability = (_: number) => 0,
  now = () => 0,
) {
  return new SeedSuggester({
    pieceCount,
    pieceLength,
    random: new SeededRandom(1),
    now,
    hasPiece: have,
    availability,
    active: () => true,
  });
}

Deno.test("SeedSuggester spreads first copies: no piece is suggested twice before all once", () => {
  const s = suggester(32, 256 * 1024); // 1 MiB = 4 pieces per peer
  const peers = Array.from({ length: 8 }, () => fakePeer(32));
  for (const p of peers) s.onUnchoke(p.peer);
  const all = peers.flatMap((p) => p.sent);
  assertEquals(all.length, 32);
  assertEquals(new Set(all).size, 32);
});

Deno.test("SeedSuggester suggests another piece after each one sent, skipping what the peer has", () => {
  const s = suggester(8, 1024 * 1024); // 2 outstanding per peer (the floor)
  const a = fakePeer(8);
  for (const i of [0, 1, 2, 3]) a.raw.has.set(i);
  s.onUnchoke(a.peer);
  assertEquals(a.sent.length, 2);
  assert(a.sent.every((i) => i >= 4));
  s.onPieceSent(a.peer, a.sent[0]!);
  assertEquals(a.sent.length, 3);
  assert(a.sent.every((i) => i >= 4));
});

Deno.test("SeedSuggester stays quiet for peers without the fast extension, seeds, and pieces we lack", () => {
  const s = suggester(4, 16 * 1024, (i) => i === 2);
  const slow = fakePeer(4, false);
  s.onUnchoke(slow.peer);
  assertEquals(slow.sent, []);
  const b = fakePeer(4);
  s.onUnchoke(b.peer);
  assertEquals(b.sent, [2]); // the only piece we have
  s.forget(b.peer);
  const c = fakePeer(4);
  s.onUnchoke(c.peer);
  assertEquals(c.sent, [2]); // forgetting b released its suggestion
});

Deno.test("SeedSuggester.refuses() leaves a piece someone else has or is getting, while a piece only we hold exists", () => {
  const held = new Set([0]); // piece 0 is on another peer already
  const s = suggester(4, 16 * 1024, () => true, (i) => held.has(i) ? 1 : 0);
  const a = fakePeer(4), b = fakePeer(4), plain = fakePeer(4, false);
  assert(s.refuses(a.peer, 0)); // elsewhere already: use our upload for 1..3
  assert(!s.refuses(a.peer, 1)); // first copy: served, and now in flight to a
  assert(!s.refuses(a.peer, 1)); // a piece begun for a is finished
  assert(s.refuses(b.peer, 1)); // b would take a second copy of what a is getting
  assert(!s.refuses(plain.peer, 0)); // a peer without the fast extension cannot be refused
  assert(!s.refuses(b.peer, 2));
  s.forget(a.peer); // a left before finishing piece 1: its first copy is open again
  assert(!s.refuses(b.peer, 1));
  // b is choked: the choke dropped its requests for 1 and 2, so they are open again,
  // except a piece b already has
  b.raw.has.set(2);
  s.onChoke(b.peer);
  assert(!s.refuses(a.peer, 1));
  assert(s.refuses(fakePeer(4).peer, 2));
});

Deno.test("SeedSuggester.refuses() serves everything once every piece is held elsewhere", () => {
  let now = 0;
  const s = suggester(2, 16 * 1024, () => true, () => 1, () => now);
  const a = fakePeer(2);
  assert(!s.refuses(a.peer, 0)); // nothing is ours alone: no screening
  const held = new Set<number>();
  const t = suggester(2, 16 * 1024, () => true, (i) => held.has(i) ? 1 : 0, () => now);
  assert(!t.refuses(a.peer, 0)); // 0 is held nowhere yet: a first copy
  held.add(0);
  assert(t.refuses(fakePeer(2).peer, 0)); // piece 1 is still ours alone
  held.add(1);
  now += 1_000; // the exclusive-piece scan runs at most once a second
  assert(!t.refuses(fakePeer(2).peer, 0));
});

Deno.test("SeedSuggester suggests only first copies while a piece only we hold exists", () => {
  const held = new Set([0, 1]);
  const s = suggester(4, 1024 * 1024, () => true, (i) => held.has(i) ? 1 : 0);
  const a = fakePeer(4);
  s.onUnchoke(a.peer);
  assertEquals(a.sent.sort(), [2, 3]);
});

Deno.test("SeedSuggester forgets a piece sent once the peer announces it (bounded memory per peer)", () => {
  const s = suggester(4, 16 * 1024); // availability 0 everywhere: only in-flight pieces count
  const a = fakePeer(4), b = fakePeer(4);
  assert(!s.refuses(a.peer, 1));
  assert(s.refuses(b.peer, 1)); // a is getting it
  a.raw.has.set(1); // a verified it and sent HAVE
  s.onPieceSent(a.peer, 1);
  assert(!s.refuses(b.peer, 1)); // no longer counted as in flight to a
});
