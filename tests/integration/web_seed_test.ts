/**
 * Web seeds (BEP 19) over real loopback HTTP and HTTPS against a Range-capable test
 * server: single-file and multi-file torrents (a nested directory, a space and non-ASCII
 * in names: percent-encoded URLs) complete from a web seed alone, through the library and
 * through `get`; and each misbehaviour (404, 5xx, a short body, a body longer than asked,
 * a server ignoring Range, a redirect loop, data that fails the hash) backs off and is
 * dropped after a bounded number of requests while a good web seed completes the torrent;
 * a magnet's `ws=` seed serves once the metadata came from a (slow) peer.
 * @module
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { assert, assertEquals } from "../assert.ts";
import { Client } from "../../src/deno/client.ts";
import { createTorrent } from "../../src/deno/create.ts";
import type { Settings } from "../../src/session/settings.ts";
import type { EngineEvent } from "../../src/session/events.ts";
import { type RangeServer, startRangeServer, testTls } from "./_range_server.ts";
import { runCli } from "./_cli_swarm.ts";

const MULTI: [string[], number][] = [
  [["a file.bin"], 150_000],
  [["sub", "Ünïcode #1.bin"], 333_333],
  [["sub", "deeper", "c.txt"], 7],
];

function sha256(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

function content(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed;
  for (let i = 0; i < length; i++) out[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
  return out;
}

/** Writes the payload under `root/src`: one file, or the MULTI tree in `set/`. */
async function payload(root: string, multi: boolean): Promise<{ path: string; digests: string[] }> {
  if (!multi) {
    const data = content(700_001, 7);
    await Deno.mkdir(join(root, "src"), { recursive: true });
    await Deno.writeFile(join(root, "src", "movie.mkv"), data);
    return { path: join(root, "src", "movie.mkv"), digests: [sha256(data)] };
  }
  const digests: string[] = [];
  for (const [i, [path, length]] of MULTI.entries()) {
    const data = content(length, i + 1);
    await Deno.mkdir(join(root, "src", "set", ...path.slice(0, -1)), { recursive: true });
    await Deno.writeFile(join(root, "src", "set", ...path), data);
    digests.push(sha256(data));
  }
  return { path: join(root, "src", "set"), digests };
}

async function digestsOf(dir: string, multi: boolean): Promise<string[]> {
  if (!multi) return [sha256(await Deno.readFile(join(dir, "movie.mkv")))];
  return await Promise.all(
    MULTI.map(async ([p]) => sha256(await Deno.readFile(join(dir, "set", ...p)))),
  );
}

function client(settings: Partial<Settings> = {}, caCerts?: string[]): Client {
  return new Client({
    port: 0,
    host: "127.0.0.1",
    workers: 2,
    stateDir: null,
    ...(caCerts ? { caCerts } : {}),
    settings: { enableDht: false, allowLocalPeers: true, ...settings },
  });
}

/** Downloads a torrent whose only sources are `webSeeds` (mode paths on `server`). */
async function download(
  o: { root: string; multi: boolean; server: RangeServer; modes: string[] },
  settings: Partial<Settings> = {},
  caCerts?: string[],
): Promise<{ events: EngineEvent[]; digests: string[]; expected: string[] }> {
  const { path, digests: expected } = await payload(o.root, o.multi);
  const created = await createTorrent(path, {
    pieceLength: 32 * 1024,
    webSeeds: o.modes.map((m) => `${o.server.origin}/${m}/`),
  });
  const c = client(settings, caCerts);
  const events: EngineEvent[] = [];
  try {
    const session = await c.ready();
    const stop = new AbortController();
    const seen = (async () => {
      for await (const e of session.events({ signal: stop.signal })) events.push(e);
    })();
    const torrent = await c.add(created.meta, { dir: join(o.root, "dl") });
    const timeout = AbortSignal.timeout(60_000);
    await Promise.race([
      torrent.done,
      new Promise((_, reject) => timeout.addEventListener("abort", () => reject(timeout.reason))),
    ]);
    stop.abort();
    await seen;
  } finally {
    await c.close();
  }
  return { events, digests: await digestsOf(join(o.root, "dl"), o.multi), expected };
}

async function withServer(fn: (root: string, server: RangeServer) => Promise<void>, tls?: {
  cert: string;
  key: string;
}): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "swarmd-webseed-" });
  const server = await startRangeServer(join(root, "src"), tls);
  try {
    await fn(root, server);
  } finally {
    await server.close();
    await Deno.remove(root, { recursive: true });
  }
}

Deno.test("web seed: a single-file torrent completes from a web seed alone (library)", async () => {
  await withServer(async (root, server) => {
    const r = await download({ root, multi: false, server, modes: ["ok"] });
    assertEquals(r.digests, r.expected);
    // 22 pieces in spans of up to 4 MiB, two at a time: a few requests, keep-alive
    assert(server.counts.get("ok")! <= 8, `${server.counts.get("ok")} requests`);
  });
});

Deno.test("web seed: a multi-file torrent completes from a web seed alone, names percent-encoded", async () => {
  await withServer(async (root, server) => {
    const r = await download({ root, multi: true, server, modes: ["ok"] });
    assertEquals(r.digests, r.expected);
  });
});

