/**
 * Web seeds beside a real peer: single-file and multi-file torrents complete from a web
 * seed (our Range-capable test server, about 1 MiB/s per connection) together with a
 * python3-libtorrent seeder capped at 1 MiB/s, each source delivering part of the data;
 * every file is checked by SHA-256.
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { assert, assertEquals } from "../assert.ts";
import { interopTest } from "./_harness.ts";
import { startLibtorrentPeer } from "./_lt_peer.ts";
import { buildTorrent } from "../../src/metainfo/create.ts";
import { parseTorrent } from "../../src/metainfo/mod.ts";
import { Client } from "../../src/deno/client.ts";
import { startRangeServer } from "../integration/_range_server.ts";

const PIECE = 64 * 1024;

function bytesOf(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed;
  for (let i = 0; i < length; i++) out[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
  return out;
}

function sha(data: Uint8Array, algorithm = "sha256"): Uint8Array {
  return new Uint8Array(createHash(algorithm).update(data).digest());
}

for (const multi of [false, true]) {
  const kind = multi ? "multi-file" : "single-file";
  await interopTest(
    `interop: a ${kind} torrent completes from a web seed and a libtorrent peer`,
    async () => {
      const root = await Deno.makeTempDir({ prefix: "swarmd-ws-lt-" });
      const files: [string[], number][] = multi
        ? [[["a b.bin"], 3_500_000], [["sub", "ç.bin"], 4_700_001]]
        : [[[], 8_200_001]];
      const name = multi ? "set" : "one.bin";
      const datas = files.map(([, length], i) => bytesOf(length, i + 3));
      for (const [i, [path]] of files.entries()) {
        const full = multi ? join(root, "src", name, ...path) : join(root, "src", name);
        await Deno.mkdir(join(full, ".."), { recursive: true });
        await Deno.writeFile(full, datas[i]!);
      }
      const all = new Uint8Array(datas.reduce((n, d) => n + d.length, 0));
      datas.reduce((at, d) => (all.set(d, at), at + d.length), 0);
      const hashes = new Uint8Array(Math.ceil(all.length / PIECE) * 20);
      for (let i = 0; i * PIECE < all.length; i++) {
        hashes.set(sha(all.subarray(i * PIECE, (i + 1) * PIECE), "sha1"), i * 20);
      }
      const server = await startRangeServer(join(root, "src"));
      const bytes = buildTorrent({
        name,
        files: files.map(([path, length]) => ({ path, length })),
        pieceLength: PIECE,
        pieceHashes: hashes,
        webSeeds: [`${server.origin}/slow/`],
      });
      const torrentPath = join(root, "t.torrent");
      await Deno.writeFile(torrentPath, bytes);
      const seeder = startLibtorrentPeer({
        torrent: torrentPath,
        save: join(root, "src"),
        listen: "127.0.0.2:0",
        seedMode: true,
        uploadLimit: 1024 * 1024,
        timeoutS: 120,
      });
      const client = new Client({
        port: 0,
        host: "127.0.0.1",
        workers: 2,
        stateDir: null,
        settings: { enableDht: false, allowLocalPeers: true },
      });
      try {
        const port = await seeder.port;
        // an auto-managed torrent accepts peers ~0.5 s after the session starts
        for (let i = 0; i < 200 && !seeder.lines.some((l) => l.includes('"started"')); i++) {
          await new Promise((r) => setTimeout(r, 50));
        }
        const torrent = await client.add(parseTorrent(bytes), {
          dir: join(root, "dl"),
          peers: [{ host: "127.0.0.2", port }],
        });
        const timeout = AbortSignal.timeout(90_000);
        await Promise.race([
          torrent.done,
          new Promise((_, reject) =>
            timeout.addEventListener("abort", () => reject(timeout.reason))
          ),
        ]);
        for (const [i, [path]] of files.entries()) {
          const got = await Deno.readFile(
            multi ? join(root, "dl", name, ...path) : join(root, "dl", name),
          );
          assertEquals(sha(got), sha(datas[i]!), `file ${i}`);
        }
        const fromWeb = server.bytes.get("slow") ?? 0;
        const total = torrent.stats().bytesDownloaded;
        assert(fromWeb > 0, "the web seed sent nothing");
        assert(total - fromWeb > 0, `the peer sent nothing (web ${fromWeb} of ${total} bytes)`);
        console.log(
          `${kind}: ${fromWeb} bytes from the web seed, ${total - fromWeb} from the peer`,
        );
      } finally {
        await client.close();
        await seeder.stop();
        await server.close();
        await Deno.remove(root, { recursive: true });
      }
    },
  );
}
