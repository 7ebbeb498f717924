/**
 * Rate-limited swarm benchmark (issue 3): 1 seeder and N leechers, every host's upload
 * capped at the same rate u, file size F. Reports the distribution time (until every
 * leecher has verified the whole file) against the fluid-model lower bound
 * max(F/u, N·F/(u·(N+1))) (Kumar & Ross), on the deterministic simulator (virtual time:
 * it measures the algorithms, not this machine's speed).
 *
 *   deno run -A scripts/bench_swarm.ts [--leechers 20] [--mib 8] [--rate-kib 1024]
 *       [--piece-kib 64] [--seed 1] [--latency-ms 20] [--super-seed]
 *       [--encryption prefer|require|plaintext] [--cap line|limit] [--trace]
 *
 * `--cap` says what caps each host's upload at u: `line` (default), its network uplink;
 * `limit`, its own upload limit (`maxUploadBytesPerSecond`, as users set one), on a line
 * 25 % faster that also carries the protocol's messages.
 *
 * `--trace` prints a row every 500 ms of virtual time: what the seeder and the leechers
 * queued for upload in that interval (KiB/s), the distinct pieces the leechers hold between
 * them, the fewest and most pieces one leecher holds, and the copies held in all. It shows
 * where the time over the bound goes: the seeder's first copy (the union reaching every
 * piece) against the tail after it.
 * @module
 */
import { parseArgs } from "node:util";
import { makeSimTorrent, seededDisk, type SimPeer, SimSwarm } from "../tests/sim/swarm_harness.ts";

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
    cap: { type: "string", default: "line" },
    trace: { type: "boolean", default: false },
  },
});
const n = Number(values.leechers), u = Number(values["rate-kib"]) * 1024;
const pieceLength = Number(values["piece-kib"]) * 1024;
const pieces = Math.round((Number(values.mib) * 1024 * 1024) / pieceLength);
const seed = Number(values.seed);
if (values.cap !== "line" && values.cap !== "limit") throw new Error("--cap takes line or limit");
const byLimit = values.cap === "limit";

const t = makeSimTorrent(pieces, pieceLength, seed);
const F = t.meta.totalLength;
const swarm = new SimSwarm({
  seed,
  latencyMs: Number(values["latency-ms"]),
  uploadBytesPerSecond: byLimit ? 1.25 * u : u,
});
const extra = {
  encryption: values.encryption as "prefer" | "require" | "plaintext",
  ...(byLimit ? { maxUploadBytesPerSecond: u } : {}),
};
const seeder = await swarm.addPeer(0, extra, await seededDisk(t, "/seed"));
seeder.torrent = await swarm.clock.runUntil(
  seeder.session.add(t.meta, { dir: "/seed", seed: true, superSeed: values["super-seed"] }),
  10_000,
);
const leechers: SimPeer[] = [];
for (let i = 1; i <= n; i++) leechers.push(await swarm.addPeer(i, extra));
const start = swarm.clock.now();
const finishedAt: number[] = [];
for (const [i, l] of leechers.entries()) {
  const peers = [seeder.address, ...leechers.filter((_, j) => j !== i).map((p) => p.address)];
  l.torrent = await swarm.clock.runUntil(l.session.add(t.meta, { dir: `/d${i}`, peers }), 10_000);
  l.torrent.done.then(() => finishedAt.push(swarm.clock.now() - start), () => {});
}
const wall = performance.now();
const trace = values.trace ? tracer() : undefined;
await swarm.clock.runUntil(
  () => {
    trace?.();
    return finishedAt.length === n;
  },
  3600_000,
  100,
);
const T = Math.max(...finishedAt) / 1000;
const bound = Math.max(F / u, (n * F) / (u * (n + 1)));
const seedCopies = seeder.torrent.stats().bytesUploaded / F;
console.log(
  `N=${n} F=${(F / 2 ** 20).toFixed(1)} MiB u=${
    (u / 1024).toFixed(0)
  } KiB/s (${values.cap}) piece=${pieceLength / 1024} KiB: ` +
    `distribution time ${T.toFixed(1)} s, lower bound ${bound.toFixed(1)} s, ratio ${
      (T / bound).toFixed(2)
    }; ` +
    `first leecher done at ${(Math.min(...finishedAt) / 1000).toFixed(1)} s; seeder uploaded ` +
    `${seedCopies.toFixed(2)} copies (${((performance.now() - wall) / 1000).toFixed(1)} s wall)`,
);
await swarm.close();

/** A row of `--trace` every 500 ms of virtual time (called at each step of the run). */
function tracer(): () => void {
  const stepMs = 500;
  let nextAt = start + stepMs, seedBefore = 0, leechBefore = 0;
  console.log("   t s  seed KiB/s  leechers KiB/s  union  fewest  most  copies");
  return () => {
    const now = swarm.clock.now();
    if (now < nextAt) return;
    nextAt += stepMs;
    const seedUp = seeder.torrent!.stats().bytesUploaded;
    const leechUp = leechers.reduce((sum, l) => sum + l.torrent!.stats().bytesUploaded, 0);
    const held = leechers.map((l) => l.torrent!.piecesBitfield());
    const counts = held.map((b) => b.reduce((sum, byte) => sum + popCount(byte), 0));
    const union = held.reduce((acc, b) => acc.map((byte, i) => byte | b[i]!));
    const perS = (bytes: number) => (bytes / 1024 / (stepMs / 1000)).toFixed(0);
    console.log(
      [
        ((now - start) / 1000).toFixed(1).padStart(6),
        perS(seedUp - seedBefore).padStart(11),
        perS(leechUp - leechBefore).padStart(15),
        String(union.reduce((sum, byte) => sum + popCount(byte), 0)).padStart(6),
        String(Math.min(...counts)).padStart(7),
        String(Math.max(...counts)).padStart(5),
        String(counts.reduce((a, b) => a + b, 0)).padStart(7),
      ].join(""),
    );
    seedBefore = seedUp;
    leechBefore = leechUp;
  };
}

function popCount(byte: number): number {
  let n = 0;
  for (let b = byte; b !== 0; b &= b - 1) n++;
  return n;
}
