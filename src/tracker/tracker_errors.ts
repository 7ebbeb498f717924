/**
 * Tracker error classes: malformed tracker bytes (a `SyntaxError` with `offset`, STYLE §6)
 * and a tracker's own refusal (`failure reason`, BEP 15 error action, HTTP 410).
 *
 * Layer: core (no I/O).
 * @module
 */
import { TrackerError } from "../errors.ts";

/**
 * Malformed tracker bytes (HTTP body, query string or UDP packet); `offset` is where.
 * @example
 * ```ts
 * import { parseAnnounceResponse, TrackerSyntaxError } from "./mod.ts";
 * import { ok as assert } from "node:assert";
 * try {
 *   parseAnnounceResponse(new TextEncoder().encode("d8:interval"));
 * } catch (e) {
 *   assert(e instanceof TrackerSyntaxError && e instanceof SyntaxError && e.offset === 11);
 * }
 * ```
 */
export class TrackerSyntaxError extends SyntaxError {
  /** Byte offset of the failure in the input. */
  readonly offset: number;
  /**
   * Builds the error.
   * @param message what was wrong
   * @param offset byte offset in the input
   * @param options standard error options (`cause`)
   */
  constructor(message: string, offset: number, options?: ErrorOptions) {
    super(`Cannot decode tracker message at offset ${offset}: ${message}`, options);
    this.name = "TrackerSyntaxError";
    this.offset = offset;
  }
}

/**
 * The tracker answered, but refused: `failure reason`, a UDP error action, an HTTP error
 * status. `permanent` (HTTP 410 or `retry in: never`, RELIABILITY TC4) means stop using
 * that URL; `retryInS` is the tracker's minimum delay before the next try, when given.
 * @example
 * ```ts
 * import { TrackerFailureError } from "./mod.ts";
 * import { TrackerError } from "../errors.ts";
 * import { ok as assert } from "node:assert";
 * const e = new TrackerFailureError("Tracker gone (HTTP 410)", { permanent: true });
 * assert(e instanceof TrackerError && e.permanent);
 * ```
 */
export class TrackerFailureError extends TrackerError {
  /** True when the URL must not be used again. */
  readonly permanent: boolean;
  /** The tracker's requested delay before a retry, in seconds. */
  readonly retryInS: number | undefined;
  /**
   * Builds the error.
   * @param message what the tracker said
   * @param options `permanent`, `retryInS` and the standard `cause`
   */
  constructor(
    message: string,
    options: ErrorOptions & { permanent?: boolean; retryInS?: number } = {},
  ) {
    super(message, options);
    this.name = "TrackerFailureError";
    this.permanent = options.permanent ?? false;
    this.retryInS = options.retryInS;
  }
}

/** Characters that could drive a terminal or reorder text: C0/C1 controls, zero-width, bidi. */
// deno-lint-ignore no-control-regex
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * Text a tracker sent (`failure reason`, a UDP error message), quoted for a log line or a
 * terminal: unprintable characters escaped (RELIABILITY C3), at most 200 characters.
 * @param text what the tracker said
 * @returns the text in double quotes
 * @example
 * ```ts
 * import { quoteTrackerText } from "./mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * assertEquals(quoteTrackerText("not registered\u001b[31m"), '"not registered\\u{1b}[31m"');
 * ```
 */
export function quoteTrackerText(text: string): string {
  const cut = text.length > 200 ? `${text.slice(0, 200)}…` : text;
  return `"${cut.replace(UNPRINTABLE, (c) => `\\u{${c.charCodeAt(0).toString(16)}}`)}"`;
}

/**
 * A wait as a failure reason shows it: `Timed out after 30 s`, `… 1.5 s`, `… 300 ms`.
 * @param ms the time waited
 * @returns `"30 s"`, `"1.5 s"` or `"300 ms"`
 */
export function formatWait(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${Number((ms / 1000).toFixed(1))} s`;
}
