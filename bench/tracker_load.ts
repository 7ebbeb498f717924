/**
 * Tracker load benchmark: announces per second our `TrackerServer` sustains on loopback,
 * over UDP (BEP 15) and HTTP, against opentracker and npm:bittorrent-tracker in the same
 * run, with the same bounded load generator; plus the memory of 100,000 peers in the
 * `SwarmStore` alone.
 *
 * Run: `deno run -A --v8-flags=--expose-gc bench/tracker_load.ts [--seconds 5]
 *   [--targets ours,opentracker,bittorrent-tracker] [--transports udp,http]
 *   [--swarms 1000] [--peers 100000] [--window 128] [--sockets 4] [--http-concurrency 32]`
 *
 * Each server runs in its own process; the generator runs here. Announces draw a peer
 * uniformly from a fixed pool (`--peers`, each with its own peer id, key and port, spread
 * over `--swarms` random info-hashes), so most announces update an existing peer, as on a
 * real tracker. Besides announces/s, the server's CPU time per announce is read from
 * /proc, which stays meaningful when the generator, not the server, is the bottleneck.
 * bittorrent-tracker is loaded with `--no-lock`, so the shared deno.lock is not touched.
 * @module
 */
import { parseArgs } from "node:util";
import { SwarmStore } from "../src/tracker/server/swarm_store.ts";
import { SeededRandom } from "../src/util/prng.ts";
import { toHex } from "../src/util/bytes.ts";
import { percentEncodeBytes } from "../src/tracker/http_codec.ts";
import { TrackerServer } from "../src/deno/tracker_server.ts";
import { encodeUdpRequest } from "../src/tracker/udp_codec.ts";
import {
  opentrackerAvailable,
  startOpentracker as launchOpentracker,
} from "../tests/interop/_opentracker.ts";

const SELF = new URL(import.meta.url).pathname;
const BT_TRACKER = "npm:bittorrent-tracker@11.2.1/server";

interface Pool {
  readonly hashes: Uint8Array[];
  readonly peerIds: Uint8Array[];
}

function makePool(swarms: number, peers: number): Pool {
  const random = new SeededRandom(42);
  return {
    hashes: Array.from({ length: swarms }, () => random.bytes(20)),
    peerIds: Array.from({ length: peers }, () => random.bytes(20)),
  };
}

/** Heap bytes per peer for 100,000 peers over 1,000 swarms in the store alone. */
function storeMemory(pool: Pool): { bytesPerPeer: number; mib: number } {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const before = Deno.memoryUsage().heapUsed;
  const store = new SwarmStore({ random: new SeededRandom(1) });
  const n = 100_000;
  for (let i = 0; i < n; i++) {
    const ip = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    store.announce(0, pool.hashes[i % 1000]!, {
      ip,
      port: 1 + (i % 60000),
      peerId: pool.peerIds[i % pool.peerIds.length]!,
      left: i % 3,
      numwant: 0,
    });
  }
  gc?.();
  const used = Deno.memoryUsage().heapUsed - before;
  if (store.stats().peers !== n) throw new Error("store lost peers");
  return { bytesPerPeer: Math.round(used / n), mib: Math.round((used / 1048576) * 10) / 10 };
}

interface Target {
  readonly name: string;
  readonly udp?: { host: string; port: number };
  readonly http?: string;
  readonly pid: number;
  stop(): Promise<void>;
}

async function readLine(stream: ReadableStream<Uint8Array>): Promise<string> {
  const reader = stream.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  return text.split("\n")[0]!;
}

async function startChild(name: string, args: string[]): Promise<Target> {
  const child = new Deno.Command(Deno.execPath(), {
    args,
    stdout: "piped",
    stderr: "inherit",
    stdin: "null",
  }).spawn();
  const line = await Promise.race([
    readLine(child.stdout),
    new Promise<string>((_, reject) =>
      setTimeout(() => reject(new Error(`${name} did not start`)), 120_000)
    ),
  ]);
  const info = JSON.parse(line) as { udp: number; http: number };
  return {
    name,
    udp: { host: "127.0.0.1", port: info.udp },
    http: `http://127.0.0.1:${info.http}/announce`,
    pid: child.pid,
    async stop() {
      child.kill("SIGTERM");
      await child.status;
    },
  };
}

