/**
 * HTTP range requests (RFC 9110 §14): the server side's `Range` and `If-Range`, and the
 * client side's `Content-Range`, for the stream routes and the web-seed client.
 *
 * One `bytes` range is served; a request for several ranges, or in another unit, is
 * answered with the whole representation (RFC 9110 lets a server ignore `Range`). A
 * malformed bytes range (`bytes=5-2`, `bytes=x`) or one starting past the end is refused
 * (416). Numbers too long to be exact are taken as "past any end", never rounded.
 *
 * Layer: core (pure).
 * @module
 */

/** What a `Range` header asks of a representation of known length. */
export type RangeRequest =
  /** No usable range: send the whole representation (200). */
  | { readonly kind: "whole" }
  /** One satisfiable range, `end` inclusive and within the representation (206). */
  | { readonly kind: "range"; readonly start: number; readonly end: number }
  /** A bytes range that cannot be served: malformed, or starting past the end (416). */
  | { readonly kind: "unsatisfiable" };

const MAX_DIGITS = 15; // every 15-digit number is a safe integer
const SPEC = /^(\d*)-(\d*)$/;

/**
 * Reads a `Range` header against a representation of `size` bytes.
 * @param header the header value, or null when absent
 * @param size the representation's length in bytes
 * @returns whole, one range (clamped to the end), or unsatisfiable
 * @example
 * ```ts
 * import { parseRangeHeader } from "./http_range.ts";
 * import { deepStrictEqual } from "node:assert";
 * deepStrictEqual(parseRangeHeader("bytes=-500", 1000), { kind: "range", start: 500, end: 999 });
 * deepStrictEqual(parseRangeHeader("bytes=1000-", 1000), { kind: "unsatisfiable" });
 * deepStrictEqual(parseRangeHeader("items=0-1", 1000), { kind: "whole" });
 * ```
 */
export function parseRangeHeader(header: string | null, size: number): RangeRequest {
  if (header === null) return { kind: "whole" };
  const text = header.trim();
  const eq = text.indexOf("=");
  if (eq < 0 || text.slice(0, eq).trim().toLowerCase() !== "bytes") return { kind: "whole" };
  const set = text.slice(eq + 1).trim();
  if (set.includes(",")) return { kind: "whole" }; // several ranges: the whole file instead
  const m = SPEC.exec(set);
  if (!m || (m[1] === "" && m[2] === "")) return { kind: "unsatisfiable" };
  const first = m[1] === "" ? undefined : toNumber(m[1]!);
  const last = m[2] === "" ? undefined : toNumber(m[2]!);
  if (first === undefined) { // suffix: the last N bytes
    if (last === 0 || size === 0) return { kind: "unsatisfiable" };
    return { kind: "range", start: Math.max(0, size - last!), end: size - 1 };
  }
  if (last !== undefined && last < first) return { kind: "unsatisfiable" };
  if (first >= size) return { kind: "unsatisfiable" };
  return { kind: "range", start: first, end: Math.min(last ?? Infinity, size - 1) };
}

/** Decimal digits as a number; `Infinity` when too long to be exact. */
function toNumber(digits: string): number {
  const trimmed = digits.replace(/^0+(?=\d)/, "");
  return trimmed.length > MAX_DIGITS ? Infinity : Number(trimmed);
}

/**
 * Whether an `If-Range` header lets a range through: only a strong entity tag equal to
 * ours does (we send no `Last-Modified`, so a date never matches, RFC 9110 §13.1.5).
 * @param header the header value, or null when absent (then the range goes through)
 * @param etag our strong entity tag, quotes included
 * @returns true when the range may be served
 */
export function ifRangeAllows(header: string | null, etag: string): boolean {
  if (header === null) return true;
  return header.trim() === etag;
}

/**
 * A `Content-Range` header value for a 206 or a 416 answer.
 * @param range the range served, or undefined for a 416
 * @param size the representation's length in bytes
 * @returns `bytes start-end/size`, or `bytes *\/size`
 */
export function formatContentRange(
  range: { readonly start: number; readonly end: number } | undefined,
  size: number,
): string {
  return range ? `bytes ${range.start}-${range.end}/${size}` : `bytes */${size}`;
}

/** A parsed `Content-Range` of a 206 answer. */
export interface ContentRange {
  /** First byte. */
  readonly start: number;
  /** Last byte, inclusive. */
  readonly end: number;
  /** Representation length, when the server says. */
  readonly size: number | undefined;
}

/**
 * Parses a `Content-Range` header (`bytes 0-499/1234` or `bytes 0-499/*`).
 * @param header the header value
 * @returns the range, or undefined when malformed (or `end < start`)
 */
export function parseContentRange(header: string | null | undefined): ContentRange | undefined {
  const m = /^bytes (\d{1,15})-(\d{1,15})\/(\d{1,15}|\*)$/i.exec(header?.trim() ?? "");
  if (!m) return undefined;
  const start = Number(m[1]), end = Number(m[2]);
  if (end < start) return undefined;
  return { start, end, size: m[3] === "*" ? undefined : Number(m[3]) };
}
