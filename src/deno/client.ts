/**
 * `Client`: a {@linkcode Session} with Deno's network, clock, randomness, the worker
 * pool for SHA-1 and disk I/O, and resume data beside the download. This is what
 * `mod.ts` exports and the CLI uses.
 *
 * Layer: platform.
 * @module
 */
import { Session } from "../session/session.ts";
import type { AddOptions } from "../session/session.ts";
import { type Settings, validateSettings } from "../session/settings.ts";
import type { ResumeStore, StateStore } from "../session/context.ts";
import { basename, dirname } from "node:path";
import { resolveHost } from "./udp.ts";
import { DenoHttpFetcher } from "./http.ts";
import { formatIp, parseIp } from "../util/ip.ts";
import type { Torrent } from "../session/torrent_handle.ts";
import type { Logger } from "../runtime/types.ts";
import { type MagnetLink, type Metainfo, parseMagnet, parseTorrent } from "../metainfo/mod.ts";
import { SECURE_RANDOM, SYSTEM_CLOCK } from "./clock.ts";
import { DENO_NETWORK } from "./tcp.ts";
import { WorkerPoolDiskIo } from "./worker_pool.ts";
import { readControlFile, removeControlFile, resumeComponents, writeControlFile } from "./fs.ts";
import { DENO_STORAGE_FILES } from "./storage_files.ts";

/** Options for {@linkcode Client}. */
export interface ClientOptions {
  /** Listen port (default 6881; the next free port is used when taken; 0 = any). */
  readonly port?: number;
  /** Listen address (default all interfaces). */
  readonly host?: string;
  /** Any other settings. */
  readonly settings?: Partial<Settings>;
  /** Worker count for hashing and disk I/O (default: CPU cores). */
  readonly workers?: number;
  /** Log sink. */
  readonly logger?: Logger;
  /**
   * Directory for session state (the DHT routing table, `dht.dat`). Default
   * `$XDG_CACHE_HOME/swarmd` or `~/.cache/swarmd`; `null` keeps no state.
   */
  readonly stateDir?: string | null;
  /** Where resume data lives (default: `<save path>/.swarmd/<info-hash>.resume` files). */
  readonly resumeStore?: ResumeStore;
  /** Extra CA certificates (PEM) trusted for https trackers and web seeds. */
  readonly caCerts?: readonly string[];
}

/**
 * The source address for HTTP requests: the listen address when it is one IP (a tracker
 * records the announce's source), nothing when it is the any-address or a host name (then
 * the system chooses, as for a client that listens everywhere).
 */
function sourceAddressOf(listenHost: string): { localAddress?: string } {
  const ip = parseIp(listenHost);
  if (ip === undefined || ip.every((b) => b === 0)) return {};
  return { localAddress: formatIp(ip) };
}

/** The default state directory, when a home directory is known. */
export function defaultStateDir(): string | undefined {
  const cache = Deno.env.get("XDG_CACHE_HOME") ??
    (Deno.env.get("HOME") ? `${Deno.env.get("HOME")}/.cache` : undefined);
  return cache ? `${cache}/swarmd` : undefined;
}

/**
 * A {@linkcode StateStore} for one file, written atomically; its directory is made when
 * missing, and the file is never read or written through a symlink.
 */
export function fileStateStore(path: string): StateStore {
  const root = dirname(path), name = [basename(path)];
  return {
    load: () => readControlFile(root, name, 4 * 1024 * 1024),
    save: (bytes) => writeControlFile(root, name, bytes),
  };
}

/**
 * Resume files live in `<dir>/.swarmd/<info-hash>.resume`, written atomically, with the
 * same symlink checks below `<dir>` as the pieces (a planted `.swarmd` link is refused).
 */
export const DENO_RESUME_STORE: ResumeStore = Object.freeze({
  load: (root: string, hex: string) =>
    readControlFile(root, resumeComponents(hex), 64 * 1024 * 1024),
  save: (root: string, hex: string, bytes: Uint8Array) =>
    writeControlFile(root, resumeComponents(hex), bytes),
  remove: (root: string, hex: string) => removeControlFile(root, resumeComponents(hex)),
});

