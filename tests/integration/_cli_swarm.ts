/**
 * Helpers for tests that run the CLI as a user does: `deno run -A mod.ts ...` as a child
 * process (bounded by a kill switch), a payload with its torrent, and a `seed` process on
 * 127.0.0.1 that is stopped (SIGTERM) in `finally`.
 * @module
 */
import { join } from "node:path";
import { createHash } from "node:crypto";
import { assertEquals } from "../assert.ts";

const MOD = new URL("../../mod.ts", import.meta.url).pathname;

/** What a finished CLI run printed. */
export interface CliRun {
  /** Exit code. */
  readonly code: number;
  /** Standard output. */
  readonly stdout: string;
  /** Standard error. */
  readonly stderr: string;
  /** Wall time from spawn to exit, ms. */
  readonly ms: number;
}

/** SHA-256 hex of `bytes`. */
export function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Options for {@linkcode spawnCli} and {@linkcode runCli}. */
export interface CliOptions {
  /** More environment (e.g. `XDG_CACHE_HOME`, for a fresh state directory). */
  readonly env?: Record<string, string>;
}

/**
 * Environment for a CLI run with a fresh state directory under `root` (no resume data or
 * DHT routing table from an earlier run). Deno's own cache stays where it is: it moves
 * with XDG_CACHE_HOME too, and a fresh one means fetching and compiling everything again.
 * @param root a test's temporary directory
 * @returns `XDG_CACHE_HOME` and `DENO_DIR`
 */
export function freshStateEnv(root: string): Record<string, string> {
  const env = Deno.env.toObject();
  const cache = env.XDG_CACHE_HOME ?? join(env.HOME ?? "/root", ".cache");
  return { XDG_CACHE_HOME: join(root, "cache"), DENO_DIR: env.DENO_DIR ?? join(cache, "deno") };
}

/** Starts `deno run -A mod.ts ...args` with piped output. */
export function spawnCli(
  args: string[],
  options: CliOptions & { signal?: AbortSignal } = {},
): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", MOD, ...args],
    env: { NO_COLOR: "1", ...options.env },
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
    ...(options.signal ? { signal: options.signal } : {}),
  }).spawn();
}

/** A `seed` line that names its port: "Seeding NAME (...) on port N". */
const PORT_LINE = / on port (\d+)$/;

/** Our `seed` while a test runs, as {@linkcode withCliSeed} hands it over. */
export interface CliSeed {
  /** The port it named (0 when its output does not name one, e.g. with `--json`). */
  readonly port: number;
  /** Its stdout, read up to the line that made it ready. */
  readonly out: Lines;
}

/**
 * Runs `deno run -A mod.ts seed ...args` while `fn` runs: waits, at most 30 s, for the stdout
 * line `readyWhen` accepts (default: the one naming its port), then calls `fn`; afterwards the
 * seed always gets SIGTERM and is waited for.
 * @param args the arguments after `seed`
 * @param fn the test
 * @param options environment, and when the seed counts as ready
 * @returns the seed's exit code
 * @throws {Error} when the seed ends or takes 30 s without getting ready, or what `fn` throws
 */
export async function withCliSeed(
  args: string[],
  fn: (seed: CliSeed) => Promise<void>,
  options: CliOptions & { readyWhen?: (line: string) => boolean } = {},
): Promise<number> {
  const child = spawnCli(["seed", ...args], options);
  const out = new Lines(child.stdout);
  const ready = options.readyWhen ?? ((line: string) => PORT_LINE.test(line));
  try {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`our seed was not ready in 30 s: ${out.lines.join("\n")}`)),
        30_000,
      );
    });
    const lines = await Promise.race([out.until(ready), late]).finally(() => clearTimeout(timer));
    if (!lines.some(ready)) {
      throw new Error(`our seed ended before it was ready: ${lines.join("\n")}`);
    }
    const port = Number(lines.map((l) => PORT_LINE.exec(l)?.[1]).find((p) => p) ?? 0);
    await fn({ port, out });
  } finally {
    try {
      child.kill("SIGTERM");
    } catch { /* it has already exited: its status says how */ }
  }
  const status = await child.status;
  await out.cancel();
  await child.stderr.cancel().catch(() => {});
  return status.code;
}

/** Runs the CLI to its end (killed after `timeoutMs`, default 60 s). */
export async function runCli(
  args: string[],
  options: CliOptions & { timeoutMs?: number } = {},
): Promise<CliRun> {
  const started = performance.now();
  const signal = AbortSignal.timeout(options.timeoutMs ?? 60_000);
  const out = await spawnCli(args, { ...options, signal }).output();
  const dec = new TextDecoder();
  return {
    code: out.code,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
    ms: Math.round(performance.now() - started),
  };
}

