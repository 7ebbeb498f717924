/**
 * Query-string parsing for tracker requests: values are percent-decoded to raw bytes, held
 * as latin1 strings (an info-hash is 20 arbitrary bytes, so `URLSearchParams`' UTF-8
 * decoding would corrupt it); `+` is a space, as in forms.
 *
 * Layer: core (no I/O).
 * @module
 */
import { TrackerSyntaxError } from "../tracker_errors.ts";

/** Most parameters read from one query (scrapes repeat `info_hash`). */
export const MAX_QUERY_PARAMS = 256;

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/**
 * Percent-decodes `text[start, end)` to a latin1 string (one char per byte).
 * @param text the query (ASCII)
 * @param start first char
 * @param end one past the last char
 * @returns the decoded bytes as latin1
 * @throws {TrackerSyntaxError} on a bad escape or a character above U+00FF
 */
export function percentDecodeLatin1(text: string, start = 0, end = text.length): string {
  let plain = true;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x25 || c === 0x2b || c > 0xff) {
      plain = false;
      break;
    }
  }
  if (plain) return text.slice(start, end);
  let out = "";
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x25) {
      const hi = hexValue(text.charCodeAt(i + 1));
      const lo = hexValue(text.charCodeAt(i + 2));
      if (hi < 0 || lo < 0 || i + 2 >= end) throw new TrackerSyntaxError("bad percent escape", i);
      out += String.fromCharCode((hi << 4) | lo);
      i += 2;
    } else if (c > 0xff) {
      throw new TrackerSyntaxError("non-byte character in query", i);
    } else {
      out += c === 0x2b ? " " : text[i];
    }
  }
  return out;
}

/**
 * Parses a query string (without `?`) into values per key; keys and values are
 * percent-decoded latin1 strings (one char per byte, so binary values survive).
 * @param query the query
 * @returns values by key, in order
 * @throws {TrackerSyntaxError} on a bad escape or more than {@linkcode MAX_QUERY_PARAMS} parameters
 * @example
 * ```ts
 * import { parseQuery } from "./mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * assertEquals(parseQuery("info_hash=%00%FF&x=a+b").get("info_hash"), ["\u0000\u00ff"]);
 * ```
 */
export function parseQuery(query: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let at = 0, count = 0;
  while (at < query.length) {
    let end = query.indexOf("&", at);
    if (end < 0) end = query.length;
    if (end > at) {
      if (++count > MAX_QUERY_PARAMS) throw new TrackerSyntaxError("too many parameters", at);
      const eq = query.indexOf("=", at);
      const keyEnd = eq < 0 || eq > end ? end : eq;
      const key = percentDecodeLatin1(query, at, keyEnd);
      const value = keyEnd === end ? "" : percentDecodeLatin1(query, keyEnd + 1, end);
      const list = out.get(key);
      if (list) list.push(value);
      else out.set(key, [value]);
    }
    at = end + 1;
  }
  return out;
}
