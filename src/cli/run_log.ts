/**
 * `--verbose`: a timestamped log of what the engine does, for diagnosing a download that
 * does not go: connections and handshakes (dials, peers connected and closed, with
 * reasons), choke and interest changes, tracker announces and failures, DHT lookups and
 * announces, pieces and storage. Lines go to stderr, or with `--log FILE` to that file
 * (opened through the control-file path checks: a symlink as the log file is refused).
 *
 * One line per record: `2026-12-05T10:00:00.123Z info peer 10.0.0.2:6881 connected ...`.
 *
 * Layer: platform (CLI).
 * @module
 */
import type { Logger } from "../runtime/types.ts";
import type { EngineEvent } from "../session/events.ts";
import { openControlLog } from "../deno/fs.ts";
import { safeText } from "./common.ts";

/** Where log lines go. */
export interface LogSink {
  /** Appends one line (no newline). */
  write(line: string): void;
  /** Writes what is buffered and releases the sink. */
  close(): Promise<void>;
}

/**
 * A sink that hands each line to `write` (stderr).
 * @param write called once per line
 * @returns the sink
 */
export function lineSink(write: (line: string) => void): LogSink {
  return { write, close: () => Promise.resolve() };
}

/**
 * A sink appending to `path` (created `0644`; never through a symlink). Lines are queued
 * and written in order, off the caller's turn.
 * @param path the log file
 * @returns the sink
 * @throws {StorageError} when the file cannot be opened or is a symlink
 */
export async function fileSink(path: string): Promise<LogSink> {
  const file = await openControlLog(path);
  const enc = new TextEncoder();
  let queue: string[] = [];
  let writing: Promise<void> = Promise.resolve();
  let failed = false;
  const flush = () => {
    const text = queue.join("");
    queue = [];
    writing = writing.then(async () => {
      if (failed) return;
      await file.write(enc.encode(text)).catch(() => failed = true); // a full disk ends the log
    });
  };
  return {
    write(line) {
      if (queue.push(line + "\n") === 1) queueMicrotask(flush);
    },
    async close() {
      if (queue.length > 0) flush();
      await writing;
      await file.close();
    },
  };
}

/** A {@linkcode Logger} and event recorder writing timestamped lines to a sink. */
export class RunLog implements Logger {
  readonly #sink: LogSink;
  readonly #now: () => number;

  /**
   * @param sink where lines go
   * @param now wall-clock ms (default `Date.now`)
   */
  constructor(sink: LogSink, now: () => number = Date.now) {
    this.#sink = sink;
    this.#now = now;
  }

  /** Diagnostic detail. */
  debug(message: string, fields?: Record<string, unknown>): void {
    this.#line("debug", message, fields);
  }

  /** Normal operation. */
  info(message: string, fields?: Record<string, unknown>): void {
    this.#line("info", message, fields);
  }

  /** Recovered problem. */
  warn(message: string, fields?: Record<string, unknown>): void {
    this.#line("warn", message, fields);
  }

  /** Unrecovered problem. */
  error(message: string, fields?: Record<string, unknown>): void {
    this.#line("error", message, fields);
  }

  /** Records an engine event (progress snapshots are left out). */
  event(e: EngineEvent): void {
    const text = describeEvent(e);
    if (text !== undefined) this.#line("event", text);
  }

  /** Flushes and closes the sink. */
  close(): Promise<void> {
    return this.#sink.close();
  }

  #line(level: string, message: string, fields?: Record<string, unknown>): void {
    const extra = fields
      ? Object.entries(fields).map(([k, v]) => ` ${k}=${fieldText(v)}`).join("")
      : "";
    const time = new Date(this.#now()).toISOString();
    this.#sink.write(`${time} ${level} ${safeText(message)}${safeText(extra)}`);
  }
}

/** How a peer-connected line names the connection's encryption. */
const ENCRYPTION_WORDS = {
  "rc4": "MSE RC4",
  "mse-plaintext": "MSE plaintext",
  "none": "plain BitTorrent",
} as const;

function fieldText(v: unknown): string {
  if (typeof v === "string") return /\s/.test(v) ? JSON.stringify(v) : v;
  if (v instanceof Error) return JSON.stringify(v.message);
  try {
    return typeof v === "object" && v !== null ? JSON.stringify(v) : String(v);
  } catch {
    return String(v); // a cycle: the plain form will do
  }
}

/**
 * One log line for an engine event.
 * @param e the event
 * @returns the text, or `undefined` for events the log leaves out (progress)
 */
export function describeEvent(e: EngineEvent): string | undefined {
  switch (e.type) {
    case "progress":
      return undefined;
    case "torrent-added":
      return `torrent ${e.infoHash} added: ${e.name}`;
    case "metadata-received":
      return `metadata received: ${e.name} (${e.bytes} bytes)`;
    case "check-finished":
      return `check finished: ${e.piecesHave} pieces on disk${
        e.usedResume ? " (resume data)" : ""
      }`;
    case "torrent-completed":
      return "download complete: every piece verified and on disk";
    case "torrent-error":
      return `torrent error: ${e.message}`;
    case "torrent-stopped":
      return "torrent stopped";
    case "piece-verified":
      return `piece ${e.index} verified and written`;
    case "piece-hash-failed":
      return `piece ${e.index} failed its hash (sent by ${e.peers.join(", ") || "nobody"})`;
    case "peer-connected":
      return `peer ${e.peer} connected (${e.outgoing ? "we dialled" : "it dialled"}` +
        `${e.transport === "utp" ? " over uTP" : ""}, ` +
        `handshake done, client ${e.client}, ${ENCRYPTION_WORDS[e.encryption]})`;
    case "peer-closed":
      return `peer ${e.peer} closed: ${e.reason}`;
    case "peer-banned":
      return `peer ${e.peer} banned: ${e.reason}`;
    case "tracker-announced":
      return `tracker ${e.url} answered: ${e.peers} peers`;
    case "tracker-warning":
      return `tracker ${e.url}: ${e.message}`;
    case "dht-warning":
    case "storage-warning":
      return e.message;
  }
}
