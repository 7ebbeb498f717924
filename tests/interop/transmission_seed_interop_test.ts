/**
 * Interop with Transmission itself (Debian's transmission-cli 3.00): our `get` with
 * default flags (`--encryption prefer`: MSE offering RC4 and plaintext) downloads from a
 * Transmission seed on 127.0.0.x, with Transmission's default settings (encryption
 * preferred) and with `-er` (encryption required: RC4 only). The copy is checked by
 * SHA-256 and our log must show the connection as MSE. Transmission unchokes new peers on
 * its 10 s rechoke timer, so a run takes about 15 s. Skipped with a message when
 * transmission-cli is missing, unless SWARMD_REQUIRE_INTEROP=1.
 * @module
 */
import { join } from "node:path";
import { assert } from "../assert.ts";
import { eventText, getFromSeed, withPayload } from "./_cli_payload.ts";
import { gatedTest, requireFiles, within } from "./_harness.ts";
import { TRANSMISSION_CLI, TransmissionCli, type TransmissionEncryption } from "./_transmission.ts";

const { present } = await requireFiles(
  [TRANSMISSION_CLI],
  "skipping Transmission seed interop: transmission-cli not installed (apt-get install transmission-cli)",
);

async function getFromTransmission(
  encryption: TransmissionEncryption,
  host: string,
  utp = false,
): Promise<string> {
  let line = "";
  const o = { prefix: "swarmd-tr-seed-", size: 2 * 1024 * 1024 + 4321, seed: 4 };
  await withPayload(o, async (p) => {
    const listener = Deno.listen({ hostname: host, port: 0 });
    const port = (listener.addr as Deno.NetAddr).port;
    listener.close();
    const transmission = await TransmissionCli.start({
      torrent: p.torrent,
      downloadDir: join(p.root, "src"),
      configDir: join(p.root, "transmission-config"),
      host,
      port,
      encryption,
      utp,
    });
    try {
      await within(transmission.seeding, {
        ms: 15_000,
        detail: () => `Transmission did not start seeding: ${transmission.output}`,
      });
      const got = await getFromSeed(p, {
        peer: `${host}:${port}`,
        client: /client Transmission/,
        timeoutS: 30,
        output: () => transmission.output,
      });
      line = got.line;
      console.log(`  ${got.ms} ms; ${eventText(line)}`);
    } finally {
      await transmission.stop();
    }
  });
  return line;
}

function seedTest(name: string, fn: () => Promise<void>): void {
  gatedTest(name, present, `${TRANSMISSION_CLI} is not installed`, fn);
}

seedTest(
  "interop: our get, default flags, from a transmission-cli 3.00 seed (encryption preferred)",
  async () => {
    const line = await getFromTransmission("preferred", "127.0.0.65");
    assert(/, MSE (RC4|plaintext)\)$/.test(line), line);
  },
);

seedTest(
  "interop: our get, default flags, from a transmission-cli 3.00 seed that requires encryption",
  async () => {
    const line = await getFromTransmission("required", "127.0.0.66");
    assert(line.endsWith(", MSE RC4)"), line);
  },
);

seedTest(
  "interop: our get, default flags, reaches a transmission-cli 3.00 seed over uTP (libutp)",
  async () => {
    // We dial uTP first (TCP after 1 s); Transmission's uTP is libutp, not libtorrent's.
    const line = await getFromTransmission("preferred", "127.0.0.67", true);
    assert(/\(we dialled over uTP, /.test(line), line);
  },
);
