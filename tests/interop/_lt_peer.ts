/**
 * Starts `scripts/interop/lt_peer.py` (a python3-libtorrent peer) as a child process and
 * follows its JSON lines. Every process is killed in `stop()`; every wait is bounded.
 * @module
 */
import { PYTHON } from "./_harness.ts";

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
