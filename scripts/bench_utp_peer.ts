/**
 * One side of a uTP transfer benchmark, as its own process (so its CPU time is its own):
 * a seed that serves a file to the first peer that connects, or a downloader that dials a
 * seed and fetches and SHA-1-verifies every piece. Both speak the BitTorrent wire protocol
 * through `src/wire` over our `UtpSocket`, with no session. Driven by
 * `scripts/bench_utp.ts`; prints `{"event":"listening","port":N}` (seed) and one JSON
 * result line: payload bytes, seconds from the first block (or request) to the end, and
 * this process's CPU seconds over the same span.
 *
 *   deno run -A --unstable-net scripts/bench_utp_peer.ts seed --bind 127.0.0.10 \
 *       --torrent t.torrent --file payload.bin
 *   deno run -A --unstable-net scripts/bench_utp_peer.ts download --bind 127.0.0.11 \
 *       --torrent t.torrent --peer 127.0.0.10:PORT
 * @module
 */
import process from "node:process";
import { parseArgs } from "node:util";
import { SECURE_RANDOM, SYSTEM_CLOCK } from "../src/deno/clock.ts";
import { bindUdp } from "../src/deno/udp.ts";
import { parseTorrent } from "../src/metainfo/mod.ts";
import { UtpSocket } from "../src/net/utp/utp_socket.ts";
import { downloadAll, seedAll } from "../tests/interop/_wire_peer.ts";

const { positionals, values } = parseArgs({
  args: Deno.args,
  allowPositionals: true,
  options: {
    bind: { type: "string", default: "127.0.0.10" },
    torrent: { type: "string" },
    file: { type: "string" },
    peer: { type: "string" },
  },
});
const meta = parseTorrent(await Deno.readFile(values.torrent!));
const shape = {
  infoHash: meta.infoHash,
  pieceLength: meta.pieceLength,
  totalLength: meta.totalLength,
};
const utp = new UtpSocket({
  socket: await bindUdp({ host: values.bind!, port: 0 }),
  clock: SYSTEM_CLOCK,
  random: SECURE_RANDOM,
  settings: JSON.parse(Deno.env.get("UTP_SETTINGS") ?? "{}"), // experiments: {"name": value}
});

/** With UTP_DEBUG=ms, each connection's state goes to stderr that often (stall hunting). */
function watch(conn: unknown): void {
  const every = Number(Deno.env.get("UTP_DEBUG") ?? 0);
  if (!every) return;
  const core = (conn as { core: { snapshot(): unknown; stats: unknown; state: string } }).core;
  const timer = setInterval(() => {
    console.error(JSON.stringify({ snapshot: core.snapshot(), stats: core.stats }));
    if (core.state === "closed") clearInterval(timer);
  }, every);
}

/** The connection's counters (resends, timeouts) for the result line. */
function statsOf(conn: unknown): unknown {
  return (conn as { core: { stats: unknown } }).core.stats;
}

let startedAt = 0, cpuAtStart = { user: 0, system: 0 };
const mark = () => {
  if (startedAt !== 0) return;
  startedAt = performance.now();
  cpuAtStart = process.cpuUsage();
};
const report = (role: string, bytes: number, extra: Record<string, unknown> = {}) => {
  const cpu = process.cpuUsage(cpuAtStart);
  const seconds = (performance.now() - startedAt) / 1000;
  console.log(JSON.stringify({
    event: "result",
    role,
    bytes,
    seconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    ...extra,
  }));
};

try {
  if (positionals[0] === "seed") {
    const content = await Deno.readFile(values.file!);
    console.log(JSON.stringify({ event: "listening", port: utp.addr.port }));
    const conn = await utp.accept();
    if (!conn) throw new Error("Socket closed before a peer came");
    watch(conn);
    const peerId = SECURE_RANDOM.bytes(20);
    const uploaded = await seedAll(conn, shape, { peerId, content, onRequest: mark });
    report("seed", uploaded, { stats: statsOf(conn) });
    conn.close();
  } else {
    const [host, port] = values.peer!.split(":");
    const hashes = meta.pieceHashes;
    let result, stats;
    for (let attempt = 0; !result; attempt++) {
      const conn = await utp.dial({ host: host!, port: Number(port) });
      watch(conn);
      try {
        const peerId = SECURE_RANDOM.bytes(20);
        result = await downloadAll(conn, shape, {
          peerId,
          pieceHashes: hashes,
          onFirstBlock: mark,
        });
        stats = statsOf(conn);
      } catch (e) {
        // libtorrent closes connections that come while its torrent is still starting
        if (attempt === 40 || !String(e).includes("after 0 handshake bytes")) throw e;
        await new Promise((r) => setTimeout(r, 250));
      } finally {
        conn.close();
      }
    }
    report("download", result.bytes, { verifiedPieces: result.verifiedPieces, stats });
  }
} finally {
  await new Promise((r) => setTimeout(r, 200)); // let the FIN go out
  utp.close();
}
