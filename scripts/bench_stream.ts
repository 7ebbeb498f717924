/**
 * Streaming time to first byte against a rate-limited python3-libtorrent seeder:
 *
 *   deno run -A scripts/bench_stream.ts [trials (5)] [MiB (12)] [seeder KiB/s (2048)]
 *
 * Each trial starts a fresh seeder (waiting until it accepts peers) twice, alternating
 * which run goes first:
 * - `get --stream`: the time from "torrent-added" to the first byte of an HTTP range read
 *   at a random position of the file (a seek), and, 3 s into the download, the time from a
 *   second read's request, half the file away, to its first byte (a seek mid-download);
 * - a plain `get`: the time from "torrent-added" to its first verified piece, and to the
 *   verification of the piece holding that same position (what a reader would wait for
 *   without deadlines), and to completion.
 * Prints one line per trial and the median, minimum and maximum of each column.
 * @module
 */
import { makeVideo, startGet, timedRange, withSeeder } from "../tests/interop/_stream_helpers.ts";

const trials = Number(Deno.args[0] ?? 5);
const size = Number(Deno.args[1] ?? 12) * 1024 * 1024;
const rate = Number(Deno.args[2] ?? 2048) * 1024;
const PIECE = 256 * 1024;

const root = await Deno.makeTempDir({ prefix: "swarmd-bench-stream-" });
const video = await makeVideo(root, size, PIECE);

async function streamRun(position: number): Promise<[number, number]> {
  return await withSeeder(root, { video, rate }, async (args) => {
    const get = startGet(video.torrentPath, [...args, "--stream"]);
    try {
      const added = await get.waitFor((e) => e.type === "torrent-added", 30_000);
      const stream = await get.waitFor((e) => e.type === "stream", 30_000);
      const url = String(stream.event.url);
      const t0 = performance.now();
      const r = await timedRange(url, position, position + 65_535);
      if (r.status !== 206) throw new Error(`HTTP ${r.status}`);
      // a second seek, 3 s into the download, elsewhere: its latency from the request
      const wait = added.at + 3_000 - performance.now();
      if (wait > 0) await new Promise((res) => setTimeout(res, wait));
      const later = (position + size / 2) % (size - 65_536);
      const r2 = await timedRange(url, later, later + 65_535);
      return [t0 + r.firstByteMs - added.at, r2.firstByteMs];
    } finally {
      await get.stop();
    }
  });
}

async function plainRun(position: number): Promise<[number, number, number]> {
  return await withSeeder(root, { video, rate }, async (args) => {
    const get = startGet(video.torrentPath, args);
    try {
      const added = await get.waitFor((e) => e.type === "torrent-added", 30_000);
      const first = await get.waitFor((e) => e.type === "piece-verified", 60_000);
      const piece = Math.floor(position / PIECE);
      const same = await get.waitFor(
        (e) => e.type === "piece-verified" && e.index === piece,
        300_000,
      );
      const done = await get.waitFor((e) => e.type === "torrent-completed", 300_000);
      return [first.at - added.at, same.at - added.at, done.at - added.at];
    } finally {
      await get.stop();
    }
  });
}

const rows: number[][] = [];
console.log(
  `${trials} trials, ${size / 1024 / 1024} MiB, ${PIECE / 1024} KiB pieces, seeder ${
    rate / 1024
  } KiB/s`,
);
console.log(
  "trial  seek-TTFB  mid-seek  plain-first-piece  plain-same-piece  plain-complete  (ms)",
);
try {
  for (let t = 0; t < trials; t++) {
    const position = Math.floor(Math.random() * (size - 65_536));
    let seek: [number, number], plain: [number, number, number];
    if (t % 2 === 0) {
      seek = await streamRun(position);
      plain = await plainRun(position);
    } else {
      plain = await plainRun(position);
      seek = await streamRun(position);
    }
    rows.push([...seek, ...plain]);
    console.log(
      `${t + 1}`.padEnd(7) + [...seek, ...plain].map((v) => v.toFixed(0).padStart(10)).join("  "),
    );
  }
  for (const [name, pick] of [["median", 0.5], ["min", 0], ["max", 1]] as const) {
    const cols = [0, 1, 2, 3, 4].map((c) => {
      const sorted = rows.map((r) => r[c]!).sort((a, b) => a - b);
      return sorted[Math.round(pick * (sorted.length - 1))]!;
    });
    console.log(name.padEnd(7) + cols.map((v) => v.toFixed(0).padStart(10)).join("  "));
  }
} finally {
  await Deno.remove(root, { recursive: true });
}
