/**
 * MSE/PE against a real independent client (python3-libtorrent), standalone: our
 * `initiateMse` dials libtorrent seeders and downloads every piece (SHA-1 checked) over
 * the encrypted (or plaintext-selected) stream; libtorrent leechers dial our `acceptMse`
 * listener and download a whole torrent from a minimal seed, verified by SHA-256; a
 * libtorrent peer with encryption disabled is taken as plain BitTorrent, and our MSE dial
 * to it fails fast with a ProtocolError. Skips without libtorrent unless
 * SWARMD_REQUIRE_INTEROP=1.
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { assert, assertEquals, assertRejects } from "../assert.ts";
import { interopTest, within } from "./_harness.ts";
import { type LibtorrentPeer, startLibtorrentPeer } from "./_lt_peer.ts";
import {
  downloadAll,
  makeTorrentDir,
  ourHandshake,
  seedAll,
  type TorrentDir,
} from "./_wire_peer.ts";
import { DENO_NETWORK } from "../../src/deno/tcp.ts";
import { SECURE_RANDOM, SYSTEM_CLOCK } from "../../src/deno/clock.ts";
import type { Conn } from "../../src/runtime/types.ts";
import { ProtocolError } from "../../src/errors.ts";
import { toHex } from "../../src/util/bytes.ts";
import {
  acceptMse,
  type AcceptResult,
  initiateMse,
  type InitiateResult,
  type MseAllow,
  MseRetryError,
  req2Hash,
} from "../../src/net/mse/mod.ts";

const PIECE = 64 * 1024;
const LENGTH = 1024 * 1024 + 12_345;
const PEER_ID = new TextEncoder().encode("-SW0001-mseinterop01");
const HANDSHAKE_TIMEOUT_MS = 10_000;

function makeFixture(prefix: string): Promise<TorrentDir> {
  const data = new Uint8Array(LENGTH);
  let seed = 4242;
  for (let i = 0; i < LENGTH; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    data[i] = seed >>> 24;
  }
  return makeTorrentDir({ prefix, name: "mse.bin", data, pieceLength: PIECE });
}

/** Waits until a libtorrent seeder's torrent accepts peers; returns its port. */
async function torrentStarted(seeder: LibtorrentPeer): Promise<number> {
  const detail = () => `libtorrent start\n${seeder.lines.join("\n")}`;
  await within(seeder.started, { ms: 15_000, detail });
  return await seeder.port;
}

const DIAL_CASES: [string, "forced" | "enabled", "rc4" | "both", MseAllow, boolean, string][] = [
  ["a seeder forcing RC4, we allow RC4", "forced", "rc4", "rc4", false, "rc4"],
  ["a seeder forcing RC4, we allow both and prefer RC4", "forced", "rc4", "both", true, "rc4"],
  [
    "a default seeder (enabled, both), we allow both",
    "enabled",
    "both",
    "both",
    false,
    "plaintext",
  ],
];

/**
 * Runs `body` against a libtorrent seeder of a fresh fixture once its torrent has
 * started; `body` opens connections to it with `connect`. Cleans everything up and, on
 * failure, adds the seeder's last output lines to the error.
 */
async function withSeeder(
  prefix: string,
  encryption: { policy: "forced" | "enabled" | "disabled"; level?: "rc4" | "both" },
  body: (fx: TorrentDir, connect: () => Promise<Conn>) => Promise<void>,
): Promise<void> {
  const fx = await makeFixture(prefix);
  const seeder = startLibtorrentPeer({
    torrent: fx.torrentPath,
    save: join(fx.root, "src"),
    listen: "127.0.0.2:0",
    seedMode: true,
    encryption: encryption.policy,
    ...(encryption.level ? { encryptionLevel: encryption.level } : {}),
  });
  const conns: Conn[] = [];
  try {
    const port = await torrentStarted(seeder);
    await body(fx, async () => {
      const conn = await DENO_NETWORK.dial({ host: "127.0.0.2", port });
      conns.push(conn);
      return conn;
    });
  } catch (e) {
    throw new Error(`${e}\nlibtorrent:\n${seeder.lines.slice(-6).join("\n")}`, { cause: e });
  } finally {
    for (const conn of conns) conn.close();
    await seeder.stop();
    await Deno.remove(fx.root, { recursive: true });
  }
}

/**
 * Our MSE dial with our BitTorrent handshake as the initial payload, on a new connection;
 * redials (at most twice) on `MseRetryError`, as the session should: libtorrent hangs
 * up on 1 dial in 256 (a shared secret with a leading zero byte).
 */
async function dialMse(
  connect: () => Promise<Conn>,
  fx: TorrentDir,
  allow: MseAllow,
  preferRc4: boolean,
): Promise<InitiateResult> {
  for (let attempt = 1;; attempt++) {
    try {
      return await dialOnce(await connect(), fx, allow, preferRc4);
    } catch (e) {
      if (!(e instanceof MseRetryError) || attempt === 3) throw e;
    }
  }
}

