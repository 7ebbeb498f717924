/**
 * uTP transfer benchmark on loopback (BEP 29), against libtorrent's own uTP in the same
 * run: one torrent of `--mib` MiB moves over uTP in four pairings, alternated round by
 * round so machine noise hits all alike:
 *
 * - `deno→deno`: our seed process → our downloader process
 * - `lt→deno`: a python3-libtorrent seeder (uTP only) → our downloader
 * - `lt→lt`: libtorrent seeder → libtorrent leecher, both uTP only (the reference)
 * - `deno→lt`: our seed → a libtorrent leecher
 *
 * Our sides are `scripts/bench_utp_peer.ts` (wire codec + UtpSocket, SHA-1 of every
 * piece on download). Times run from the first payload byte to the last; libtorrent's
 * side includes its disk writes to the page cache and its hashing. CPU is per process
 * over the same span, as CPU-seconds per GiB. Prints one line per transfer and a table of
 * min / median / max.
 *
 *   deno run -A --unstable-net scripts/bench_utp.ts [--mib 256] [--rounds 3]
 *       [--piece-kib 1024] [--only deno→deno,lt→deno,lt→lt,deno→lt] [--timeout-s 180]
 * @module
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startLibtorrentPeer } from "../tests/interop/_lt_peer.ts";
import { writeSingleFileTorrent } from "../tests/interop/_wire_peer.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    mib: { type: "string", default: "256" },
    rounds: { type: "string", default: "3" },
    "piece-kib": { type: "string", default: "1024" },
    only: { type: "string", default: "deno→deno,lt→deno,lt→lt,deno→lt" },
    "timeout-s": { type: "string", default: "180" },
  },
});
const BYTES = Number(values.mib) * 1024 * 1024;
const PIECE = Number(values["piece-kib"]) * 1024;
const TIMEOUT_MS = Number(values["timeout-s"]) * 1000;
const PEER = new URL("./bench_utp_peer.ts", import.meta.url).pathname;
const GIB_MOVED = BYTES / 1024 ** 3; // CPU seconds ÷ this = CPU-s per GiB

/** One transfer's figures. */
interface Run {
  mbps: number;
  senderCpuPerGib?: number;
  receiverCpuPerGib?: number;
}

async function makePayload(root: string): Promise<{ torrent: string; file: string }> {
  const content = new Uint8Array(BYTES);
  let x = 0x2545f491;
  const words = new Uint32Array(content.buffer);
  for (let i = 0; i < words.length; i++) words[i] = x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
  const torrent = join(root, "payload.torrent");
  const dataDir = join(root, "seed");
  const name = "payload.bin";
  await writeSingleFileTorrent({
    dataDir,
    torrentPath: torrent,
    name,
    data: content,
    pieceLength: PIECE,
  });
  return { torrent, file: join(dataDir, name) };
}

/** Our peer process; resolves its JSON events. */
function ours(args: string[]) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--unstable-net", PEER, ...args],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  let onListening!: (port: number) => void;
  const listening = new Promise<number>((r) => (onListening = r));
  const result = (async () => {
    let out = "", last: Record<string, number> | undefined;
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      out += chunk;
      for (let nl = out.indexOf("\n"); nl >= 0; nl = out.indexOf("\n")) {
        const e = JSON.parse(out.slice(0, nl));
        out = out.slice(nl + 1);
        if (e.event === "listening") onListening(e.port);
        if (e.event === "result") last = e;
      }
    }
    if (!last) throw new Error(`bench_utp_peer ${args[0]} gave no result`);
    return last;
  })();
  result.catch(() => {});
  return {
    listening,
    result,
    stop() {
      try {
        child.kill("SIGKILL");
      } catch { /* already exited */ }
      return child.status;
    },
  };
}

/** CPU seconds a process used so far (utime + stime from /proc). */
async function cpuOf(pid: number): Promise<number> {
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100; // clock ticks; USER_HZ = 100
}

function libtorrent(
  o: { torrent: string; save: string; listen: string; seed?: boolean; peer?: string },
) {
  return startLibtorrentPeer({
    torrent: o.torrent,
    save: o.save,
    listen: o.listen,
    seedMode: o.seed ?? false,
    exitWhenComplete: !o.seed,
    peers: o.peer ? [o.peer] : [],
    utpOnly: true,
    plaintext: true,
    timeoutS: TIMEOUT_MS / 1000,
  });
}

/** Seconds from the leecher's first byte to its completion, and its CPU, from its events. */
function leecherFigures(lines: string[]): { seconds: number; cpu: number } {
  const events = lines.flatMap((l) => {
    try {
      return [JSON.parse(l)];
    } catch {
      return [];
    }
  });
  const first = events.find((e) => e.event === "first-byte"),
    done = events.find((e) => e.event === "complete");
  if (!first || !done) {
    throw new Error(`libtorrent leecher did not complete: ${lines.slice(-3).join(" ")}`);
  }
  return { seconds: done.seconds - first.seconds, cpu: done.cpu };
}

/** Our downloader on 127.0.0.11, dialing `peer`. */
function ourDownloader(f: { torrent: string }, peer: string) {
  return ours(["download", "--bind", "127.0.0.11", "--torrent", f.torrent, "--peer", peer]);
}

/** A libtorrent seeder (seed mode, uTP only) of the payload on 127.0.0.12. */
function ltSeeder(f: { torrent: string; root: string }) {
  return libtorrent({
    torrent: f.torrent,
    save: join(f.root, "seed"),
    listen: "127.0.0.12:0",
    seed: true,
  });
}

