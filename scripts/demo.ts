/**
 * `deno task demo`: a local swarm in one process, to show a newcomer what the engine
 * does in under a minute. It makes a payload, creates its torrent (hashed in the worker
 * pool), starts one seeder and five leechers on distinct loopback addresses
 * (127.0.0.1 … 127.0.0.6) with capped upload rates, draws each peer's pieces filling
 * up, then checks every leecher's files against the source by SHA-256.
 *
 * Options: --leechers N (1..20, default 5), --size MIB (default 24), --rate KIB/s per
 * peer upload (default 3072), --keep (keep the temp dir).
 * @module
 */
import { parseArgs } from "node:util";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { Session } from "../src/session/session.ts";
import type { Torrent } from "../src/session/torrent_handle.ts";
import { DENO_NETWORK } from "../src/deno/tcp.ts";
import { SECURE_RANDOM, SYSTEM_CLOCK } from "../src/deno/clock.ts";
import { WorkerPoolDiskIo } from "../src/deno/worker_pool.ts";
import { createTorrent } from "../src/deno/create.ts";
import { DENO_RESUME_STORE } from "../src/deno/client.ts";
import { formatBytes, formatRate } from "../src/cli/common.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    leechers: { type: "string", default: "5" },
    size: { type: "string", default: "24" },
    rate: { type: "string", default: "3072" },
    keep: { type: "boolean", default: false },
  },
});
const leecherCount = Math.min(20, Math.max(1, Number(values.leechers) || 5));
const sizeMiB = Math.min(1024, Math.max(1, Number(values.size) || 24));
const rate = Math.max(64, Number(values.rate) || 3072) * 1024;
const tty = Deno.stdout.isTerminal();
const enc = new TextEncoder();
const out = (s: string) => Deno.stdout.writeSync(enc.encode(s));

