/**
 * What the interop tests against other clients' own programs (Transmission, WebTorrent,
 * aria2) share: a single-file payload with its torrent made by our `create`, the
 * `peer ... connected` lines of one of our CLI logs (`--log FILE`), which name the
 * client and how the connection is encrypted, and our `get` from another client's seed.
 * @module
 */
import { join } from "node:path";
import { assert, assertEquals } from "../assert.ts";
import { fileContent, freshStateEnv, runCli, sha256 } from "../integration/_cli_swarm.ts";
import { parseTorrent } from "../../src/metainfo/mod.ts";

/** What {@linkcode withPayload} hands over. */
export interface Payload {
  /** A temporary directory (removed afterwards). */
  readonly root: string;
  /** `<root>/p.torrent`, for `<root>/src/data.bin`. */
  readonly torrent: string;
  /** SHA-256 of the file. */
  readonly digest: string;
  /** The torrent's info-hash, 40 hex digits (for a bare magnet link). */
  readonly infoHash: string;
}

/**
 * Makes `<root>/src/data.bin` (`size` bytes) and its torrent (64 KiB pieces), runs `fn`,
 * then removes everything.
 * @param o the directory prefix, size, content seed and announce URLs
 * @param fn the test
 */
export async function withPayload(
  o: { prefix: string; size: number; seed: number; trackers?: readonly string[] },
  fn: (p: Payload) => Promise<void>,
): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: o.prefix });
  try {
    await Deno.mkdir(join(root, "src"));
    const data = fileContent(o.size, o.seed);
    await Deno.writeFile(join(root, "src", "data.bin"), data);
    const torrent = join(root, "p.torrent");
    const made = await runCli([
      ...["create", join(root, "src", "data.bin"), "-o", torrent, "--piece-length", "65536"],
      ...(o.trackers ?? []).flatMap((t) => ["--tracker", t]),
    ]);
    assertEquals(made.code, 0, made.stderr);
    const { infoHashHex } = parseTorrent(await Deno.readFile(torrent));
    await fn({ root, torrent, digest: sha256(data), infoHash: infoHashHex });
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

/**
 * The `peer ... connected (...)` lines of one of our logs (none when it is missing).
 * @param log the file `--log` wrote
 * @returns those lines
 */
export async function connectedLines(log: string): Promise<string[]> {
  const text = await Deno.readTextFile(log).catch(() => "");
  return text.split("\n").filter((l) => / connected \(/.test(l));
}

/**
 * A line without its timestamp and `event` word, for a test's output.
 * @param line a log line
 * @returns the rest
 */
export function eventText(line: string): string {
  return line.replace(/^\S+ event /, "");
}

/** Options of {@linkcode getFromSeed}. */
export interface GetFromSeedOptions {
  /** The other client's seed, `host:port`. */
  readonly peer: string;
  /** Matches its name in our log (`client Transmission`, `client aria2 1.`). */
  readonly client: RegExp;
  /** Our `--timeout`, s; the process is killed 10 s later. */
  readonly timeoutS: number;
  /** The other client's output, for failure messages. */
  readonly output: () => string;
}

/**
 * Our `get`, default flags, downloads the payload from another client's seed given as
 * `--peer`; the copy must match by SHA-256 and our log must show the connection we dialled.
 * @param p the payload
 * @param o the seed's address, how our log names it, the time allowed
 * @returns our log's line for that connection (it says how it is encrypted), and the time
 */
export async function getFromSeed(
  p: Payload,
  o: GetFromSeedOptions,
): Promise<{ line: string; ms: number }> {
  const log = join(p.root, "get.log");
  const out = await runCli([
    ...["get", p.torrent, "-o", join(p.root, "dl"), "--peer", o.peer, "--port", "0"],
    ...["--host", "127.0.0.1", "--no-dht", "--timeout", String(o.timeoutS), "--log", log],
  ], { env: freshStateEnv(p.root), timeoutMs: (o.timeoutS + 10) * 1000 });
  const lines = await connectedLines(log);
  assertEquals(out.code, 0, `${out.stderr}\nour get: ${lines.join("\n")}\n${o.output()}`);
  assertEquals(sha256(await Deno.readFile(join(p.root, "dl", "data.bin"))), p.digest);
  const line = lines.find((l) => /\(we dialled(?: over uTP)?, /.test(l) && o.client.test(l)) ?? "";
  assert(line, `the connection to ${o.client} in our log: ${lines.join("\n")}`);
  return { line, ms: out.ms };
}
