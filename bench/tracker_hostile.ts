/**
 * The tracker under hostile load, as a user runs it: memory (RSS over its own baseline, and
 * peak) and an honest client's announce latency over HTTP (a fresh connection each) and UDP
 * (connect + announce), against opentracker on the same load. Each scenario gets a fresh
 * tracker process; rounds alternate the targets.
 *
 * Scenarios:
 * - `quiet`: nothing but the honest client;
 * - `swarms`: 100,000 one-peer swarms announced over UDP, then five concurrent `/stats`;
 * - `flood`: a UDP connect flood from 16 /24s (127.1–16.0.1) for `--flood-seconds`;
 * - `idle`: 10,000 idle HTTP connections held open;
 * - `slowloris`: 500 connections sending a request line a byte every second; the note gives
 *   how long the server took to close them (min/median/max s, or how many stayed 40 s).
 *
 * Targets: `ours` (`deno run -A --no-config mod.ts tracker`, as from JSR: UDP on node:dgram),
 * `ours-native` (the same with `--unstable-net`), `opentracker` (when installed), and
 * `before`: another checkout's tracker run with its deno.json (`--before-root DIR`, e.g.
 * `git archive eba76f4 | tar -x -C /tmp/before`), for before/after figures.
 *
 * Run: `deno run -A bench/tracker_hostile.ts [--rounds 3] [--targets ours,ours-native,opentracker]
 *   [--before-root DIR]
 *   [--scenarios quiet,swarms,flood,idle] [--swarms 100000] [--idle 10000] [--flood-seconds 10]`
 * (needs `ulimit -n` above `--idle` + 1,000). Figures go to the report, not to tests.
 * @module
 */
import { parseArgs } from "node:util";
import { decodeUdpResponse, encodeUdpRequest } from "../src/tracker/udp_codec.ts";
import { percentEncodeBytes } from "../src/tracker/http_codec.ts";
import { toHex } from "../src/util/bytes.ts";
import { opentrackerAvailable, startOpentracker } from "../tests/interop/_opentracker.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const SELF = new URL(import.meta.url).pathname;
const HONEST = new Uint8Array(20).fill(0x77);

interface Target {
  readonly http: { host: string; port: number };
  readonly udp: { host: string; port: number };
  readonly pid: number;
  stop(): Promise<void>;
  /** Ours: the V8 heap as `/stats` reports it. */
  heap?(): Promise<string>;
}

interface Sample {
  readonly baseMiB: number;
  readonly afterMiB: number;
  readonly peakMiB: number;
  readonly httpMs: number[];
  readonly udpMs: number[];
  readonly note: string;
}

function hashOf(i: number): Uint8Array {
  const h = new Uint8Array(20).fill(0x33);
  new DataView(h.buffer).setUint32(0, i);
  return h;
}

function memMiB(pid: number): { rss: number; hwm: number } {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rss: kb("VmRSS") / 1024, hwm: kb("VmHWM") / 1024 };
}

const sleep = (ms: number) => new Promise<undefined>((r) => setTimeout(() => r(undefined), ms));

async function startOurs(flags: string[], root = ROOT): Promise<Target> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      ...flags,
      "mod.ts",
      "tracker",
      "--host",
      "127.0.0.1",
      "--http-port",
      "0",
      "--udp-port",
      "0",
    ],
    cwd: root,
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  const deadline = performance.now() + 60_000;
  while (!text.includes("stats on") && performance.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  const port = (scheme: string) =>
    Number(new RegExp(`${scheme}://127\\.0\\.0\\.1:(\\d+)`).exec(text)?.[1]);
  const stop = async () => {
    child.kill("SIGTERM");
    await child.status;
    await reader.cancel().catch(() => {});
  };
  if (!port("http") || !port("udp")) {
    await stop();
    throw new Error(`our tracker did not start: ${text}`);
  }
  const http = { host: "127.0.0.1", port: port("http") };
  const heap = async () => {
    const s = await (await fetch(`http://127.0.0.1:${http.port}/stats?format=json`)).json();
    const heap = s.heap_used_mib === undefined
      ? ""
      : `heap ${s.heap_used_mib}/${s.heap_total_mib} MiB, `;
    return `(${heap}${s.swarms} swarms)`;
  };
  return { http, udp: { host: "127.0.0.1", port: port("udp") }, pid: child.pid, stop, heap };
}

