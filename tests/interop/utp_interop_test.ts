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
import { interopTest, within } from "./_harness.ts";
import { startLibtorrentPeer } from "./_lt_peer.ts";
import {
  downloadAll,
  type DownloadResult,
  seedAll,
  type TorrentDir,
  withTorrentDir,
} from "./_wire_peer.ts";
import type { Conn } from "../../src/runtime/types.ts";
import { bindUdp } from "../../src/deno/udp.ts";
import { SECURE_RANDOM, SYSTEM_CLOCK } from "../../src/deno/clock.ts";
import { UtpSocket } from "../../src/net/utp/utp_socket.ts";
import { SeededRandom } from "../../src/util/prng.ts";

const PIECE_LENGTH = 64 * 1024;
const CONTENT_BYTES = 3 * 1024 * 1024 + 12_345; // a short last piece

/** Runs `fn` on a fresh payload: `src/payload.bin` and its torrent. */
function withPayload(prefix: string, fn: (f: TorrentDir) => Promise<void>): Promise<void> {
  const data = new SeededRandom(29).bytes(CONTENT_BYTES);
  return withTorrentDir({ prefix, name: "payload.bin", data, pieceLength: PIECE_LENGTH }, fn);
}

/** Our side of a connection, for failure messages. */
function describe(conn: Conn): string {
  const core = (conn as unknown as { core: { snapshot(): unknown; stats: unknown } }).core;
  return JSON.stringify({ snapshot: core.snapshot(), stats: core.stats });
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
  f: TorrentDir,
): Promise<DownloadResult> {
  for (let attempt = 0;; attempt++) {
    const conn = await utp.dial({ host: "127.0.0.2", port });
    try {
      return await downloadAll(conn, f.torrent, {
        peerId: SECURE_RANDOM.bytes(20),
        pieceHashes: f.torrent.pieceHashes,
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
    await withPayload("swarmd-utp-dl-", async (f) => {
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
        assertEquals(result.bytes, CONTENT_BYTES);
        assertEquals(result.verifiedPieces, Math.ceil(CONTENT_BYTES / PIECE_LENGTH));
      } finally {
        utp.close();
        await seeder.stop();
      }
    });
  },
);

await interopTest(
  "interop: a libtorrent leecher (uTP only) dials our uTP listener and completes",
  async () => {
    await withPayload("swarmd-utp-ul-", async (f) => {
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
          conns.push(conn);
          const peerId = SECURE_RANDOM.bytes(20);
          uploads.push(
            seedAll(conn, f.torrent, { peerId, content: f.torrent.data })
              .finally(() => conn.close()),
          );
        }
      })();
      try {
        const last = () => conns.at(-1);
        const detail = () => last() ? describe(last()!) : "no connection";
        const code = await within(leecher.exited, { ms: 30_000, detail });
        assertEquals(code, 0, [...leecher.lines.slice(-5), ...conns.map(describe)].join("\n"));
        const got = await Deno.readFile(join(f.root, "dl", "payload.bin"));
        assertEquals(sha256(got), f.sha256);
        utp.close();
        await serving;
        const uploaded = (await Promise.all(uploads)).reduce((a, b) => a + b, 0);
        assert(uploaded >= CONTENT_BYTES, `uploaded ${uploaded}`);
      } finally {
        utp.close();
        await leecher.stop();
      }
    });
  },
);
