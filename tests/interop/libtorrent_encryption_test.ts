/**
 * Interop: message stream encryption (MSE/PE) through the whole engine, against
 * python3-libtorrent, with our default `--encryption prefer`:
 * - our seed (the library `Client`) to a libtorrent leecher that forces RC4 both ways;
 * - our `get` from a libtorrent seeder that forces RC4 both ways;
 * - our `get` from a libtorrent seeder that speaks no encryption at all (our MSE dial is
 *   hung up on, the plain BitTorrent retry works);
 * - `get --encryption require` from a default libtorrent seeder (RC4 is negotiated).
 * Every download is checked by SHA-256.
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { assertEquals } from "../assert.ts";
import { interopTest } from "./_harness.ts";
import { type LibtorrentPeerOptions, startLibtorrentPeer } from "./_lt_peer.ts";
import { writeSingleFileTorrent } from "./_wire_peer.ts";
import { Client } from "../../src/deno/client.ts";

const MOD = new URL("../../mod.ts", import.meta.url).pathname;
const SIZE = 2 * 1024 * 1024 + 4321;
const PIECE = 64 * 1024;

function sha256(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

async function withPayload(fn: (root: string, torrent: string, digest: string) => Promise<void>) {
  const root = await Deno.makeTempDir({ prefix: "swarmd-enc-" });
  const data = new Uint8Array(SIZE);
  for (let i = 0; i < SIZE; i++) data[i] = (i * 2654435761) >>> 24;
  const torrent = join(root, "data.torrent");
  await writeSingleFileTorrent({
    dataDir: join(root, "src"),
    torrentPath: torrent,
    name: "data.bin",
    data,
    pieceLength: PIECE,
  });
  try {
    await fn(root, torrent, sha256(data));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

/** Runs our `get` against one libtorrent seeder with the given encryption settings. */
async function getFromSeeder(
  seeder: Pick<LibtorrentPeerOptions, "encryption" | "encryptionLevel">,
  extraArgs: string[],
  listen: string,
): Promise<void> {
  await withPayload(async (root, torrent, digest) => {
    const lt = startLibtorrentPeer({
      torrent,
      save: join(root, "src"),
      listen: `${listen}:0`,
      seedMode: true,
      timeoutS: 90,
      ...seeder,
    });
    try {
      const port = await lt.port;
      const out = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          MOD,
          "get",
          torrent,
          "-o",
          join(root, "dl"),
          "--peer",
          `${listen}:${port}`,
          "--port",
          "0",
          "--host",
          "127.0.0.1",
          "--no-dht",
          "--quiet",
          "--timeout",
          "60",
          ...extraArgs,
        ],
        stdout: "piped",
        stderr: "piped",
        env: { XDG_CACHE_HOME: join(root, "cache") },
        signal: AbortSignal.timeout(90_000),
      }).output();
      const stderr = new TextDecoder().decode(out.stderr);
      assertEquals(out.code, 0, `get failed: ${stderr}\n${lt.lines.slice(-5).join("\n")}`);
      assertEquals(sha256(await Deno.readFile(join(root, "dl", "data.bin"))), digest);
    } finally {
      await lt.stop();
    }
  });
}

await interopTest("interop: our seed to a libtorrent leecher that forces RC4", async () => {
  await withPayload(async (root, torrent, digest) => {
    const client = new Client({
      port: 0,
      host: "127.0.0.1",
      stateDir: null,
      settings: { enableDht: false },
    });
    let leecher;
    try {
      await client.add(torrent, { dir: join(root, "src"), seed: true });
      leecher = startLibtorrentPeer({
        torrent,
        save: join(root, "lt"),
        listen: "127.0.0.41:0",
        peers: [`127.0.0.1:${client.port}`],
        exitWhenComplete: true,
        encryption: "forced",
        encryptionLevel: "rc4",
        timeoutS: 60,
      });
      assertEquals(await leecher.exited, 0, leecher.lines.slice(-5).join("\n"));
      assertEquals(sha256(await Deno.readFile(join(root, "lt", "data.bin"))), digest);
    } finally {
      await leecher?.stop();
      await client.close();
    }
  });
});

await interopTest("interop: our get from a libtorrent seeder that forces RC4", async () => {
  await getFromSeeder({ encryption: "forced", encryptionLevel: "rc4" }, [], "127.0.0.42");
});

await interopTest(
  "interop: our get, default flags, from a libtorrent seeder with encryption disabled",
  async () => {
    await getFromSeeder({ encryption: "disabled" }, [], "127.0.0.43");
  },
);

await interopTest(
  "interop: get --encryption require from a default libtorrent seeder",
  async () => {
    await getFromSeeder({}, ["--encryption", "require"], "127.0.0.44");
  },
);
