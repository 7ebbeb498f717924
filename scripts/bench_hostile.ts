/**
 * Hostile-peer benchmark: the floods against a swarmd seed (its own process, RSS
 * read from /proc) over loopback, each repeated, with min / median / max:
 * - request-flood: 100,000 valid REQUESTs from an unchoked peer that reads nothing until
 *   they are written: the seed's RSS over its idle baseline, time until the peer is
 *   closed, bytes it got back;
 * - metadata-flood: 100,000 ut_metadata requests, the same figures;
 * - honest: a libtorrent leecher's first byte and download time alone, while request
 *   floods repeat (a new flooder as soon as the last one is closed), and while a peer
 *   pins 500 requests it never reads;
 * - drip: a peer sending one byte a second inside a REQUEST, default settings: seconds
 *   until it is closed;
 * - burst: the libtorrent leecher's first byte and download time while 1,000 silent
 *   connections from one address keep coming back;
 * - dht-flood: 10,000 queries/s for 30 s from 2,000 addresses against a DHT node in its
 *   own process: its RSS over baseline.
 *
 *   deno run -A --unstable-net scripts/bench_hostile.ts [--runs 3] [--mib 256]
 *       [--only request-flood,metadata-flood,honest,drip,burst,dht-flood]
 * Needs /usr/bin/python3 with libtorrent for "honest" and "burst".
 * @module
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { parseTorrent } from "../src/metainfo/mod.ts";
import { writeSingleFileTorrent } from "../tests/interop/_wire_peer.ts";
import { startLibtorrentPeer } from "../tests/interop/_lt_peer.ts";
import {
  connectionBurst,
  dhtFlood,
  drip,
  metadataFlood,
  pinner,
  requestFlood,
  type Target,
} from "./hostile/attackers.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    runs: { type: "string", default: "3" },
    mib: { type: "string", default: "256" },
    only: { type: "string", default: "request-flood,metadata-flood,honest,drip,burst,dht-flood" },
  },
});
const runs = Number(values.runs);
const only = new Set(values.only!.split(","));
const work = Deno.env.get("BENCH_DIR") ?? "/tmp/swarmd-hostile";
const here = new URL(".", import.meta.url).pathname;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const results = new Map<string, number[]>();
const record = (name: string, v: number | undefined) => {
  if (v === undefined || Number.isNaN(v)) return;
  results.set(name, [...results.get(name) ?? [], v]);
};

function rssMiB(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
}

/** CPU seconds (user + system) a process used so far. */
function cpuSeconds(pid: number): number {
  const fields = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks
}

/** Samples a process's RSS every 100 ms; `stop()` returns the peak. */
function rssPeak(pid: number) {
  let peak = rssMiB(pid);
  const timer = setInterval(() => peak = Math.max(peak, rssMiB(pid)), 100);
  return () => {
    clearInterval(timer);
    return Math.max(peak, rssMiB(pid));
  };
}

/** Starts a child that prints `{"event":"ready","port":N}`; resolves with it once ready. */
async function child(args: string[]) {
  const proc = new Deno.Command(Deno.execPath(), { args, stdout: "piped", stderr: "inherit" })
    .spawn();
  const reader = proc.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "", port = 0;
  const deadline = Date.now() + 120_000;
  while (!port && Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`child exited: ${text}`);
    text += value;
    port = Number(/"event":"ready","port":(\d+)/.exec(text)?.[1] ?? 0);
  }
  void (async () => {
    while (!(await reader.read().catch(() => ({ done: true }))).done) { /* drain stats */ }
  })();
  await sleep(1000); // idle before the baseline
  return {
    port,
    pid: proc.pid,
    async stop() {
      try {
        proc.kill("SIGKILL");
      } catch { /* already gone */ }
      await proc.status;
    },
  };
}

async function payload(): Promise<{ torrentPath: string; dataDir: string; target: Target }> {
  await Deno.mkdir(work, { recursive: true });
  const torrentPath = join(work, `payload-${values.mib}m.torrent`);
  const dataDir = join(work, "seed");
  try {
    await Deno.stat(torrentPath);
  } catch {
    const data = new Uint8Array(Number(values.mib) * 1024 * 1024);
    for (let i = 0; i < data.length; i += 65536) {
      crypto.getRandomValues(data.subarray(i, i + 65536));
    }
    await writeSingleFileTorrent({
      dataDir,
      torrentPath,
      name: "payload.bin",
      data,
      pieceLength: 1 << 20,
    });
  }
  const meta = parseTorrent(await Deno.readFile(torrentPath));
  const target = {
    port: 0,
    infoHash: meta.infoHash,
    pieceCount: meta.pieceCount,
    pieceLength: meta.pieceLength,
  };
  return { torrentPath, dataDir, target };
}

