/**
 * Shared CLI plumbing: argument parsing with one-line usage errors (exit 2), terminal-safe
 * printing (RELIABILITY C3: names are escaped), byte and rate formatting.
 *
 * Layer: platform (CLI).
 * @module
 */
import { parseHostPort as parseAddress } from "../util/address.ts";
import { parseArgs, type ParseArgsConfig } from "node:util";
import denoJson from "../../deno.json" with { type: "json" };
import { BencodeSyntaxError, FILE_LIMITS } from "../bencode/mod.ts";
import { MetainfoError } from "../errors.ts";
import { formatBytes } from "../util/format.ts";
import { type Metainfo, parseTorrent } from "../metainfo/mod.ts";

/** The tool's version, from deno.json. */
export const VERSION: string = denoJson.version;

/** An error that ends a command with an exit code and a one-line message. */
export class CliError extends Error {
  /** Process exit code: 1 runtime failure, 2 bad input. */
  readonly exitCode: number;
  /** Builds the error. */
  constructor(message: string, exitCode = 2, options?: ErrorOptions) {
    super(message, options);
    this.name = "CliError";
    this.exitCode = exitCode;
  }
}

/** Where a command writes. Tests capture it; the real CLI writes to stdout/stderr. */
export interface CliIo {
  /** Writes one line to standard output. */
  stdout(line: string): void;
  /** Writes one line to standard error. */
  stderr(line: string): void;
  /** Rewrites the current terminal line (progress); no-op when not a terminal. */
  status(line: string): void;
  /** True when standard output is a terminal. */
  readonly isTerminal: boolean;
}

/** Options schema accepted by {@linkcode parseCommand}. */
export type OptionsSpec = NonNullable<ParseArgsConfig["options"]>;

/**
 * Parses `args` strictly; unknown flags and missing values become a {@linkcode CliError}.
 * @param args the command's arguments (after the command name)
 * @param options the flags it takes; `help` is added
 * @returns the flag values and positionals
 * @throws {CliError} on a bad flag (exit 2)
 */
export function parseCommand(
  args: string[],
  options: OptionsSpec,
): {
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  positionals: string[];
} {
  try {
    const { values, positionals } = parseArgs({
      args,
      options: { ...options, help: { type: "boolean", short: "h" } },
      allowPositionals: true,
      strict: true,
    });
    return {
      values: values as Record<string, string | boolean | (string | boolean)[] | undefined>,
      positionals,
    };
  } catch (e) {
    const message = e instanceof Error ? e.message.split("\n")[0]! : String(e);
    throw new CliError(message.replace(/\. To specify.*$/, ""), 2, { cause: e });
  }
}

/** A string flag's value, or `undefined`. */
export function stringFlag(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/** A repeated string flag's values. */
export function listFlag(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === "string");
  return typeof value === "string" ? [value] : [];
}

/**
 * Parses a whole number flag within a range.
 * @throws {CliError} when not an integer in range (exit 2)
 */
export function intFlag(
  name: string,
  value: unknown,
  min: number,
  max: number,
): number | undefined {
  if (value === undefined) return undefined;
  const n = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new CliError(`Invalid --${name}: "${value}" is not a whole number from ${min} to ${max}`);
  }
  return n;
}

/**
 * Parses a byte size or rate such as `512K`, `10M`, `1.5MiB`, `2G` (binary units).
 * @throws {CliError} when unparsable (exit 2)
 */
export function parseByteSize(name: string, text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b)?(\/s)?$/i.exec(text.trim());
  if (!m) throw new CliError(`Invalid --${name}: "${text}" is not a size like 512K or 10M`);
  const unit = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[
    m[2]!.toLowerCase() as "" | "k" | "m" | "g" | "t"
  ];
  const n = Math.round(Number(m[1]) * unit);
  if (!Number.isSafeInteger(n) || n <= 0) throw new CliError(`Invalid --${name}: "${text}"`);
  return n;
}

/**
 * Parses `HOST:PORT` (IPv6 as `[::1]:6881`).
 * @throws {CliError} when malformed (exit 2)
 */
export function parseHostPort(name: string, text: string): { host: string; port: number } {
  const addr = parseAddress(text);
  if (!addr) throw new CliError(`Invalid --${name}: "${text}" is not HOST:PORT`);
  return addr;
}

