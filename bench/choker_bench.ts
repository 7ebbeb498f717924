/**
 * Choker benchmarks (STYLE §8): one rechoke over 500 peers, leeching and seeding.
 * Run: `deno bench -A bench/choker_bench.ts`.
 * @module
 */
import { SeededRandom } from "../src/util/prng.ts";
import { type ChokeDecision, Choker, type PeerSample, RateMeter } from "../src/choker/mod.ts";

const random = new SeededRandom(3);
let peers: PeerSample[] = Array.from({ length: 500 }, (_, i) => ({
  id: `peer${i}`,
  interested: random.next() < 0.8,
  amChoking: true,
  downloadBps: random.int(2_000_000),
  uploadBps: random.int(2_000_000),
  isSeed: random.next() < 0.1,
  snubbed: random.next() < 0.05,
  connectedAt: -random.int(600_000),
}));

function apply(d: ChokeDecision): void {
  const un = new Set(d.unchoke), ch = new Set(d.choke);
  peers = peers.map((p) =>
    un.has(p.id) ? { ...p, amChoking: false } : ch.has(p.id) ? { ...p, amChoking: true } : p
  );
}

function rechokeBench(isSeeding: boolean) {
  const choker = new Choker({ random: new SeededRandom(1) });
  let now = 0;
  return (b: Deno.BenchContext) => {
    now += 10_000;
    b.start();
    const d = choker.rechoke(now, peers, isSeeding);
    b.end();
    apply(d);
  };
}

Deno.bench({
  name: "rechoke, 500 peers, leeching",
  group: "rechoke",
  baseline: true,
  fn: rechokeBench(false),
});
Deno.bench({ name: "rechoke, 500 peers, seeding", group: "rechoke", fn: rechokeBench(true) });

const meter = new RateMeter();
let t = 0;
Deno.bench({
  name: "RateMeter.add + rate",
  group: "meter",
  fn: () => {
    t += 37;
    meter.add(16384, t);
    meter.rate(t);
  },
});