Deno.test("web seed: over HTTPS (a test CA the client is told to trust)", async () => {
  const tls = await testTls();
  if (!tls) return console.log("skipping: openssl is not installed");
  await withServer(async (root, server) => {
    const r = await download({ root, multi: true, server, modes: ["ok"] }, {}, [tls.ca]);
    assertEquals(r.digests, r.expected);
  }, { cert: tls.cert, key: tls.key });
});

Deno.test("web seed: get downloads a multi-file torrent from its url-list (the CLI)", async () => {
  await withServer(async (root, server) => {
    const { path, digests } = await payload(root, true);
    const torrentPath = join(root, "set.torrent");
    const webSeed = `${server.origin}/redirect/`;
    const made = await runCli(["create", path, "-o", torrentPath, "--web-seed", webSeed]);
    assertEquals(made.code, 0, made.stderr);
    const out = await runCli([
      "get",
      torrentPath,
      ...["-o", join(root, "dl"), "--port", "0", "--host", "127.0.0.1", "--no-dht", "--no-lsd"],
      ...["--allow-local-peers", "--timeout", "60", "--quiet"],
    ], { timeoutMs: 90_000 });
    assertEquals(out.code, 0, out.stderr);
    assertEquals(await digestsOf(join(root, "dl"), true), digests);
    assert(server.counts.get("redirect")! >= 1 && server.counts.get("ok")! >= 1);
  });
});

// each bad mode beside a good seed: the torrent completes, the bad seed is dropped
for (const mode of ["404", "500", "short", "long", "ignore-range", "loop", "corrupt"]) {
  Deno.test(`web seed: one that answers "${mode}" backs off within bounds; a good one completes`, async () => {
    await withServer(async (root, server) => {
      const r = await download({ root, multi: false, server, modes: [mode, "ok"] }, {
        webSeedRequestBytes: 64 * 1024,
        webSeedRetryBaseMs: 100,
        webSeedMaxFailures: 3,
      });
      assertEquals(r.digests, r.expected);
      const asked = server.counts.get(mode) ?? 0;
      // ≤ 3 failures (two requests in flight at the first), 6 hops each for a redirect loop
      assert(asked >= 1 && asked <= 4 * 6, `${asked} requests to the ${mode} seed`);
      const warnings = r.events.filter((e) => e.type === "web-seed-warning");
      if (mode !== "corrupt") assert(warnings.length >= 1, `no warning for ${mode}`);
      else {
        assert(r.events.some((e) => e.type === "piece-hash-failed"), "no hash failure");
        // smart ban: the sole sender of a failed piece is dropped at once
        assert(warnings.some((w) => w.type === "web-seed-warning" && w.dropped), "not dropped");
      }
    });
  });
}

Deno.test("web seed: a loopback URL in a torrent is not fetched by default", async () => {
  await withServer(async (root, server) => {
    const { path } = await payload(root, false);
    const created = await createTorrent(path, { webSeeds: [`${server.origin}/ok/`] });
    const c = client({ allowLocalPeers: false });
    try {
      const session = await c.ready();
      const stop = new AbortController();
      const events: EngineEvent[] = [];
      const seen = (async () => {
        for await (const e of session.events({ signal: stop.signal })) {
          events.push(e);
          if (e.type === "web-seed-warning") break;
        }
      })();
      await c.add(created.meta, { dir: join(root, "dl") });
      await Promise.race([seen, new Promise((r) => setTimeout(r, 5_000))]);
      stop.abort();
      const warning = events.find((e) => e.type === "web-seed-warning");
      assert(warning?.type === "web-seed-warning" && warning.message.includes("local address"));
      assertEquals(server.counts.size, 0);
    } finally {
      await c.close();
    }
  });
});

Deno.test("web seed: a magnet's ws= seed serves once the metadata came from a peer", async () => {
  await withServer(async (root, server) => {
    const { path, digests } = await payload(root, false);
    const created = await createTorrent(path, { pieceLength: 32 * 1024 });
    const seeder = client({ maxUploadBytesPerSecond: 64 * 1024 });
    const leecher = client();
    try {
      await seeder.add(created.meta, { dir: join(root, "src"), seed: true });
      const magnet = `magnet:?xt=urn:btih:${created.meta.infoHashHex}` +
        `&ws=${encodeURIComponent(`${server.origin}/ok/`)}&x.pe=127.0.0.1:${seeder.port}`;
      const torrent = await leecher.add(magnet, { dir: join(root, "dl") });
      const timeout = AbortSignal.timeout(60_000);
      await Promise.race([
        torrent.done,
        new Promise((_, reject) => timeout.addEventListener("abort", () => reject(timeout.reason))),
      ]);
      assertEquals(await digestsOf(join(root, "dl"), false), digests);
      // the seed gives 64 KiB/s: the 700 KB came mostly from the web seed
      assert((server.bytes.get("ok") ?? 0) > 350_000, `${server.bytes.get("ok")} bytes from ws=`);
    } finally {
      await leecher.close();
      await seeder.close();
    }
  });
});
