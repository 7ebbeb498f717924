/**
 * `daemon`: runs the many-torrent service until SIGINT/SIGTERM (or an RPC
 * `session-close`): Transmission-compatible RPC at `/transmission/rpc`, the web UI at `/`.
 * Options come from a JSON config file (`--config`), flags override it.
 *
 * Layer: platform (CLI).
 * @module
 */
import { resolve } from "node:path";
import {
  CliError,
  type CliIo,
  intFlag,
  parseCommand,
  readInputFile,
  safeText,
  stringFlag,
} from "./common.ts";
import { type DaemonConfig, defaultDataDir, startDaemon } from "../deno/daemon.ts";
import { hashPassword, isPasswordHash } from "../deno/password.ts";
import type { DaemonSettings } from "../daemon/library_types.ts";
import type { Settings } from "../session/settings.ts";

const HELP = `Usage: deno run -A mod.ts daemon [options]

Runs until SIGINT/SIGTERM: many torrents in one session, a Transmission-compatible RPC at
http://HOST:PORT/transmission/rpc (transmission-remote and Transmission's web client work),
and a web UI at http://HOST:PORT/. State (torrents, options, counters, resume data) lives in
DIR/swarmd.db and survives restarts, "kill -9" included.

Options:
  --rpc-host IP             RPC and web UI address (default 127.0.0.1; any other needs
                            --rpc-user and --rpc-password-file)
  --rpc-port N              RPC port (default 9091)
  --port N                  BitTorrent listen port (default 51413)
  --state DIR               state directory (default ~/.local/share/swarmd)
  --download-dir DIR        default save path (default ~/Downloads)
  --watch DIR               add .torrent files dropped here (renamed *.added)
  --config FILE             JSON config file (keys below); flags override it
  --rpc-user NAME           RPC user name
  --rpc-password-file FILE  file holding the RPC password (or its scrypt hash); the
                            daemon keeps only a hash
  --allow-local-peers       accept loopback/private peer addresses (a LAN, a test)
  --no-lsd                  no local service discovery (LAN multicast, BEP 14)

Config file keys: rpcHost, rpcPort, port, state, downloadDir, watch, rpcUser,
rpcPasswordFile, rpcHostWhitelist [names], allowedDirs [dirs RPC requests may name],
onComplete [program, args...; {name} {hash} {dir} {id} are filled in, no shell],
downloadQueueSize, seedQueueSize, seedRatioLimit (number, or null for none),
idleSeedingLimit (minutes, or null), speedLimitDown, speedLimitUp (kB/s, or null),
allowLocalPeers, dht and lsd (true/false), transmissionWebHome (a directory served at
/transmission/web/, e.g. /usr/share/transmission/web: Transmission's own web client; the
TRANSMISSION_WEB_HOME environment variable does the same).`;

/** The JSON config file's shape. */
interface ConfigFile {
  rpcHost?: string;
  rpcPort?: number;
  port?: number;
  state?: string;
  downloadDir?: string;
  watch?: string;
  rpcUser?: string;
  rpcPasswordFile?: string;
  rpcHostWhitelist?: string[];
  allowedDirs?: string[];
  onComplete?: string[];
  downloadQueueSize?: number;
  seedQueueSize?: number;
  seedRatioLimit?: number | null;
  idleSeedingLimit?: number | null;
  speedLimitDown?: number | null;
  speedLimitUp?: number | null;
  allowLocalPeers?: boolean;
  dht?: boolean;
  lsd?: boolean;
  transmissionWebHome?: string;
}

/**
 * Runs `daemon`.
 * @param args arguments after `daemon`
 * @param io output
 * @returns exit code
 * @throws {CliError} on bad input (exit 2)
 */
