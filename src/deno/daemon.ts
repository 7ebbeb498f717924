/**
 * `swarmd daemon`, wired: a {@linkcode Client} (one session for many torrents) whose resume
 * data lives in the state database, the {@linkcode Library} over it, the HTTP server with
 * the Transmission RPC and the web UI, a watch folder, and the completion command (argv
 * only, never a shell: RELIABILITY C2). Security: the RPC binds 127.0.0.1 unless told
 * otherwise, and any other address needs a user name and password (kept as a scrypt hash)
 * and keeps the Host whitelist on (C1); every path from a request is confined to the
 * configured roots, symlinks resolved.
 *
 * Layer: platform.
 * @module
 */
import fs from "node:fs";
import { createHash, randomBytes } from "node:crypto";
import { basename, dirname, join } from "node:path";
import { Client } from "./client.ts";
import { SqliteStore } from "./daemon_store.ts";
import { type DaemonServer, type RouteHandler, serveDaemon } from "./daemon_server.ts";
import { readFileCapped } from "./fs.ts";
import { readStreamCapped } from "./read_capped.ts";
import { verifyPassword } from "./password.ts";
import { watchFolder } from "./watch_folder.ts";
import { SYSTEM_CLOCK } from "./clock.ts";
import { type CompletedTorrent, Library } from "../daemon/library.ts";
import { type DaemonSettings, defaultDaemonSettings } from "../daemon/library_types.ts";
import { RpcError, type RpcServices } from "../daemon/rpc.ts";
import { confinePath, within } from "../daemon/paths.ts";
import type { GuardPolicy } from "../daemon/http_guard.ts";
import type { Settings } from "../session/settings.ts";
import type { Logger } from "../runtime/types.ts";

/** Everything the daemon runs with (the CLI merges its flags over the config file). */
export interface DaemonConfig {
  /** RPC and web UI address. Default `127.0.0.1`. */
  readonly rpcHost?: string;
  /** RPC port. Default 9091 (0 = any). */
  readonly rpcPort?: number;
  /** BitTorrent listen port. Default 51413 (the next free one if taken; 0 = any). */
  readonly peerPort?: number;
  /** State directory (the database, the DHT table). */
  readonly stateDir: string;
  /** Default save path. */
  readonly downloadDir: string;
  /** A folder whose new `.torrent` files are added (then renamed `*.added`). */
  readonly watchDir?: string;
  /** Further directories RPC requests may name (download dirs, moves). */
  readonly allowedDirs?: readonly string[];
  /** RPC user name (with `rpcPasswordHash`). */
  readonly rpcUser?: string;
  /** scrypt hash of the RPC password (`password.ts`). */
  readonly rpcPasswordHash?: string;
  /** Host names accepted in the Host header besides localhost and IP literals. */
  readonly rpcHostWhitelist?: readonly string[];
  /** Run on completion: program and arguments; `{name}`, `{hash}`, `{dir}`, `{id}` are filled in. */
  readonly onComplete?: readonly string[];
  /** Session options (queues, limits) used until the RPC changes them. */
  readonly settings?: Partial<DaemonSettings>;
  /** Engine settings (e.g. `allowLocalPeers`, `enableDht`). */
  readonly engine?: Partial<Settings>;
  /** Worker count for hashing and disk I/O. */
  readonly workers?: number;
  /** A directory served at `/transmission/web/` (Transmission's web client, for one). */
  readonly webHome?: string;
  /** Extra HTTP routes by path prefix (streams plug in here). */
  readonly routes?: ReadonlyMap<string, RouteHandler>;
  /** Log sink. */
  readonly logger?: Logger;
}

/** A running daemon. */
export interface Daemon {
  /** Base URL of the RPC and web UI. */
  readonly url: string;
  /** The BitTorrent listen port. */
  readonly peerPort: number;
  /** The torrents. */
  readonly library: Library;
  /** Resolves when `session-close` asked the daemon to stop. */
  readonly closeRequested: Promise<void>;
  /** Saves state, stops every torrent (stopped announces), the server and the workers. */
  close(): Promise<void>;
}

const VERSION_TEXT = "3.00 (swarmd 0.1.0)";
const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

/**
 * The default state directory: `$XDG_DATA_HOME/swarmd` or `~/.local/share/swarmd`.
 * @returns the path, or undefined without a home directory
 */