function dialOnce(conn: Conn, fx: TorrentDir, allow: MseAllow, preferRc4: boolean) {
  return initiateMse(conn, {
    infoHash: fx.torrent.infoHash,
    random: SECURE_RANDOM,
    clock: SYSTEM_CLOCK,
    timeoutMs: HANDSHAKE_TIMEOUT_MS,
    allow,
    preferRc4,
    initialPayload: ourHandshake(fx.torrent.infoHash, PEER_ID),
  });
}

for (const [name, policy, level, allow, preferRc4, expected] of DIAL_CASES) {
  await interopTest(
    `interop: initiateMse downloads every piece from ${name} (${expected})`,
    async () => {
      await withSeeder("swarmd-mse-dial-", { policy, level }, async (fx, connect) => {
        const dialed = await dialMse(connect, fx, allow, preferRc4);
        assertEquals(dialed.selected, expected);
        const download = downloadAll(dialed.conn, fx.torrent, {
          pieceHashes: fx.torrent.pieceHashes, // our handshake went out as MSE's IA
        });
        const got = await within(download, { ms: 30_000, detail: "download" });
        assertEquals(toHex(got.handshake.infoHash), toHex(fx.torrent.infoHash));
        assertEquals(got.verifiedPieces, fx.torrent.pieceCount);
      });
    },
  );
}

const ACCEPT_CASES: [string, "forced" | "disabled", "rc4" | "both", boolean, string][] = [
  ["a leecher forcing RC4", "forced", "rc4", true, "rc4"],
  [
    "a leecher forcing MSE with both methods, we prefer plaintext",
    "forced",
    "both",
    false,
    "plaintext",
  ],
  ["a leecher with encryption disabled (plain BitTorrent)", "disabled", "both", true, "none"],
];

for (const [name, policy, level, preferRc4, expected] of ACCEPT_CASES) {
  await interopTest(`interop: ${name} downloads from our acceptMse listener`, async () => {
    const fx = await makeFixture("swarmd-mse-accept-");
    const listener = await DENO_NETWORK.listen({ host: "127.0.0.1", port: 0 });
    const accepted: AcceptResult[] = [];
    const failures: unknown[] = [];
    const conns: Conn[] = [];
    const serving: Promise<unknown>[] = [];
    const acceptLoop = (async () => {
      for await (const conn of listener) {
        conns.push(conn);
        serving.push((async () => {
          try {
            const result = await acceptMse(conn, {
              random: SECURE_RANDOM,
              clock: SYSTEM_CLOCK,
              timeoutMs: HANDSHAKE_TIMEOUT_MS,
              allow: "both",
              preferRc4,
              allowPlainBitTorrent: true,
              findInfoHash: (req2) =>
                toHex(req2) === toHex(req2Hash(fx.torrent.infoHash))
                  ? fx.torrent.infoHash
                  : undefined,
            });
            accepted.push(result);
            await seedAll(result.conn, fx.torrent, {
              peerId: PEER_ID,
              content: fx.torrent.data,
              first: result.initialPayload,
            });
          } catch (e) {
            failures.push(e);
          } finally {
            conn.close();
          }
        })());
      }
    })();
    const leecher = startLibtorrentPeer({
      torrent: fx.torrentPath,
      save: join(fx.root, "lt"),
      listen: "127.0.0.3:0",
      peers: [`127.0.0.1:${listener.addr.port}`],
      exitWhenComplete: true,
      timeoutS: 60,
      encryption: policy,
      encryptionLevel: level,
    });
    try {
      const code = await leecher.exited;
      assertEquals(code, 0, `libtorrent did not complete:\n${leecher.lines.slice(-8).join("\n")}`);
      const file = await Deno.readFile(join(fx.root, "lt", "mse.bin"));
      assertEquals(createHash("sha256").update(file).digest("hex"), fx.sha256);
      assert(accepted.length >= 1, `no connection accepted: ${failures.map(String).join("; ")}`);
      const first = accepted[0]!;
      assertEquals(first.selected ?? "none", expected);
      assertEquals(first.encrypted, expected === "rc4");
      if (expected !== "none") {
        assertEquals(toHex(first.infoHash!), toHex(fx.torrent.infoHash));
        assertEquals(first.initialPayload.length, 68); // libtorrent sends its handshake as IA
      }
    } finally {
      await leecher.stop();
      listener.close();
      for (const c of conns) c.close();
      await within(Promise.all([acceptLoop, ...serving]), {
        ms: 10_000,
        detail: "accept loop shutdown",
      });
      await Deno.remove(fx.root, { recursive: true });
    }
  });
}

await interopTest(
  "interop: initiateMse against a libtorrent peer with encryption disabled fails fast with a ProtocolError",
  async () => {
    await withSeeder("swarmd-mse-plain-", { policy: "disabled" }, async (fx, connect) => {
      const conn = await connect();
      const started = performance.now();
      const error = await assertRejects(() => dialOnce(conn, fx, "both", true), ProtocolError);
      const elapsed = performance.now() - started;
      assert(elapsed < 3000, `took ${elapsed.toFixed(0)} ms: ${error.message}`);
      assert(error.message.startsWith("Cannot complete MSE handshake"), error.message);
    });
  },
);