/** A libtorrent leecher downloads from `peer` into a fresh directory; its figures. */
async function leech(
  f: { torrent: string; root: string },
  peer: string,
  what: string,
): Promise<{ seconds: number; cpu: number }> {
  const save = await Deno.makeTempDir({ dir: f.root });
  const leecher = libtorrent({ torrent: f.torrent, save, listen: "127.0.0.13:0", peer });
  try {
    await withTimeout(leecher.exited, what);
    return leecherFigures(leecher.lines);
  } finally {
    await leecher.stop();
    await Deno.remove(save, { recursive: true });
  }
}

async function withTimeout<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what}: no result in ${TIMEOUT_MS} ms`)),
      TIMEOUT_MS,
    );
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const SCENARIOS: Record<
  string,
  (f: { torrent: string; file: string; root: string }) => Promise<Run>
> = {
  async "deno→deno"(f) {
    const seed = ours(["seed", "--bind", "127.0.0.10", "--torrent", f.torrent, "--file", f.file]);
    const port = await withTimeout(seed.listening, "seed");
    const dl = ourDownloader(f, `127.0.0.10:${port}`);
    try {
      const [s, d] = await withTimeout(Promise.all([seed.result, dl.result]), "deno→deno");
      return {
        mbps: d.bytes! / d.seconds! / 1e6,
        senderCpuPerGib: s.cpuSeconds! / GIB_MOVED,
        receiverCpuPerGib: d.cpuSeconds! / GIB_MOVED,
      };
    } finally {
      await Promise.all([seed.stop(), dl.stop()]);
    }
  },
  async "lt→deno"(f) {
    const seeder = ltSeeder(f);
    try {
      const port = await withTimeout(seeder.port, "libtorrent seeder");
      const cpu0 = await cpuOf(seeder.pid);
      const dl = ourDownloader(f, `127.0.0.12:${port}`);
      try {
        const d = await withTimeout(dl.result, "lt→deno");
        const ltCpu = await cpuOf(seeder.pid) - cpu0; // includes its start-up wait: an upper bound
        return {
          mbps: d.bytes! / d.seconds! / 1e6,
          senderCpuPerGib: ltCpu / GIB_MOVED,
          receiverCpuPerGib: d.cpuSeconds! / GIB_MOVED,
        };
      } finally {
        await dl.stop();
      }
    } finally {
      await seeder.stop();
    }
  },
  async "lt→lt"(f) {
    const seeder = ltSeeder(f);
    try {
      const port = await withTimeout(seeder.port, "libtorrent seeder");
      const { seconds, cpu } = await leech(f, `127.0.0.12:${port}`, "lt→lt");
      return { mbps: BYTES / seconds / 1e6, receiverCpuPerGib: cpu / GIB_MOVED };
    } finally {
      await seeder.stop();
    }
  },
  async "deno→lt"(f) {
    const seed = ours(["seed", "--bind", "127.0.0.10", "--torrent", f.torrent, "--file", f.file]);
    try {
      const port = await withTimeout(seed.listening, "seed");
      const { seconds, cpu } = await leech(f, `127.0.0.10:${port}`, "deno→lt");
      const s = await withTimeout(seed.result, "seed result");
      return {
        mbps: BYTES / seconds / 1e6,
        senderCpuPerGib: s.cpuSeconds! / GIB_MOVED,
        receiverCpuPerGib: cpu / GIB_MOVED,
      };
    } finally {
      await seed.stop();
    }
  },
};

const stat = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const f = (x: number | undefined) => (x === undefined ? "-" : x.toFixed(1));
  return s.length === 0 ? "-" : `${f(s[0])} / ${f(s[(s.length - 1) >> 1])} / ${f(s.at(-1))}`;
};

const root = await Deno.makeTempDir({ prefix: "swarmd-bench-utp-" });
try {
  const payload = await makePayload(root);
  const names = values.only!.split(",").filter((n) => n in SCENARIOS);
  const runs = new Map<string, Run[]>(names.map((n) => [n, []]));
  for (let round = 1; round <= Number(values.rounds); round++) {
    for (const name of round % 2 ? names : [...names].reverse()) {
      try {
        const run = await SCENARIOS[name]!({ ...payload, root });
        runs.get(name)!.push(run);
        console.log(
          `round ${round} ${name}: ${run.mbps.toFixed(1)} MB/s` +
            (run.senderCpuPerGib ? `, sender ${run.senderCpuPerGib.toFixed(2)} CPU-s/GiB` : "") +
            (run.receiverCpuPerGib
              ? `, receiver ${run.receiverCpuPerGib.toFixed(2)} CPU-s/GiB`
              : ""),
        );
      } catch (e) {
        console.log(`round ${round} ${name}: failed: ${e instanceof Error ? e.message : e}`);
      }
    }
  }
  console.log(
    `\n${
      Number(values.mib)
    } MiB over uTP on loopback, min / median / max of ${values.rounds} rounds`,
  );
  console.log("pairing      MB/s                  sender CPU-s/GiB    receiver CPU-s/GiB");
  for (const [name, rs] of runs) {
    const sender = rs.flatMap((r) => (r.senderCpuPerGib === undefined ? [] : [r.senderCpuPerGib]));
    const receiver = rs.flatMap((
      r,
    ) => (r.receiverCpuPerGib === undefined ? [] : [r.receiverCpuPerGib]));
    console.log(
      `${name.padEnd(12)} ${stat(rs.map((r) => r.mbps)).padEnd(21)} ${stat(sender).padEnd(19)} ${
        stat(receiver)
      }`,
    );
  }
} finally {
  await Deno.remove(root, { recursive: true });
}