async function startOpentracker(pool: Pool): Promise<Target | undefined> {
  if (!(await opentrackerAvailable())) return undefined;
  const ot = await launchOpentracker(pool.hashes.map(toHex));
  return {
    name: "opentracker",
    udp: { host: "127.0.0.1", port: ot.port },
    http: ot.httpUrl,
    pid: ot.pid,
    stop: ot.stop,
  };
}

function cpuSeconds(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function rssMiB(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round(kb / 1024);
}

interface LoadOptions {
  readonly seconds: number;
  readonly window: number;
  readonly sockets: number;
  readonly httpConcurrency: number;
}

/** Bounded UDP load: `sockets` × `window` announces in flight, for `seconds`. */
async function udpLoad(
  to: { host: string; port: number },
  pool: Pool,
  o: LoadOptions,
): Promise<number> {
  let replies = 0;
  const end = performance.now() + o.seconds * 1000;
  const random = new SeededRandom(7);
  const addr = { transport: "udp" as const, hostname: to.host, port: to.port };
  await Promise.all(Array.from({ length: o.sockets }, async (_, s) => {
    const sock = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    let connectionId: Uint8Array | undefined;
    for (let attempt = 0; attempt < 20 && !connectionId; attempt++) {
      await sock.send(encodeUdpRequest({ action: "connect", transactionId: s }), addr);
      const got = await Promise.race([
        sock.receive(),
        new Promise<undefined>((r) => setTimeout(() => r(undefined), 250)),
      ]);
      if (got && got[0].length >= 16) connectionId = got[0].slice(8, 16);
    }
    if (!connectionId) throw new Error("no connect reply");
    const packet = encodeUdpRequest({
      action: "announce",
      connectionId,
      transactionId: 0,
      infoHash: pool.hashes[0]!,
      peerId: pool.peerIds[0]!,
      downloaded: 0,
      left: 1000,
      uploaded: 0,
      event: undefined,
      ip: 0,
      key: 0,
      numwant: 50,
      port: 1,
    });
    const view = new DataView(packet.buffer);
    let inFlight = 0, lastReply = performance.now();
    const sendOne = () => {
      const i = random.int(pool.peerIds.length);
      packet.set(pool.hashes[i % pool.hashes.length]!, 16);
      packet.set(pool.peerIds[i]!, 36);
      view.setUint32(64, i % 4 === 0 ? 0 : 1000);
      view.setUint32(88, i + 1);
      view.setUint16(96, 1024 + (i % 60000));
      inFlight++;
      sock.send(packet, addr).catch(() => {});
    };
    const refill = setInterval(() => {
      if (performance.now() - lastReply > 200) inFlight = 0; // losses: refill the window
      while (inFlight < o.window) sendOne();
    }, 100);
    while (inFlight < o.window) sendOne();
    const buffer = new Uint8Array(2048);
    const stop = new Promise<undefined>((r) =>
      setTimeout(() => r(undefined), Math.max(0, end - performance.now()))
    );
    while (performance.now() < end) {
      const got = await Promise.race([sock.receive(buffer), stop]);
      if (!got) break;
      lastReply = performance.now();
      inFlight = Math.max(0, inFlight - 1);
      if (got[0][3] === 1) replies++;
      sendOne();
    }
    clearInterval(refill);
    sock.close();
  }));
  return replies / o.seconds;
}

/** Bounded HTTP load: `httpConcurrency` requests in flight, for `seconds`. */
async function httpLoad(url: string, pool: Pool, o: LoadOptions): Promise<number> {
  let ok = 0;
  const end = performance.now() + o.seconds * 1000;
  const random = new SeededRandom(9);
  const hashes = pool.hashes.map(percentEncodeBytes);
  const ids = pool.peerIds.map(percentEncodeBytes);
  await Promise.all(Array.from({ length: o.httpConcurrency }, async () => {
    while (performance.now() < end) {
      const i = random.int(ids.length);
      const q =
        `info_hash=${hashes[i % hashes.length]}&peer_id=${ids[i]}&port=${1024 + (i % 60000)}` +
        `&uploaded=0&downloaded=0&left=${i % 4 === 0 ? 0 : 1000}&key=${i + 1}&numwant=50&compact=1`;
      try {
        const body = new Uint8Array(await (await fetch(`${url}?${q}`)).arrayBuffer());
        if (
          body[0] === 0x64 && !new TextDecoder().decode(body.subarray(0, 20)).includes("failure")
        ) ok++;
      } catch {
        // connection refused or reset under load: counts as a failed announce
      }
    }
  }));
  return ok / o.seconds;
}

async function serve(kind: string): Promise<void> {
  if (kind === "ours") {
    const server = await TrackerServer.start({
      httpPort: 0,
      udpPort: 0,
      connectsPerSecondPerPrefix: 0,
    });
    console.log(JSON.stringify({ http: server.httpAddr!.port, udp: server.udpAddr!.port }));
    Deno.addSignalListener("SIGTERM", () => server.close().then(() => Deno.exit(0)));
    return;
  }
  const mod = await import(BT_TRACKER) as { default: new (o: object) => BtServer };
  const server = new mod.default({
    udp: true,
    http: true,
    ws: false,
    stats: false,
    trustProxy: false,
  });
  server.on("error", () => {});
  server.on("warning", () => {});
  server.listen(0, "127.0.0.1", () => {
    console.log(
      JSON.stringify({ http: server.http.address().port, udp: server.udp4.address().port }),
    );
  });
  Deno.addSignalListener("SIGTERM", () => server.close(() => Deno.exit(0)));
}

interface BtServer {
  on(event: string, fn: () => void): void;
  listen(port: number, host: string, fn: () => void): void;
  close(fn: () => void): void;
  http: { address(): { port: number } };
  udp4: { address(): { port: number } };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    strict: true,
    options: {
      serve: { type: "string" },
      seconds: { type: "string", default: "5" },
      targets: { type: "string", default: "ours,opentracker,bittorrent-tracker" },
      transports: { type: "string", default: "udp,http" },
      swarms: { type: "string", default: "1000" },
      peers: { type: "string", default: "100000" },
      window: { type: "string", default: "128" },
      sockets: { type: "string", default: "4" },
      "http-concurrency": { type: "string", default: "32" },
    },
  });
  if (values.serve) return await serve(values.serve);
  const pool = makePool(Number(values.swarms), Number(values.peers));
  const o: LoadOptions = {
    seconds: Number(values.seconds),
    window: Number(values.window),
    sockets: Number(values.sockets),
    httpConcurrency: Number(values["http-concurrency"]),
  };
  const mem = storeMemory(pool);
  console.log(`store memory: ${mem.bytesPerPeer} B/peer, ${mem.mib} MiB per 100,000 peers`);
  const transports = values.transports.split(",");
  for (const name of values.targets.split(",")) {
    const target = name === "opentracker"
      ? await startOpentracker(pool)
      : name === "ours"
      ? await startChild(name, ["run", "-A", "--unstable-net", SELF, "--serve", "ours"])
      : await startChild(name, [
        "run",
        "-A",
        "--no-lock",
        "--no-config",
        SELF,
        "--serve",
        "bittorrent-tracker",
      ]);
    if (!target) {
      console.log(`${name}: not available, skipped`);
      continue;
    }
    try {
      for (const t of transports) {
        const cpu0 = cpuSeconds(target.pid);
        const rate = t === "udp"
          ? await udpLoad(target.udp!, pool, o)
          : await httpLoad(target.http!, pool, o);
        const cpu = cpuSeconds(target.pid) - cpu0;
        const perAnnounce = rate > 0 ? (cpu * 1e6) / (rate * o.seconds) : NaN;
        console.log(
          `${name.padEnd(19)} ${t.padEnd(4)} ${
            Math.round(rate).toString().padStart(7)
          } announces/s` +
            `  server CPU ${perAnnounce.toFixed(1).padStart(6)} µs/announce  RSS ${
              rssMiB(target.pid)
            } MiB`,
        );
      }
    } finally {
      await target.stop();
    }
  }
}

if (import.meta.main) await main();
