/**
 * Local Service Discovery (BEP 14) against python3-libtorrent's own LSD, on loopback
 * (each side joins the LSD group on its 127.0.0.x address): with no tracker, no DHT and no
 * peer given, (1) our `get` of a bare magnet finds a libtorrent seeder, and (2) a
 * libtorrent leecher given only the info-hash finds our `seed`. Default flags otherwise;
 * files are checked by SHA-256 and our log must name libtorrent.
 */
import { join } from "node:path";
import { assert, assertEquals } from "../assert.ts";
import { interopTest, within } from "./_harness.ts";
import { startLibtorrentPeer } from "./_lt_peer.ts";
import { makeTorrentDir } from "./_wire_peer.ts";
import { freshStateEnv, runCli, sha256, withCliSeed } from "../integration/_cli_swarm.ts";
import { parseTorrent } from "../../src/metainfo/mod.ts";

/** A random 2 MB payload (an info-hash no other test uses) and its torrent. */
async function payload(prefix: string) {
  const data = new Uint8Array(2_000_000);
  for (let i = 0; i < data.length; i += 65536) crypto.getRandomValues(data.subarray(i, i + 65536));
  const dir = await makeTorrentDir({ prefix, name: "data.bin", data, pieceLength: 64 * 1024 });
  const meta = parseTorrent(await Deno.readFile(dir.torrentPath));
  return { ...dir, meta, digest: sha256(data) };
}

await interopTest(
  "interop: our get of a bare magnet finds a libtorrent seeder by LSD",
  async () => {
    const p = await payload("swarmd-lsd-lt-seed-");
    const seeder = startLibtorrentPeer({
      torrent: p.torrentPath,
      save: join(p.root, "src"),
      listen: "127.0.0.121:0",
      seedMode: true,
      lsd: true,
      timeoutS: 60,
    });
    try {
      await seeder.port;
      const log = join(p.root, "get.log");
      const r = await runCli([
        ...["get", `magnet:?xt=urn:btih:${p.meta.infoHashHex}`, "-o", join(p.root, "dl")],
        ...["--port", "0", "--host", "127.0.0.122", "--no-dht", "--timeout", "40", "--log", log],
      ], { env: freshStateEnv(p.root), timeoutMs: 50_000 });
      assertEquals(r.code, 0, `${r.stderr}\n${seeder.lines.slice(-5).join("\n")}`);
      assertEquals(sha256(await Deno.readFile(join(p.root, "dl", "data.bin"))), p.digest);
      const text = await Deno.readTextFile(log);
      assert(/event peer 127\.0\.0\.121:\d+ connected .*client libtorrent/.test(text), text);
    } finally {
      await seeder.stop();
      await Deno.remove(p.root, { recursive: true });
    }
  },
);

await interopTest(
  "interop: a libtorrent leecher given only the info-hash finds our seed by LSD",
  async () => {
    const p = await payload("swarmd-lsd-lt-leech-");
    const seedArgs = [p.torrentPath, join(p.root, "src"), "--port", "0", "--host", "127.0.0.123"];
    try {
      await withCliSeed([...seedArgs, "--no-dht", "--log", join(p.root, "seed.log")], async () => {
        const leecher = startLibtorrentPeer({
          torrent: p.torrentPath,
          save: join(p.root, "lt"),
          listen: "127.0.0.124:0",
          magnet: true,
          lsd: true,
          exitWhenComplete: true,
          timeoutS: 60,
        });
        try {
          const tail = () => leecher.lines.slice(-5).join("\n");
          const code = await within(leecher.exited, { ms: 70_000, detail: tail });
          assertEquals(code, 0, tail());
          assertEquals(sha256(await Deno.readFile(join(p.root, "lt", "data.bin"))), p.digest);
          const text = await Deno.readTextFile(join(p.root, "seed.log"));
          assert(/event peer 127\.0\.0\.124:\d+ connected .*client libtorrent/.test(text), text);
        } finally {
          await leecher.stop();
        }
      });
    } finally {
      await Deno.remove(p.root, { recursive: true });
    }
  },
);
