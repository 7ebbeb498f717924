/**
 * Another client's program downloads from our `seed`, finding it the way its users would:
 * through a tracker (ours, on 127.0.0.80), since aria2 and rTorrent take no peer address on
 * their command line. Our seed listens on one address (`--host`), so the tracker must have
 * recorded that address, which only works when the announce goes out from it.
 * @module
 */
import { join } from "node:path";
import { assert, assertEquals } from "../assert.ts";
import { freshStateEnv, sha256, withCliSeed } from "../integration/_cli_swarm.ts";
import { TrackerServer } from "../../src/deno/tracker_server.ts";
import { connectedLines, eventText, type Payload, withPayload } from "./_cli_payload.ts";
import { within } from "./_harness.ts";

/** A running leecher of another client. */
export interface ForeignLeecher {
  /** Resolves once its download is complete (rejects when it fails). */
  readonly done: Promise<void>;
  /** The end of its output, for failure messages. */
  readonly output: string;
  /** Stops it and waits for it. */
  stop(): Promise<void>;
}

/** Options of {@linkcode leechFromOurSeed}. */
export interface LeechFromOurSeedOptions {
  /** Where our seed listens. */
  readonly host: string;
  /** Hand the leecher a magnet (metadata from our seed, BEP 9) instead of the torrent. */
  readonly byMagnet?: boolean;
  /** Matches the client's name in our log (`client aria2 1.`). */
  readonly client: RegExp;
  /** The payload's directory prefix, size and content seed. */
  readonly payload: { prefix: string; size: number; seed: number };
  /** Starts the leecher on `source` (a torrent path or a magnet), saving into `dir`. */
  start(source: string, dir: string): Promise<ForeignLeecher>;
}

/** A port nobody listens on at `host` now (the OS's choice, then released). */
export function freePort(host: string): number {
  const listener = Deno.listen({ hostname: host, port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** What {@linkcode withOurSeed} hands over: the payload (its torrent lists our tracker), and more. */
export interface OurSeed extends Payload {
  /** Our tracker's announce URL. */
  readonly url: string;
  /** Our seed's `--log` file. */
  readonly log: string;
}

/**
 * Our tracker on 127.0.0.80, the payload's torrent listing it, and our `seed` of it on `host`
 * (more flags in `extra`), announced; runs `fn`, then stops them all.
 * @param payload the payload's directory prefix, size and content seed
 * @param host our seed's address
 * @param extra more `seed` flags
 * @param fn the test
 */
export async function withOurSeed(
  payload: { prefix: string; size: number; seed: number },
  host: string,
  extra: readonly string[],
  fn: (s: OurSeed) => Promise<void>,
): Promise<void> {
  const tracker = await TrackerServer.start({ host: "127.0.0.80", httpPort: 0, udpPort: 0 });
  const url = `http://127.0.0.80:${tracker.httpAddrs[0]!.port}/announce`;
  try {
    await withPayload({ ...payload, trackers: [url] }, async (p) => {
      const log = join(p.root, "seed.log");
      await withCliSeed(
        [
          ...[p.torrent, join(p.root, "src"), "--port", String(freePort(host)), "--host", host],
          ...["--no-dht", "--json", "--log", log, ...extra],
        ],
        () => fn({ ...p, url, log }),
        {
          env: freshStateEnv(p.root),
          // our tracker knows the seed: a leecher that asks it will be sent there
          readyWhen: (l) => l.includes('"tracker-announced"'),
        },
      );
    });
  } finally {
    await tracker.close();
  }
}

/**
 * The leecher downloads the payload from our seed, found through our HTTP tracker; its
 * copy must match by SHA-256 and our seed's log must show its connection.
 * @param o our seed's address, the leecher, how our log names it
 * @returns our seed's log line for that connection (it says how it is encrypted)
 */
export async function leechFromOurSeed(o: LeechFromOurSeedOptions): Promise<string> {
  let line = "";
  await withOurSeed(
    o.payload,
    o.host,
    [],
    async ({ root, torrent, digest, url, infoHash, log }) => {
      const source = o.byMagnet
        ? `magnet:?xt=urn:btih:${infoHash}&tr=${encodeURIComponent(url)}`
        : torrent;
      const started = Date.now();
      const leecher = await o.start(source, join(root, "leecher"));
      try {
        await within(leecher.done, { ms: 30_000, detail: () => `the leecher: ${leecher.output}` });
        assertEquals(sha256(await Deno.readFile(join(root, "leecher", "data.bin"))), digest);
        const lines = await connectedLines(log);
        line = lines.find((l) => /\(it dialled(?: over uTP)?, /.test(l) && o.client.test(l)) ?? "";
        assert(line, `the leecher's connection in our seed's log: ${lines.join("\n")}`);
        console.log(`  ${Date.now() - started} ms; ${eventText(line)}`);
      } finally {
        await leecher.stop();
      }
    },
  );
  return line;
}