export async function daemonCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommand(args, {
    "rpc-host": { type: "string" },
    "rpc-port": { type: "string" },
    port: { type: "string" },
    state: { type: "string" },
    "download-dir": { type: "string" },
    watch: { type: "string" },
    config: { type: "string" },
    "rpc-user": { type: "string" },
    "rpc-password-file": { type: "string" },
    "allow-local-peers": { type: "boolean" },
    "no-lsd": { type: "boolean" },
  });
  if (values.help) {
    io.stdout(HELP);
    return 0;
  }
  if (positionals.length > 0) {
    throw new CliError(`daemon takes no arguments: "${safeText(positionals[0]!)}"`);
  }
  const configPath = stringFlag(values.config);
  const file = configPath ? await readConfig(configPath) : {};
  const config = await buildConfig(values, file, io);
  const daemon = await startDaemon(config);
  io.stdout(
    `swarmd daemon: RPC ${daemon.url}/transmission/rpc, web UI ${daemon.url}/, peers on port ${daemon.peerPort}`,
  );
  io.stdout(`state in ${config.stateDir}, downloads in ${config.downloadDir}`);
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  for (const s of signals) Deno.addSignalListener(s, onSignal);
  try {
    await Promise.race([
      daemon.closeRequested,
      new Promise((r) => stop.signal.addEventListener("abort", r, { once: true })),
    ]);
    io.stdout("Stopping: saving state, announcing stopped to trackers");
  } finally {
    for (const s of signals) Deno.removeSignalListener(s, onSignal);
    await daemon.close();
  }
  return 0;
}

async function readConfig(path: string): Promise<ConfigFile> {
  const bytes = await readInputFile(path, "config", 1024 * 1024);
  try {
    const parsed = JSON.parse(new TextDecoder().decode(bytes));
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      throw new Error("not an object");
    }
    return parsed as ConfigFile;
  } catch (e) {
    throw new CliError(`Cannot read config "${safeText(path)}": ${(e as Error).message}`);
  }
}

function checkType(
  file: ConfigFile,
  key: keyof ConfigFile,
  type: "string" | "number" | "boolean" | "strings",
): void {
  const v: unknown = file[key];
  if (v === undefined || v === null) return;
  const ok = type === "strings"
    ? Array.isArray(v) && v.every((x) => typeof x === "string")
    : type === "string"
    ? typeof v === "string"
    : type === "number"
    ? typeof v === "number" && Number.isFinite(v)
    : typeof v === "boolean";
  if (!ok) {
    throw new CliError(
      `Invalid config key "${key}": expected ${
        type === "strings" ? "a list of strings" : `a ${type}`
      }`,
    );
  }
}