export function defaultDataDir(): string | undefined {
  const base = Deno.env.get("XDG_DATA_HOME") ??
    (Deno.env.get("HOME") ? `${Deno.env.get("HOME")}/.local/share` : undefined);
  return base ? `${base}/swarmd` : undefined;
}

/**
 * Starts the daemon.
 * @param config addresses, directories, credentials, limits
 * @returns the running daemon
 * @throws {Error} on an unsafe configuration (a non-loopback RPC without credentials), a
 *   state database held by another daemon, or a port in use
 */
export async function startDaemon(config: DaemonConfig): Promise<Daemon> {
  const rpcHost = config.rpcHost ?? "127.0.0.1";
  if (!LOOPBACK.test(rpcHost) && (!config.rpcUser || !config.rpcPasswordHash)) {
    throw new Error(
      `Refusing to serve the RPC on ${rpcHost} without a user name and password (--rpc-user, --rpc-password-file)`,
    );
  }
  await Deno.mkdir(config.stateDir, { recursive: true });
  await Deno.mkdir(config.downloadDir, { recursive: true });
  const store = new SqliteStore(join(config.stateDir, "swarmd.db"));
  const client = new Client({
    port: config.peerPort ?? 51413,
    stateDir: config.stateDir,
    resumeStore: store,
    ...(config.workers !== undefined ? { workers: config.workers } : {}),
    ...(config.engine ? { settings: config.engine } : {}),
    ...(config.logger ? { logger: config.logger } : {}),
  });
  let session;
  try {
    session = await client.ready();
  } catch (e) {
    store.close();
    throw e;
  }
  const library = new Library({
    session,
    store,
    clock: SYSTEM_CLOCK,
    wallClock: () => Date.now(),
    settings: defaultDaemonSettings(config.downloadDir),
    overrides: { downloadDir: config.downloadDir, ...config.settings },
    ...(config.onComplete?.length ? { onComplete: (t) => runHook(config, t) } : {}),
  });
  await library.open();
  const roots = await realRoots([
    config.downloadDir,
    ...(config.allowedDirs ?? []),
    ...(config.watchDir ? [config.watchDir] : []),
  ]);
  let requestClose!: () => void;
  const closeRequested = new Promise<void>((r) => requestClose = r);
  const sessionId = randomBytes(24).toString("base64url");
  const services = rpcServices(
    library,
    config,
    roots,
    sessionId,
    session.port,
    () => requestClose(),
  );
  const policy = guardPolicy(config, sessionId, rpcHost);
  let server: DaemonServer;
  try {
    server = serveDaemon({
      hostname: rpcHost,
      port: config.rpcPort ?? 9091,
      rpc: services,
      policy: () => policy,
      ...(config.routes ? { routes: config.routes } : {}),
      ...(config.webHome ? { webHome: config.webHome } : {}),
      onClose: () => requestClose(),
    });
  } catch (e) {
    await library.close();
    await client.close();
    store.close();
    throw e;
  }
  const stopWatch = config.watchDir
    ? watchFolder(config.watchDir, library, config.logger)
    : undefined;
  let closing: Promise<void> | undefined;
  return {
    url: server.url,
    peerPort: session.port,
    library,
    closeRequested,
    close: () =>
      closing ??= (async () => {
        stopWatch?.();
        await server.close();
        await library.close();
        await client.close();
        store.close();
      })(),
  };
}

function guardPolicy(config: DaemonConfig, sessionId: string, rpcHost: string): GuardPolicy {
  const hash = config.rpcPasswordHash;
  const user = config.rpcUser;
  // scrypt costs ~50 ms: remember headers that verified (as SHA-256 digests, at most 16)
  const verified = new Set<string>();
  const checkCredentials = user && hash
    ? (u: string, p: string) => {
      const key = createHash("sha256").update(`${u}\0${p}`).digest("base64");
      if (verified.has(key)) return true;
      const ok = u === user && verifyPassword(hash, p);
      if (ok) {
        if (verified.size >= 16) verified.clear();
        verified.add(key);
      }
      return ok;
    }
    : undefined;
  return {
    hostWhitelist: [
      ...(config.rpcHostWhitelist ?? []),
      ...(LOOPBACK.test(rpcHost) ? [] : [rpcHost]),
    ],
    hostWhitelistEnabled: true,
    sessionId,
    ...(checkCredentials ? { checkCredentials } : {}),
  };
}

