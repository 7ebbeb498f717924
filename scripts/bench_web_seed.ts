/**
 * Web-seed throughput on loopback: a torrent with no peer completes from one web seed
 * (the Range-capable test server of tests/integration/_range_server.ts), against one plain
 * `fetch` of the same file from the same server.
 *
 *   deno run -A scripts/bench_web_seed.ts [trials (3)] [MiB (128)]
 * @module
 */
import { join } from "node:path";
import { Client } from "../src/deno/client.ts";
import { createTorrent } from "../src/deno/create.ts";
import { startRangeServer } from "../tests/integration/_range_server.ts";

const trials = Number(Deno.args[0] ?? 3);
const mib = Number(Deno.args[1] ?? 128);
const root = await Deno.makeTempDir({ prefix: "swarmd-bench-ws-" });
const server = await startRangeServer(join(root, "src"));
try {
  await Deno.mkdir(join(root, "src"));
  const data = new Uint8Array(mib * 1024 * 1024);
  for (let at = 0; at < data.length; at += 65536) {
    crypto.getRandomValues(data.subarray(at, at + 65536));
  }
  await Deno.writeFile(join(root, "src", "big.bin"), data);
  const { meta } = await createTorrent(join(root, "src", "big.bin"), {
    webSeeds: [`${server.origin}/ok/`],
  });
  console.log(`${mib} MiB, ${meta.pieceLength / 1024} KiB pieces, one web seed on loopback`);
  for (let t = 1; t <= trials; t++) {
    const t0 = performance.now();
    const res = await fetch(`${server.origin}/ok/big.bin`);
    let n = 0;
    for await (const chunk of res.body!) n += chunk.length;
    const fetchS = (performance.now() - t0) / 1000;
    const client = new Client({
      port: 0,
      host: "127.0.0.1",
      stateDir: null,
      settings: { enableDht: false, allowLocalPeers: true },
    });
    try {
      await Deno.remove(join(root, "dl"), { recursive: true }).catch(() => {});
      const t1 = performance.now();
      const torrent = await client.add(meta, { dir: join(root, "dl") });
      await torrent.done;
      const wsS = (performance.now() - t1) / 1000;
      console.log(
        `trial ${t}: web seed ${(mib / wsS).toFixed(1)} MiB/s (${wsS.toFixed(2)} s); ` +
          `one fetch ${(n / 1024 / 1024 / fetchS).toFixed(1)} MiB/s (${fetchS.toFixed(2)} s)`,
      );
    } finally {
      await client.close();
    }
  }
} finally {
  await server.close();
  await Deno.remove(root, { recursive: true });
}
