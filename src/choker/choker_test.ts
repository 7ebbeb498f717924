import { assert, assertEquals, assertThrows } from "../../tests/assert.ts";
import { SeededRandom } from "../util/prng.ts";
import { type ChokeDecision, Choker, type PeerSample } from "./mod.ts";

function peer(id: string, patch: Partial<PeerSample> = {}): PeerSample {
  return {
    id,
    interested: true,
    amChoking: true,
    downloadBps: 0,
    uploadBps: 0,
    isSeed: false,
    snubbed: false,
    connectedAt: -1e9,
    ...patch,
  };
}

/** The peers after the driver carried out `d`. */
function apply(peers: PeerSample[], d: ChokeDecision): PeerSample[] {
  return peers.map((p) =>
    d.unchoke.includes(p.id)
      ? { ...p, amChoking: false }
      : d.choke.includes(p.id)
      ? { ...p, amChoking: true }
      : p
  );
}

const unchoked = (peers: PeerSample[]) => peers.filter((p) => !p.amChoking).map((p) => p.id).sort();

/** Rate fixture: "a9 b5 c1" = peer a at 9 kB/s, … */
function rated(spec: string, field: "downloadBps" | "uploadBps" = "downloadBps"): PeerSample[] {
  return spec.split(" ").map((s) => peer(s[0]!, { [field]: Number(s.slice(1)) * 1000 }));
}

// [name, peers "id+kB/s", patch per id, expected regular peers]
const slotCases: [string, string, Record<string, Partial<PeerSample>>, string][] = [
  ["gives the slots to the best downloaders", "a1 b9 c5 d7 e3 f8", {}, "b c d f"],
  ["never unchokes seeds", "a1 b9 c5 d7 e3", { b: { isSeed: true } }, "a c d e"],
  ["skips uninterested peers", "a1 b9 c5 d7 e3", { d: { interested: false } }, "a b c e"],
  ["takes a snubbed peer's slot away", "a1 b9 c5 d7 e3", { b: { snubbed: true } }, "a c d e"],
];
for (const [name, spec, patches, expectedSpec] of slotCases) {
  Deno.test(`Choker.rechoke() ${name}`, () => {
    const choker = new Choker({ random: new SeededRandom(5) });
    const peers = rated(spec).map((p) => ({ ...p, ...patches[p.id] }));
    const expected = expectedSpec.split(" ");
    const d = choker.rechoke(0, peers, false);
    const regular = d.unchoke.filter((id) => id !== d.optimistic).sort();
    assertEquals(regular, expected);
    assert(d.optimistic === undefined || !expected.includes(d.optimistic));
    choker.assertInvariants();
  });
}

Deno.test("Choker.rechoke() ranks by our upload when seeding", () => {
  const choker = new Choker({ regularSlots: 2, random: new SeededRandom(1) });
  const peers = rated("a1 b2 c3 d4", "uploadBps").map((p, i) => ({
    ...p,
    downloadBps: 10_000 - i,
    snubbed: true, // meaningless while seeding
  }));
  const d = choker.rechoke(0, peers, true);
  assertEquals(d.unchoke.slice(0, 2), ["d", "c"]);
});

Deno.test("Choker.rechoke() returns only changes", () => {
  const choker = new Choker({ random: new SeededRandom(2) });
  let peers = rated("a1 b9 c5 d7 e3 f8 g2");
  peers[0] = { ...peers[0]!, amChoking: false }; // "a" is unchoked but loses its slot
  const first = choker.rechoke(0, peers, false);
  assertEquals(first.choke, first.optimistic === "a" ? [] : ["a"]);
  peers = apply(peers, first);
  const again = choker.rechoke(10_000, peers, false);
  assertEquals(again, { unchoke: [], choke: [], optimistic: first.optimistic });
});

Deno.test("Choker.rechoke() keeps equal-rate slots stable between rounds", () => {
  const choker = new Choker({ random: new SeededRandom(9) });
  let peers = rated("a0 b0 c0 d0 e0 f0 g0 h0");
  peers = apply(peers, choker.rechoke(0, peers, false));
  const before = unchoked(peers);
  for (let t = 10_000; t < 30_000; t += 10_000) {
    const d = choker.rechoke(t, peers, false);
    assertEquals([d.unchoke, d.choke], [[], []]);
  }
  assertEquals(before.length, 5);
});

