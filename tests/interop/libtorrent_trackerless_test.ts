/**
 * Trackerless interop with python3-libtorrent on loopback (issue 5):
 * (1) a magnet download with the DHT only: libtorrent's node is the bootstrap and the
 *     only seeder; it announces to our node, our lookup finds it, metadata and data follow;
 * (2) PEX: we know only a libtorrent peer that has (almost) no data; it tells us about the
 *     seeder through ut_pex and we finish from the seeder.
 * Files are verified by SHA-256. (The third DHT case, libtorrent finding us through our
 * node, is in dht_interop_test.ts.)
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { assertEquals } from "../assert.ts";
import { interopTest } from "./_harness.ts";
import { startLibtorrentPeer } from "./_lt_peer.ts";
import { makeTorrentDir } from "./_wire_peer.ts";
import { type CliRun, freshStateEnv, runCli } from "../integration/_cli_swarm.ts";
import { formatMagnet, parseTorrent } from "../../src/metainfo/mod.ts";

const SIZE = 3_000_000;

async function payload(prefix: string) {
  const data = new Uint8Array(SIZE);
  for (let i = 0; i < SIZE; i += 65536) crypto.getRandomValues(data.subarray(i, i + 65536));
  const dir = await makeTorrentDir({ prefix, name: "data.bin", data, pieceLength: 64 * 1024 });
  const meta = parseTorrent(await Deno.readFile(dir.torrentPath));
  return { root: dir.root, torrentPath: dir.torrentPath, meta, digest: dir.sha256 };
}

/** Runs `get` with a fresh state directory (no DHT routing table from an earlier run) under `root`. */
function get(root: string, args: string[]): Promise<CliRun> {
  return runCli(["get", ...args], { env: freshStateEnv(root), timeoutMs: 150_000 });
}

async function sha256File(path: string): Promise<string> {
  return createHash("sha256").update(await Deno.readFile(path)).digest("hex");
}

await interopTest(
  "interop: magnet download with the DHT only, from a libtorrent seeder",
  async () => {
    const { root, torrentPath, meta, digest } = await payload("swarmd-dht-magnet-");
    const seeder = startLibtorrentPeer({
      torrent: torrentPath,
      save: join(root, "src"),
      listen: "127.0.0.21:0",
      seedMode: true,
      dht: true,
      timeoutS: 150,
    });
    try {
      const port = await seeder.port;
      const magnet = formatMagnet({
        infoHash: meta.infoHash,
        infoHashHex: meta.infoHashHex,
        trackers: [],
        peers: [],
        webSeeds: [],
        warnings: [],
      });
      const r = await get(root, [
        magnet,
        "-o",
        join(root, "dl"),
        "--dht-bootstrap",
        `127.0.0.21:${port}`,
        "--port",
        "0",
        "--host",
        "127.0.0.22",
        // default flags: the local bootstrap node may point us at local peers (the scope rule)
        "--no-pex",
        "--timeout",
        "120",
        "--json",
      ]);
      const phases = r.stdout.split("\n").filter((l) => l.includes("metadata-received")).length;
      assertEquals(r.code, 0, `get failed: ${r.stderr}\n${seeder.lines.slice(-5).join("\n")}`);
      assertEquals(phases, 1, "metadata fetched from the peer");
      assertEquals(await sha256File(join(root, "dl", "data.bin")), digest);
    } finally {
      await seeder.stop();
      await Deno.remove(root, { recursive: true });
    }
  },
);

await interopTest("interop: PEX leads us from an empty libtorrent peer to the seeder", async () => {
  const { root, torrentPath, digest } = await payload("swarmd-pex-");
  const seeder = startLibtorrentPeer({
    torrent: torrentPath,
    save: join(root, "src"),
    listen: "127.0.0.31:0",
    seedMode: true,
    timeoutS: 150,
  });
  let middle;
  try {
    const seedPort = await seeder.port;
    // Connected to the seeder but downloading at 1 KiB/s: it holds (almost) nothing.
    middle = startLibtorrentPeer({
      torrent: torrentPath,
      save: join(root, "middle"),
      listen: "127.0.0.32:0",
      peers: [`127.0.0.31:${seedPort}`],
      downloadLimit: 1024,
      timeoutS: 150,
    });
    const middlePort = await middle.port;
    const r = await get(root, [
      torrentPath,
      "-o",
      join(root, "dl"),
      "--peer",
      `127.0.0.32:${middlePort}`,
      "--port",
      "0",
      "--host",
      "127.0.0.33",
      // default flags: a PEX peer on loopback may tell us of loopback peers (the scope rule)
      "--no-dht",
      "--timeout",
      "120",
      "--json",
    ]);
    assertEquals(r.code, 0, `get failed: ${r.stderr}\n${middle.lines.slice(-5).join("\n")}`);
    const fromSeeder = r.stdout.split("\n").some((l) =>
      l.includes('"peer-connected"') && l.includes(`127.0.0.31:${seedPort}`)
    );
    assertEquals(fromSeeder, true, "connected to the seeder it learned by PEX");
    assertEquals(await sha256File(join(root, "dl", "data.bin")), digest);
  } finally {
    await middle?.stop();
    await seeder.stop();
    await Deno.remove(root, { recursive: true });
  }
});
