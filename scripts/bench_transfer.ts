/**
 * Transfer benchmarks as a user sees them: each run is a fresh process, timed by
 * `/usr/bin/time` from its start to its exit (after the download is verified and on
 * disk), runs alternate between swarmd and libtorrent against the same seed, and the
 * data is compared byte for byte after every run.
 *
 *   deno run -A scripts/bench_transfer.ts download [--via tracker|peer] [--tracker opentracker|swarmd]
 *   deno run -A scripts/bench_transfer.ts upload
 *   common: [--size-mib 1024] [--rounds 5] [--piece-length 1048576] [--dir /tmp/swarmd-bench]
 *           [--keep] (keep the payload file; it is deleted otherwise) [--leecher-args="..."] (more lt_peer.py flags for
 *           libtorrent's leecher, e.g. an encryption policy) [--swarmd-args="..."] (more
 *           flags for our get or seed, e.g. --no-utp)
 *
 * - `download --via tracker` (default): a python3-libtorrent seed announces to a tracker
 *   on loopback (Debian's opentracker, or `mod.ts tracker` with `--tracker swarmd`); our
 *   `get` (progress to a file, not `--quiet`) and libtorrent's leecher find it there.
 * - `download --via peer`: the same, with the seed given as `--peer`.
 * - `upload`: a libtorrent leecher fetches from our `seed`, then from a libtorrent seed.
 *
 * The previous run's download stays on disk, dirty in the page cache, until the next run
 * has finished: each client runs right after the other has written the whole payload.
 * Reports min / median / max of wall time, CPU time (user + sys) and peak RSS per side,
 * the ratio of medians, and max over own median (the spread).
 *
 * Needs deno, /usr/bin/python3 with libtorrent, /usr/bin/time, and for the tracker
 * variant opentracker. Every child is killed in `finally`; every wait is bounded.
 * @module
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { startOpentracker } from "../tests/interop/_opentracker.ts";
import { parseTorrent } from "../src/metainfo/mod.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const MOD = join(ROOT, "mod.ts");
const LT_PEER = join(ROOT, "scripts/interop/lt_peer.py");
const PYTHON = "/usr/bin/python3";
/** Longest a single timed run may take before it is killed and counted as failed. */
const RUN_TIMEOUT_MS = 300_000;

const { positionals, values } = parseArgs({
  args: Deno.args,
  allowPositionals: true,
  options: {
    via: { type: "string", default: "tracker" },
    tracker: { type: "string", default: "opentracker" },
    "size-mib": { type: "string", default: "1024" },
    rounds: { type: "string", default: "5" },
    "piece-length": { type: "string", default: "1048576" },
    dir: { type: "string", default: "/tmp/swarmd-bench" },
    keep: { type: "boolean", default: false },
    "leecher-args": { type: "string", default: "" },
    "swarmd-args": { type: "string", default: "" },
  },
});
const mode = positionals[0] ?? "download";
const sizeMib = Number(values["size-mib"]);
const rounds = Number(values.rounds);
const work = values.dir!;
const leecherArgs = values["leecher-args"]!.split(" ").filter((a) => a !== "");
const swarmdArgs = values["swarmd-args"]!.split(" ").filter((a) => a !== "");

/** One timed run. */
interface Sample {
  readonly wallS: number;
  readonly cpuS: number;
  readonly rssMiB: number;
}

/** Children to kill on the way out. */
const children = new Set<Deno.ChildProcess>();

function spawn(cmd: string, args: string[], log?: string): Deno.ChildProcess {
  const child = new Deno.Command(cmd, {
    args,
    stdin: "null",
    stdout: log ? "piped" : "null",
    stderr: log ? "piped" : "null",
  }).spawn();
  children.add(child);
  child.status.finally(() => children.delete(child));
  if (log) {
    const file = Deno.openSync(log, { write: true, create: true, truncate: true });
    const copy = async (stream: ReadableStream<Uint8Array>) => {
      for await (const chunk of stream) file.writeSync(chunk);
    };
    Promise.allSettled([copy(child.stdout), copy(child.stderr)]).then(() => file.close());
  }
  return child;
}

