/**
 * One swarm of four implementations, as a public swarm is: our `seed` (upload capped, so
 * the leechers must trade among themselves), an aria2 1.36 leecher, an rTorrent 0.9.8
 * leecher (no fast extension: it gets no REJECT, no suggestion) and our `get`, all with
 * default settings, each finding the others through our tracker and each on its own
 * loopback address. Every leecher must finish with the seed's bytes, and our `get` must
 * have downloaded from more than the seed. Skipped with a message when aria2c or rtorrent
 * is missing, unless SWARMD_REQUIRE_INTEROP=1.
 * @module
 */
import { join } from "node:path";
import { assert, assertEquals } from "../assert.ts";
import { freshStateEnv, runCli, sha256 } from "../integration/_cli_swarm.ts";
import { connectedLines } from "./_cli_payload.ts";
import { freePort, withOurSeed } from "./_foreign_leecher.ts";
import { gatedTest, requireFiles, within } from "./_harness.ts";
import { Aria2, ARIA2C } from "./_aria2.ts";
import { RTORRENT, Rtorrent } from "./_rtorrent.ts";

const { present } = await requireFiles(
  [ARIA2C, RTORRENT],
  "skipping the mixed swarm interop: needs aria2c and rtorrent (apt-get install aria2 rtorrent)",
);

/** 8 MiB from a seed capped at 1 MiB/s: three leechers alone would wait 24 s for it. */
const PAYLOAD = { prefix: "swarmd-mixed-", size: 8 * 1024 * 1024 + 777, seed: 8 };

gatedTest(
  "interop: a swarm of our seed, aria2, rTorrent and our get, found through our tracker",
  present,
  `${ARIA2C} or ${RTORRENT} is not installed`,
  async () => {
    const seedFlags = ["--max-upload", "1M"];
    await withOurSeed(PAYLOAD, "127.0.0.101", seedFlags, async ({ root, torrent, digest }) => {
      const foreign: (Aria2 | Rtorrent)[] = [];
      try {
        const aria2 = await Aria2.start({
          source: torrent,
          dir: join(root, "aria2"),
          host: "127.0.0.102",
          port: freePort("127.0.0.102"),
          mode: "leech",
        });
        foreign.push(aria2);
        const rtorrent = await Rtorrent.start({
          torrent,
          dir: join(root, "rtorrent"),
          home: join(root, "rtorrent-home"),
          host: "127.0.0.103",
          port: freePort("127.0.0.103"),
          encryption: "prefer",
        });
        foreign.push(rtorrent);
        const log = join(root, "get.log");
        const ours = await runCli([
          ...["get", torrent, "-o", join(root, "ours"), "--port", "0", "--host", "127.0.0.104"],
          ...["--no-dht", "--timeout", "60", "--json", "--log", log],
        ], { env: freshStateEnv(root), timeoutMs: 70_000 });
        const detail = () =>
          `aria2: ${aria2.output}\nrtorrent: ${rtorrent.output}\nour get: ${ours.stderr}`;
        assertEquals(ours.code, 0, detail());
        await within(Promise.all([aria2.done, rtorrent.done]), { ms: 60_000, detail });
        for (const dir of ["ours", "aria2", "rtorrent"]) {
          assertEquals(sha256(await Deno.readFile(join(root, dir, "data.bin"))), digest, dir);
        }
        const summary = JSON.parse(ours.stdout.split("\n").find((l) => l.includes('"summary"'))!);
        const lines = await connectedLines(log);
        assert(
          summary.peersUsed >= 2,
          `our get downloaded from more than the seed: ${JSON.stringify(summary)}\n${
            lines.join("\n")
          }`,
        );
        console.log(
          `  our get: ${ours.ms} ms, from ${summary.peersUsed} peers, uploaded ${summary.bytesUploaded} B`,
        );
      } finally {
        for (const peer of foreign) await peer.stop();
      }
    });
  },
);
