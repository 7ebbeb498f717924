/**
 * Interop: uTP (BEP 29) through the whole engine, against python3-libtorrent with TCP off
 * on its side (uTP only), with our default settings (uTP dialled first, TCP after 1 s):
 * - our library `Client` downloads from a uTP-only libtorrent seeder;
 * - a uTP-only libtorrent leecher downloads from our seed;
 * - our `get` (CLI, default flags) downloads from a uTP-only seeder.
 * The connection must be uTP (a TCP connect to the seeder is refused), and every download
 * is checked by SHA-256.
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { assertEquals } from "../assert.ts";
import { interopTest, within } from "./_harness.ts";
import {
  getFromLibtorrent,
  libtorrentLeechesFromUs,
  loopbackClient,
  startLibtorrentPeer,
} from "./_lt_peer.ts";
import { type TorrentDir, withTorrentDir } from "./_wire_peer.ts";

const SIZE = 3 * 1024 * 1024 + 777;

function withPayload(fn: (dir: TorrentDir) => Promise<void>): Promise<void> {
  const data = new Uint8Array(SIZE);
  for (let i = 0; i < SIZE; i++) data[i] = (i * 2246822519) >>> 25;
  return withTorrentDir({ prefix: "swarmd-utp-", name: "data.bin", data, pieceLength: 65536 }, fn);
}

await interopTest("interop: our Client downloads from a uTP-only libtorrent seeder", async () => {
  await withPayload(async ({ root, torrentPath, sha256 }) => {
    const seeder = startLibtorrentPeer({
      torrent: torrentPath,
      save: join(root, "src"),
      listen: "127.0.0.61:0",
      seedMode: true,
      utpOnly: true,
      timeoutS: 60,
    });
    const c = loopbackClient();
    try {
      const port = await seeder.port;
      const t = await c.add(torrentPath, {
        dir: join(root, "dl"),
        peers: [{ host: "127.0.0.61", port }],
      });
      let transports: string[] = [];
      const watch = setInterval(() => {
        if (transports.length === 0) transports = t.peers().map((p) => p.transport);
      }, 20);
      try {
        await within(t.done, { ms: 45_000, detail: () => seeder.lines.slice(-5).join("\n") });
      } finally {
        clearInterval(watch);
      }
      assertEquals(transports, ["utp"]);
      const got = await Deno.readFile(join(root, "dl", "data.bin"));
      assertEquals(createHash("sha256").update(got).digest("hex"), sha256);
    } finally {
      await c.close();
      await seeder.stop();
    }
  });
});

await interopTest("interop: a uTP-only libtorrent leecher downloads from our seed", async () => {
  await withPayload((dir) => libtorrentLeechesFromUs(dir, { host: "127.0.0.62", utpOnly: true }));
});

await interopTest("interop: get, default flags, from a uTP-only libtorrent seeder", async () => {
  await withPayload((dir) =>
    getFromLibtorrent(dir, { seeder: { host: "127.0.0.63", utpOnly: true } })
  );
});