/** Kills `child` and every process below it (`/usr/bin/time` does not pass SIGKILL on). */
function kill(child: Deno.ChildProcess): void {
  for (const pid of [...descendants(child.pid), child.pid]) {
    try {
      Deno.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

/** Process ids below `pid`, deepest last (Linux /proc; bounded by the process count). */
function descendants(pid: number, depth = 0): number[] {
  if (depth > 8) return [];
  let text = "";
  try {
    for (const task of Deno.readDirSync(`/proc/${pid}/task`)) {
      text += " " + Deno.readTextFileSync(`/proc/${pid}/task/${task.name}/children`);
    }
  } catch {
    return []; // gone
  }
  const kids = text.split(/\s+/).filter((x) => x !== "").map(Number);
  return kids.flatMap((k) => [k, ...descendants(k, depth + 1)]);
}

async function waitFor(what: string, ms: number, test: () => boolean | Promise<boolean>) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await test()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  return port;
}

/** Runs `argv` under /usr/bin/time; returns the sample (throws on failure or timeout). */
async function timed(name: string, argv: string[]): Promise<Sample> {
  const timeFile = join(work, `time-${name}.txt`);
  const child = spawn(
    "/usr/bin/time",
    ["-f", "%e %U %S %M", "-o", timeFile, ...argv],
    join(
      work,
      `out-${name}.log`,
    ),
  );
  const timer = setTimeout(() => kill(child), RUN_TIMEOUT_MS);
  const status = await child.status.finally(() => clearTimeout(timer));
  if (!status.success) {
    const tail = (await Deno.readTextFile(join(work, `out-${name}.log`))).slice(-600);
    throw new Error(`${name} exited ${status.code}:\n${tail}`);
  }
  const [wall, user, sys, rssKiB] = (await Deno.readTextFile(timeFile)).trim().split("\n").at(-1)!
    .split(" ").map(Number);
  return { wallS: wall!, cpuS: user! + sys!, rssMiB: rssKiB! / 1024 };
}

async function sameBytes(a: string, b: string): Promise<boolean> {
  return (await new Deno.Command("cmp", { args: ["-s", a, b] }).output()).success;
}

async function ensurePayload(): Promise<string> {
  await Deno.mkdir(work, { recursive: true });
  const payload = join(work, `payload-${sizeMib}m.bin`);
  const want = sizeMib * 1024 * 1024;
  const have = await Deno.stat(payload).then((s) => s.size, () => -1);
  if (have !== want) {
    console.log(`making ${payload}`);
    const out = await new Deno.Command("bash", {
      args: ["-c", `head -c ${want} /dev/urandom > '${payload}'`],
    }).output();
    if (!out.success) throw new Error("cannot make the payload");
  }
  return payload;
}

async function makeTorrent(payload: string, trackerUrl?: string): Promise<string> {
  const torrent = join(work, `payload-${sizeMib}m${trackerUrl ? "-tracker" : ""}.torrent`);
  const args = ["run", "-A", MOD, "create", payload, "-o", torrent, "--force", "--no-date"];
  args.push("--piece-length", values["piece-length"]!);
  if (trackerUrl) args.push("--tracker", trackerUrl);
  const out = await new Deno.Command(Deno.execPath(), { args, stdout: "null" }).output();
  if (!out.success) throw new Error(`create failed: ${new TextDecoder().decode(out.stderr)}`);
  return torrent;
}

function startLtSeed(torrent: string, listen: string): { child: Deno.ChildProcess; log: string } {
  const log = join(work, `seed-${listen.replace(/[:.]/g, "_")}.log`);
  const child = spawn(PYTHON, [
    LT_PEER,
    "--torrent",
    torrent,
    "--save",
    work,
    "--listen",
    listen,
    "--seed-mode",
    "--timeout",
    "36000",
  ], log);
  return { child, log };
}

async function listenPort(log: string): Promise<number> {
  let port = 0;
  await waitFor("the libtorrent seed", 15_000, async () => {
    const text = await Deno.readTextFile(log).catch(() => "");
    port = Number(/"port": (\d+)/.exec(text)?.[1] ?? 0);
    return port > 0;
  });
  return port;
}

/** Waits until the tracker hands out the seed at `seedHost` (opentracker lists the asker too). */
async function waitForSeedOnTracker(
  announce: string,
  infoHashHex: string,
  seedHost: number[],
): Promise<void> {
  const hash = infoHashHex.replace(/../g, "%$&");
  const url = `${announce}?info_hash=${hash}&peer_id=${"-BENCH-".padEnd(20, "x")}` +
    `&port=1&uploaded=0&downloaded=0&compact=1&left=1`;
  await waitFor("the seed's announce", 30_000, async () => {
    const body = await fetch(url).then((r) => r.bytes()).catch(() => new Uint8Array());
    const text = new TextDecoder("latin1").decode(body);
    const m = /5:peers(\d+):/.exec(text);
    if (!m) return false;
    const start = m.index + m[0].length;
    for (let at = start; at + 6 <= start + Number(m[1]); at += 6) {
      if (seedHost.every((b, i) => body[at + i] === b)) return true;
    }
    return false;
  });
  await fetch(`${url}&event=stopped`).then((r) => r.body?.cancel());
}

function stats(xs: number[]): { min: number; median: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { min: s[0]!, median, max: s.at(-1)! };
}

function report(title: string, results: Map<string, Sample[]>): void {
  console.log(`\n${title}`);
  const medians = new Map<string, number>();
  for (const [name, samples] of results) {
    const wall = stats(samples.map((s) => s.wallS));
    const cpu = stats(samples.map((s) => s.cpuS));
    const rss = stats(samples.map((s) => s.rssMiB));
    medians.set(name, wall.median);
    const f = (x: { min: number; median: number; max: number }, d = 2) =>
      `${x.min.toFixed(d)} / ${x.median.toFixed(d)} / ${x.max.toFixed(d)}`;
    console.log(
      `  ${name.padEnd(11)} wall ${f(wall)} s   cpu ${f(cpu)} s   peak RSS ${f(rss, 0)} MiB` +
        `   (min / median / max, n=${samples.length}; max/median ${
          (wall.max / wall.median).toFixed(2)
        })`,
    );
  }
  const [a, b] = [...medians.values()];
  if (a !== undefined && b !== undefined) {
    const [na, nb] = [...medians.keys()];
    console.log(`  ratio ${na}/${nb} (median wall): ${(a / b).toFixed(2)}`);
  }
}

/** Alternates the named runs `rounds` times; each leaves its download until the next ends. */
async function alternate(
  runs: { name: string; argv: (dl: string) => string[]; output: (dl: string) => string }[],
  payload: string,
): Promise<Map<string, Sample[]>> {
  const results = new Map(runs.map((r) => [r.name, [] as Sample[]]));
  let previous: string | undefined;
  let n = 0;
  const sequence = [{ ...runs[0]!, warm: true }, { ...runs[1]!, warm: true }];
  for (let i = 0; i < rounds; i++) {
    for (const r of runs) sequence.push({ ...r, warm: false });
  }
  for (const run of sequence) {
    const dl = join(work, `dl-${run.name}-${n++}`);
    await Deno.remove(dl, { recursive: true }).catch(() => {});
    await Deno.mkdir(dl, { recursive: true });
    const sample = await timed(run.name, run.argv(dl));
    if (!(await sameBytes(run.output(dl), payload))) throw new Error(`${run.name}: data differs`);
    if (previous) await Deno.remove(previous, { recursive: true });
    previous = dl;
    if (run.warm) {
      console.log(`warm-up ${run.name}: ${sample.wallS.toFixed(2)} s (not counted)`);
      continue;
    }
    results.get(run.name)!.push(sample);
    console.log(
      `${run.name.padEnd(11)} wall ${sample.wallS.toFixed(2)} s  cpu ${
        sample.cpuS.toFixed(2)
      } s  rss ${sample.rssMiB.toFixed(0)} MiB`,
    );
  }
  if (previous) await Deno.remove(previous, { recursive: true });
  return results;
}

async function download(): Promise<void> {
  const payload = await ensurePayload();
  const name = payload.split("/").at(-1)!;
  const viaTracker = values.via === "tracker";
  let stopTracker = async () => {};
  try {
    // The announce URL is outside the info dictionary: the info-hash (opentracker's
    // whitelist) is known before the tracker's port is.
    const plain = await makeTorrent(payload);
    const meta = parseTorrent(await Deno.readFile(plain));
    let announce: string | undefined;
    if (viaTracker && values.tracker === "swarmd") {
      const port = freePort();
      const child = spawn(Deno.execPath(), [
        "run",
        "-A",
        MOD,
        "tracker",
        "--host",
        "127.0.0.1",
        "--http-port",
        String(port),
        "--udp-port",
        "0",
      ], join(work, "tracker.log"));
      stopTracker = async () => {
        kill(child);
        await child.status;
      };
      announce = `http://127.0.0.1:${port}/announce`;
    } else if (viaTracker) {
      const tracker = await startOpentracker([meta.infoHashHex]);
      stopTracker = () => tracker.stop();
      announce = tracker.httpUrl;
    }
    const finalTorrent = announce ? await makeTorrent(payload, announce) : plain;
    const seed = startLtSeed(finalTorrent, "127.0.0.2:0");
    const seedPort = await listenPort(seed.log);
    if (viaTracker) await waitForSeedOnTracker(announce!, meta.infoHashHex, [127, 0, 0, 2]);
    console.log(
      `${sizeMib} MiB, pieces ${values["piece-length"]} B, seed libtorrent 127.0.0.2:${seedPort}` +
        (viaTracker ? `, found through ${values.tracker} (${announce})` : ", given as --peer") +
        `; ${rounds} rounds, alternating`,
    );
    const peerArgs = viaTracker ? [] : ["--peer", `127.0.0.2:${seedPort}`];
    const results = await alternate([
      {
        name: "swarmd",
        argv: (dl) => [
          Deno.execPath(),
          "run",
          "-A",
          MOD,
          "get",
          finalTorrent,
          "-o",
          dl,
          "--port",
          "0",
          "--host",
          "127.0.0.3",
          "--no-dht",
          "--allow-local-peers",
          ...peerArgs,
          ...swarmdArgs,
        ],
        output: (dl) => join(dl, name),
      },
      {
        name: "libtorrent",
        argv: (dl) => [
          PYTHON,
          LT_PEER,
          "--torrent",
          finalTorrent,
          "--listen",
          "127.0.0.4:0",
          "--exit-when-complete",
          "--timeout",
          "600",
          "--save",
          dl,
          ...peerArgs,
          ...leecherArgs,
        ],
        output: (dl) => join(dl, name),
      },
    ], payload);
    report(
      `download ${sizeMib} MiB ${
        viaTracker ? `through ${values.tracker}` : "by --peer"
      } from a libtorrent seed`,
      results,
    );
  } finally {
    for (const child of children) kill(child);
    await stopTracker();
  }
}

async function upload(): Promise<void> {
  const payload = await ensurePayload();
  const name = payload.split("/").at(-1)!;
  const torrent = await makeTorrent(payload);
  try {
    const lt = startLtSeed(torrent, "127.0.0.2:0");
    const ltPort = await listenPort(lt.log);
    const ourPort = freePort();
    const oursLog = join(work, "seed-swarmd.log");
    spawn(Deno.execPath(), [
      "run",
      "-A",
      MOD,
      "seed",
      torrent,
      work,
      "--port",
      String(ourPort),
      "--host",
      "127.0.0.5",
      "--no-dht",
      ...swarmdArgs,
    ], oursLog);
    await waitFor("our seed", 60_000, async () => {
      const text = await Deno.readTextFile(oursLog).catch(() => "");
      return text.includes("Seeding") && text.includes("Checked existing data");
    });
    console.log(
      `${sizeMib} MiB; a libtorrent leecher fetches from swarmd seed 127.0.0.5:${ourPort} and ` +
        `from libtorrent seed 127.0.0.2:${ltPort}; ${rounds} rounds, alternating`,
    );
    const leecher = (peer: string) => (dl: string) => [
      PYTHON,
      LT_PEER,
      "--torrent",
      torrent,
      "--listen",
      "127.0.0.4:0",
      "--peer",
      peer,
      "--exit-when-complete",
      "--timeout",
      "600",
      "--save",
      dl,
      ...leecherArgs,
    ];
    const results = await alternate([
      { name: "from-swarmd", argv: leecher(`127.0.0.5:${ourPort}`), output: (d) => join(d, name) },
      {
        name: "from-lt",
        argv: leecher(`127.0.0.2:${ltPort}`),
        output: (d) => join(d, name),
      },
    ], payload);
    report(`upload ${sizeMib} MiB: libtorrent leecher, wall time by seed`, results);
  } finally {
    for (const child of children) kill(child);
  }
}

try {
  if (mode === "download") await download();
  else if (mode === "upload") await upload();
  else throw new Error(`unknown mode "${mode}" (download | upload)`);
} finally {
  for (const child of children) kill(child);
  for await (const e of Deno.readDir(work)) {
    const isPayload = e.name.startsWith("payload-") && e.name.endsWith(".bin");
    if (e.name.startsWith("dl-") || (isPayload && !values.keep)) {
      await Deno.remove(join(work, e.name), { recursive: true });
    }
  }
}
