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
