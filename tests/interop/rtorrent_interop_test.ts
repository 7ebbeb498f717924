/**
 * Interop with rTorrent (Debian's rtorrent 0.9.8 on libtorrent-rakshasa 0.13.8), the
 * seedbox client, an implementation of its own:
 * - rTorrent downloads from our `seed`, which it finds through our tracker: plain (its
 *   default), with the usual seedbox setting (MSE tried first) and with RC4 required;
 * - our `get` (default flags) downloads from an rTorrent seed given as `--peer`: plain only,
 *   the seedbox setting and RC4 required.
 * The copy is checked by SHA-256; our log must name it and say how the connection is
 * encrypted. Skipped with a message when rtorrent is missing, unless
 * SWARMD_REQUIRE_INTEROP=1.
 * @module
 */
import { join } from "node:path";
import { assert } from "../assert.ts";
import { eventText, getFromSeed, withPayload } from "./_cli_payload.ts";
import { freePort, leechFromOurSeed } from "./_foreign_leecher.ts";
import { accepting, gatedTest, requireFiles } from "./_harness.ts";
import { RTORRENT, Rtorrent, type RtorrentEncryption } from "./_rtorrent.ts";
import { TrackerServer } from "../../src/deno/tracker_server.ts";

const { present } = await requireFiles(
  [RTORRENT],
  "skipping rTorrent interop: rtorrent not installed (apt-get install rtorrent)",
);

const PAYLOAD = { prefix: "swarmd-rtorrent-", size: 2 * 1024 * 1024 + 4321, seed: 7 };
/** How our log names it: by its peer id, which carries libtorrent-rakshasa's version. */
const CLIENT = /client rTorrent \(libtorrent 0\./;

/** rTorrent downloads the payload from our seed (on `host`), found through our tracker. */
function rtorrentFromOurSeed(encryption: RtorrentEncryption, host: string): Promise<string> {
  return leechFromOurSeed({
    host,
    client: CLIENT,
    payload: PAYLOAD,
    start: (torrent, dir) =>
      Rtorrent.start({
        torrent,
        dir,
        home: `${dir}-home`,
        host: "127.0.0.92",
        port: freePort("127.0.0.92"),
        encryption,
      }),
  });
}

/**
 * Our `get`, default flags, downloads the payload from an rTorrent seed on `host`. The torrent
 * lists our tracker: rTorrent 0.9.8 leaves a torrent with no tracker (and DHT off) unstarted,
 * refusing every connection for it ("unknown download").
 */
async function getFromRtorrent(encryption: RtorrentEncryption, host: string): Promise<string> {
  let line = "";
  const tracker = await TrackerServer.start({ host: "127.0.0.80", httpPort: 0, udpPort: 0 });
  const url = `http://127.0.0.80:${tracker.httpAddrs[0]!.port}/announce`;
  await withPayload({ ...PAYLOAD, trackers: [url] }, async (p) => {
    const port = freePort(host);
    const rtorrent = await Rtorrent.start({
      torrent: p.torrent,
      dir: join(p.root, "src"),
      home: join(p.root, "rtorrent"),
      host,
      port,
      encryption,
    });
    try {
      assert(await accepting(host, port, 15_000), `rtorrent did not listen: ${rtorrent.output}`);
      const got = await getFromSeed(p, {
        peer: `${host}:${port}`,
        client: CLIENT,
        timeoutS: 30,
        output: () => rtorrent.output,
      });
      line = got.line;
      console.log(`  ${got.ms} ms; ${eventText(line)}`);
    } finally {
      await rtorrent.stop();
    }
  }).finally(() => tracker.close());
  return line;
}

function rtorrentTest(name: string, fn: () => Promise<void>): void {
  gatedTest(name, present, `${RTORRENT} is not installed`, fn);
}

rtorrentTest("interop: rTorrent 0.9.8 (plain, its default) downloads from our seed", async () => {
  const line = await rtorrentFromOurSeed("none", "127.0.0.93");
  assert(line.endsWith(", plain BitTorrent)"), line);
});

rtorrentTest("interop: rTorrent 0.9.8 trying MSE first downloads from our seed", async () => {
  const line = await rtorrentFromOurSeed("prefer", "127.0.0.94");
  assert(/, MSE (RC4|plaintext)\)$/.test(line), line);
});

rtorrentTest("interop: rTorrent 0.9.8 requiring RC4 downloads from our seed", async () => {
  const line = await rtorrentFromOurSeed("require-rc4", "127.0.0.95");
  assert(line.endsWith(", MSE RC4)"), line);
});

rtorrentTest("interop: our get, default flags, from an rTorrent 0.9.8 seed", async () => {
  const line = await getFromRtorrent("prefer", "127.0.0.96");
  assert(/, MSE (RC4|plaintext)\)$/.test(line), line);
});

rtorrentTest("interop: our get, default flags, from a plain-only rTorrent 0.9.8 seed", async () => {
  // We dial with MSE; it refuses, and the retry in plain BitTorrent connects.
  const line = await getFromRtorrent("none", "127.0.0.98");
  assert(line.endsWith(", plain BitTorrent)"), line);
});

rtorrentTest(
  "interop: our get, default flags, from an rTorrent 0.9.8 seed requiring RC4",
  async () => {
    const line = await getFromRtorrent("require-rc4", "127.0.0.97");
    assert(line.endsWith(", MSE RC4)"), line);
  },
);