function rpcServices(
  library: Library,
  config: DaemonConfig,
  roots: readonly string[],
  sessionId: string,
  peerPort: number,
  close: () => void,
): RpcServices {
  const engine = library.session.settings;
  const confine = async (path: string): Promise<string> => {
    const lexical = confinePath(path, roots);
    if (lexical === undefined || !within(await realAncestor(lexical), rootOf(lexical, roots))) {
      throw new RpcError(`path is outside the allowed directories: ${JSON.stringify(path)}`);
    }
    return lexical;
  };
  return {
    library,
    version: VERSION_TEXT,
    sessionId: () => sessionId,
    configDir: config.stateDir,
    peerPort,
    doneScript: (config.onComplete ?? []).join(" "),
    features: {
      dht: engine.enableDht,
      pex: engine.enablePex,
      utp: engine.enableUtp,
      lsd: engine.enableLsd,
    },
    wallClock: () => Date.now(),
    confine,
    fetchTorrent: async (filename) => {
      if (/^https?:\/\//i.test(filename)) return await download(filename);
      const path = await confine(filename);
      const bytes = await readFileCapped(path, 10 * 1024 * 1024).catch((e) => {
        throw new RpcError(`cannot read ${JSON.stringify(filename)}: ${(e as Error).message}`);
      });
      if (!bytes) throw new RpcError(`no such file: ${JSON.stringify(filename)}`);
      return bytes;
    },
    freeSpace: (path) => {
      const s = fs.statfsSync(path);
      return Promise.resolve({ free: s.bavail * s.bsize, total: s.blocks * s.bsize });
    },
    portTest: () =>
      Promise.reject(
        new RpcError(
          "port-test: not available: swarmd has no outside service to test the port from",
        ),
      ),
    close,
  };
}

/** The root (as configured, symlinks resolved) that holds `path`. */
function rootOf(path: string, roots: readonly string[]): string {
  return roots.find((r) => within(path, r)) ?? "/nonexistent";
}

/** The real path of the deepest existing ancestor of `path`, with the rest appended. */
async function realAncestor(path: string): Promise<string> {
  let head = path;
  const tail: string[] = [];
  for (let i = 0; i < 256; i++) {
    try {
      return join(await Deno.realPath(head), ...tail);
    } catch {
      const parent = dirname(head);
      if (parent === head) break;
      tail.unshift(basename(head));
      head = parent;
    }
  }
  return path;
}

async function realRoots(dirs: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const d of dirs) out.push(await Deno.realPath(d).catch(() => d));
  return out;
}

async function download(url: string): Promise<Uint8Array> {
  const max = 10 * 1024 * 1024;
  const response = await fetch(url, { signal: AbortSignal.timeout(30_000) }).catch((e) => {
    throw new RpcError(`cannot fetch ${url}: ${(e as Error).message}`);
  });
  if (!response.ok || !response.body) {
    await response.body?.cancel();
    throw new RpcError(`cannot fetch ${url}: HTTP ${response.status}`);
  }
  const bytes = await readStreamCapped(response.body, max);
  if (!bytes) throw new RpcError(`cannot fetch ${url}: larger than ${max} bytes`);
  return bytes;
}

/** Runs the completion command: argv only, placeholders filled inside single arguments. */
function runHook(config: DaemonConfig, t: CompletedTorrent): void {
  const fill = (arg: string) =>
    arg.replaceAll("{name}", t.name).replaceAll("{hash}", t.infoHash)
      .replaceAll("{dir}", t.dir).replaceAll("{id}", String(t.id));
  const [program, ...rest] = config.onComplete!.map(fill);
  try {
    const child = new Deno.Command(program!, {
      args: rest,
      stdin: "null",
      stdout: "null",
      stderr: "null",
      env: {
        TR_TORRENT_ID: String(t.id),
        TR_TORRENT_NAME: t.name,
        TR_TORRENT_HASH: t.infoHash,
        TR_TORRENT_DIR: t.dir,
        TR_APP_VERSION: "3.00",
      },
    }).spawn();
    child.status.then((s) => {
      if (!s.success) {
        config.logger?.warn(`Completion command exited with ${s.code}`, { infoHash: t.infoHash });
      }
    });
  } catch (e) {
    config.logger?.warn(`Cannot run the completion command: ${(e as Error).message}`, {
      infoHash: t.infoHash,
    });
  }
}