async function startTarget(name: string, o: Options): Promise<Target> {
  if (name === "before") return await startOurs(["--config", "deno.json"], o.beforeRoot);
  if (name !== "opentracker") {
    return await startOurs(name === "ours" ? ["--no-config"] : ["--no-config", "--unstable-net"]);
  }
  const swarms = o.swarms;
  const whitelist = [toHex(HONEST), ...Array.from({ length: swarms }, (_, i) => toHex(hashOf(i)))];
  const ot = await startOpentracker(whitelist);
  await sleep(1000); // the whitelist loads on a thread of its own
  const addr = { host: "127.0.0.1", port: ot.port };
  return { http: addr, udp: addr, pid: ot.pid, stop: ot.stop };
}

/** One HTTP announce on a fresh connection; ms, or Infinity after 10 s. */
async function httpAnnounce(to: { host: string; port: number }, n: number): Promise<number> {
  const q = `info_hash=${percentEncodeBytes(HONEST)}&peer_id=${"-HN0001-".padEnd(19, "x")}${
    n % 10
  }&port=${6000 + n}&uploaded=0&downloaded=0&left=1&compact=1&numwant=50`;
  const start = performance.now();
  let conn: Deno.TcpConn | undefined;
  const timer = setTimeout(() => conn?.close(), 10_000);
  try {
    conn = await Deno.connect({ hostname: to.host, port: to.port });
    await conn.write(
      new TextEncoder().encode(
        `GET /announce?${q} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`,
      ),
    );
    const buffer = new Uint8Array(4096);
    let got = "";
    for (;;) {
      const k = await conn.read(buffer);
      if (k === null) break;
      got += new TextDecoder().decode(buffer.subarray(0, k));
      if (/\r\n\r\nd.*e$/s.test(got)) break;
    }
    if (!got.includes("8:interval")) return Infinity;
    return performance.now() - start;
  } catch {
    return Infinity;
  } finally {
    clearTimeout(timer);
    try {
      conn?.close();
    } catch {
      // closed by the server
    }
  }
}

async function udpExchange(
  sock: Deno.DatagramConn,
  to: { host: string; port: number },
  packet: Uint8Array,
  tid: number,
  timeoutMs: number,
): Promise<Uint8Array | undefined> {
  await sock.send(packet, { transport: "udp", hostname: to.host, port: to.port });
  const end = performance.now() + timeoutMs;
  const buffer = new Uint8Array(2048);
  while (performance.now() < end) {
    const got = await Promise.race([sock.receive(buffer), sleep(end - performance.now())]);
    if (!got) return undefined;
    const data = got[0];
    if (data.length >= 8 && new DataView(data.buffer, data.byteOffset).getUint32(4) === tid) {
      return data.slice();
    }
  }
  return undefined;
}

/** Connect + announce on a fresh socket; ms, or Infinity after 5 s. */
async function udpAnnounce(to: { host: string; port: number }, n: number): Promise<number> {
  const sock = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const start = performance.now();
  try {
    const c = await udpExchange(
      sock,
      to,
      encodeUdpRequest({ action: "connect", transactionId: n }),
      n,
      5000,
    );
    if (!c) return Infinity;
    const announce = encodeUdpRequest({
      action: "announce",
      connectionId: c.slice(8, 16),
      transactionId: n + 1,
      infoHash: HONEST,
      peerId: new Uint8Array(20).fill(n),
      downloaded: 0,
      left: 1,
      uploaded: 0,
      event: "started",
      ip: 0,
      key: n + 1,
      numwant: 50,
      port: 7000 + n,
    });
    const a = await udpExchange(sock, to, announce, n + 1, 5000 - (performance.now() - start));
    return a && a.length >= 20 ? performance.now() - start : Infinity;
  } finally {
    sock.close();
  }
}

async function latencies(target: Target, count = 7): Promise<{ http: number[]; udp: number[] }> {
  const http: number[] = [], udp: number[] = [];
  for (let i = 0; i < count; i++) {
    http.push(await httpAnnounce(target.http, i));
    udp.push(await udpAnnounce(target.udp, 100 + i * 2));
    await sleep(50);
  }
  return { http, udp };
}

