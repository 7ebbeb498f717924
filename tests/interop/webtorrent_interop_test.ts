/**
 * Interop with WebTorrent itself (npm `webtorrent`, pinned in tests/interop/webtorrent/,
 * run by Node.js), the client issue 11 named: it opens every outgoing TCP connection with
 * MSE/PE. Our CLI runs with default flags (`--encryption prefer`); every download is
 * checked by SHA-256, and our log must show the connection as MSE (WebTorrent's default
 * falls back to plain BitTorrent after a failed MSE handshake, which would otherwise pass
 * unnoticed).
 * - WebTorrent (its default `secure: 1`, then `secure: 2`, RC4 only) downloads from our
 *   `seed`, given it as a peer (`torrent.addPeer`);
 * - our `get` downloads from a WebTorrent seed (the same two settings).
 * All on 127.0.0.x. Skipped with a message when WebTorrent is not installed (see
 * `_webtorrent.ts`), unless SWARMD_REQUIRE_INTEROP=1.
 * @module
 */
import { join } from "node:path";
import { assert, assertEquals } from "../assert.ts";
import { freshStateEnv, sha256, withCliSeed } from "../integration/_cli_swarm.ts";
import { connectedLines, eventText, getFromSeed, withPayload } from "./_cli_payload.ts";
import { gatedTest, interopRequired, within } from "./_harness.ts";
import { WEBTORRENT_HOW_TO, WebTorrentPeer, webtorrentVersion } from "./_webtorrent.ts";

const PAYLOAD = { prefix: "swarmd-wt-interop-", size: 2 * 1024 * 1024 + 4321, seed: 5 };
const version = await webtorrentVersion();
if (!version && !interopRequired()) {
  console.log(`skipping WebTorrent interop: not installed; run ${WEBTORRENT_HOW_TO}`);
}

async function webtorrentLeechesFromUs(secure: 1 | 2 | undefined, host: string): Promise<string> {
  let line = "";
  await withPayload(PAYLOAD, async ({ root, torrent, digest }) => {
    const log = join(root, "seed.log");
    const seedArgs = [torrent, join(root, "src"), "--port", "0", "--host", host, "--no-dht"];
    await withCliSeed([...seedArgs, "--log", log], async ({ port }) => {
      const wt = WebTorrentPeer.start({
        mode: "leech",
        torrent,
        dir: join(root, "wt"),
        peer: `${host}:${port}`,
        host: "127.0.0.1",
        ...(secure === undefined ? {} : { secure }),
      });
      try {
        const done = await within(wt.until((l) => "done" in l), {
          ms: 20_000,
          detail: () => `WebTorrent: ${wt.output}`,
        });
        assertEquals(sha256(await Deno.readFile(join(root, "wt", "data.bin"))), digest);
        const lines = await connectedLines(log);
        line = lines.find((l) => /\(it dialled(?: over uTP)?, .*client WebTorrent/.test(l)) ?? "";
        assert(line, `WebTorrent's connection in our seed's log: ${lines.join("\n")}`);
        console.log(`  WebTorrent ${version}: ${done.ms} ms; ${eventText(line)}`);
      } finally {
        await wt.stop();
      }
    }, { env: freshStateEnv(root) });
  });
  return line;
}

async function getFromWebTorrent(secure: 1 | 2 | undefined, host: string): Promise<string> {
  let line = "";
  await withPayload(PAYLOAD, async (p) => {
    const wt = WebTorrentPeer.start({
      mode: "seed",
      torrent: p.torrent,
      dir: join(p.root, "src"),
      host,
      ...(secure === undefined ? {} : { secure }),
    });
    try {
      const { port } = await within(wt.until((l) => "seeding" in l), {
        ms: 15_000,
        detail: () => `WebTorrent did not start seeding: ${wt.output}`,
      });
      const got = await getFromSeed(p, {
        peer: `${host}:${port}`,
        client: /client WebTorrent/,
        timeoutS: 20,
        output: () => wt.output,
      });
      line = got.line;
      console.log(`  WebTorrent ${version}: ${got.ms} ms; ${eventText(line)}`);
    } finally {
      await wt.stop();
    }
  });
  return line;
}

function webtorrentTest(name: string, fn: () => Promise<void>): void {
  gatedTest(name, version !== undefined, `WebTorrent is not installed: ${WEBTORRENT_HOW_TO}`, fn);
}

webtorrentTest(
  "interop: WebTorrent 3 (default secure: 1) dials our seed with MSE and downloads",
  async () => {
    const line = await webtorrentLeechesFromUs(undefined, "127.0.0.71");
    assert(/, MSE (RC4|plaintext)\)$/.test(line), line);
  },
);

webtorrentTest(
  "interop: WebTorrent 3 with secure: 2 (RC4 only) downloads from our seed",
  async () => {
    const line = await webtorrentLeechesFromUs(2, "127.0.0.72");
    assert(line.endsWith(", MSE RC4)"), line);
  },
);

webtorrentTest(
  "interop: our get, default flags, from a WebTorrent 3 seed (default secure: 1)",
  async () => {
    const line = await getFromWebTorrent(undefined, "127.0.0.73");
    assert(/, MSE (RC4|plaintext)\)$/.test(line), line);
  },
);

webtorrentTest(
  "interop: our get, default flags, from a WebTorrent 3 seed with secure: 2",
  async () => {
    const line = await getFromWebTorrent(2, "127.0.0.74");
    assert(line.endsWith(", MSE RC4)"), line);
  },
);