/** One libtorrent download from the seed; [first byte s, complete s] or undefined. */
async function honest(torrentPath: string, port: number): Promise<[number, number] | undefined> {
  const save = join(work, "lt");
  await Deno.remove(save, { recursive: true }).catch(() => {});
  const lt = startLibtorrentPeer({
    torrent: torrentPath,
    save,
    listen: "127.0.0.3:0",
    peers: [`127.0.0.1:${port}`],
    exitWhenComplete: true,
    timeoutS: 180,
  });
  const code = await lt.exited;
  const at = (event: string) => {
    const line = lt.lines.find((l) => l.includes(`"${event}"`));
    return line ? JSON.parse(line).seconds as number : undefined;
  };
  const first = at("first-byte"), done = at("complete");
  return code === 0 && first !== undefined && done !== undefined ? [first, done] : undefined;
}

const { torrentPath, dataDir, target } = await payload();
const seed = () => child(["run", "-A", join(here, "hostile/seed_child.ts"), torrentPath, dataDir]);

for (let run = 1; run <= runs; run++) {
  for (const flood of ["request-flood", "metadata-flood"] as const) {
    if (!only.has(flood)) continue;
    const s = await seed();
    try {
      const base = rssMiB(s.pid), peak = rssPeak(s.pid);
      const t = { ...target, port: s.port };
      const r = flood === "request-flood"
        ? await requestFlood(t, { count: 100_000, timeoutMs: 20_000 })
        : await metadataFlood(t, { count: 100_000, timeoutMs: 20_000 });
      await sleep(2000);
      record(`${flood}: seed RSS over baseline (MiB)`, peak() - base);
      record(`${flood}: ms until the flooder was closed`, r.closedAfterMs ?? Infinity);
      record(`${flood}: KiB answered`, r.bytesAnswered / 1024);
    } finally {
      await s.stop();
    }
  }
  if (only.has("honest")) {
    for (const mode of ["alone", "request floods", "a pinning peer"] as const) {
      const s = await seed();
      const t = { ...target, port: s.port };
      let stop = false;
      const floods = mode !== "request floods" ? Promise.resolve() : (async () => {
        for (let i = 0; i < 1000 && !stop; i++) {
          await requestFlood(t, { count: 100_000, timeoutMs: 5000 }).catch(() => {});
        }
      })();
      const pin = mode === "a pinning peer" ? await pinner(t) : undefined;
      try {
        const cpu = cpuSeconds(s.pid);
        const r = await honest(torrentPath, s.port);
        record(`honest leecher, ${mode}: first byte (s)`, r?.[0] ?? Infinity);
        record(`honest leecher, ${mode}: complete (s)`, r?.[1] ?? Infinity);
        record(`honest leecher, ${mode}: seed CPU during it (s)`, cpuSeconds(s.pid) - cpu);
      } finally {
        stop = true;
        await floods;
        pin?.close();
        await s.stop();
      }
    }
  }
  if (only.has("drip")) {
    const s = await seed();
    try {
      const ms = await drip({ ...target, port: s.port }, { intervalMs: 1000, timeoutMs: 150_000 });
      record("drip (1 byte/s inside a REQUEST): s until closed", (ms ?? Infinity) / 1000);
    } finally {
      await s.stop();
    }
  }
  if (only.has("burst")) {
    for (const mode of ["alone", "1,000 silent connections"] as const) {
      const s = await seed();
      const burst = mode === "alone"
        ? undefined
        : connectionBurst(s.port, { count: 1000, addresses: ["127.0.0.1"] });
      try {
        if (burst) { for (let i = 0; i < 100 && burst.opened < 1000; i++) await sleep(50); }
        const cpu = cpuSeconds(s.pid);
        const r = await honest(torrentPath, s.port);
        record(`burst, ${mode}: honest first byte (s)`, r?.[0] ?? Infinity);
        record(`burst, ${mode}: honest complete (s)`, r?.[1] ?? Infinity);
        record(`burst, ${mode}: seed CPU during it (s)`, cpuSeconds(s.pid) - cpu);
      } finally {
        await burst?.stop();
        await s.stop();
      }
    }
  }
  if (only.has("dht-flood")) {
    const node = await child(["run", "-A", "--unstable-net", join(here, "hostile/dht_child.ts")]);
    try {
      const base = rssMiB(node.pid), peak = rssPeak(node.pid);
      await dhtFlood(node.port, { rate: 10_000, seconds: 30, addresses: 2000 });
      await sleep(2000);
      record(
        "dht-flood (10,000/s × 30 s, 2,000 addresses): node RSS over baseline (MiB)",
        peak() - base,
      );
    } finally {
      await node.stop();
    }
  }
  console.error(`run ${run} of ${runs} done`);
}

const fmt = (v: number) =>
  Number.isFinite(v) ? (Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(1)) : "never";
console.log(`| figure | min | median | max | runs |\n|---|---|---|---|---|`);
for (const [name, vs] of results) {
  const sorted = [...vs].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  console.log(
    `| ${name} | ${fmt(sorted[0]!)} | ${fmt(median)} | ${fmt(sorted.at(-1)!)} | ${vs.length} |`,
  );
}