/** `swarms` one-peer swarms over UDP from one socket, in windows of 1,000 with resends. */
async function loadSwarms(to: { host: string; port: number }, swarms: number): Promise<number> {
  const sock = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  try {
    const c = await udpExchange(
      sock,
      to,
      encodeUdpRequest({ action: "connect", transactionId: 1 }),
      1,
      5000,
    );
    if (!c) throw new Error("no connect reply");
    const connectionId = c.slice(8, 16);
    let answered = 0;
    for (let from = 0; from < swarms; from += 1000) {
      let missing = new Set(
        Array.from({ length: Math.min(1000, swarms - from) }, (_, k) => from + k),
      );
      for (let attempt = 0; attempt < 5 && missing.size > 0; attempt++) {
        for (const i of missing) {
          const packet = encodeUdpRequest({
            action: "announce",
            connectionId,
            transactionId: i,
            infoHash: hashOf(i),
            peerId: hashOf(i),
            downloaded: 0,
            left: 1,
            uploaded: 0,
            event: "started",
            ip: 0,
            key: i + 1,
            numwant: 0,
            port: 1 + (i % 60000),
          });
          await sock.send(packet, { transport: "udp", hostname: to.host, port: to.port });
        }
        const buffer = new Uint8Array(2048);
        const end = performance.now() + 500;
        while (missing.size > 0 && performance.now() < end) {
          const got = await Promise.race([sock.receive(buffer), sleep(end - performance.now())]);
          if (!got) break;
          const r = decodeUdpResponse(got[0].slice(), 4, 0);
          if (r.action === "announce" && missing.delete(r.transactionId)) answered++;
        }
        missing = new Set(missing);
      }
    }
    return answered;
  } finally {
    sock.close();
  }
}

async function statsBurst(to: { host: string; port: number }): Promise<void> {
  await Promise.all(
    Array.from({ length: 5 }, async (_, i) => {
      const r = await fetch(`http://${to.host}:${to.port}/stats${i % 2 ? "?format=json" : ""}`);
      await r.arrayBuffer();
    }),
  );
}

async function openIdle(
  to: { host: string; port: number },
  count: number,
): Promise<Deno.TcpConn[]> {
  const conns: Deno.TcpConn[] = [];
  for (let i = 0; i < count; i += 200) {
    const batch = await Promise.allSettled(
      Array.from(
        { length: Math.min(200, count - i) },
        () => Deno.connect({ hostname: to.host, port: to.port }),
      ),
    );
    for (const b of batch) if (b.status === "fulfilled") conns.push(b.value);
  }
  return conns;
}

/** `count` connections dribbling a request line; when the server closed each, over `limitMs`. */
async function slowloris(
  to: { host: string; port: number },
  count: number,
  limitMs: number,
): Promise<string> {
  const conns = await openIdle(to, count);
  const start = performance.now();
  const dribble = setInterval(() => {
    for (const c of conns) c.write(new Uint8Array([0x61])).catch(() => {});
  }, 1000);
  for (const c of conns) {
    c.write(new TextEncoder().encode("GET /announce?info_hash=")).catch(() => {});
  }
  const closedAfter = await Promise.all(conns.map(async (c) => {
    const timer = setTimeout(() => c.close(), limitMs);
    try {
      while ((await c.read(new Uint8Array(512))) !== null) { /* an error page: read on */ }
      return (performance.now() - start) / 1000;
    } catch {
      return performance.now() - start >= limitMs - 50
        ? Infinity
        : (performance.now() - start) / 1000;
    } finally {
      clearTimeout(timer);
    }
  }));
  clearInterval(dribble);
  const open = closedAfter.filter((t) => t === Infinity).length;
  return `slowloris: ${conns.length} opened, closed after ${fmt(closedAfter)} s` +
    (open > 0 ? `, ${open} still open after ${limitMs / 1000} s` : "");
}

async function runFlood(to: { host: string; port: number }, seconds: number): Promise<string> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--unstable-net",
      SELF,
      "--flood",
      `${to.host}:${to.port}`,
      "--flood-seconds",
      String(seconds),
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const out = await child.output();
  return new TextDecoder().decode(out.stdout).trim();
}

async function scenario(name: string, target: Target, o: Options): Promise<Sample> {
  await latencies(target, 2); // warm up the honest path, as the baseline
  const base = memMiB(target.pid).rss;
  let note = "";
  let lat: { http: number[]; udp: number[] };
  if (name === "swarms") {
    note = `${await loadSwarms(target.udp, o.swarms)} answered`;
    lat = await latencies(target);
    await statsBurst(target.http);
  } else if (name === "flood") {
    const flood = runFlood(target.udp, o.floodSeconds);
    await sleep(1000);
    lat = await latencies(target);
    note = await flood;
  } else if (name === "idle") {
    const conns = await openIdle(target.http, o.idle);
    note = `${conns.length} opened`;
    lat = await latencies(target);
    for (const c of conns) {
      try {
        c.close();
      } catch {
        // the server closed it
      }
    }
  } else if (name === "slowloris") {
    const closing = slowloris(target.http, 500, 40_000);
    await sleep(1000);
    lat = await latencies(target);
    note = await closing;
  } else {
    lat = await latencies(target);
  }
  await sleep(500);
  const m = memMiB(target.pid);
  if (target.heap) note += ` ${await target.heap()}`;
  return { baseMiB: base, afterMiB: m.rss, peakMiB: m.hwm, httpMs: lat.http, udpMs: lat.udp, note };
}

