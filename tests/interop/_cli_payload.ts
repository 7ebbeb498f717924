/**
 * What the interop tests against other clients' own programs (Transmission, WebTorrent)
 * share: a single-file payload with its torrent made by our `create`, and the
 * `peer ... connected` lines of one of our CLI logs (`--log FILE`), which name the
 * client and how the connection is encrypted.
 * @module
 */
import { join } from "node:path";
import { assertEquals } from "../assert.ts";
import { fileContent, runCli, sha256 } from "../integration/_cli_swarm.ts";

/** What {@linkcode withPayload} hands over. */
export interface Payload {
  /** A temporary directory (removed afterwards). */
  readonly root: string;
  /** `<root>/p.torrent`, for `<root>/src/data.bin`. */
  readonly torrent: string;
  /** SHA-256 of the file. */
  readonly digest: string;
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
    await fn({ root, torrent, digest: sha256(data) });
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