/** Escapes control, bidi and other invisible characters so a name cannot drive the terminal. */
export function safeText(text: string): string {
  return text.replace(
    // deno-lint-ignore no-control-regex
    /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069]/g,
    (c) => `\\u{${c.charCodeAt(0).toString(16)}}`,
  );
}

export { formatBytes } from "../util/format.ts";

/** `2 * 1024 * 1024` → `"2.00 MiB/s"`. */
export function formatRate(bytesPerSecond: number): string {
  return `${formatBytes(Math.round(bytesPerSecond))}/s`;
}

/** Seconds → `"1h02m"`, `"3m05s"`, `"42s"`, or `"-"` when unknown. */
export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return "-";
  const s = Math.round(seconds);
  if (s >= 3600) {
    return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
  }
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${s}s`;
}

/** The real terminal I/O. */
export function denoIo(): CliIo {
  const enc = new TextEncoder();
  const isTerminal = Deno.stdout.isTerminal();
  let statusShown = false;
  const clear = () => {
    if (statusShown) Deno.stdout.writeSync(enc.encode("\r\x1b[2K"));
    statusShown = false;
  };
  return {
    isTerminal,
    stdout(line) {
      clear();
      Deno.stdout.writeSync(enc.encode(line + "\n"));
    },
    stderr(line) {
      clear();
      Deno.stderr.writeSync(enc.encode(line + "\n"));
    },
    status(line) {
      if (!isTerminal) return;
      const width = Deno.consoleSize?.().columns ?? 100;
      Deno.stdout.writeSync(enc.encode("\r\x1b[2K" + line.slice(0, width - 1)));
      statusShown = true;
    },
  };
}

/**
 * Reads a whole input file (a .torrent, a resume file) with a size cap, turning file-system
 * failures into one-line {@linkcode CliError}s that name the file (exit 2: bad input).
 * @param path the file to read
 * @param what what the file is, for the message (e.g. `"torrent"`)
 * @param maxBytes refuse larger files (checked before reading)
 * @returns the file's bytes
 * @throws {CliError} when the file is missing, unreadable, not a regular file or too large
 */
export async function readInputFile(
  path: string,
  what: string,
  maxBytes: number,
): Promise<Uint8Array> {
  try {
    const info = await Deno.stat(path);
    if (!info.isFile) throw new CliError(`Cannot read ${what} "${safeText(path)}": not a file`);
    if (info.size > maxBytes) {
      throw new CliError(
        `Cannot read ${what} "${
          safeText(path)
        }": ${info.size} bytes exceeds the ${maxBytes}-byte limit`,
      );
    }
    return await Deno.readFile(path);
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(`Cannot read ${what} "${safeText(path)}": ${fsReason(e)}`, 2, { cause: e });
  }
}

/**
 * A short reason for a file-system error: "file not found", "permission denied", or the message.
 * @param e the caught error
 * @returns a lower-case phrase for an error message
 */
export function fsReason(e: unknown): string {
  if (e instanceof Deno.errors.NotFound) return "file not found";
  if (e instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (e instanceof Deno.errors.IsADirectory) return "is a directory";
  return e instanceof Error ? e.message.split("\n")[0]! : String(e);
}

/**
 * Reads and parses a .torrent file; any failure is a one-line {@linkcode CliError} (exit 2) that
 * names the file and, for invalid metainfo, the offending field.
 * @param path the .torrent file
 * @returns the parsed metainfo
 * @throws {CliError} when the file is unreadable, over 10 MiB or not a valid torrent
 */
export async function loadTorrent(path: string): Promise<Metainfo> {
  const bytes = await readInputFile(path, "torrent", FILE_LIMITS.maxBytes);
  try {
    return parseTorrent(bytes);
  } catch (e) {
    const field = e instanceof MetainfoError
      ? e.field
      : e instanceof BencodeSyntaxError
      ? "(bencode)"
      : undefined;
    if (field === undefined || !(e instanceof Error)) throw e;
    throw new CliError(
      `Cannot read torrent "${safeText(path)}": ${e.message.split("\n")[0]} (field "${field}")`,
      2,
      { cause: e },
    );
  }
}