const root = await Deno.makeTempDir({ prefix: "swarmd-demo-" });
const disk = await WorkerPoolDiskIo.create();
const sessions: Session[] = [];
try {
  // 1. A payload: three files, the middle one spanning many pieces.
  const src = join(root, "seed");
  const files: [string, number][] = [
    ["intro.txt", 4321],
    ["video.bin", Math.floor(sizeMiB * 1024 * 1024 * 0.8)],
    ["extras/notes.bin", Math.floor(sizeMiB * 1024 * 1024 * 0.2)],
  ];
  const digests = new Map<string, string>();
  for (const [name, length] of files) {
    const data = new Uint8Array(length);
    for (let i = 0; i < length; i += 65536) crypto.getRandomValues(data.subarray(i, i + 65536));
    await Deno.mkdir(join(src, "demo-payload", name, ".."), { recursive: true });
    await Deno.writeFile(join(src, "demo-payload", name), data);
    digests.set(name, createHash("sha256").update(data).digest("hex"));
  }
  // 2. Its torrent, hashed in the worker pool.
  const t0 = performance.now();
  const { meta } = await createTorrent(join(src, "demo-payload"), {
    pieceLength: 256 * 1024,
    disk,
  });
  console.log(
    `swarmd demo: ${formatBytes(meta.totalLength)} in ${files.length} files, ` +
      `${meta.pieceCount} pieces of 256 KiB, info-hash ${meta.infoHashHex} ` +
      `(hashed in ${(performance.now() - t0).toFixed(0)} ms by ${disk.parallelism ?? 1} workers)`,
  );
  console.log(
    `1 seeder and ${leecherCount} leechers on 127.0.0.x, each uploading at most ` +
      `${
        formatRate(rate)
      }; leechers know the seeder and each other, as a tracker would tell them.\n`,
  );

  // 3. One seeder and N leechers, each a Session on its own loopback address.
  const start = async (i: number) => {
    const s = new Session({
      settings: {
        listenHost: `127.0.0.${i + 1}`,
        listenPort: 0,
        maxUploadBytesPerSecond: rate,
        allowLocalPeers: true,
        enableDht: false,
        unchokeIntervalMs: 5_000,
      },
      network: DENO_NETWORK,
      clock: SYSTEM_CLOCK,
      random: SECURE_RANDOM,
      disk,
      resumeStore: DENO_RESUME_STORE,
    });
    sessions.push(s);
    const addr = await s.listen();
    return { session: s, addr };
  };
  const seed = await start(0);
  const seedTorrent = await seed.session.add(meta, { dir: src, seed: true });
  const leechers: { addr: { host: string; port: number }; torrent: Torrent; have: Set<number> }[] =
    [];
  const peersStarted = await Promise.all(
    Array.from({ length: leecherCount }, (_, i) => start(i + 1)),
  );
  for (const [i, p] of peersStarted.entries()) {
    const others = peersStarted.filter((_, j) => j !== i).map((q) => q.addr);
    const torrent = await p.session.add(meta, {
      dir: join(root, `leecher${i + 1}`),
      peers: [seed.addr, ...others],
    });
    const have = new Set<number>();
    leechers.push({ addr: p.addr, torrent, have });
    void (async () => {
      for await (const e of torrent.events({ categories: ["piece"] })) {
        if (e.type === "piece-verified") have.add(e.index);
      }
    })();
  }

  // 4. Watch the swarm fill up.
  const began = performance.now();
  const width = Math.min(64, meta.pieceCount);
  const bar = (have: Set<number> | "all") => {
    let s = "";
    for (let c = 0; c < width; c++) {
      const lo = Math.floor((c * meta.pieceCount) / width),
        hi = Math.floor(((c + 1) * meta.pieceCount) / width);
      let n = 0;
      for (let p = lo; p < hi; p++) if (have === "all" || have.has(p)) n++;
      s += n === hi - lo ? "█" : n > 0 ? "▒" : "·";
    }
    return s;
  };
  const draw = (final: boolean) => {
    const lines = [
      `seeder   ${seed.addr.host.padEnd(10)} ${bar("all")} 100%  up ${
        formatRate(seedTorrent.stats().uploadBps).padStart(11)
      }`,
    ];
    for (const [i, l] of leechers.entries()) {
      const st = l.torrent.stats();
      const pct = Math.floor((100 * l.have.size) / meta.pieceCount);
      lines.push(
        `leecher${i + 1} ${l.addr.host.padEnd(10)} ${bar(l.have)} ${String(pct).padStart(3)}%  ` +
          `down ${formatRate(st.downloadBps).padStart(11)}  up ${
            formatRate(st.uploadBps).padStart(11)
          }`,
      );
    }
    if (tty) out(`\x1b[${lines.length}A\r` + lines.map((l) => `\x1b[2K${l}`).join("\n") + "\n");
    else if (final || Math.floor((performance.now() - began) / 1000) % 3 === 0) {
      console.log(lines.join("\n") + "\n");
    }
  };
  if (tty) out("\n".repeat(leechers.length + 1));
  const allDone = Promise.all(leechers.map((l) => l.torrent.done));
  let finished = false;
  allDone.then(() => finished = true, () => {});
  const deadline = began + 120_000;
  while (!finished && performance.now() < deadline) {
    draw(false);
    await new Promise((r) => setTimeout(r, tty ? 200 : 1000));
  }
  draw(true);
  const seconds = (performance.now() - began) / 1000;
  if (!finished) throw new Error("the swarm did not complete within 2 minutes");

  // 5. Check every leecher's files against the source, byte for byte (SHA-256).
  let checked = 0;
  for (const i of leechers.keys()) {
    for (const [name] of files) {
      const data = await Deno.readFile(join(root, `leecher${i + 1}`, "demo-payload", name));
      if (createHash("sha256").update(data).digest("hex") !== digests.get(name)) {
        throw new Error(`leecher${i + 1}/${name} differs from the source`);
      }
      checked++;
    }
  }
  const fromSeed = seedTorrent.stats().bytesUploaded;
  const total = meta.totalLength * leecherCount;
  console.log(
    `\nAll ${leecherCount} leechers complete in ${
      seconds.toFixed(1)
    } s; ${checked} files match the source (SHA-256).`,
  );
  console.log(
    `The seeder uploaded ${formatBytes(fromSeed)} of the ${formatBytes(total)} delivered ` +
      `(${
        ((100 * fromSeed) / total).toFixed(0)
      }%); the leechers traded the rest among themselves, ` +
      `rarest pieces first, unchoking whoever gave them data fastest.`,
  );
} finally {
  await Promise.all(sessions.map((s) => s.close()));
  await disk.shutdown();
  if (!values.keep) await Deno.remove(root, { recursive: true });
  else console.log(`kept ${root}`);
}