/** Deterministic contents of file number `i` of a payload. */
export function fileContent(length: number, i: number): Uint8Array {
  return new Uint8Array(length).map((_, j) => (j * 7 + i * 13 + (j >> 12)) & 0xff);
}

/** A payload, its torrent and a seeder, as {@linkcode withSeeder} hands them over. */
export interface SeederContext {
  /** A temporary directory holding everything (removed afterwards). */
  readonly root: string;
  /** The .torrent file. */
  readonly torrent: string;
  /** The seeder's port on 127.0.0.1. */
  readonly port: number;
  /** SHA-256 of each file. */
  readonly digests: string[];
  /**
   * `--peer 127.0.0.1:port --port 0 --host 127.0.0.1 --no-dht --no-lsd`: a get that only sees
   * the seeder (tests running at once seed the same payloads: LSD would find theirs too).
   */
  readonly peerArgs: string[];
}

/**
 * Makes `files` under `<root>/src/payload`, their torrent, and seeds them on 127.0.0.1.
 * @param files names and lengths
 * @param fn the test
 * @param pieceLength the torrent's piece length (default 64 KiB)
 */
export async function withSeeder(
  files: readonly (readonly [string, number])[],
  fn: (ctx: SeederContext) => Promise<void>,
  pieceLength = 65536,
): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "swarmd-cli-" });
  const src = join(root, "src", "payload");
  await Deno.mkdir(src, { recursive: true });
  const digests: string[] = [];
  for (const [i, [name, length]] of files.entries()) {
    const data = fileContent(length, i);
    await Deno.writeFile(join(src, name), data);
    digests.push(sha256(data));
  }
  const torrent = join(root, "p.torrent");
  const made = await runCli(["create", src, "-o", torrent, "--piece-length", String(pieceLength)]);
  assertEquals(made.code, 0, made.stderr);
  try {
    // Port 0: the seeder takes a free port and names it ("Seeding ... on port N").
    const code = await withCliSeed(
      [torrent, join(root, "src"), "--port", "0", "--no-dht", "--no-lsd", "--host", "127.0.0.1"],
      async ({ port }) => {
        await waitForPort(port);
        const peerArgs = ["--peer", `127.0.0.1:${port}`, "--port", "0", "--host", "127.0.0.1"];
        await fn({ root, torrent, port, digests, peerArgs: [...peerArgs, "--no-dht", "--no-lsd"] });
      },
    );
    assertEquals(code, 0, "the seeder stops cleanly on SIGTERM with exit 0");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

/** A local port with nothing listening (bound, then released). */
export function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** Resolves once something listens on 127.0.0.1:port (bounded: 20 s). */
export async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`nothing listens on port ${port}`);
}

/** SHA-256 of a file, or `undefined` when it cannot be read. */
export async function digestOf(path: string): Promise<string | undefined> {
  try {
    return sha256(await Deno.readFile(path));
  } catch {
    return undefined;
  }
}

/** Reads a child's output line by line, as far as a test needs, then to its end. */
export class Lines {
  readonly #reader: ReadableStreamDefaultReader<string>;
  readonly #lines: string[] = [];
  #buffered = "";
  #ended = false;

  /** Reads from `stream` (a child's piped stdout or stderr). */
  constructor(stream: ReadableStream<Uint8Array<ArrayBuffer>>) {
    this.#reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  }

  /** Every line read so far. */
  get lines(): readonly string[] {
    return this.#lines;
  }

  /**
   * Reads until `stop` is true for a new line, or the output ends.
   * @returns every line read so far
   */
  async until(stop: (line: string) => boolean): Promise<readonly string[]> {
    while (!this.#ended) {
      const { value, done } = await this.#reader.read();
      if (done) {
        this.#ended = true;
        if (this.#buffered) this.#lines.push(this.#buffered);
        break;
      }
      this.#buffered += value;
      const parts = this.#buffered.split("\n");
      this.#buffered = parts.pop()!;
      let stopped = false;
      for (const line of parts) {
        this.#lines.push(line);
        stopped ||= stop(line);
      }
      if (stopped) break;
    }
    return this.#lines;
  }

  /** Reads to the end. */
  rest(): Promise<readonly string[]> {
    return this.until(() => false);
  }

  /** Stops reading (the rest is discarded). */
  async cancel(): Promise<void> {
    await this.#reader.cancel().catch(() => {});
  }
}
