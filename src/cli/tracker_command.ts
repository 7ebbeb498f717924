/**
 * `tracker [--host IP]... [--http-port N] [--udp-port N] [--allow HEX]... [--interval S]
 * [--max-swarms N] [--max-peers N] [--max-http-connections N] [--header-timeout S]`:
 * runs the built-in tracker (HTTP BEP 3/23/7 and UDP BEP 15) until SIGINT or SIGTERM, then
 * closes cleanly. `--allow` makes it a private tracker for the listed info-hashes. The
 * settings behind the flags, and the rest, are in `src/tracker/server/settings.ts`.
 *
 * Layer: platform (CLI).
 * @module
 */
import { parseArgs } from "node:util";
import { TrackerServer, type TrackerServerOptions } from "../deno/tracker_server.ts";
import { isNativeUdp } from "../deno/udp.ts";
import {
  DEFAULT_TRACKER_SETTINGS as DEFAULTS,
  MAX_ANNOUNCE_INTERVAL_S,
  MIN_ANNOUNCE_INTERVAL_S,
  MIN_PEER_TTL_S,
  validateTrackerSettings,
} from "../tracker/server/settings.ts";

/** Where the command writes, one line at a time. */
export interface TrackerCommandIo {
  /**
   * Writes one line to standard output.
   * @param line the text, without a newline
   */
  stdout(line: string): void;
  /**
   * Writes one line to standard error.
   * @param line the text, without a newline
   */
  stderr(line: string): void;
}

/** Options for tests and embedding. */
export interface TrackerCommandOptions {
  /** Stops the tracker like a signal would. */
  readonly signal?: AbortSignal;
}

/** Usage text of `tracker`. */
export const TRACKER_USAGE: string =
  `Usage: deno run -A mod.ts tracker [--host IP]... [--http-port N] [--udp-port N]
    [--allow HEX]... [--interval S] [--max-swarms N] [--max-peers N]
    [--max-http-connections N] [--header-timeout S]

Runs a BitTorrent tracker (HTTP announce/scrape/stats and UDP BEP 15) until interrupted.

Options:
  --host IP        address to bind, repeatable (default 0.0.0.0; "::" or "::1" for IPv6)
  --http-port N    HTTP port, 0 = any free port (default 6969)
  --udp-port N     UDP port, 0 = any free port (default 6969)
  --allow HEX      serve only this 40-hex-digit info-hash (private tracker), repeatable
  --interval S     announce interval told to clients, ${MIN_ANNOUNCE_INTERVAL_S}..${MAX_ANNOUNCE_INTERVAL_S} seconds
                   (default ${DEFAULTS.intervalS}); peers stay listed max(2 × S, ${MIN_PEER_TTL_S}) seconds
  --max-swarms N   info-hashes held; the least recently announced goes first
                   (default ${DEFAULTS.maxSwarms})
  --max-peers N    peers held across swarms (default ${DEFAULTS.maxPeers})
  --max-http-connections N
                   HTTP connections open at once; at the cap the longest idle one
                   is closed (default ${DEFAULTS.maxHttpConnections})
  --header-timeout S
                   seconds a client has to send a whole request head (default ${
    DEFAULTS.httpHeaderTimeoutMs / 1000
  })
  -h, --help       show this help

Without --unstable-net (e.g. run from JSR with --no-config) UDP uses node:dgram.`;

class UsageError extends Error {}

function port(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n > 65535) {
    throw new UsageError(`${flag} must be a port number 0..65535, got "${text}"`);
  }
  return n;
}

