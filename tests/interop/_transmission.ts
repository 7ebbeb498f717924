/**
 * Runs Debian's transmission-cli 3.00 (package transmission-cli) as a peer for interop
 * tests: a fresh config directory whose settings.json turns off everything that would
 * reach past the test (DHT, LPD, PEX, port mapping, the RPC server; uTP unless asked) and binds the
 * peer port to one address; encryption comes from its own flag (`-ep` is its default,
 * "preferred", `-er` "required"). It never exits by itself: a test waits for its log to
 * say the torrent is complete (downloaded, or a seed's check done), then `stop()`s it
 * (SIGTERM, SIGKILL after 3 s).
 *
 * Transmission 3.00 never dials an address in 127.0.0.0/8 (its "martian" filter drops
 * such peers from trackers and refuses to open the socket), so a test in which it dials
 * us runs in a private network namespace (`_netns.ts`); it accepts loopback peers, so
 * the other direction runs on 127.0.0.x.
 * @module
 */
import { join } from "node:path";
import { pumpText, stopChild } from "./_harness.ts";

/** The binary (Debian's transmission-cli). */
export const TRANSMISSION_CLI = "/usr/bin/transmission-cli";

/** Transmission's encryption flags: `-ep` (its default) or `-er`. */
export type TransmissionEncryption = "preferred" | "required";

/** Options for {@linkcode TransmissionCli.start}. */
export interface TransmissionOptions {
  /** The .torrent file. */
  readonly torrent: string;
  /** Where it saves (a seed: where the data already is). */
  readonly downloadDir: string;
  /** A fresh directory for settings.json and its resume files. */
  readonly configDir: string;
  /** The address its peer port binds to (also the source of its outgoing connections). */
  readonly host: string;
  /** Its peer port. */
  readonly port: number;
  /** Default "preferred", as a user's Transmission. */
  readonly encryption?: TransmissionEncryption;
  /** Turn its uTP (libutp, BitTorrent Inc.'s implementation) on. Default off. */
  readonly utp?: boolean;
}

const KEEP_CHARS = 64 * 1024;
/** Its log line when a download has every piece (a seed's check logs nothing at level 2). */
const COMPLETE = /State changed from "\w+" to "Complete"/;
/**
 * Runs it with stdout unbuffered: its status line (which says "Seeding" once a download
 * is complete or a seed's check is done) would otherwise sit in stdio's pipe buffer.
 */
const STDBUF = "/usr/bin/stdbuf";

/** A running transmission-cli. */
export class TransmissionCli {
  readonly #child: Deno.ChildProcess;
  #stdout = "";
  #stderr = "";
  readonly #seeding: Promise<void>;
  readonly #pumps: Promise<void>[] = [];

  private constructor(child: Deno.ChildProcess) {
    this.#child = child;
    let seen: () => void = () => {};
    this.#seeding = new Promise((resolve) => seen = resolve);
    this.#pumps.push(
      pumpText(child.stdout, (text) => {
        this.#stdout = (this.#stdout + text).slice(-KEEP_CHARS);
        if (/Seeding/.test(this.#stdout)) seen();
      }),
      pumpText(child.stderr, (text) => {
        this.#stderr = (this.#stderr + text).slice(-KEEP_CHARS);
        if (COMPLETE.test(this.#stderr)) seen();
      }),
    );
  }

  /**
   * Writes its settings.json and starts it on `o.torrent`.
   * @param o the torrent, directories, address, port and encryption
   * @returns the running process
   */
  static async start(o: TransmissionOptions): Promise<TransmissionCli> {
    await Deno.mkdir(o.configDir, { recursive: true });
    await Deno.mkdir(o.downloadDir, { recursive: true });
    const settings = {
      "bind-address-ipv4": o.host,
      "bind-address-ipv6": "::1",
      "dht-enabled": false,
      "lpd-enabled": false,
      "utp-enabled": o.utp ?? false,
      "pex-enabled": false,
      "port-forwarding-enabled": false,
      "rpc-enabled": false,
      "blocklist-enabled": false,
      "message-level": 2,
    };
    await Deno.writeTextFile(join(o.configDir, "settings.json"), JSON.stringify(settings));
    const flag = o.encryption === "required" ? "-er" : "-ep";
    const args = ["-g", o.configDir, "-w", o.downloadDir, "-p", String(o.port), flag, o.torrent];
    const unbuffered = await Deno.stat(STDBUF).then(() => true, () => false);
    const child = new Deno.Command(unbuffered ? STDBUF : TRANSMISSION_CLI, {
      args: unbuffered ? ["-o0", TRANSMISSION_CLI, ...args] : args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    return new TransmissionCli(child);
  }

  /** Resolves once the torrent is complete: downloaded, or a seed's check done. */
  get seeding(): Promise<void> {
    return this.#seeding;
  }

  /** The end of its status output and its log, for failure messages. */
  get output(): string {
    const status = this.#stdout.split(/[\r\n]+/).map((l) => l.trim()).filter((l) => l);
    return `status: ${status.slice(-2).join(" | ")}\nlog:\n${
      this.#stderr.split("\n").slice(-30).join("\n")
    }`;
  }

  /** Stops it (SIGTERM; SIGKILL when it is still running 3 s later) and waits for it. */
  stop(): Promise<void> {
    return stopChild(this.#child, this.#pumps);
  }
}

/**
 * Whether transmission-cli is installed.
 * @returns true when the binary exists
 */
export function transmissionAvailable(): Promise<boolean> {
  return Deno.stat(TRANSMISSION_CLI).then(() => true, () => false);
}
