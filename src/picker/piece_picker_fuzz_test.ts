import { assert, assertEquals } from "../../tests/assert.ts";
import { fuzzCases } from "../../tests/fuzz.ts";
import { Bitfield } from "../util/bitfield.ts";
import { SeededRandom } from "../util/prng.ts";
import { type BlockRequest, type PickPeer, PiecePicker } from "./mod.ts";

interface SimPeer {
  id: string;
  has: Bitfield | "all";
}

function randomPicker(random: SeededRandom): PiecePicker {
  const pieceLength = 16384 * (1 + random.int(3));
  const pieceCount = 1 + random.int(12);
  return new PiecePicker({
    pieceCount,
    pieceLength,
    totalLength: pieceLength * pieceCount - random.int(pieceLength),
    random,
    randomFirstPieces: random.int(3),
  });
}

function randomBitfield(n: number, random: SeededRandom): Bitfield {
  const bf = new Bitfield(n);
  for (let i = 0; i < n; i++) if (random.next() < 0.6) bf.set(i);
  return bf;
}

/** Checks a pick against the rules the picker promises. */
function checkPick(picker: PiecePicker, peer: PickPeer, picks: BlockRequest[], max: number): void {
  assert(picks.length <= max, "too many picks");
  for (const r of picks) {
    assert(!picker.has(r.index) && picker.priorityOf(r.index) > 0, `bad piece ${r.index}`);
    assert(peer.has === "all" || peer.has.has(r.index), "peer lacks the piece");
    if (peer.choked) assert(peer.allowedFast?.has(r.index), "not allowed fast");
    assert(r.begin + r.length <= picker.pieceLengthOf(r.index), "block crosses the piece end");
  }
}

/** Holder count per block; every block is held by at most two peers, never twice by one. */
function holders(picker: PiecePicker, peers: readonly SimPeer[]): Map<string, number> {
  const count = new Map<string, number>();
  for (const peer of peers) {
    const own = picker.requestsOf(peer.id).map((r) => `${r.index}/${r.begin}`);
    assertEquals(new Set(own).size, own.length);
    for (const key of own) count.set(key, (count.get(key) ?? 0) + 1);
  }
  for (const [key, n] of count) assert(n <= 2, `block ${key} requested ${n} times`);
  return count;
}

function step(picker: PiecePicker, peers: SimPeer[], random: SeededRandom): void {
  const n = picker.pieceCount;
  const peer = peers[random.int(peers.length)]!;
  const op = random.int(10);
  if (op <= 3) {
    const choked = random.next() < 0.2;
    const allowedFast = new Set([random.int(n), random.int(n)]);
    const snap: PickPeer = { ...peer, choked, allowedFast, isSnubbed: random.next() < 0.2 };
    const max = random.int(6);
    const before = holders(picker, peers);
    const picks = picker.pickBlocks(snap, max);
    checkPick(picker, snap, picks, max);
    for (const [key, n] of holders(picker, peers)) {
      // strict endgame: a second copy only once no wanted block is free
      if (n === 2 && before.get(key) !== 2) assert(picker.inEndgame, `early duplicate ${key}`);
    }
  } else if (op <= 6) {
    const mine = picker.requestsOf(peer.id);
    const r = mine.length > 0 && random.next() < 0.9
      ? mine[random.int(mine.length)]!
      : { index: random.int(n + 1), begin: 16384 * random.int(3) };
    const receipt = picker.blockReceived(peer.id, r.index, r.begin);
    for (const c of receipt.cancel) assert(c.peerId !== peer.id, "cancel to the sender");
    if (receipt.pieceComplete) {
      if (random.next() < 0.8) picker.pieceVerified(r.index);
      else picker.pieceFailed(r.index);
    }
  } else if (op === 7) {
    const mine = picker.requestsOf(peer.id);
    picker.releaseRequests(peer.id, random.next() < 0.5 ? undefined : mine.slice(0, 1));
  } else if (op === 8) {
    if (peer.has !== "all") {
      const i = random.int(n);
      if (peer.has.set(i)) picker.peerHave(i);
    }
  } else {
    const i = random.int(n);
    if (random.next() < 0.7) picker.setPiecePriority(i, random.int(8));
    else if (random.next() < 0.3) picker.setHave(i);
    else {
      picker.releaseRequests(peer.id);
      if (peer.has === "all") picker.removeSeed();
      else picker.removePeer(peer.has);
      const fresh = { id: `${peer.id}+`, has: randomBitfield(n, random) };
      peers[peers.indexOf(peer)] = fresh;
      picker.addPeer(fresh.has);
    }
  }
  holders(picker, peers);
}

Deno.test("PiecePicker keeps its invariants under seeded random operations", () => {
  fuzzCases("piece_picker", (random) => {
    const picker = randomPicker(random);
    const peers: SimPeer[] = [];
    for (let p = 0; p < 1 + random.int(4); p++) {
      const has = random.next() < 0.25 ? "all" as const : randomBitfield(picker.pieceCount, random);
      if (has === "all") picker.addSeed();
      else picker.addPeer(has);
      peers.push({ id: `p${p}`, has });
    }
    for (let s = 0; s < 60; s++) {
      step(picker, peers, random);
      picker.assertInvariants();
    }
  });
});

Deno.test("PiecePicker downloads a whole torrent from a few peers and ends complete", () => {
  for (let seed = 1; seed <= 20; seed++) {
    const random = new SeededRandom(seed);
    const picker = new PiecePicker({
      pieceCount: 40,
      pieceLength: 65536,
      totalLength: 40 * 65536 - 1000,
      random,
    });
    const peers: SimPeer[] = [{ id: "seed", has: "all" }];
    picker.addSeed();
    for (let p = 0; p < 4; p++) {
      peers.push({ id: `p${p}`, has: randomBitfield(40, random) });
      picker.addPeer(peers[peers.length - 1]!.has as Bitfield);
    }
    let rounds = 0;
    let duplicates = 0;
    for (; rounds < 1000 && !picker.isComplete; rounds++) {
      for (const peer of peers) picker.pickBlocks(peer, 8);
      for (const peer of peers) {
        const mine = picker.requestsOf(peer.id);
        for (const r of mine.slice(0, 1 + random.int(mine.length))) {
          const receipt = picker.blockReceived(peer.id, r.index, r.begin);
          duplicates += receipt.cancel.length;
          if (receipt.pieceComplete) picker.pieceVerified(r.index);
        }
      }
      picker.assertInvariants();
    }
    assert(picker.isComplete, `seed ${seed}: incomplete after ${rounds} rounds`);
    assertEquals(picker.haveCount, 40);
    assertEquals(picker.wantedRemainingBytes, 0);
    for (const peer of peers) assertEquals(picker.requestsOf(peer.id), []);
    assert(duplicates <= 40 * 4, `too many endgame duplicates: ${duplicates}`);
  }
});
