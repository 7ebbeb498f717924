/**
 * Inside a private network namespace (started by `transmission_interop_test.ts` through
 * `_netns.ts`): our `tracker` on 10.77.0.1:6969, our `seed` (default flags, port 6881,
 * logging to `<root>/seed.log`), and once the tracker lists the seed, transmission-cli
 * (bound to 10.77.0.2) downloading into `<root>/transmission` after an announce to that
 * tracker. Prints one JSON line, `{ "done": boolean, "ms": number, "detail": string }`;
 * the test checks the file and the seed's log. Every process is stopped before it exits
 * (and the PID namespace kills whatever is left).
 *
 * Usage: deno run -A _transmission_netns_leech.ts <root> <torrent> <preferred|required>
 * @module
 */
import { join } from "node:path";
import { Lines, spawnCli } from "../integration/_cli_swarm.ts";
import { within } from "./_harness.ts";
import { TransmissionCli, type TransmissionEncryption } from "./_transmission.ts";

/** The namespace's addresses: the tracker and our seed, and Transmission. */
export const NETNS_HOSTS = ["10.77.0.1", "10.77.0.2"] as const;
/** The announce URL the torrent must carry. */
export const NETNS_ANNOUNCE = "http://10.77.0.1:6969/announce";

async function stopChild(child: Deno.ChildProcess): Promise<void> {
  try {
    child.kill("SIGTERM");
  } catch {
    // exited already: nothing to stop
  }
  await child.status;
}

/** Resolves once the tracker counts one seeder (polled every 100 ms). */
async function seederListed(): Promise<void> {
  for (;;) {
    const page = await fetch("http://10.77.0.1:6969/stats").then((r) => r.text(), () => "");
    if (/<th>seeders<\/th><td>1</.test(page)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function main(root: string, torrent: string, encryption: TransmissionEncryption) {
  const started = performance.now();
  const tracker = spawnCli(["tracker", "--host", NETNS_HOSTS[0], "--http-port", "6969"]);
  const trackerOut = new Lines(tracker.stdout);
  const seed = spawnCli([
    ...["seed", torrent, join(root, "src"), "--port", "6881", "--no-dht"],
    ...["--log", join(root, "seed.log")],
  ]);
  const seedOut = new Lines(seed.stdout);
  let transmission: TransmissionCli | undefined;
  let done = false;
  let detail = "";
  try {
    await within(trackerOut.until((l) => l.includes("stats on")), {
      ms: 10_000,
      detail: () => `the tracker did not start: ${trackerOut.lines.join(" | ")}`,
    });
    await within(seederListed(), {
      ms: 10_000,
      detail: () => `the tracker never listed our seed: ${seedOut.lines.join(" | ")}`,
    });
    transmission = await TransmissionCli.start({
      torrent,
      downloadDir: join(root, "transmission"),
      configDir: join(root, "transmission-config"),
      host: NETNS_HOSTS[1],
      port: 51413,
      encryption,
    });
    const t = transmission;
    // About 13 s: Transmission turns interested on its 10 s rechoke timer; one missed tick
    // costs 10 s more, which this bound still allows.
    await within(t.seeding, { ms: 28_000, detail: () => `Transmission: ${t.output}` });
    done = true;
  } catch (e) {
    detail = (e as Error).message;
  } finally {
    await transmission?.stop();
    await Promise.all([stopChild(seed), stopChild(tracker)]);
    await Promise.all([seedOut.cancel(), trackerOut.cancel()]);
    await Promise.all([seed.stderr.cancel(), tracker.stderr.cancel()]).catch(() => {});
  }
  const ms = Math.round(performance.now() - started);
  console.log(JSON.stringify({ done, ms, detail }));
}

if (import.meta.main) {
  const [root, torrent, encryption] = Deno.args;
  if (!root || !torrent || (encryption !== "preferred" && encryption !== "required")) {
    console.error("Usage: _transmission_netns_leech.ts <root> <torrent> <preferred|required>");
    Deno.exit(2);
  }
  await main(root, torrent, encryption);
}
