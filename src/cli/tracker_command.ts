/**
 * `tracker [--host IP]... [--http-port N] [--udp-port N] [--allow HEX]... [--interval S]`:
 * runs the built-in tracker (HTTP BEP 3/23/7 and UDP BEP 15) until SIGINT or SIGTERM, then
 * closes cleanly. `--allow` makes it a private tracker for the listed info-hashes.
 *
 * Layer: platform (CLI).
 * @module
 */
import { parseArgs } from "node:util";
import { TrackerServer, type TrackerServerOptions } from "../deno/tracker_server.ts";

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
    [--allow HEX]... [--interval S]

Runs a BitTorrent tracker (HTTP announce/scrape/stats and UDP BEP 15) until interrupted.

Options:
  --host IP        address to bind, repeatable (default 0.0.0.0; "::" or "::1" for IPv6)
  --http-port N    HTTP port, 0 = any free port (default 6969)
  --udp-port N     UDP port, 0 = any free port (default 6969)
  --allow HEX      serve only this 40-hex-digit info-hash (private tracker), repeatable
  --interval S     announce interval told to clients, seconds (default 1800)
  -h, --help       show this help`;

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
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return "help";
  for (const hex of values.allow ?? []) {
    if (!/^[0-9a-fA-F]{40}$/.test(hex)) {
      throw new UsageError(`--allow needs 40 hex digits, got "${hex}"`);
    }
  }
  const interval = values.interval === undefined ? undefined : Number(values.interval);
  if (
    interval !== undefined && !(Number.isInteger(interval) && interval >= 1 && interval <= 86_400)
  ) {
    throw new UsageError(`--interval must be 1..86400 seconds, got "${values.interval}"`);
  }
  return {
    host: values.host ?? ["0.0.0.0"],
    httpPort: port(values["http-port"], "--http-port") ?? 6969,
    udpPort: port(values["udp-port"], "--udp-port") ?? 6969,
    ...(values.allow ? { allowlist: values.allow } : {}),
    ...(interval === undefined ? {} : { intervalS: interval }),
  };
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
  for (const a of server.httpAddrs) {
    io.stdout(`stats on http://${a.host.includes(":") ? `[${a.host}]` : a.host}:${a.port}/stats`);
  }
  await waitForStop(options.signal);
  await server.close();
  io.stdout("tracker stopped");
  return 0;
}
