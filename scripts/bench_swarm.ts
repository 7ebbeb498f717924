/**
 * Rate-limited swarm benchmark (issue 3): 1 seeder and N leechers, every host's upload
 * capped at the same rate u, file size F. Reports the distribution time (until every
 * leecher has verified the whole file) against the fluid-model lower bound
 * max(F/u, N·F/(u·(N+1))) (Kumar & Ross), on the deterministic simulator (virtual time:
 * it measures the algorithms, not this machine's speed).
 *
 *   deno run -A scripts/bench_swarm.ts [--leechers 20] [--mib 8] [--rate-kib 1024]
 *       [--piece-kib 64] [--seed 1] [--latency-ms 20] [--super-seed]
 *       [--encryption prefer|require|plaintext]
 * @module
 */
import { parseArgs } from "node:util";
import { makeSimTorrent, seededDisk, SimSwarm } from "../tests/sim/swarm_harness.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    leechers: { type: "string", default: "20" },
    mib: { type: "string", default: "8" },
    "rate-kib": { type: "string", default: "1024" },
    "piece-kib": { type: "string", default: "64" },
    seed: { type: "string", default: "1" },
    "latency-ms": { type: "string", default: "20" },
    "super-seed": { type: "boolean", default: false },
    encryption: { type: "string", default: "prefer" },
  },
});
const n = Number(values.leechers), u = Number(values["rate-kib"]) * 1024;
const pieceLength = Number(values["piece-kib"]) * 1024;
const pieces = Math.round((Number(values.mib) * 1024 * 1024) / pieceLength);
const seed = Number(values.seed);

const t = makeSimTorrent(pieces, pieceLength, seed);
const F = t.meta.totalLength;
const swarm = new SimSwarm({
  seed,
  latencyMs: Number(values["latency-ms"]),
  uploadBytesPerSecond: u,
});
const extra = { encryption: values.encryption as "prefer" | "require" | "plaintext" };
const seeder = await swarm.addPeer(0, extra, await seededDisk(t, "/seed"));
seeder.torrent = await swarm.clock.runUntil(
  seeder.session.add(t.meta, { dir: "/seed", seed: true, superSeed: values["super-seed"] }),
  10_000,
);
const leechers = [];
for (let i = 1; i <= n; i++) leechers.push(await swarm.addPeer(i, extra));
const start = swarm.clock.now();
const finishedAt: number[] = [];
for (const [i, l] of leechers.entries()) {
  const peers = [seeder.address, ...leechers.filter((_, j) => j !== i).map((p) => p.address)];
  l.torrent = await swarm.clock.runUntil(l.session.add(t.meta, { dir: `/d${i}`, peers }), 10_000);
  l.torrent.done.then(() => finishedAt.push(swarm.clock.now() - start), () => {});
}
const wall = performance.now();
await swarm.clock.runUntil(() => finishedAt.length === n, 3600_000, 100);
const T = Math.max(...finishedAt) / 1000;
const bound = Math.max(F / u, (n * F) / (u * (n + 1)));
const seedCopies = seeder.torrent.stats().bytesUploaded / F;
console.log(
  `N=${n} F=${(F / 2 ** 20).toFixed(1)} MiB u=${(u / 1024).toFixed(0)} KiB/s piece=${
    pieceLength / 1024
  } KiB: ` +
    `distribution time ${T.toFixed(1)} s, lower bound ${bound.toFixed(1)} s, ratio ${
      (T / bound).toFixed(2)
    }; ` +
    `first leecher done at ${(Math.min(...finishedAt) / 1000).toFixed(1)} s; seeder uploaded ` +
    `${seedCopies.toFixed(2)} copies (${((performance.now() - wall) / 1000).toFixed(1)} s wall)`,
);
await swarm.close();
