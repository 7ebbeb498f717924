/**
 * Runs WebTorrent (the npm package, under Node.js) as a peer for interop tests, through
 * `tests/interop/webtorrent/peer.mjs`. WebTorrent is pinned in
 * `tests/interop/webtorrent/package.json` (with its lockfile) and installed by
 * `tests/interop/webtorrent/install.sh` into a cache outside the source tree:
 * `$SWARMD_WEBTORRENT_DIR`, or `${XDG_CACHE_HOME:-$HOME/.cache}/swarmd-interop/webtorrent`.
 * It counts as installed when that directory's `installed.json` equals the repository's
 * package.json (so a version bump asks for a new install). Every wait is bounded and the
 * process is killed in `stop()`.
 * @module
 */
import { join } from "node:path";
import { stopChild } from "./_harness.ts";

const HERE = new URL("./webtorrent/", import.meta.url).pathname;
const PEER_SCRIPT = join(HERE, "peer.mjs");

/** How to install it, for skip lines and failures. */
export const WEBTORRENT_HOW_TO = "bash tests/interop/webtorrent/install.sh (needs Node.js and npm)";

/** Where install.sh puts WebTorrent. */
export function webtorrentDir(): string {
  const explicit = Deno.env.get("SWARMD_WEBTORRENT_DIR");
  if (explicit) return explicit;
  const cache = Deno.env.get("XDG_CACHE_HOME") ?? join(Deno.env.get("HOME") ?? "/root", ".cache");
  return join(cache, "swarmd-interop", "webtorrent");
}

/**
 * The pinned WebTorrent version, when this version is installed and `node` runs.
 * @returns the version, or undefined
 */
export async function webtorrentVersion(): Promise<string | undefined> {
  const wanted = await Deno.readTextFile(join(HERE, "package.json"));
  const installed = await Deno.readTextFile(join(webtorrentDir(), "installed.json")).catch(
    () => "",
  );
  if (installed !== wanted) return undefined;
  try {
    const { code } = await new Deno.Command("node", {
      args: ["--version"],
      stdout: "null",
      stderr: "null",
    }).output();
    if (code !== 0) return undefined;
  } catch {
    return undefined; // no node on PATH: WebTorrent cannot run
  }
  return (JSON.parse(wanted) as { dependencies: Record<string, string> }).dependencies.webtorrent;
}

/** One JSON line peer.mjs printed. */
export type WebTorrentLine =
  | { readonly done: true; readonly ms: number }
  | { readonly seeding: true; readonly port: number }
  | { readonly wire: string; readonly type: string }
  | { readonly error: string }
  | { readonly warning: string };

/** Options for {@linkcode WebTorrentPeer.start}. */
export interface WebTorrentOptions {
  /** `leech` from `peer`, or `seed` the data in `dir`. */
  readonly mode: "leech" | "seed";
  /** The .torrent file. */
  readonly torrent: string;
  /** Where it saves, or where the data is. */
  readonly dir: string;
  /** `host:port` to download from (leech). */
  readonly peer?: string;
  /** WebTorrent's `secure`: 0 none, 1 MSE/PE with plain fallback (its default), 2 RC4 only. */
  readonly secure?: 0 | 1 | 2;
  /** Its listening address. */
  readonly host: string;
}

/** A running peer.mjs. */
export class WebTorrentPeer {
  readonly #child: Deno.ChildProcess;
  readonly #lines: WebTorrentLine[] = [];
  #stderr = "";
  #waiters: (() => void)[] = [];
  readonly #pumps: Promise<void>[];

  private constructor(child: Deno.ChildProcess) {
    this.#child = child;
    this.#pumps = [
      this.#pump(child.stdout, (line) => {
        if (!line.startsWith("{")) return;
        this.#lines.push(JSON.parse(line) as WebTorrentLine);
        for (const wake of this.#waiters.splice(0)) wake();
      }),
      this.#pump(child.stderr, (line) => this.#stderr = (this.#stderr + line + "\n").slice(-8000)),
    ];
  }

  /**
   * Starts `node peer.mjs` with the installed WebTorrent.
   * @param o mode, torrent, directory, peer, `secure` and address
   * @returns the running peer
   */
  static start(o: WebTorrentOptions): WebTorrentPeer {
    const args = [PEER_SCRIPT, o.mode, o.torrent, o.dir];
    if (o.mode === "leech") args.push(o.peer ?? "");
    if (o.secure !== undefined) args.push(String(o.secure));
    const child = new Deno.Command("node", {
      args,
      env: { WEBTORRENT_DIR: webtorrentDir(), WEBTORRENT_HOST: o.host },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    return new WebTorrentPeer(child);
  }

  /** Every JSON line so far. */
  get lines(): readonly WebTorrentLine[] {
    return this.#lines;
  }

  /** Its output, for failure messages. */
  get output(): string {
    return `${this.#lines.map((l) => JSON.stringify(l)).join("\n")}\nstderr: ${this.#stderr}`;
  }

  /**
   * Resolves with the first line `match` accepts; rejects on an `error` line or its exit.
   * @param match what to wait for
   * @returns that line
   */
  async until<T extends WebTorrentLine>(match: (l: WebTorrentLine) => l is T): Promise<T> {
    let exited = false;
    void this.#child.status.then(() => {
      exited = true;
      for (const wake of this.#waiters.splice(0)) wake();
    });
    for (;;) {
      const found = this.#lines.find(match);
      if (found) return found;
      const failed = this.#lines.find((l) => "error" in l);
      if (failed || exited) throw new Error(`WebTorrent stopped: ${this.output}`);
      await new Promise<void>((wake) => this.#waiters.push(wake));
    }
  }

  /** Kills it (SIGTERM, SIGKILL after 3 s) and waits for it. */
  stop(): Promise<void> {
    return stopChild(this.#child, this.#pumps);
  }

  async #pump(
    stream: ReadableStream<Uint8Array<ArrayBuffer>>,
    add: (line: string) => void,
  ): Promise<void> {
    let buffered = "";
    try {
      for await (const text of stream.pipeThrough(new TextDecoderStream())) {
        const parts = (buffered + text).split("\n");
        buffered = parts.pop() ?? "";
        for (const line of parts) add(line);
      }
      if (buffered) add(buffered);
    } catch {
      // the stream ends with the process, which stop() waits for
    }
  }
}
