/**
 * Runs Debian's rTorrent 0.9.8 (on libtorrent-rakshasa 0.13.8, an implementation unrelated
 * to libtorrent-rasterbar) as a BitTorrent peer for interop tests, the client of many
 * seedboxes. It runs as a daemon (`system.daemon.set`) from a config file written for the
 * run: a fresh session directory, one address and port, no DHT, PEX or UDP trackers, and
 * its encryption setting. It says nothing when a download completes, so its
 * `event.download.finished` handler touches a file the test waits for. A seed hash-checks
 * its data, then serves it; `stop()` ends it.
 * @module
 */
import { join } from "node:path";
import type { ForeignLeecher } from "./_foreign_leecher.ts";
import { pumpText, stopChild } from "./_harness.ts";

/** The binary (Debian's rtorrent). */
export const RTORRENT = "/usr/bin/rtorrent";

/**
 * rTorrent's `protocol.encryption.set` values used here: none (its default: plain only),
 * the usual seedbox setting (accept MSE, try it first, retry plain), and RC4 required.
 */
export const RTORRENT_ENCRYPTION = {
  none: "none",
  prefer: "allow_incoming,try_outgoing,enable_retry",
  "require-rc4": "allow_incoming,try_outgoing,require,require_RC4",
} as const;

/** One of {@linkcode RTORRENT_ENCRYPTION}'s keys. */
export type RtorrentEncryption = keyof typeof RTORRENT_ENCRYPTION;

/** Options for {@linkcode Rtorrent.start}. */
export interface RtorrentOptions {
  /** The .torrent file (rTorrent 0.9 loads magnets only with DHT or a tracker in them). */
  readonly torrent: string;
  /** Where it saves (a seed: where the data already is). */
  readonly dir: string;
  /** A fresh directory for its config, session and the completion marker. */
  readonly home: string;
  /** The address it binds to (listen socket, announces, outgoing connections). */
  readonly host: string;
  /** Its peer port. */
  readonly port: number;
  /** Its encryption setting. */
  readonly encryption: RtorrentEncryption;
}

/** Output kept for failure messages, characters. */
const KEEP_CHARS = 64 * 1024;

/** A running rtorrent. */
export class Rtorrent implements ForeignLeecher {
  readonly #child: Deno.ChildProcess;
  readonly #finished: string;
  #output = "";
  readonly #pumps: Promise<void>[];

  private constructor(child: Deno.ChildProcess, finished: string) {
    this.#child = child;
    this.#finished = finished;
    const keep = (text: string) => {
      this.#output = (this.#output + text).slice(-KEEP_CHARS);
    };
    this.#pumps = [pumpText(child.stdout, keep), pumpText(child.stderr, keep)];
  }

  /**
   * Writes its config and starts it on `o.torrent`.
   * @param o the torrent, directories, address, port and encryption
   * @returns the running process
   */
  static async start(o: RtorrentOptions): Promise<Rtorrent> {
    const session = join(o.home, "session");
    await Deno.mkdir(session, { recursive: true });
    await Deno.mkdir(o.dir, { recursive: true });
    const finished = join(o.home, "finished");
    const config = [
      "system.daemon.set = true",
      `directory.default.set = ${o.dir}`,
      `session.path.set = ${session}`,
      `network.port_range.set = ${o.port}-${o.port}`,
      "network.port_random.set = no",
      `network.bind_address.set = ${o.host}`,
      `network.local_address.set = ${o.host}`,
      "dht.mode.set = disable",
      "protocol.pex.set = no",
      "trackers.use_udp.set = no",
      `protocol.encryption.set = ${RTORRENT_ENCRYPTION[o.encryption]}`,
      `method.set_key = event.download.finished,swarmd_test,"execute.nothrow=touch,${finished}"`,
      `load.start = ${o.torrent}`,
    ].join("\n");
    const rc = join(o.home, "rtorrent.rc");
    await Deno.writeTextFile(rc, config + "\n");
    const child = new Deno.Command(RTORRENT, {
      args: ["-n", "-o", `import=${rc}`],
      cwd: o.home,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    return new Rtorrent(child, finished);
  }

  /**
   * A leecher's end: resolves once its finished handler ran (polled every 100 ms); rejects
   * when it exits first.
   */
  get done(): Promise<void> {
    let exited = false;
    const exit = this.#child.status.then((s) => {
      exited = true;
      throw new Error(`rtorrent exited with ${s.code} before finishing: ${this.output}`);
    });
    const poll = (async () => {
      while (!exited) {
        if (await Deno.stat(this.#finished).then(() => true, () => false)) return;
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    return Promise.race([poll, exit]);
  }

  /** The end of its output, for failure messages. */
  get output(): string {
    return this.#output.split("\n").filter((l) => l.trim()).slice(-30).join("\n");
  }

  /** Stops it (SIGTERM; SIGKILL when it is still running 3 s later) and waits for it. */
  stop(): Promise<void> {
    return stopChild(this.#child, this.#pumps);
  }
}