function parse(args: string[]): TrackerServerOptions | "help" {
  const { values } = parseArgs({
    args,
    strict: true,
    allowPositionals: false,
    options: {
      host: { type: "string", multiple: true },
      "http-port": { type: "string" },
      "udp-port": { type: "string" },
      allow: { type: "string", multiple: true },
      interval: { type: "string" },
      "max-swarms": { type: "string" },
      "max-peers": { type: "string" },
      "max-http-connections": { type: "string" },
      "header-timeout": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return "help";
  for (const hex of values.allow ?? []) {
    if (!/^[0-9a-fA-F]{40}$/.test(hex)) {
      throw new UsageError(`--allow needs 40 hex digits, got "${hex}"`);
    }
  }
  const interval = count(values.interval, "--interval", MIN_ANNOUNCE_INTERVAL_S);
  if (interval !== undefined && interval > MAX_ANNOUNCE_INTERVAL_S) {
    throw new UsageError(
      `--interval must be at most ${MAX_ANNOUNCE_INTERVAL_S} seconds, got "${interval}"`,
    );
  }
  const headerTimeoutS = values["header-timeout"];
  const headerTimeoutMs = headerTimeoutS === undefined ? undefined : Number(headerTimeoutS) * 1000;
  if (headerTimeoutMs !== undefined && !(headerTimeoutMs >= 1 && headerTimeoutMs <= 3_600_000)) {
    throw new UsageError(`--header-timeout must be 0.001..3600 seconds, got "${headerTimeoutS}"`);
  }
  const settings = {
    ...optional("intervalS", interval),
    ...optional("maxSwarms", count(values["max-swarms"], "--max-swarms", 1)),
    ...optional("maxPeers", count(values["max-peers"], "--max-peers", 1)),
    ...optional(
      "maxHttpConnections",
      count(values["max-http-connections"], "--max-http-connections", 1),
    ),
    ...optional("httpHeaderTimeoutMs", headerTimeoutMs && Math.round(headerTimeoutMs)),
  };
  try {
    validateTrackerSettings(settings);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  return {
    host: values.host ?? ["0.0.0.0"],
    httpPort: port(values["http-port"], "--http-port") ?? 6969,
    udpPort: port(values["udp-port"], "--udp-port") ?? 6969,
    ...(values.allow ? { allowlist: values.allow } : {}),
    ...settings,
  };
}

/** An integer flag ≥ `min`, or `undefined` when absent. */
function count(text: string | undefined, flag: string, min: number): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < min) {
    const why = flag === "--interval"
      ? ` (clients wait at least ${MIN_ANNOUNCE_INTERVAL_S} s between announces)`
      : "";
    throw new UsageError(`${flag} must be an integer ≥ ${min}${why}, got "${text}"`);
  }
  return n;
}

function optional<K extends string>(
  key: K,
  value: number | undefined,
): { [k in K]?: number } {
  return value === undefined ? {} : { [key]: value } as { [k in K]: number };
}

function waitForStop(signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      for (const s of ["SIGINT", "SIGTERM"] as const) Deno.removeSignalListener(s, stop);
      signal?.removeEventListener("abort", stop);
      resolve();
    };
    for (const s of ["SIGINT", "SIGTERM"] as const) Deno.addSignalListener(s, stop);
    signal?.addEventListener("abort", stop, { once: true });
    if (signal?.aborted) stop();
  });
}

/**
 * Runs the `tracker` command.
 * @param args the arguments after `tracker`
 * @param io where to print
 * @param options an abort signal that stops the tracker (tests)
 * @returns the exit code: 0 after a clean stop, 1 when a port cannot be bound, 2 on a bad flag
 */
export async function trackerCommand(
  args: string[],
  io: TrackerCommandIo,
  options: TrackerCommandOptions = {},
): Promise<number> {
  let config: TrackerServerOptions | "help";
  try {
    config = parse(args);
  } catch (e) {
    io.stderr(`tracker: ${(e as Error).message}`);
    return 2;
  }
  if (config === "help") {
    io.stdout(TRACKER_USAGE);
    return 0;
  }
  let server: TrackerServer;
  try {
    server = await TrackerServer.start(config);
  } catch (e) {
    io.stderr(`tracker: cannot listen: ${(e as Error).message}`);
    return 1;
  }
  for (const url of server.announceUrls()) io.stdout(`tracker listening on ${url}`);
  if (server.udpAddrs.length > 0 && !isNativeUdp()) {
    io.stderr("tracker: UDP runs on node:dgram; pass --unstable-net for Deno's faster UDP");
  }
  for (const a of server.httpAddrs) {
    io.stdout(`stats on http://${a.host.includes(":") ? `[${a.host}]` : a.host}:${a.port}/stats`);
  }
  await waitForStop(options.signal);
  await server.close();
  io.stdout("tracker stopped");
  return 0;
}
