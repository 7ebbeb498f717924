/**
 * Interop with aria2 (Debian's aria2 1.36), a BitTorrent implementation of its own:
 * - aria2 downloads from our `seed`, which it finds through our tracker: with its default
 *   settings (it dials with MSE and accepts plaintext), with RC4 required, and by magnet
 *   (the metadata from our seed, BEP 9). Our seed listens on one address (`--host`), so
 *   the tracker must record that address: the announce goes out from it.
 * - our `get` (default flags) downloads from an aria2 seed, given as `--peer`: with aria2's
 *   defaults, and with RC4 required;
 * - our `get` fetches a bare magnet (no tracker, no peer) whose only DHT node is an aria2
 *   seed's: aria2's own DHT implementation, then its metadata and data.
 * - local service discovery (BEP 14) against aria2's own: our `get` of a bare magnet finds
 *   an aria2 seed, and an aria2 leecher of a bare magnet finds our `seed`, with no tracker
 *   or DHT, each side's LSD on its loopback address.
 * The copy is checked by SHA-256; our log must name aria2 and say how the connection is
 * encrypted. Skipped with a message when aria2c is missing, unless SWARMD_REQUIRE_INTEROP=1.
 * @module
 */
import { join } from "node:path";
import { assert, assertEquals } from "../assert.ts";
import {
  connectedLines,
  eventText,
  getFromSeed,
  type Payload,
  withPayload,
} from "./_cli_payload.ts";
import { freshStateEnv, runCli, sha256, withCliSeed } from "../integration/_cli_swarm.ts";
import { freePort, leechFromOurSeed } from "./_foreign_leecher.ts";
import { accepting, gatedTest, requireFiles, within } from "./_harness.ts";
import { Aria2, ARIA2C, type Aria2Encryption, type Aria2Options } from "./_aria2.ts";

const { present } = await requireFiles(
  [ARIA2C],
  "skipping aria2 interop: aria2c not installed (apt-get install aria2)",
);

const PAYLOAD = { prefix: "swarmd-aria2-", size: 2 * 1024 * 1024 + 4321, seed: 6 };

/** aria2 downloads the payload from our seed (on `host`), found through our HTTP tracker. */
function aria2FromOurSeed(
  encryption: Aria2Encryption,
  host: string,
  byMagnet: boolean,
): Promise<string> {
  return leechFromOurSeed({
    host,
    byMagnet,
    client: /client aria2 1\./,
    payload: PAYLOAD,
    start: (source, dir) =>
      Aria2.start({
        source,
        dir,
        host: "127.0.0.82",
        port: freePort("127.0.0.82"),
        mode: "leech",
        encryption,
      }),
  });
}

/**
 * Our `get`, default flags, downloads the payload from an aria2 seed on `host`.
 * @returns the line of our log for the connection to aria2
 */
async function getFromAria2(encryption: Aria2Encryption, host: string): Promise<string> {
  let line = "";
  await withPayload(PAYLOAD, async (p) => {
    await withAria2Seed(p, host, { encryption }, async (aria2, port) => {
      const got = await getFromSeed(p, {
        peer: `${host}:${port}`,
        client: /client aria2 1\./,
        timeoutS: 30,
        output: () => aria2.output,
      });
      line = got.line;
      console.log(`  ${got.ms} ms; ${eventText(line)}`);
    });
  });
  return line;
}

/** An aria2 seed of the payload on `host` (more of its options in `extra`) while `fn` runs. */
async function withAria2Seed(
  p: Payload,
  host: string,
  extra: Partial<Aria2Options>,
  fn: (aria2: Aria2, port: number) => Promise<void>,
): Promise<void> {
  const port = freePort(host);
  const aria2 = await Aria2.start({
    source: p.torrent,
    dir: join(p.root, "src"),
    host,
    port,
    mode: "seed",
    ...extra,
  });
  try {
    assert(await accepting(host, port, 15_000), `aria2 did not listen: ${aria2.output}`);
    await fn(aria2, port);
  } finally {
    await aria2.stop();
  }
}

/**
 * Our `get` of the payload's bare magnet (no tracker, no peer) with `flags`: it must complete,
 * and our log must show a connection with `peer` (an address, or its `host:` prefix) naming aria2.
 */
