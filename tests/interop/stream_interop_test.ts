/**
 * Streaming against a real client: `get --stream` downloads a 12 MiB file from a
 * python3-libtorrent seeder capped at 2 MiB/s while an HTTP client reads it, with random
 * seeks and a whole sequential read at the same time; every byte equals the source. The
 * time to the first byte of a seek (from the torrent being added) is printed beside a
 * plain `get`'s time to its first verified piece (`scripts/bench_stream.ts` repeats this).
 */
import { assert, assertEquals } from "../assert.ts";
import { interopTest } from "./_harness.ts";
import { makeVideo, startGet, timedRange, withSeeder } from "./_stream_helpers.ts";
import { SeededRandom } from "../../src/util/prng.ts";

const SIZE = 12 * 1024 * 1024;
const PIECE = 256 * 1024;
const RATE = 2 * 1024 * 1024;

await interopTest(
  "interop: get --stream serves a file while it downloads from a rate-limited libtorrent seeder",
  async () => {
    const root = await Deno.makeTempDir({ prefix: "swarmd-stream-lt-" });
    try {
      const video = await makeVideo(root, SIZE, PIECE);
      const random = new SeededRandom(Date.now() % 1_000_000);
      const firstSeekMs = await withSeeder(root, { video, rate: RATE }, async (args) => {
        const get = startGet(video.torrentPath, [...args, "--stream"]);
        try {
          const added = await get.waitFor((e) => e.type === "torrent-added", 30_000);
          const stream = await get.waitFor((e) => e.type === "stream", 30_000);
          const url = String(stream.event.url);
          assertEquals(url, `${new URL(url).origin}/stream/${video.infoHash}/0`);
          let first = -1;
          const seeks = (async () => {
            for (let k = 0; k < 6; k++) {
              const start = random.int(SIZE - 300_000);
              const t0 = performance.now();
              const r = await timedRange(url, start, start + 299_999);
              if (first < 0) first = t0 + r.firstByteMs - added.at;
              assertEquals(r.status, 206);
              assert(equal(r.body, video.data.subarray(start, start + 300_000)), `seek ${start}`);
            }
          })();
          const whole = await timedRange(url, 0, SIZE - 1); // at the same time as the seeks
          await seeks;
          assertEquals(whole.status, 206);
          assert(equal(whole.body, video.data), "the sequential read differs from the source");
          await get.waitFor((e) => e.type === "torrent-completed", 60_000);
          return first;
        } finally {
          assertEquals(await get.stop(), 0);
        }
      });
      const plain = await withSeeder(root, { video, rate: RATE }, async (args) => {
        const get = startGet(video.torrentPath, args);
        try {
          const added = await get.waitFor((e) => e.type === "torrent-added", 30_000);
          const first = await get.waitFor((e) => e.type === "piece-verified", 60_000);
          const done = await get.waitFor((e) => e.type === "torrent-completed", 60_000);
          return { firstPieceMs: first.at - added.at, doneMs: done.at - added.at };
        } finally {
          await get.stop();
        }
      });
      console.log(
        `stream: a seek's first byte ${firstSeekMs.toFixed(0)} ms after the torrent was added; ` +
          `plain get: first verified piece ${plain.firstPieceMs.toFixed(0)} ms, ` +
          `complete ${plain.doneMs.toFixed(0)} ms`,
      );
      assert(firstSeekMs < plain.doneMs / 2, `a seek's first byte took ${firstSeekMs} ms`);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
);

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