/**
 * A BitTorrent client on Deno. The worker pool and the listen socket start on the
 * first {@linkcode Client.add} (or {@linkcode Client.ready}).
 *
 * @example
 * ```ts ignore
 * import { Client } from "../../mod.ts";
 * const client = new Client({ port: 0 });
 * const torrent = await client.add("x.torrent", { dir: "downloads" });
 * await torrent.done;
 * await client.close();
 * ```
 */
export class Client {
  readonly #options: ClientOptions;
  #started:
    | Promise<{ session: Session; disk: WorkerPoolDiskIo; http: DenoHttpFetcher }>
    | undefined;
  #session: Session | undefined;

  /** Configures a client; nothing starts until it is used. */
  constructor(options: ClientOptions = {}) {
    this.#options = options;
  }

  /**
   * Starts the worker pool and binds the listen socket (once).
   * @returns the session
   * @throws {Error} when no listen port can be bound
   */
  async ready(): Promise<Session> {
    this.#started ??= this.#start();
    return (await this.#started).session;
  }

  async #start(): Promise<{ session: Session; disk: WorkerPoolDiskIo; http: DenoHttpFetcher }> {
    const options = this.#options;
    const stateDir = options.stateDir === null ? undefined : options.stateDir ?? defaultStateDir();
    const settings = validateSettings({
      ...options.settings,
      ...(options.port !== undefined ? { listenPort: options.port } : {}),
      ...(options.host !== undefined ? { listenHost: options.host } : {}),
    });
    const disk = await WorkerPoolDiskIo.create({
      ...(options.workers !== undefined ? { workers: options.workers } : {}),
      highWaterBytes: settings.diskQueueBytes,
      recycledBytes: settings.recycledBufferBytes,
    });
    const http = new DenoHttpFetcher({
      userAgent: "swarmd/0.1.0",
      ...(options.caCerts ? { caCerts: options.caCerts } : {}),
      ...sourceAddressOf(settings.listenHost),
    });
    const session = new Session({
      settings,
      network: DENO_NETWORK,
      clock: SYSTEM_CLOCK,
      random: SECURE_RANDOM,
      disk,
      resumeStore: options.resumeStore ?? DENO_RESUME_STORE,
      storageFiles: DENO_STORAGE_FILES,
      resolveHost,
      httpFetcher: http,
      webSeedFetcher: http,
      ...(stateDir ? { dhtStateStore: fileStateStore(`${stateDir}/dht.dat`) } : {}),
      ...(options.logger ? { logger: options.logger } : {}),
    });
    try {
      await session.listen();
    } catch (e) {
      await disk.shutdown();
      http.close();
      throw e;
    }
    this.#session = session;
    return { session, disk, http };
  }

  /** The bound listen port (0 before start). */
  get port(): number {
    return this.#session?.port ?? 0;
  }

  /**
   * Adds a torrent from a `.torrent` path, its bytes, parsed metainfo, or a magnet link
   * (text or parsed; the torrent starts in the metadata phase).
   * @param source path, bytes or metainfo
   * @param options save path, peers, seeding
   * @returns the torrent handle
   * @throws {MetainfoError} for an invalid torrent
   */
  async add(
    source: string | Uint8Array | Metainfo | MagnetLink,
    options: AddOptions,
  ): Promise<Torrent> {
    let meta: Metainfo;
    if (typeof source === "string" && source.startsWith("magnet:")) source = parseMagnet(source);
    if (typeof source === "string") meta = parseTorrent(await Deno.readFile(source));
    else if (source instanceof Uint8Array) meta = parseTorrent(source);
    else if (!("pieceHashes" in source)) {
      const session = await this.ready();
      const selectOnly = options.selectOnly ?? source.selectOnly;
      return session.addMagnet(source, { ...options, ...(selectOnly ? { selectOnly } : {}) });
    } else meta = source;
    const session = await this.ready();
    return await session.add(meta, options);
  }

  /** Stops every torrent (resume data saved), the listener and the worker pool. */
  async close(): Promise<void> {
    if (!this.#started) return;
    const { session, disk, http } = await this.#started;
    await session.close();
    await disk.shutdown();
    http.close();
  }
}