Deno.test("Choker.rechoke() chokes a snubbed peer at the next rechoke", () => {
  const choker = new Choker({ regularSlots: 1, random: new SeededRandom(3) });
  let peers = rated("a9 b1 c1");
  peers = apply(peers, choker.rechoke(0, peers, false));
  assertEquals(unchoked(peers).includes("a"), true);
  const optimistic = choker.optimistic!;
  peers = peers.map((p) => p.id === "a" ? { ...p, snubbed: true } : p);
  const d = choker.rechoke(10_000, peers, false);
  assertEquals(d.choke, ["a"]);
  assertEquals(d.optimistic, optimistic);
});

Deno.test("Choker.rechoke() rotates the optimistic unchoke every 30 s over 5 minutes", () => {
  const choker = new Choker({ regularSlots: 2, random: new SeededRandom(11) });
  let peers = rated("a9 b8 c1 d1 e1 f1 g1 h1");
  assertEquals(choker.nextWakeAt(), undefined);
  const holders: [number, string][] = [];
  let now = 0;
  for (let calls = 0; now <= 300_000 && calls < 100; calls++) {
    const d = choker.rechoke(now, peers, false);
    choker.assertInvariants();
    if (holders.at(-1)?.[1] !== d.optimistic) holders.push([now, d.optimistic!]);
    peers = apply(peers, d);
    assert(unchoked(peers).length <= 3);
    assert(unchoked(peers).includes("a") && unchoked(peers).includes("b"));
    now = choker.nextWakeAt()!;
    assert(now > 0 && now % 10_000 === 0, `wake at ${now}`);
  }
  assertEquals(holders.map(([t]) => t), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((k) => k * 30_000));
  assert(holders.every(([, id]) => id !== "a" && id !== "b"));
});

Deno.test("Choker.rechoke() makes new peers about 3 times likelier to be optimistic", () => {
  const wins = { fresh: 0, old: 0 };
  for (let seed = 1; seed <= 100; seed++) {
    const choker = new Choker({ regularSlots: 0, random: new SeededRandom(seed) });
    for (let now = 0; now <= 300_000; now += 10_000) {
      // ten peers are always new (they reconnected just now), ten are old
      const peers = [
        ...Array.from({ length: 10 }, (_, i) => peer(`n${i}`, { connectedAt: now - 5_000 })),
        ...Array.from({ length: 10 }, (_, i) => peer(`o${i}`)),
      ];
      const before = choker.optimistic;
      const d = choker.rechoke(now, peers, false);
      if (d.optimistic !== before) wins[d.optimistic!.startsWith("n") ? "fresh" : "old"]++;
    }
  }
  assertEquals(wins.fresh + wins.old, 100 * 11);
  const ratio = wins.fresh / wins.old; // per peer, as both groups have ten
  assert(ratio > 2.5 && ratio < 3.5, `new:old = ${ratio.toFixed(2)} (${wins.fresh}/${wins.old})`);
});

Deno.test("Choker.rechoke() replaces an optimistic peer that leaves or loses interest", () => {
  const choker = new Choker({ regularSlots: 1, random: new SeededRandom(4) });
  const peers = rated("a9 b1 c1 d1");
  const first = choker.rechoke(0, peers, false).optimistic!;
  const rest = peers.filter((p) => p.id !== first);
  const second = choker.rechoke(1000, rest, false).optimistic!;
  assert(second !== first && second !== "a");
  assertEquals(choker.nextWakeAt(), 11_000);
  const bored = rest.map((p) => p.id === second ? { ...p, interested: false } : p);
  const d = choker.rechoke(2000, bored, false);
  assert(d.optimistic !== second && d.optimistic !== undefined);
  const none = choker.rechoke(3000, [peer("x", { interested: false })], false);
  assertEquals(none, { unchoke: [], choke: [], optimistic: undefined });
  choker.assertInvariants();
});

Deno.test("Choker constructor rejects bad options", () => {
  const random = new SeededRandom(1);
  assertThrows(() => new Choker({ random, regularSlots: -1 }), RangeError);
  assertThrows(() => new Choker({ random, rechokeIntervalMs: 0 }), RangeError);
  assertThrows(() => new Choker({ random, optimisticIntervalMs: NaN }), RangeError);
  assertThrows(() => new Choker({ random, newPeerWeight: 0.5 }), RangeError);
  assertEquals(new Choker({ random }).snubTimeoutMs, 60_000);
});

