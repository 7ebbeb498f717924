/**
 * Interop with Transmission itself (Debian's transmission-cli 3.00), the client issue 11
 * named: it opens its outgoing connections with MSE/PE. Here Transmission dials us: with
 * its default settings (encryption preferred), then with `-er` (encryption required:
 * RC4 only), it announces to our `tracker`, dials our `seed` (default flags, i.e.
 * `--encryption prefer`) and downloads. The copy is checked by SHA-256, and our seed's log
 * must show Transmission's connection as MSE (with encryption preferred Transmission
 * falls back to plain BitTorrent after a failed MSE handshake, which would otherwise pass
 * unnoticed).
 *
 * Transmission 3.00 refuses to dial any 127.0.0.0/8 address, so each run happens in a
 * private network namespace (`_netns.ts`: addresses 10.77.0.x on its own `lo`, no other
 * interface) through `_transmission_netns_leech.ts`. Transmission decides whom it is
 * interested in every 10 s (its rechoke timer), so a run takes about 15 s.
 *
 * Skipped with a message when transmission-cli or `unshare -rn` (user namespaces) is
 * missing, unless SWARMD_REQUIRE_INTEROP=1.
 * @module
 */
import { join } from "node:path";
import { assert, assertEquals } from "../assert.ts";
import { freshStateEnv, sha256 } from "../integration/_cli_swarm.ts";
import { connectedLines, eventText, withPayload } from "./_cli_payload.ts";
import { gatedTest, interopRequired, within } from "./_harness.ts";
import { netnsAvailable, netnsCommand } from "./_netns.ts";
import { transmissionAvailable, type TransmissionEncryption } from "./_transmission.ts";
import { NETNS_ANNOUNCE, NETNS_HOSTS } from "./_transmission_netns_leech.ts";

const MOD = new URL("../../mod.ts", import.meta.url).pathname;
const INNER = new URL("./_transmission_netns_leech.ts", import.meta.url).pathname;
const HOW_TO = "apt-get install transmission-cli, and `unshare -rn` (user namespaces) allowed";

const ready = await transmissionAvailable() && await netnsAvailable();
if (!ready && !interopRequired()) {
  console.log(`skipping Transmission-dials-us interop: needs ${HOW_TO}`);
}

async function transmissionLeechesFromUs(encryption: TransmissionEncryption): Promise<string> {
  let line = "";
  const o = { prefix: "swarmd-tr-leech-", size: 2 * 1024 * 1024 + 4321, seed: 3 };
  await withPayload({ ...o, trackers: [NETNS_ANNOUNCE] }, async ({ root, torrent, digest }) => {
    // Nothing can be fetched inside the namespace: compile the CLI and the runner first.
    const cached = await new Deno.Command(Deno.execPath(), {
      args: ["cache", "--quiet", MOD, INNER],
      stdout: "null",
      stderr: "piped",
    }).output();
    assertEquals(cached.code, 0, new TextDecoder().decode(cached.stderr));
    const abort = new AbortController();
    const command = await netnsCommand(
      [Deno.execPath(), "run", "-A", "--quiet", INNER, root, torrent, encryption],
      { hosts: NETNS_HOSTS, env: { NO_COLOR: "1", ...freshStateEnv(root) }, signal: abort.signal },
    );
    const out = await within(command.output(), {
      ms: 55_000,
      detail: () => {
        abort.abort();
        return "the run in the network namespace (killed)";
      },
    });
    const stdout = new TextDecoder().decode(out.stdout).trim().split("\n");
    const stderr = new TextDecoder().decode(out.stderr);
    const last = stdout.at(-1) ?? "";
    assert(last.startsWith("{"), `the namespace run printed no result: ${stdout}\n${stderr}`);
    const result = JSON.parse(last) as { done: boolean; ms: number; detail: string };
    const lines = await connectedLines(join(root, "seed.log"));
    assert(result.done, `${result.detail}\nour seed: ${lines.join("\n")}\n${stderr}`);
    const got = await Deno.readFile(join(root, "transmission", "data.bin"));
    assertEquals(sha256(got), digest, "Transmission's copy is identical");
    line = lines.find((l) => /\(it dialled(?: over uTP)?, .*client Transmission/.test(l)) ?? "";
    assert(line, `Transmission's connection in our seed's log: ${lines.join("\n")}`);
    console.log(`  ${result.ms} ms; ${eventText(line)}`);
  });
  return line;
}

function leechTest(name: string, fn: () => Promise<void>): void {
  gatedTest(name, ready, `it needs ${HOW_TO}`, fn);
}

leechTest(
  "interop: transmission-cli 3.00 (encryption preferred) dials our seed with MSE and downloads",
  async () => {
    const line = await transmissionLeechesFromUs("preferred");
    assert(/, MSE (RC4|plaintext)\)$/.test(line), line);
  },
);

leechTest(
  "interop: transmission-cli 3.00 with encryption required downloads from our seed over RC4",
  async () => {
    const line = await transmissionLeechesFromUs("required");
    assert(line.endsWith(", MSE RC4)"), line);
  },
);
