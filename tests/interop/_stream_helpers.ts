/**
 * Helpers for streaming tests and `scripts/bench_stream.ts`: a payload and its torrent,
 * our `get` as a child process whose `--json` lines are followed with arrival times, and
 * timed HTTP range reads. Every process is killed in `stop()`; every wait is bounded.
 * @module
 */
import { join } from "node:path";
import { toHex } from "../../src/util/bytes.ts";
import { startLibtorrentPeer } from "./_lt_peer.ts";
import { writeSingleFileTorrent } from "./_wire_peer.ts";

const MOD = new URL("../../mod.ts", import.meta.url).pathname;

/** A payload file and its torrent. */
export interface Video {
  /** The .torrent path. */
  readonly torrentPath: string;
  /** The file's bytes. */
  readonly data: Uint8Array;
  /** Hex info-hash. */
  readonly infoHash: string;
}

/**
 * Writes `root/src/video.mp4` of `size` pseudo-random bytes and its torrent.
 * @param pieceLength bytes per piece
 */
export async function makeVideo(root: string, size: number, pieceLength: number): Promise<Video> {
  const data = new Uint8Array(size);
  let x = 99;
  for (let i = 0; i < size; i++) data[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
  const torrentPath = join(root, "video.torrent");
  const { infoHash } = await writeSingleFileTorrent({
    dataDir: join(root, "src"),
    torrentPath,
    name: "video.mp4",
    data,
    pieceLength,
  });
  return { torrentPath, data, infoHash: toHex(infoHash) };
}

/**
 * Runs `fn` against a fresh libtorrent seeder of `video` on 127.0.0.2 capped at `rate`
 * bytes/s, once it accepts peers; `fn` gets `get`'s flags to download from it into
 * `root/dl` (emptied first).
 */
export async function withSeeder<T>(
  root: string,
  o: { video: Video; rate: number },
  fn: (args: string[]) => Promise<T>,
): Promise<T> {
  const seeder = startLibtorrentPeer({
    torrent: o.video.torrentPath,
    save: join(root, "src"),
    listen: "127.0.0.2:0",
    seedMode: true,
    uploadLimit: o.rate,
    timeoutS: 300,
  });
  try {
    const port = await seeder.port;
    // an auto-managed torrent accepts peers ~0.5 s after the session starts
    for (let i = 0; i < 200 && !seeder.lines.some((l) => l.includes('"started"')); i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const dl = join(root, "dl");
    await Deno.remove(dl, { recursive: true }).catch(() => {});
    const args = ["--peer", `127.0.0.2:${port}`, "--port", "0", "--host", "127.0.0.1"];
    return await fn(["-o", dl, ...args, "--no-dht"]);
  } finally {
    await seeder.stop();
  }
}

/** One JSON line of our `get --json`, with the ms it arrived (performance.now()). */
export interface TimedEvent {
  /** Arrival, performance.now() ms. */
  readonly at: number;
  /** The parsed line. */
  readonly event: Record<string, unknown>;
}

/** A running `get`. */
export interface GetProcess {
  /** Lines so far. */
  readonly events: TimedEvent[];
  /** Resolves with the first event `match` accepts (rejects after `timeoutMs`). */
  waitFor(match: (e: Record<string, unknown>) => boolean, timeoutMs: number): Promise<TimedEvent>;
  /** SIGTERM, then the exit code (SIGKILL after 10 s). */
  stop(): Promise<number>;
}

/**
 * Starts `deno run -A mod.ts get <torrent> --json ...args`.
 * @param args more flags (`-o`, `--peer`, `--stream` ...)
 */
export function startGet(torrentPath: string, args: string[]): GetProcess {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", MOD, "get", torrentPath, "--json", ...args],
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).spawn();
  const events: TimedEvent[] = [];
  const waiters = new Set<() => void>();
  const reading = (async () => {
    let buf = "";
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      buf += chunk;
      for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        try {
          events.push({ at: performance.now(), event: JSON.parse(line) });
        } catch { /* not JSON (a progress line): ignored */ }
        for (const w of waiters) w();
      }
    }
  })();
  const stderr = new Response(child.stderr).text();
  return {
    events,
    waitFor(match, timeoutMs) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = events.find((e) => match(e.event));
          if (!found) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(found);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(
              `get: no such event in ${timeoutMs} ms; last lines: ${
                JSON.stringify(events.slice(-3).map((e) => e.event))
              }`,
            ),
          );
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch { /* already exited */ }
      const killer = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch { /* exited meanwhile */ }
      }, 10_000);
      const status = await child.status;
      clearTimeout(killer);
      await reading;
      await stderr;
      return status.code;
    },
  };
}

/**
 * GETs `url` with a range, timing the first body byte.
 * @returns the body and the ms from the request to its first byte
 */
export async function timedRange(
  url: string,
  start: number,
  end: number,
): Promise<{ body: Uint8Array; firstByteMs: number; status: number }> {
  const t0 = performance.now();
  const res = await fetch(url, {
    headers: { range: `bytes=${start}-${end}` },
    signal: AbortSignal.timeout(120_000),
  });
  const reader = res.body!.getReader();
  const parts: Uint8Array[] = [];
  let firstByteMs = -1;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (firstByteMs < 0) firstByteMs = performance.now() - t0;
    parts.push(value);
  }
  const body = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    body.set(p, at);
    at += p.length;
  }
  return { body, firstByteMs, status: res.status };
}
