/**
 * Query-string parsing for tracker requests: values are percent-decoded to raw bytes
 * (an info-hash is 20 arbitrary bytes, so `URLSearchParams`' UTF-8 decoding would corrupt
 * it); `+` is a space, as in forms.
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
 * Percent-decodes one query component to bytes.
 * @param text the component (ASCII)
 * @param offset where it starts in the whole query, for error offsets
 * @returns the bytes
 * @throws {TrackerSyntaxError} on a bad escape or a character above U+00FF
 */
export function percentDecode(text: string, offset = 0): Uint8Array {
  const out = new Uint8Array(text.length);
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x25) {
      const hi = hexValue(text.charCodeAt(i + 1));
      const lo = hexValue(text.charCodeAt(i + 2));
      if (hi < 0 || lo < 0) throw new TrackerSyntaxError("bad percent escape", offset + i);
      out[n++] = (hi << 4) | lo;
      i += 2;
    } else if (c > 0xff) {
      throw new TrackerSyntaxError("non-byte character in query", offset + i);
    } else {
      out[n++] = c === 0x2b ? 0x20 : c;
    }
  }
  return out.subarray(0, n);
}

/**
 * Parses a query string (without `?`) into raw byte values per key; keys are latin1.
 * @param query the query
 * @returns values by key, in order
 * @throws {TrackerSyntaxError} on a bad escape or more than {@linkcode MAX_QUERY_PARAMS} parameters
 */
export function parseQuery(query: string): Map<string, Uint8Array[]> {
  const out = new Map<string, Uint8Array[]>();
  let at = 0, count = 0;
  while (at < query.length) {
    let end = query.indexOf("&", at);
    if (end < 0) end = query.length;
    if (end > at) {
      if (++count > MAX_QUERY_PARAMS) throw new TrackerSyntaxError("too many parameters", at);
      const eq = query.indexOf("=", at);
      const keyEnd = eq < 0 || eq > end ? end : eq;
      const key = String.fromCharCode(...percentDecode(query.slice(at, keyEnd), at));
      const value = keyEnd === end
        ? new Uint8Array(0)
        : percentDecode(query.slice(keyEnd + 1, end), keyEnd + 1);
      const list = out.get(key);
      if (list) list.push(value);
      else out.set(key, [value]);
    }
    at = end + 1;
  }
  return out;
}
