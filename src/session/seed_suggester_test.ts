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

function suggester(pieceCount: number, pieceLength: number, have = (_: number) => true) {
  return new SeedSuggester({
    pieceCount,
    pieceLength,
    random: new SeededRandom(1),
    now: () => 0,
    hasPiece: have,
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
