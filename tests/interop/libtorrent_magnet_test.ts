/**
 * Interop: a magnet download from a python3-libtorrent seeder keeps its first connection.
 * The metadata phase and the download run on one connection: the seeder accepts exactly
 * one connection from us (its `incoming_connection_alert`s are counted), and every file
 * matches the source by SHA-256.
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { assertEquals } from "../assert.ts";
import { interopTest } from "./_harness.ts";
import { loopbackClient, startLibtorrentPeer } from "./_lt_peer.ts";
import { buildTorrent } from "../../src/metainfo/create.ts";
import { parseMagnet, parseTorrent } from "../../src/metainfo/mod.ts";

const PIECE = 64 * 1024;
const LENGTH = 3 * 1024 * 1024 + 12_345;

function sha(algorithm: "sha1" | "sha256", data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash(algorithm).update(data).digest());
}

await interopTest(
  "interop: a magnet download from a libtorrent seeder keeps its first connection",
  async () => {
    const root = await Deno.makeTempDir({ prefix: "swarmd-lt-magnet-" });
    const data = new Uint8Array(LENGTH);
    for (let i = 0; i < LENGTH; i++) data[i] = (i * 7919 + (i >> 9)) & 0xff;
    await Deno.mkdir(join(root, "src"));
    await Deno.writeFile(join(root, "src", "blob.bin"), data);
    const hashes = new Uint8Array(Math.ceil(LENGTH / PIECE) * 20);
    for (let i = 0; i * PIECE < LENGTH; i++) {
      hashes.set(sha("sha1", data.subarray(i * PIECE, (i + 1) * PIECE)), i * 20);
    }
    const bytes = buildTorrent({
      name: "blob.bin",
      files: [{ path: [], length: LENGTH }],
      pieceLength: PIECE,
      pieceHashes: hashes,
    });
    await Deno.writeFile(join(root, "blob.torrent"), bytes);
    const meta = parseTorrent(bytes);
    const seeder = startLibtorrentPeer({
      torrent: join(root, "blob.torrent"),
      save: join(root, "src"),
      listen: "127.0.0.2:0",
      seedMode: true,
      reportConnections: true,
      timeoutS: 60,
    });
    const client = loopbackClient();
    try {
      const port = await seeder.port;
      const link = `magnet:?xt=urn:btih:${meta.infoHashHex}&x.pe=127.0.0.2:${port}`;
      const torrent = await client.add(parseMagnet(link), { dir: join(root, "dl") });
      const timeout = new Promise<never>((_, reject) => {
        const t = setTimeout(() => reject(new Error("download timed out")), 45_000);
        torrent.done.finally(() => clearTimeout(t)).catch(() => {});
      });
      await Promise.race([torrent.done, timeout]);
      const got = await Deno.readFile(join(root, "dl", "blob.bin"));
      assertEquals(hex(sha("sha256", got)), hex(sha("sha256", data)));
      const incoming = seeder.lines
        .map((line) => {
          try {
            return JSON.parse(line);
          } catch {
            return undefined;
          }
        })
        .filter((e) => e?.event === "incoming" && e.ip === "127.0.0.1");
      assertEquals(
        incoming.length,
        1,
        `connections the seeder accepted: ${seeder.lines.join("\n")}`,
      );
    } finally {
      await client.close();
      await seeder.stop();
      await Deno.remove(root, { recursive: true });
    }
  },
);

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