async function getBareMagnetFromAria2(p: Payload, aria2: Aria2, peer: string, flags: string[]) {
  const log = join(p.root, "get.log");
  const out = await runCli([
    ...["get", `magnet:?xt=urn:btih:${p.infoHash}`, "-o", join(p.root, "dl"), "--port", "0"],
    ...flags,
    ...["--timeout", "40", "--log", log],
  ], { env: freshStateEnv(p.root), timeoutMs: 50_000 });
  const lines = await connectedLines(log);
  assertEquals(out.code, 0, `${out.stderr}\nour get: ${lines.join("\n")}\n${aria2.output}`);
  assertEquals(sha256(await Deno.readFile(join(p.root, "dl", "data.bin"))), p.digest);
  const line = lines.find((l) => l.includes(peer)) ?? "";
  assert(/client aria2 1\./.test(line), `aria2 in our log: ${lines.join("\n")}`);
  console.log(`  ${out.ms} ms; ${eventText(line)}`);
}

function aria2Test(name: string, fn: () => Promise<void>): void {
  gatedTest(name, present, `${ARIA2C} is not installed`, fn);
}

aria2Test(
  "interop: aria2 1.36 (defaults) finds our seed through our tracker and downloads",
  async () => {
    const line = await aria2FromOurSeed("default", "127.0.0.81", false);
    assert(/, MSE (RC4|plaintext)\)$/.test(line), line);
  },
);

aria2Test("interop: aria2 1.36 requiring RC4 downloads from our seed", async () => {
  const line = await aria2FromOurSeed("require-rc4", "127.0.0.83", false);
  assert(line.endsWith(", MSE RC4)"), line);
});

aria2Test("interop: aria2 1.36 fetches a magnet's metadata and data from our seed", async () => {
  await aria2FromOurSeed("default", "127.0.0.84", true);
});

aria2Test("interop: our get, default flags, from an aria2 1.36 seed", async () => {
  const line = await getFromAria2("default", "127.0.0.85");
  assert(/, MSE (RC4|plaintext)\)$/.test(line), line);
});

aria2Test(
  "interop: our get, default flags, from an aria2 1.36 seed that requires RC4",
  async () => {
    const line = await getFromAria2("require-rc4", "127.0.0.86");
    assert(line.endsWith(", MSE RC4)"), line);
  },
);

aria2Test("interop: our get fetches a magnet whose only DHT node is an aria2 seed's", async () => {
  await withPayload(PAYLOAD, async (p) => {
    const host = "127.0.0.87";
    const dhtPort = freePort(host);
    await withAria2Seed(p, host, { dhtPort }, async (aria2, port) => {
      const flags = ["--host", "127.0.0.1", "--dht-bootstrap", `${host}:${dhtPort}`];
      await getBareMagnetFromAria2(p, aria2, `${host}:${port} connected`, flags);
    });
  });
});

/** A payload of its own: no other test seeds it (LSD would find that seed too). */
const LSD_PAYLOAD = { prefix: "swarmd-aria2-lsd-", size: 2 * 1024 * 1024 + 99, seed: 61 };

aria2Test("interop: our get of a bare magnet finds an aria2 seed by LSD alone", async () => {
  await withPayload(LSD_PAYLOAD, async (p) => {
    const host = "127.0.0.88";
    await withAria2Seed(p, host, { lpd: true }, async (aria2) => {
      // either side may dial: it heard our announce, or we heard its
      await getBareMagnetFromAria2(p, aria2, `${host}:`, ["--host", "127.0.0.89", "--no-dht"]);
    });
  });
});

aria2Test("interop: an aria2 leecher of a bare magnet finds our seed by LSD alone", async () => {
  await withPayload(LSD_PAYLOAD, async ({ root, torrent, digest, infoHash }) => {
    const log = join(root, "seed.log");
    const seedArgs = [torrent, join(root, "src"), "--port", "0", "--host", "127.0.0.91"];
    await withCliSeed([...seedArgs, "--no-dht", "--log", log], async () => {
      const aria2 = await Aria2.start({
        source: `magnet:?xt=urn:btih:${infoHash}`,
        dir: join(root, "aria2"),
        host: "127.0.0.90",
        port: freePort("127.0.0.90"),
        mode: "leech",
        lpd: true,
      });
      try {
        await within(aria2.done, { ms: 60_000, detail: () => aria2.output });
        assertEquals(sha256(await Deno.readFile(join(root, "aria2", "data.bin"))), digest);
        const lines = await connectedLines(log);
        assert(
          lines.some((l) => /127\.0\.0\.90:\d+ connected .*client aria2 1\./.test(l)),
          lines.join("\n"),
        );
      } finally {
        await aria2.stop();
      }
    });
  });
});
