/**
 * Starts `scripts/interop/lt_peer.py` (a python3-libtorrent peer) as a child process and
 * follows its JSON lines. Every process is killed in `stop()`; every wait is bounded.
 * Also the two whole-engine transfers interop tests repeat with different libtorrent
 * settings: our `get` from a libtorrent seeder, and a libtorrent leecher from our seed.
 * @module
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { assertEquals } from "../assert.ts";
import { freshStateEnv, runCli } from "../integration/_cli_swarm.ts";
import { Client } from "../../src/deno/client.ts";
import { PYTHON } from "./_harness.ts";
import type { TorrentDir } from "./_wire_peer.ts";

/** Options for {@linkcode startLibtorrentPeer}. */
export interface LibtorrentPeerOptions {
  readonly torrent: string;
  readonly save: string;
  /** `IP:PORT`. */
  readonly listen: string;
  readonly peers?: readonly string[];
  readonly seedMode?: boolean;
  readonly exitWhenComplete?: boolean;
  readonly timeoutS?: number;
  /** Run a DHT node on the listen port (loopback settings from INTEROP.md). */
  readonly dht?: boolean;
  /** Local service discovery (BEP 14) on the listen interface. */
  readonly lsd?: boolean;
  /** Add the torrent by info-hash only: fetch the metadata from peers. */
  readonly magnet?: boolean;
  /** Download cap in bytes/s. */
  readonly downloadLimit?: number;
  /** Upload cap in bytes/s (a rate-limited seeder). */
  readonly uploadLimit?: number;
  /** Print an `incoming` line for each connection it accepts. */
  readonly reportConnections?: boolean;
  /** MSE/PE policy for both directions (libtorrent's default: enabled). */
  readonly encryption?: "forced" | "enabled" | "disabled";
  /** Methods MSE may select (libtorrent's default: both). */
  readonly encryptionLevel?: "rc4" | "plaintext" | "both";
  /** As responder, select RC4 when offered both (libtorrent's default: plaintext). */
  readonly preferRc4?: boolean;
  /** Connect and accept over uTP only (BEP 29; TCP off both ways). */
  readonly utpOnly?: boolean;
  /** No MSE/PE either way. */
  readonly plaintext?: boolean;
}

/** A running libtorrent peer. */
export interface LibtorrentPeer {
  /** Its process id (benchmarks read its CPU time). */
  readonly pid: number;
  /** Resolves with its listen port. */
  readonly port: Promise<number>;
  /**
   * Resolves once its torrent has started: an auto-managed torrent refuses peers for
   * about 0.5 s after the "listening" line. Rejects if the process exits first.
   */
  readonly started: Promise<void>;
  /** Resolves with the exit code (0 = completed). */
  readonly exited: Promise<number>;
  /** Output lines so far (for failure messages). */
  readonly lines: string[];
  /** Kills the process. */
  stop(): Promise<void>;
}

const SCRIPT = new URL("../../scripts/interop/lt_peer.py", import.meta.url).pathname;

/**
 * Starts one libtorrent peer.
 * @param o torrent, save path, listen address, peers
 * @returns a handle
 */
export function startLibtorrentPeer(o: LibtorrentPeerOptions): LibtorrentPeer {
  const args = [SCRIPT, "--torrent", o.torrent, "--save", o.save, "--listen", o.listen];
  for (const p of o.peers ?? []) args.push("--peer", p);
  if (o.seedMode) args.push("--seed-mode");
  if (o.exitWhenComplete) args.push("--exit-when-complete");
  args.push("--timeout", String(o.timeoutS ?? 90));
  if (o.dht) args.push("--dht", "--dht-announce-interval", "3");
  if (o.lsd) args.push("--lsd");
  if (o.magnet) args.push("--magnet");
  if (o.downloadLimit) args.push("--download-limit", String(o.downloadLimit));
  if (o.uploadLimit) args.push("--upload-limit", String(o.uploadLimit));
  if (o.reportConnections) args.push("--report-connections");
  if (o.encryption) args.push("--enc", o.encryption);
  if (o.encryptionLevel) args.push("--enc-level", o.encryptionLevel);
  if (o.preferRc4) args.push("--prefer-rc4");
  if (o.utpOnly) args.push("--utp-only");
  if (o.plaintext) args.push("--plaintext");
  const child = new Deno.Command(PYTHON, { args, stdout: "piped", stderr: "piped", stdin: "null" })
    .spawn();
  const lines: string[] = [];
  let resolvePort!: (p: number) => void;
  let rejectPort!: (e: Error) => void;
  const port = new Promise<number>((res, rej) => {
    resolvePort = res;
    rejectPort = rej;
  });
  port.catch(() => {});
  let resolveStarted!: () => void;
  let rejectStarted!: (e: Error) => void;
  const started = new Promise<void>((res, rej) => {
    resolveStarted = res;
    rejectStarted = rej;
  });
  started.catch(() => {});
  const reading = (async () => {
    const decoder = new TextDecoder();
    let buf = "";
    for await (const chunk of child.stdout) {
      buf += decoder.decode(chunk);
      let nl;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        lines.push(line);
        try {
          const e = JSON.parse(line);
          if (e.event === "listening") resolvePort(e.port);
          if (e.event === "started") resolveStarted();
        } catch { /* not JSON: kept in lines for diagnostics */ }
      }
    }
  })();
  const stderr = new Response(child.stderr).text();
  const exited = (async () => {
    const status = await child.status;
    await reading;
    const err = await stderr;
    if (err.trim()) lines.push(`stderr: ${err.trim()}`);
    const exit = new Error(`libtorrent peer exited (${status.code}): ${lines.join("\n")}`);
    rejectPort(exit);
    rejectStarted(exit);
    return status.code;
  })();
  return {
    pid: child.pid,
    port,
    started,
    exited,
    lines,
    async stop() {
      try {
        child.kill("SIGKILL");
      } catch { /* already exited */ }
      await exited;
    },
  };
}

