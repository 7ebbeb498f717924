import { assert, assertEquals } from "../../tests/assert.ts";
import { Bitfield } from "../util/bitfield.ts";
import { SeededRandom } from "../util/prng.ts";
import { type SeedPeer, SeedSuggester } from "./seed_suggester.ts";

interface FakePeer {
  readonly peer: SeedPeer;
  readonly sent: number[];
  readonly raw: { readonly has: Bitfield };
}

let nextId = 0;
function fakePeer(pieceCount: number, fast = true): FakePeer {
  const peer = {
    id: `p${nextId++}`,
    fast,
    isSeed: false,
    unchoked: true,
    has: new Bitfield(pieceCount),
  };
  return { peer, sent: [], raw: peer };
}

function suggester(
  pieceCount: number,
  pieceLength: number,
  have = (_: number) => true,
  availability = (_: number) => 0,
  now = () => 0,
) {
  const core = new SeedSuggester({
    pieceCount,
    pieceLength,
    random: new SeededRandom(1),
    now,
    hasPiece: have,
    availability,
    active: () => true,
  });
  // The core returns the suggestions; the fakes collect what a driver would send.
  const checked = <T>(value: T): T => {
    core.assertInvariants();
    return value;
  };
  return {
    onUnchoke: (p: FakePeer) => checked(p.sent.push(...core.onUnchoke(p.peer))),
    onPieceSent: (p: FakePeer, i: number) => checked(p.sent.push(...core.onPieceSent(p.peer, i))),
    refuses: (p: FakePeer, i: number) => checked(core.refuses(p.peer, i)),
    onChoke: (p: FakePeer) => checked(core.onChoke(p.peer)),
    forget: (p: FakePeer) => checked(core.forget(p.peer.id)),
  };
}

Deno.test("SeedSuggester spreads first copies: no piece is suggested twice before all once", () => {
  const s = suggester(32, 256 * 1024); // 1 MiB = 4 pieces per peer
  const peers = Array.from({ length: 8 }, () => fakePeer(32));
  for (const p of peers) s.onUnchoke(p);
  const all = peers.flatMap((p) => p.sent);
  assertEquals(all.length, 32);
  assertEquals(new Set(all).size, 32);
});

Deno.test("SeedSuggester suggests another piece after each one sent, skipping what the peer has", () => {
  const s = suggester(8, 1024 * 1024); // 2 outstanding per peer (the floor)
  const a = fakePeer(8);
  for (const i of [0, 1, 2, 3]) a.raw.has.set(i);
  s.onUnchoke(a);
  assertEquals(a.sent.length, 2);
  assert(a.sent.every((i) => i >= 4));
  s.onPieceSent(a, a.sent[0]!);
  assertEquals(a.sent.length, 3);
  assert(a.sent.every((i) => i >= 4));
});

Deno.test("SeedSuggester stays quiet for peers without the fast extension, seeds, and pieces we lack", () => {
  const s = suggester(4, 16 * 1024, (i) => i === 2);
  const slow = fakePeer(4, false);
  s.onUnchoke(slow);
  assertEquals(slow.sent, []);
  const b = fakePeer(4);
  s.onUnchoke(b);
  assertEquals(b.sent, [2]); // the only piece we have
  s.forget(b);
  const c = fakePeer(4);
  s.onUnchoke(c);
  assertEquals(c.sent, [2]); // forgetting b released its suggestion
});

Deno.test("SeedSuggester.refuses() leaves a piece someone else has or is getting, while a piece only we hold exists", () => {
  const held = new Set([0]); // piece 0 is on another peer already
  const s = suggester(4, 16 * 1024, () => true, (i) => held.has(i) ? 1 : 0);
  const a = fakePeer(4), b = fakePeer(4), plain = fakePeer(4, false);
  assert(s.refuses(a, 0)); // elsewhere already: use our upload for 1..3
  assert(!s.refuses(a, 1)); // first copy: served, and now in flight to a
  assert(!s.refuses(a, 1)); // a piece begun for a is finished
  assert(s.refuses(b, 1)); // b would take a second copy of what a is getting
  assert(!s.refuses(plain, 0)); // a peer without the fast extension cannot be refused
  assert(!s.refuses(b, 2));
  s.forget(a); // a left before finishing piece 1: its first copy is open again
  assert(!s.refuses(b, 1));
  // b is choked: the choke dropped its requests for 1 and 2, so they are open again,
  // except a piece b already has
  b.raw.has.set(2);
  s.onChoke(b);
  assert(!s.refuses(a, 1));
  assert(s.refuses(fakePeer(4), 2));
});

Deno.test("SeedSuggester.refuses() serves a peer that asks again for a refused piece at once (PW7)", () => {
  let now = 0;
  const held = new Set([0]);
  const s = suggester(4, 16 * 1024, () => true, (i) => held.has(i) ? 1 : 0, () => now);
  const a = fakePeer(4), b = fakePeer(4);
  assert(s.refuses(a, 0));
  assert(!s.refuses(a, 0)); // it ignores the hint (libtorrent asks again at once)
  assert(!s.refuses(a, 0)); // and is now getting it
  assert(s.refuses(b, 0)); // another peer is still refused
  now += 5_000; // b waited for the refusal to lapse, as our leecher does: refused again
  assert(s.refuses(b, 0));
  s.forget(b);
  assert(s.refuses(fakePeer(4), 0));
});

Deno.test("SeedSuggester.refuses() serves everything once every piece is held elsewhere", () => {
  let now = 0;
  const s = suggester(2, 16 * 1024, () => true, () => 1, () => now);
  const a = fakePeer(2);
  assert(!s.refuses(a, 0)); // nothing is ours alone: no screening
  const held = new Set<number>();
  const t = suggester(2, 16 * 1024, () => true, (i) => held.has(i) ? 1 : 0, () => now);
  assert(!t.refuses(a, 0)); // 0 is held nowhere yet: a first copy
  held.add(0);
  assert(t.refuses(fakePeer(2), 0)); // piece 1 is still ours alone
  held.add(1);
  now += 1_000; // the exclusive-piece scan runs at most once a second
  assert(!t.refuses(fakePeer(2), 0));
});

Deno.test("SeedSuggester suggests only first copies while a piece only we hold exists", () => {
  const held = new Set([0, 1]);
  const s = suggester(4, 1024 * 1024, () => true, (i) => held.has(i) ? 1 : 0);
  const a = fakePeer(4);
  s.onUnchoke(a);
  assertEquals(a.sent.sort(), [2, 3]);
});

Deno.test("SeedSuggester forgets a piece sent once the peer announces it (bounded memory per peer)", () => {
  const s = suggester(4, 16 * 1024); // availability 0 everywhere: only in-flight pieces count
  const a = fakePeer(4), b = fakePeer(4);
  assert(!s.refuses(a, 1));
  assert(s.refuses(b, 1)); // a is getting it
  a.raw.has.set(1); // a verified it and sent HAVE
  s.onPieceSent(a, 1);
  assert(!s.refuses(b, 1)); // no longer counted as in flight to a
});
