/**
 * Helpers for daemon tests: a Transmission RPC client (with the 409 session-id
 * handshake), payloads and their torrents, a seeding swarmd client on loopback, and the
 * daemon as a child process (started and killed by the test; every wait bounded).
 * @module
 */
import { join } from "node:path";
import { createHash } from "node:crypto";
import { Client } from "../../src/deno/client.ts";
import { createTorrent } from "../../src/deno/create.ts";
import type { Torrent } from "../../src/session/torrent_handle.ts";

/** A Transmission RPC client. */
export class RpcClient {
  readonly url: string;
  readonly #auth: string | undefined;
  #sessionId = "";

  /** `base` is the daemon's base URL. */
  constructor(base: string, auth?: { user: string; password: string }) {
    this.url = `${base}/transmission/rpc`;
    this.#auth = auth ? `Basic ${btoa(`${auth.user}:${auth.password}`)}` : undefined;
  }

  /** One request; returns the whole response object. */
  // deno-lint-ignore no-explicit-any -- RPC answers are JSON; the tests' assertions check them
  async request(body: unknown): Promise<{ result: string; arguments?: any; tag?: number }> {
    for (let i = 0; i < 2; i++) {
      const response = await fetch(this.url, {
        method: "POST",
        headers: {
          "X-Transmission-Session-Id": this.#sessionId,
          ...(this.#auth ? { authorization: this.#auth } : {}),
        },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      });
      if (response.status === 409) {
        await response.body?.cancel();
        this.#sessionId = response.headers.get("X-Transmission-Session-Id") ?? "";
        continue;
      }
      if (!response.ok) {
        const text = await response.text();
        throw new Error(`HTTP ${response.status}: ${text}`);
      }
      return await response.json();
    }
    throw new Error("no session id after a 409");
  }

  /** Calls a method; throws unless the result is "success". */
  // deno-lint-ignore no-explicit-any -- RPC answers are JSON; the tests' assertions check them
  async call(method: string, args: Record<string, unknown> = {}): Promise<any> {
    const r = await this.request({ method, arguments: args });
    if (r.result !== "success") throw new Error(`${method}: ${r.result}`);
    return r.arguments;
  }
}

/** SHA-256 hex of bytes. */
export function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Asserts that `dir/<names[i]>` hashes to `digests[i]` (SHA-256) for every file. */
export async function assertFilesMatch(
  dir: string,
  names: readonly string[],
  digests: readonly string[],
): Promise<void> {
  for (const [i, name] of names.entries()) {
    const got = sha256(await Deno.readFile(join(dir, name)));
    if (got !== digests[i]) throw new Error(`${name}: SHA-256 ${got}, expected ${digests[i]}`);
  }
}

/** A payload of files under `root/src/<name>` and its torrent. */
export async function makePayload(
  root: string,
  name: string,
  files: readonly [string, number][],
  pieceLength = 64 * 1024,
): Promise<{ torrent: Uint8Array; torrentPath: string; digests: string[]; srcDir: string }> {
  const srcDir = join(root, "src");
  const single = files.length === 1 && files[0]![0] === name;
  const top = single ? srcDir : join(srcDir, name);
  await Deno.mkdir(top, { recursive: true });
  const digests: string[] = [];
  for (const [i, [file, length]] of files.entries()) {
    const data = new Uint8Array(length).map((_, j) => (j * 31 + i * 17 + (j >> 9)) & 0xff);
    await Deno.writeFile(join(top, file), data);
    digests.push(sha256(data));
  }
  const made = await createTorrent(single ? join(srcDir, name) : top, { pieceLength });
  const torrentPath = join(root, `${name}.torrent`);
  await Deno.writeFile(torrentPath, made.bytes);
  return { torrent: made.bytes, torrentPath, digests, srcDir };
}

/** A swarmd seeder on 127.0.0.1 for `torrent` (data under `dir`). */
export async function startSeeder(
  torrent: Uint8Array,
  dir: string,
  maxUploadBytesPerSecond = 0,
): Promise<{ client: Client; torrent: Torrent }> {
  const client = new Client({
    port: 0,
    host: "127.0.0.1",
    stateDir: null,
    workers: 1,
    settings: { enableDht: false, allowLocalPeers: true, maxUploadBytesPerSecond },
  });
  const t = await client.add(torrent, { dir, seed: true });
  return { client, torrent: t };
}

/** Waits for `check` to pass, polling every `stepMs`, at most `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  timeoutMs = 60_000,
  stepMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await check();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, stepMs));
  }
  throw new Error(`Timed out waiting for ${what}${last ? `: ${last}` : ""}`);
}

/** A daemon child process. */
export interface DaemonProcess {
  readonly url: string;
  readonly peerPort: number;
  readonly child: Deno.ChildProcess;
  readonly output: string[];
  /** SIGTERM, then SIGKILL after 10 s; resolves with the exit code. */
  stop(): Promise<number>;
  /** SIGKILL now. */
  kill(): Promise<void>;
}

const CLI = new URL("../../cli.ts", import.meta.url).pathname;

/**
 * `deno run ... cli.ts daemon` with `args`, an RPC and a peer port of 0 (the system picks),
 * and `--no-lsd`: the daemon listens on every interface, and tests keep their traffic on
 * loopback.
 */
export function daemonArgv(args: readonly string[]): string[] {
  return [
    "run",
    "-A",
    "--quiet",
    CLI,
    "daemon",
    "--rpc-port",
    "0",
    "--port",
    "0",
    "--no-lsd",
    ...args,
  ];
}

/** Starts `swarmd daemon` with `args` (an RPC port of 0 picks one). */
export async function spawnDaemon(
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<DaemonProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: daemonArgv(args),
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).spawn();
  const output: string[] = [];
  const decoder = new TextDecoderStream();
  const lines = child.stdout.pipeThrough(decoder);
  void child.stderr.pipeTo(
    new WritableStream({ write: (b) => void output.push(new TextDecoder().decode(b)) }),
  )
    .catch(() => {});
  let resolveUrl!: (v: { url: string; peerPort: number }) => void;
  const ready = new Promise<{ url: string; peerPort: number }>((r) => resolveUrl = r);
  void (async () => {
    let buffer = "";
    for await (const chunk of lines) {
      buffer += chunk;
      output.push(chunk);
      const m = /RPC (http:\/\/[^ ]+)\/transmission\/rpc, web UI [^ ]+, peers on port (\d+)/.exec(
        buffer,
      );
      if (m) resolveUrl({ url: m[1]!, peerPort: Number(m[2]) });
    }
  })().catch(() => {});
  const status = child.status;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const started = await Promise.race([
    ready,
    status.then((s) => {
      throw new Error(`daemon exited with ${s.code}: ${output.join("")}`);
    }),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("daemon start timed out")), 60_000);
    }),
  ]).catch(async (e) => {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
    await status;
    throw e;
  }).finally(() => clearTimeout(timer));
  return {
    ...started,
    child,
    output,
    stop: async () => {
      try {
        child.kill("SIGTERM");
      } catch { /* already gone */ }
      const timer = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch { /* already gone */ }
      }, 10_000);
      const s = await status;
      clearTimeout(timer);
      return s.code;
    },
    kill: async () => {
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
      await status;
    },
  };
}