/** The flood child: 16 sockets on 127.(1..16).0.1 blasting 16-byte connects; prints counts. */
async function flood(toText: string, seconds: number): Promise<void> {
  const [host, port] = [
    toText.slice(0, toText.lastIndexOf(":")),
    Number(toText.slice(toText.lastIndexOf(":") + 1)),
  ];
  const socks = Array.from(
    { length: 16 },
    (_, i) => Deno.listenDatagram({ transport: "udp", hostname: `127.${i + 1}.0.1`, port: 0 }),
  );
  const packet = encodeUdpRequest({ action: "connect", transactionId: 0 });
  let sent = 0, replies = 0, bigger = 0;
  const end = performance.now() + seconds * 1000;
  const readers = socks.map(async (s) => {
    const buffer = new Uint8Array(2048);
    for (;;) {
      try {
        const [data] = await s.receive(buffer);
        replies++;
        if (data.length > 16) bigger++;
      } catch {
        return;
      }
    }
  });
  await Promise.all(socks.map(async (s) => {
    while (performance.now() < end) {
      const burst = [];
      for (let i = 0; i < 64; i++) {
        burst.push(s.send(packet, { transport: "udp", hostname: host, port }));
      }
      sent += 64;
      await Promise.all(burst);
    }
  }));
  await sleep(200);
  for (const s of socks) s.close();
  await Promise.all(readers);
  console.log(`${sent} connects sent, ${replies} answered (${bigger} replies over 16 B)`);
}

interface Options {
  readonly beforeRoot: string;
  readonly swarms: number;
  readonly idle: number;
  readonly floodSeconds: number;
}

const fmt = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(x < 10 ? 1 : 0) : "fail");
  return `${f(s[0]!)}/${f(s[Math.floor(s.length / 2)]!)}/${f(s.at(-1)!)}`;
};

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    strict: true,
    options: {
      rounds: { type: "string", default: "3" },
      targets: { type: "string", default: "ours,ours-native,opentracker" },
      scenarios: { type: "string", default: "quiet,swarms,flood,idle,slowloris" },
      swarms: { type: "string", default: "100000" },
      idle: { type: "string", default: "10000" },
      "flood-seconds": { type: "string", default: "10" },
      flood: { type: "string" },
      "before-root": { type: "string", default: "/tmp/before" },
    },
  });
  if (values.flood) return await flood(values.flood, Number(values["flood-seconds"]));
  const o: Options = {
    beforeRoot: values["before-root"],
    swarms: Number(values.swarms),
    idle: Number(values.idle),
    floodSeconds: Number(values["flood-seconds"]),
  };
  let targets = values.targets.split(",");
  if (targets.includes("opentracker") && !(await opentrackerAvailable())) {
    console.log("opentracker: not installed, skipped");
    targets = targets.filter((t) => t !== "opentracker");
  }
  const results = new Map<string, Sample[]>();
  for (let round = 0; round < Number(values.rounds); round++) {
    const order = round % 2 === 0 ? targets : [...targets].reverse();
    for (const name of values.scenarios.split(",")) {
      for (const t of order) {
        const target = await startTarget(t, o);
        try {
          const sample = await scenario(name, target, o);
          const key = `${name}\t${t}`;
          results.set(key, [...(results.get(key) ?? []), sample]);
          console.log(
            `round ${round + 1} ${name.padEnd(6)} ${t.padEnd(12)} RSS ${
              sample.baseMiB.toFixed(0)
            } → ${sample.afterMiB.toFixed(0)} MiB (peak ${sample.peakMiB.toFixed(0)})  HTTP ms ${
              fmt(sample.httpMs)
            }  UDP ms ${fmt(sample.udpMs)}  ${sample.note}`,
          );
        } finally {
          await target.stop();
        }
      }
    }
  }
  console.log(
    "\nscenario target        ΔRSS MiB min/med/max  peak MiB min/med/max  HTTP ms min/med/max  UDP ms min/med/max",
  );
  for (const [key, samples] of results) {
    const [name, t] = key.split("\t");
    console.log(
      `${name!.padEnd(8)} ${t!.padEnd(13)} ${
        fmt(samples.map((s) => s.afterMiB - s.baseMiB)).padEnd(21)
      } ${fmt(samples.map((s) => s.peakMiB)).padEnd(21)} ${
        fmt(samples.flatMap((s) => s.httpMs)).padEnd(20)
      } ${fmt(samples.flatMap((s) => s.udpMs))}`,
    );
  }
}

if (import.meta.main) await main();
