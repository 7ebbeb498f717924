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
import { interopTest } from "./_harness.ts";
import { startLibtorrentPeer } from "./_lt_peer.ts";
import { writeSingleFileTorrent } from "./_wire_peer.ts";
import { Client } from "../../src/deno/client.ts";

const MOD = new URL("../../mod.ts", import.meta.url).pathname;
const SIZE = 3 * 1024 * 1024 + 777;
const PIECE = 64 * 1024;

function sha256(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

async function withPayload(fn: (root: string, torrent: string, digest: string) => Promise<void>) {
  const root = await Deno.makeTempDir({ prefix: "swarmd-utp-" });
  const data = new Uint8Array(SIZE);
  for (let i = 0; i < SIZE; i++) data[i] = (i * 2246822519) >>> 25;
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

function client(): Client {
  return new Client({ port: 0, host: "127.0.0.1", stateDir: null, settings: { enableDht: false } });
}

await interopTest("interop: our Client downloads from a uTP-only libtorrent seeder", async () => {
  await withPayload(async (root, torrent, digest) => {
    const seeder = startLibtorrentPeer({
      torrent,
      save: join(root, "src"),
      listen: "127.0.0.61:0",
      seedMode: true,
      utpOnly: true,
      timeoutS: 60,
    });
    const c = client();
    try {
      const port = await seeder.port;
      const t = await c.add(torrent, {
        dir: join(root, "dl"),
        peers: [{ host: "127.0.0.61", port }],
      });
      let transports: string[] = [];
      const watch = setInterval(() => {
        if (transports.length === 0) transports = t.peers().map((p) => p.transport);
      }, 20);
      try {
        await withTimeout(t.done, 45_000, () => seeder.lines.slice(-5).join("\n"));
      } finally {
        clearInterval(watch);
      }
      assertEquals(transports, ["utp"]);
      assertEquals(sha256(await Deno.readFile(join(root, "dl", "data.bin"))), digest);
    } finally {
      await c.close();
      await seeder.stop();
    }
  });
});

await interopTest("interop: a uTP-only libtorrent leecher downloads from our seed", async () => {
  await withPayload(async (root, torrent, digest) => {
    const c = client();
    let leecher;
    try {
      await c.add(torrent, { dir: join(root, "src"), seed: true });
      leecher = startLibtorrentPeer({
        torrent,
        save: join(root, "lt"),
        listen: "127.0.0.62:0",
        peers: [`127.0.0.1:${c.port}`],
        exitWhenComplete: true,
        utpOnly: true,
        timeoutS: 60,
      });
      assertEquals(await leecher.exited, 0, leecher.lines.slice(-5).join("\n"));
      assertEquals(sha256(await Deno.readFile(join(root, "lt", "data.bin"))), digest);
    } finally {
      await leecher?.stop();
      await c.close();
    }
  });
});

await interopTest("interop: get, default flags, from a uTP-only libtorrent seeder", async () => {
  await withPayload(async (root, torrent, digest) => {
    const seeder = startLibtorrentPeer({
      torrent,
      save: join(root, "src"),
      listen: "127.0.0.63:0",
      seedMode: true,
      utpOnly: true,
      timeoutS: 60,
    });
    try {
      const port = await seeder.port;
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
          `127.0.0.63:${port}`,
          "--port",
          "0",
          "--host",
          "127.0.0.1",
          "--no-dht",
          "--quiet",
          "--timeout",
          "45",
        ],
        stdout: "piped",
        stderr: "piped",
        env: { XDG_CACHE_HOME: join(root, "cache") },
        signal: AbortSignal.timeout(60_000),
      }).output();
      const stderr = new TextDecoder().decode(out.stderr);
      assertEquals(out.code, 0, `get failed: ${stderr}\n${seeder.lines.slice(-5).join("\n")}`);
      assertEquals(sha256(await Deno.readFile(join(root, "dl", "data.bin"))), digest);
    } finally {
      await seeder.stop();
    }
  });
});

async function withTimeout<T>(p: Promise<T>, ms: number, detail: () => string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms\n${detail()}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
