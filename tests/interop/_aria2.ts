/**
 * Runs Debian's aria2 1.36 (`aria2c`, package aria2) as a BitTorrent peer for interop
 * tests: its own implementation (not libtorrent's), with MSE, magnet metadata and its own
 * choking. Everything that would reach past the test is off (LPD, PEX, IPv6; its DHT unless
 * asked) and it binds to one loopback address (`--interface`), its announces included.
 *
 * A leecher exits by itself once the download is complete (`--seed-time=0`); a seed
 * (`--bt-seed-unverified`: it trusts the data) runs until `stop()`. aria2 takes no peer
 * address on its command line, so a test in which it dials us hands it a tracker (a torrent
 * or magnet that lists one).
 * @module
 */
import type { ForeignLeecher } from "./_foreign_leecher.ts";
import { pumpText, stopChild } from "./_harness.ts";

/** The binary (Debian's aria2). */
export const ARIA2C = "/usr/bin/aria2c";

/** How aria2 treats encryption: its default, or RC4 required both ways. */
export type Aria2Encryption = "default" | "require-rc4";

/** Options for {@linkcode Aria2.start}. */
export interface Aria2Options {
  /** A .torrent path or a magnet link. */
  readonly source: string;
  /** Where it saves (a seed: where the data already is). */
  readonly dir: string;
  /** The address it binds to (listen socket, announces, outgoing connections). */
  readonly host: string;
  /** Its peer port. */
  readonly port: number;
  /** Leech until complete (and exit), or seed. */
  readonly mode: "leech" | "seed";
  /** Default "default". */
  readonly encryption?: Aria2Encryption;
  /** Run its DHT node (its own implementation) on this UDP port; off by default. */
  readonly dhtPort?: number;
  /** Local peer discovery (its BEP 14 implementation) on `host`; off by default. */
  readonly lpd?: boolean;
}

const KEEP_CHARS = 64 * 1024;

/** A running aria2c. */
export class Aria2 implements ForeignLeecher {
  readonly #child: Deno.ChildProcess;
  #output = "";
  readonly #pumps: Promise<void>[];

  private constructor(child: Deno.ChildProcess) {
    this.#child = child;
    const keep = (text: string) => {
      this.#output = (this.#output + text).slice(-KEEP_CHARS);
    };
    this.#pumps = [pumpText(child.stdout, keep), pumpText(child.stderr, keep)];
  }

  /**
   * Starts it.
   * @param o what to fetch or seed, where, on which address and port
   * @returns the running process
   */
  static async start(o: Aria2Options): Promise<Aria2> {
    await Deno.mkdir(o.dir, { recursive: true });
    const args = [
      "--no-conf=true",
      `--dir=${o.dir}`,
      `--interface=${o.host}`,
      `--listen-port=${o.port}`,
      ...(o.dhtPort === undefined ? ["--enable-dht=false"] : [
        "--enable-dht=true",
        `--dht-listen-port=${o.dhtPort}`,
        `--dht-file-path=${o.dir}.dht.dat`,
      ]),
      "--enable-dht6=false",
      ...(o.lpd
        ? ["--bt-enable-lpd=true", `--bt-lpd-interface=${o.host}`]
        : ["--bt-enable-lpd=false"]),
      "--enable-peer-exchange=false",
      "--disable-ipv6=true",
      "--file-allocation=none",
      "--summary-interval=0",
      "--console-log-level=notice",
      "--bt-stop-timeout=60",
      ...(o.mode === "seed"
        ? ["--bt-seed-unverified=true", "--seed-ratio=0.0", "--seed-time=60"]
        : ["--seed-time=0"]),
      ...(o.encryption === "require-rc4"
        ? ["--bt-require-crypto=true", "--bt-min-crypto-level=arc4"]
        : []),
      o.source,
    ];
    const child = new Deno.Command(ARIA2C, {
      args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    return new Aria2(child);
  }

  /** A leecher's end: resolves when it exits 0 (the download is complete), else rejects. */
  get done(): Promise<void> {
    return this.#child.status.then((s) => {
      if (s.code !== 0) throw new Error(`aria2c exited with ${s.code}: ${this.output}`);
    });
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