/**
 * Our library `Client` on 127.0.0.1 (any port), with no DHT and no state directory: the
 * other side of a libtorrent peer in these tests.
 * @returns a client; close it
 */
export function loopbackClient(): Client {
  return new Client({ port: 0, host: "127.0.0.1", stateDir: null, settings: { enableDht: false } });
}

/** libtorrent's side of a transfer: its address and what it turns on or off. */
export type LibtorrentSide = Omit<LibtorrentPeerOptions, "torrent" | "save" | "listen"> & {
  /** Its IP on loopback (it listens on port 0). */
  readonly host: string;
};

async function assertDownloaded(dir: TorrentDir, saveDir: string): Promise<void> {
  const got = await Deno.readFile(join(saveDir, dir.name));
  assertEquals(createHash("sha256").update(got).digest("hex"), dir.sha256);
}

/**
 * Our `get` (the CLI, a fresh state directory) downloads `dir` into `<root>/dl` from a
 * libtorrent seeder, as its only peer; checked by SHA-256.
 * @param dir the payload and its torrent, seeded from `<root>/src`
 * @param o the seeder, and `get`'s flags beyond the defaults
 * @throws {Error} when `get` fails or the file differs
 */
export async function getFromLibtorrent(
  dir: TorrentDir,
  o: { seeder: LibtorrentSide; args?: readonly string[] },
): Promise<void> {
  const { host, ...flags } = o.seeder;
  const seeder = startLibtorrentPeer({
    torrent: dir.torrentPath,
    save: join(dir.root, "src"),
    listen: `${host}:0`,
    seedMode: true,
    timeoutS: 90,
    ...flags,
  });
  try {
    const port = await seeder.port;
    const dl = join(dir.root, "dl");
    const out = await runCli([
      "get",
      dir.torrentPath,
      ...["-o", dl, "--peer", `${host}:${port}`, "--port", "0", "--host", "127.0.0.1"],
      ...["--no-dht", "--quiet", "--timeout", "60", ...o.args ?? []],
    ], { env: freshStateEnv(dir.root), timeoutMs: 90_000 });
    const detail = `get failed: ${out.stderr}\n${seeder.lines.slice(-5).join("\n")}`;
    assertEquals(out.code, 0, detail);
    await assertDownloaded(dir, dl);
  } finally {
    await seeder.stop();
  }
}

/**
 * A libtorrent leecher downloads `dir` into `<root>/lt` from our library `Client` seeding
 * it ({@linkcode loopbackClient}); checked by SHA-256.
 * @param dir the payload and its torrent, seeded from `<root>/src`
 * @param leecher the leecher
 * @throws {Error} when the leecher fails or its file differs
 */
export async function libtorrentLeechesFromUs(
  dir: TorrentDir,
  leecher: LibtorrentSide,
): Promise<void> {
  const { host, ...flags } = leecher;
  const client = loopbackClient();
  let lt: LibtorrentPeer | undefined;
  try {
    await client.add(dir.torrentPath, { dir: join(dir.root, "src"), seed: true });
    lt = startLibtorrentPeer({
      torrent: dir.torrentPath,
      save: join(dir.root, "lt"),
      listen: `${host}:0`,
      peers: [`127.0.0.1:${client.port}`],
      exitWhenComplete: true,
      timeoutS: 60,
      ...flags,
    });
    assertEquals(await lt.exited, 0, lt.lines.slice(-5).join("\n"));
    await assertDownloaded(dir, join(dir.root, "lt"));
  } finally {
    await lt?.stop();
    await client.close();
  }
}
