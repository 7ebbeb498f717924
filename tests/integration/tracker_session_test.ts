/**
 * Trackers as the only peer source, end to end over loopback: our TrackerServer (HTTP and
 * UDP), a seeding Client that announces to it, and `get` finding the seeder through it.
 * Also: a dead tracker never stops a download that has other peers (F7), and `info --scrape`
 * reports each tracker's counts or error.
 */
import { join } from "node:path";
import { assert, assertEquals } from "../assert.ts";
import { TrackerServer } from "../../src/deno/tracker_server.ts";
import { Client } from "../../src/deno/client.ts";
import { createTorrent } from "../../src/deno/create.ts";
import type { Torrent } from "../../src/session/torrent_handle.ts";

const MOD = new URL("../../mod.ts", import.meta.url).pathname;

function get(args: string[]) {
  return cli("get", args);
}

async function cli(command: string, args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", MOD, command, ...args],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000),
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/**
 * `get` with the tracker as its only source (no DHT, PEX or LSD), default flags otherwise (a
 * tracker on loopback may hand out loopback peers: the scope rule); must succeed.
 */
async function getThroughTracker(root: string, torrent: string) {
  const r = await get([
    ...[torrent, "-o", join(root, "dl"), "--port", "0", "--host", "127.0.0.2"],
    ...["--no-dht", "--no-pex", "--no-lsd", "--timeout", "45", "--json"],
  ]);
  assertEquals(r.code, 0, r.stderr);
  return r;
}

interface Swarm {
  root: string;
  torrent: string;
  url: string;
  seeder: Client;
  seed: Torrent;
}

/**
 * A tracker, a torrent that lists only its `kind` URL, and a seeder announcing to it,
 * listening on `seederHost`.
 */
async function withSwarm(
  kind: "http" | "udp",
  fn: (s: Swarm) => Promise<void>,
  seederHost = "127.0.0.1",
) {
  const root = await Deno.makeTempDir({ prefix: "swarmd-tracker-" });
  const tracker = await TrackerServer.start({ host: "127.0.0.1", httpPort: 0, udpPort: 0 });
  const url = kind === "http"
    ? `http://127.0.0.1:${tracker.httpAddrs[0]!.port}/announce`
    : `udp://127.0.0.1:${tracker.udpAddrs[0]!.port}`;
  const src = join(root, "src", "payload.bin");
  await Deno.mkdir(join(root, "src"));
  await Deno.writeFile(src, new Uint8Array(900_000).map((_, i) => (i * 31) & 0xff));
  const { bytes } = await createTorrent(src, { pieceLength: 65536, trackers: [[url]] });
  const torrent = join(root, "p.torrent");
  await Deno.writeFile(torrent, bytes);
  const seeder = new Client({
    port: 0,
    host: seederHost,
    workers: 1,
    stateDir: null,
    settings: { enableDht: false },
  });
  try {
    const seed = await seeder.add(torrent, { dir: join(root, "src"), seed: true });
    await fn({ root, torrent, url, seeder, seed });
  } finally {
    await seeder.close();
    await tracker.close();
    await Deno.remove(root, { recursive: true });
  }
}

for (const kind of ["http", "udp"] as const) {
  Deno.test(`tracker (${kind}): get finds the seeder through our tracker alone`, async () => {
    await withSwarm(kind, async ({ root, torrent, url, seed }) => {
      const r = await getThroughTracker(root, torrent);
      const announced = r.stdout.split("\n").filter((l) => l.includes('"tracker-announced"'));
      assert(
        announced.some((l) => l.includes(url)),
        `announced to ${url}: ${announced.join("\n")}`,
      );
      // The library reports per-tracker status (here the seeder's).
      const status = seed.stats().trackers ?? [];
      assertEquals(status.map((t) => t.url), [url]);
      assert(status[0]!.lastAnnounceAt !== undefined && status[0]!.lastError === undefined);
    });
  });
}

for (const kind of ["http", "udp"] as const) {
  // A seeder bound to one address must announce from it: the tracker records the source of
  // the announce, and before the HTTP announce was bound, it recorded 127.0.0.1 (the
  // kernel's choice), where nothing listens, so no leecher could reach the seeder.
  Deno.test(`tracker (${kind}): a seeder listening on one address is found at that address`, async () => {
    await withSwarm(kind, async ({ root, torrent, seeder }) => {
      const r = await getThroughTracker(root, torrent);
      const peers = r.stdout.split("\n").filter((l) => l.includes('"peer-connected"'));
      assert(
        peers.some((l) => l.includes(`127.0.0.4:${seeder.port}`)),
        `connected to 127.0.0.4:${seeder.port}: ${peers.join("\n")}`,
      );
    }, "127.0.0.4");
  });
}

Deno.test("tracker: a seeder whose listen host is a name (localhost) starts and is found", async () => {
  // Only an IP literal becomes the HTTP source address; a name is left to the system.
  await withSwarm("http", async ({ root, torrent }) => {
    await getThroughTracker(root, torrent);
  }, "localhost");
});

Deno.test("tracker: a dead tracker does not stop a download that has a peer (F7)", async () => {
  await withSwarm("http", async ({ root, torrent, seeder }) => {
    const r = await get([
      torrent,
      "-o",
      join(root, "dl"),
      "--tracker",
      "http://127.0.0.1:1/announce",
      "--peer",
      `127.0.0.1:${seeder.port}`,
      "--port",
      "0",
      "--host",
      "127.0.0.3",
      "--no-dht",
      "--no-lsd",
      "--timeout",
      "45",
      "--quiet",
    ]);
    assertEquals(r.code, 0, r.stderr);
  });
});

for (const kind of ["http", "udp"] as const) {
  Deno.test(`tracker (${kind}): info --scrape reports the seeder and a dead tracker's error`, async () => {
    await withSwarm(kind, async ({ torrent, url, seed }) => {
      for (let i = 0; i < 100 && seed.stats().trackers?.[0]?.lastAnnounceAt === undefined; i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
      const magnet = `magnet:?xt=urn:btih:${seed.infoHash}&tr=${encodeURIComponent(url)}` +
        `&tr=${encodeURIComponent("udp://127.0.0.1:1")}`;
      const fromFile = await cli("info", [torrent, "--scrape", "--json", "--timeout", "5"]);
      assertEquals(fromFile.code, 0, fromFile.stderr);
      assertEquals(JSON.parse(fromFile.stdout).scrape, [
        { url, tier: 0, seeders: 1, leechers: 0, completed: 0 },
      ]);
      const fromMagnet = await cli("info", [magnet, "--scrape", "--timeout", "2"]);
      assertEquals(fromMagnet.code, 0, fromMagnet.stderr);
      assert(
        fromMagnet.stdout.includes(`${url}: 1 seeders, 0 leechers, 0 completed`),
        fromMagnet.stdout,
      );
      assert(/udp:\/\/127\.0\.0\.1:1: error: /.test(fromMagnet.stdout), fromMagnet.stdout);
    });
  });
}