Deno.test("Choker.fillFreeSlots() hands a slot freed between rechokes to the best choked peer", () => {
  const choker = new Choker({ regularSlots: 2, random: new SeededRandom(1) });
  const sample = (id: string, downloadBps: number, over: Partial<PeerSample> = {}): PeerSample => ({
    id,
    downloadBps,
    interested: true,
    amChoking: true,
    uploadBps: 0,
    isSeed: false,
    snubbed: false,
    connectedAt: 0,
    ...over,
  });
  assertEquals(choker.fillFreeSlots([sample("a", 5), sample("b", 9), sample("c", 1)], false), [
    "b",
    "a",
  ]);
  choker.assertInvariants();
  // "b" finished (now a seed, still unchoked): its slot goes to "c"; "a" keeps its own
  const after = [
    sample("a", 5, { amChoking: false }),
    sample("b", 9, { amChoking: false, isSeed: true, interested: false }),
    sample("c", 1),
  ];
  assertEquals(choker.fillFreeSlots(after, false), ["c"]);
  assertEquals(
    choker.fillFreeSlots(after.map((p) => ({ ...p, amChoking: p.id === "b" })), false),
    [],
  );
  choker.assertInvariants();
});

Deno.test("Choker.rechoke() opens seedingSlots while seeding, regularSlots while leeching", () => {
  const choker = new Choker({ regularSlots: 2, seedingSlots: 4, random: new SeededRandom(1) });
  const peers = rated("a1 b2 c3 d4 e5 f6", "uploadBps");
  const seeding = choker.rechoke(0, peers, true);
  assertEquals(
    seeding.unchoke.filter((id) => id !== seeding.optimistic).sort(),
    "c d e f".split(" "),
  );
  choker.assertInvariants();
  const leeching = choker.rechoke(10_000, rated("a1 b2 c3 d4 e5 f6"), false);
  assertEquals(leeching.unchoke.filter((id) => id !== leeching.optimistic).sort(), ["e", "f"]);
  assertThrows(() => new Choker({ random: new SeededRandom(1), seedingSlots: 1.5 }), RangeError);
});

Deno.test("Choker.fillFreeSlots() lends an idle holder's slot and takes it back at the rechoke", () => {
  const choker = new Choker({ regularSlots: 2, random: new SeededRandom(1) });
  let peers = rated("a9 b8 c3 d2 e1");
  peers = apply(peers, choker.rechoke(0, peers, false));
  const optimistic = choker.optimistic!;
  const holders = unchoked(peers).filter((id) => id !== optimistic);
  assertEquals(holders, ["a", "b"]);
  // "a" asks for nothing (it gets what it wants elsewhere): it stays unchoked, and the
  // best choked peer that is not idle gets a slot too
  peers = peers.map((p) => p.id === "a" ? { ...p, idle: true } : p);
  const lent = choker.fillFreeSlots(peers, false);
  assertEquals(lent.length, 1);
  assert(!["a", "b", optimistic].includes(lent[0]!));
  peers = apply(peers, { unchoke: lent, choke: [], optimistic });
  assertEquals(choker.fillFreeSlots(peers, false), []); // lent once, not again
  choker.assertInvariants();
  // at the rechoke the lent slot ends: regular slots go by rate again
  const d = choker.rechoke(10_000, peers.map((p) => ({ ...p, idle: false })), false);
  assert(d.choke.includes(lent[0]!) || d.optimistic === lent[0]);
  choker.assertInvariants();
});

Deno.test("Choker.fillFreeSlots() lends at most as many slots as there are", () => {
  const choker = new Choker({ regularSlots: 1, random: new SeededRandom(2) });
  let peers = rated("a9 b8 c7 d6 e5 f4");
  peers = apply(peers, choker.rechoke(0, peers, false));
  for (let round = 0; round < 4; round++) {
    peers = peers.map((p) => !p.amChoking ? { ...p, idle: true } : p);
    peers = apply(peers, {
      unchoke: choker.fillFreeSlots(peers, false),
      choke: [],
      optimistic: undefined,
    });
    choker.assertInvariants();
  }
  assert(unchoked(peers).length <= 3, `${unchoked(peers)}`); // 1 regular + 1 lent + optimistic
});