async function buildConfig(
  values: Record<string, unknown>,
  file: ConfigFile,
  io: CliIo,
): Promise<DaemonConfig> {
  for (
    const k of [
      "rpcHost",
      "state",
      "downloadDir",
      "watch",
      "rpcUser",
      "rpcPasswordFile",
      "transmissionWebHome",
    ] as const
  ) checkType(file, k, "string");
  for (
    const k of [
      "rpcPort",
      "port",
      "downloadQueueSize",
      "seedQueueSize",
      "seedRatioLimit",
      "idleSeedingLimit",
      "speedLimitDown",
      "speedLimitUp",
    ] as const
  ) checkType(file, k, "number");
  for (const k of ["rpcHostWhitelist", "allowedDirs", "onComplete"] as const) {
    checkType(file, k, "strings");
  }
  for (const k of ["allowLocalPeers", "dht", "lsd"] as const) checkType(file, k, "boolean");
  const home = Deno.env.get("HOME");
  const stateDir = stringFlag(values.state) ?? file.state ?? defaultDataDir();
  if (!stateDir) throw new CliError("No state directory: give --state DIR");
  const downloadDir = stringFlag(values["download-dir"]) ?? file.downloadDir ??
    (home ? `${home}/Downloads` : undefined);
  if (!downloadDir) throw new CliError("No download directory: give --download-dir DIR");
  const rpcUser = stringFlag(values["rpc-user"]) ?? file.rpcUser;
  const passwordFile = stringFlag(values["rpc-password-file"]) ?? file.rpcPasswordFile;
  if ((rpcUser === undefined) !== (passwordFile === undefined)) {
    throw new CliError("--rpc-user and --rpc-password-file go together");
  }
  let rpcPasswordHash: string | undefined;
  if (passwordFile) {
    const text = new TextDecoder().decode(await readInputFile(passwordFile, "password file", 4096))
      .split(/\r?\n/)[0]!;
    if (text.length === 0) {
      throw new CliError(`The password file "${safeText(passwordFile)}" is empty`);
    }
    rpcPasswordHash = isPasswordHash(text) ? text : hashPassword(text);
  }
  if (file.onComplete !== undefined && file.onComplete.length === 0) {
    throw new CliError('Invalid config key "onComplete": give a program and its arguments');
  }
  const watch = stringFlag(values.watch) ?? file.watch;
  // as transmission-daemon: another web client (Transmission's own) at /transmission/web/
  const webHome = Deno.env.get("TRANSMISSION_WEB_HOME") ?? file.transmissionWebHome;
  const engine: Partial<Settings> = {
    ...(values["allow-local-peers"] === true || file.allowLocalPeers
      ? { allowLocalPeers: true }
      : {}),
    ...(file.dht === false ? { enableDht: false } : {}),
    ...(values["no-lsd"] === true || file.lsd === false ? { enableLsd: false } : {}),
  };
  return {
    rpcHost: stringFlag(values["rpc-host"]) ?? file.rpcHost ?? "127.0.0.1",
    rpcPort: intFlag("rpc-port", values["rpc-port"], 0, 65535) ?? file.rpcPort ?? 9091,
    peerPort: intFlag("port", values.port, 0, 65535) ?? file.port ?? 51413,
    stateDir: resolve(stateDir),
    downloadDir: resolve(downloadDir),
    ...(watch ? { watchDir: resolve(watch) } : {}),
    ...(webHome ? { webHome: resolve(webHome) } : {}),
    allowedDirs: (file.allowedDirs ?? []).map((d) => resolve(d)),
    ...(rpcUser && rpcPasswordHash ? { rpcUser, rpcPasswordHash } : {}),
    rpcHostWhitelist: file.rpcHostWhitelist ?? [],
    ...(file.onComplete ? { onComplete: file.onComplete } : {}),
    settings: settingsFrom(file),
    engine,
    logger: {
      debug: () => {},
      info: () => {},
      warn: (m) => io.stderr(`warning: ${safeText(m)}`),
      error: (m) => io.stderr(`error: ${safeText(m)}`),
    },
  };
}

function settingsFrom(file: ConfigFile): Partial<DaemonSettings> {
  const out: { -readonly [K in keyof DaemonSettings]?: DaemonSettings[K] } = {};
  if (file.downloadQueueSize !== undefined) out.downloadQueueSize = file.downloadQueueSize;
  if (file.seedQueueSize !== undefined) {
    out.seedQueueEnabled = true;
    out.seedQueueSize = file.seedQueueSize;
  }
  if (file.seedRatioLimit !== undefined) {
    out.seedRatioLimited = file.seedRatioLimit !== null;
    if (file.seedRatioLimit !== null) out.seedRatioLimit = file.seedRatioLimit;
  }
  if (file.idleSeedingLimit !== undefined) {
    out.idleSeedingLimitEnabled = file.idleSeedingLimit !== null;
    if (file.idleSeedingLimit !== null) out.idleSeedingLimit = file.idleSeedingLimit;
  }
  if (file.speedLimitDown !== undefined) {
    out.speedLimitDownEnabled = file.speedLimitDown !== null;
    if (file.speedLimitDown !== null) out.speedLimitDown = file.speedLimitDown;
  }
  if (file.speedLimitUp !== undefined) {
    out.speedLimitUpEnabled = file.speedLimitUp !== null;
    if (file.speedLimitUp !== null) out.speedLimitUp = file.speedLimitUp;
  }
  return out;
}
