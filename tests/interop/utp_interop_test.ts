/**
 * uTP (BEP 29) against a real independent implementation, python3-libtorrent 2.0, on
 * loopback, with TCP off on the libtorrent side: (1) our UtpSocket dials a libtorrent
 * seeder and downloads every piece over the BitTorrent wire protocol (src/wire only, no
 * session), verifying each piece's SHA-1 and the whole by SHA-256; (2) a libtorrent
 * leecher dials our UtpSocket, where the test plays a seed, and its file matches by
 * SHA-256.
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { assert, assertEquals } from "../assert.ts";
import { interopTest } from "./_harness.ts";
import { startLibtorrentPeer } from "./_lt_peer.ts";
import {
  downloadAll,
  type DownloadResult,
  pieceHashesOf,
  seedAll,
  type TorrentShape,
} from "./_transfer_peer.ts";
import { buildTorrent } from "../../src/metainfo/create.ts";
import { parseTorrent } from "../../src/metainfo/mod.ts";
import type { Conn } from "../../src/runtime/types.ts";
import { bindUdp } from "../../src/deno/udp.ts";
import { SECURE_RANDOM, SYSTEM_CLOCK } from "../../src/deno/clock.ts";
import { UtpSocket } from "../../src/net/utp/utp_socket.ts";
import { SeededRandom } from "../../src/util/prng.ts";

const PIECE_LENGTH = 64 * 1024;
const CONTENT_BYTES = 3 * 1024 * 1024 + 12_345; // a short last piece

interface Fixture {
  readonly root: string;
  readonly torrentPath: string;
  readonly content: Uint8Array;
  readonly hashes: Uint8Array;
  readonly shape: TorrentShape;
}

async function makeFixture(prefix: string): Promise<Fixture> {
  const root = await Deno.makeTempDir({ prefix });
  const content = new SeededRandom(29).bytes(CONTENT_BYTES);
  const hashes = pieceHashesOf(content, PIECE_LENGTH);
  const torrent = buildTorrent({
    name: "payload.bin",
    files: [{ path: [], length: content.length }],
    pieceLength: PIECE_LENGTH,
    pieceHashes: hashes,
  });
  const torrentPath = join(root, "payload.torrent");
  await Deno.writeFile(torrentPath, torrent);
  const shape = {
    infoHash: parseTorrent(torrent).infoHash,
    pieceLength: PIECE_LENGTH,
    totalLength: content.length,
  };
  return { root, torrentPath, content, hashes, shape };
}

/** Our side of a connection, for failure messages. */
function describe(conn: Conn): string {
  const core = (conn as unknown as { core: { snapshot(): unknown; stats: unknown } }).core;
  return JSON.stringify({ snapshot: core.snapshot(), stats: core.stats });
}

/** Rejects with our connection's state if `work` takes longer than `ms`. */
async function within<T>(work: Promise<T>, ms: number, conn: () => Conn | undefined): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const c = conn();
      reject(new Error(`No progress in ${ms} ms: ${c ? describe(c) : "no connection"}`));
    }, ms);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

function sha256(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/**
 * Dials and downloads, dialing again while libtorrent closes the connection before its
 * handshake: it does that to connections that arrive while its torrent is still starting.
 */
async function downloadWhenReady(
  utp: UtpSocket,
  port: number,
  f: Fixture,
): Promise<DownloadResult> {
  for (let attempt = 0;; attempt++) {
    const conn = await utp.dial({ host: "127.0.0.2", port });
    try {
      return await downloadAll(conn, f.shape, {
        peerId: SECURE_RANDOM.bytes(20),
        pieceHashes: f.hashes,
      });
    } catch (e) {
      if (attempt === 20 || !String(e).includes("after 0 handshake bytes")) throw e;
      await new Promise((r) => setTimeout(r, 250));
    } finally {
      conn.close();
    }
  }
}

await interopTest(
  "interop: our uTP dials a libtorrent seeder (uTP only) and downloads every piece",
  async () => {
    const f = await makeFixture("swarmd-utp-dl-");
    await Deno.mkdir(join(f.root, "src"));
    await Deno.writeFile(join(f.root, "src", "payload.bin"), f.content);
    const seeder = startLibtorrentPeer({
      torrent: f.torrentPath,
      save: join(f.root, "src"),
      listen: "127.0.0.2:0",
      seedMode: true,
      utpOnly: true,
      plaintext: true,
      timeoutS: 60,
    });
    const utp = new UtpSocket({
      socket: await bindUdp({ host: "127.0.0.3", port: 0 }),
      clock: SYSTEM_CLOCK,
      random: SECURE_RANDOM,
    });
    try {
      const result = await downloadWhenReady(utp, await seeder.port, f);
      assertEquals(result, {
        bytes: f.content.length,
        verifiedPieces: Math.ceil(CONTENT_BYTES / PIECE_LENGTH),
      });
    } finally {
      utp.close();
      await seeder.stop();
      await Deno.remove(f.root, { recursive: true });
    }
  },
);

await interopTest(
  "interop: a libtorrent leecher (uTP only) dials our uTP listener and completes",
  async () => {
    const f = await makeFixture("swarmd-utp-ul-");
    await Deno.mkdir(join(f.root, "dl"));
    const utp = new UtpSocket({
      socket: await bindUdp({ host: "127.0.0.4", port: 0 }),
      clock: SYSTEM_CLOCK,
      random: SECURE_RANDOM,
    });
    const leecher = startLibtorrentPeer({
      torrent: f.torrentPath,
      save: join(f.root, "dl"),
      listen: "127.0.0.5:0",
      peers: [`127.0.0.4:${utp.addr.port}`],
      exitWhenComplete: true,
      utpOnly: true,
      plaintext: true,
      timeoutS: 60,
    });
    const uploads: Promise<number>[] = [];
    const conns: Conn[] = [];
    const serving = (async () => {
      for await (const conn of utp) {
        uploads.push(
          seedAll(conn, f.shape, { peerId: SECURE_RANDOM.bytes(20), content: f.content })
            .finally(() => conn.close()),
        );
      }
    })();
    try {
      const code = await within(leecher.exited, 30_000, () => conns.at(-1));
      assertEquals(code, 0, [...leecher.lines.slice(-5), ...conns.map(describe)].join("\n"));
      const got = await Deno.readFile(join(f.root, "dl", "payload.bin"));
      assertEquals(sha256(got), sha256(f.content));
      utp.close();
      await serving;
      const uploaded = (await Promise.all(uploads)).reduce((a, b) => a + b, 0);
      assert(uploaded >= f.content.length, `uploaded ${uploaded}`);
    } finally {
      utp.close();
      await leecher.stop();
      await Deno.remove(f.root, { recursive: true });
    }
  },
);
