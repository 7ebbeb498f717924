/**
 * Daemon figures: resident memory (VmRSS) of an idle daemon holding 100 torrents (no
 * peers), and the latency of a full `torrent-get` (every field, every torrent).
 *
 * Run: `deno run -A scripts/bench_daemon.ts [--torrents N] [--requests N] [--all-active]`
 * (`--all-active` turns the download queue off, so every torrent runs).
 * @module
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { buildTorrent } from "../src/metainfo/create.ts";
import { SeededRandom } from "../src/util/prng.ts";
import { TORRENT_FIELDS } from "../src/daemon/rpc_torrent.ts";
import { RpcClient, spawnDaemon, waitFor } from "../tests/integration/_daemon.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    torrents: { type: "string", default: "100" },
    requests: { type: "string", default: "30" },
    "all-active": { type: "boolean", default: false },
  },
});
const count = Number(values.torrents), requests = Number(values.requests);
const root = await Deno.makeTempDir({ prefix: "swarmd-bench-daemon-" });
const args = ["--state", join(root, "state"), "--download-dir", join(root, "dl")];
if (values["all-active"]) {
  await Deno.writeTextFile(
    join(root, "config.json"),
    JSON.stringify({ downloadQueueSize: 100_000, dht: false }),
  );
} else await Deno.writeTextFile(join(root, "config.json"), JSON.stringify({ dht: false }));
args.push("--config", join(root, "config.json"));
const daemon = await spawnDaemon(args);
try {
  const rpc = new RpcClient(daemon.url);
  const random = new SeededRandom(1);
  const pieceLength = 256 * 1024;
  for (let i = 0; i < count; i++) {
    // 50 MB in two files, 200 pieces; no data anywhere (no peers needed)
    const files = [{ path: ["part1.bin"], length: 30_000_000 }, {
      path: ["part2.bin"],
      length: 20_000_000,
    }];
    const pieces = Math.ceil(50_000_000 / pieceLength);
    const torrent = buildTorrent({
      name: `bench-${i}`,
      files,
      pieceLength,
      pieceHashes: random.bytes(20 * pieces),
      trackers: [[`http://127.0.0.1:9/announce?t=${i}`]],
    });
    await rpc.call("torrent-add", { metainfo: btoa(String.fromCharCode(...torrent)) });
  }
  await waitFor(
    "every check",
    async () => {
      const { torrents } = await rpc.call("torrent-get", { fields: ["status"] });
      return torrents.length === count && torrents.every((t: { status: number }) => t.status !== 2);
    },
    120_000,
    500,
  );
  await new Promise((r) => setTimeout(r, 10_000)); // idle
  const status = await Deno.readTextFile(`/proc/${daemon.child.pid}/status`);
  const rss = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? "0");
  const fields = Object.keys(TORRENT_FIELDS);
  const times: number[] = [];
  let bytes = 0;
  for (let i = 0; i < requests; i++) {
    const start = performance.now();
    const response = await rpc.request({ method: "torrent-get", arguments: { fields } });
    times.push(performance.now() - start);
    bytes = JSON.stringify(response).length;
  }
  times.sort((a, b) => a - b);
  const pick = (q: number) =>
    times[Math.min(times.length - 1, Math.floor(q * times.length))]!.toFixed(1);
  const { torrents } = await rpc.call("torrent-get", { fields: ["status"] });
  const running = torrents.filter((t: { status: number }) =>
    t.status === 4 || t.status === 6
  ).length;
  console.log(
    `${count} torrents (${running} running, the rest queued): VmRSS ${
      (rss / 1024).toFixed(1)
    } MiB idle\n` +
      `full torrent-get (${fields.length} fields x ${count} torrents, ${
        (bytes / 1024).toFixed(0)
      } KiB JSON), ` +
      `${requests} requests: min ${pick(0)} ms, median ${pick(0.5)} ms, p90 ${pick(0.9)} ms, max ${
        pick(1)
      } ms`,
  );
} finally {
  await daemon.stop();
  await Deno.remove(root, { recursive: true }).catch(() => {});
}
