/**
 * Local Service Discovery messages (BEP 14): the `BT-SEARCH` announce a client multicasts
 * to its LAN to say which torrents it is in and on which port it listens.
 *
 * ```
 * BT-SEARCH * HTTP/1.1\r\n
 * Host: 239.192.152.143:6771\r\n
 * Port: <listen port>\r\n
 * Infohash: <40 hex digits>\r\n      (one or more)
 * cookie: <ours>\r\n                 (optional: tells our own announces apart)
 * \r\n
 * ```
 *
 * Parsing is lenient where clients differ (header names in any case, `\n` or `\r\n` line
 * ends, Transmission sends no cookie, libtorrent a hex one) and strict where it matters:
 * the method, a port in 1..65535, info-hashes of exactly 40 hex digits; a datagram over
 * {@linkcode MAX_LSD_MESSAGE_BYTES} or with more than {@linkcode MAX_LSD_INFO_HASHES}
 * info-hashes is not read at all.
 *
 * Layer: core (pure).
 * @module
 */

/** The IPv4 multicast group and port of BEP 14 (organisation-local scope). */
export const LSD_GROUP_V4 = { host: "239.192.152.143", port: 6771 } as const;

/** Largest announce read or written, bytes (a datagram that fits any LAN's MTU). */
export const MAX_LSD_MESSAGE_BYTES = 1400;

/** Most info-hashes one announce may carry (what fits in {@linkcode MAX_LSD_MESSAGE_BYTES}). */
export const MAX_LSD_INFO_HASHES = 24;

/** A parsed announce. */
export interface LsdAnnounce {
  /** The port the sender listens on for peer connections. */
  readonly port: number;
  /** Info-hashes, 40 lowercase hex digits each, without repeats. */
  readonly infoHashes: readonly string[];
  /** The sender's cookie, as sent (lowercase), if any. */
  readonly cookie?: string;
}

const HEX40 = /^[0-9a-f]{40}$/;

/**
 * The announce datagram for `infoHashes` (at most {@linkcode MAX_LSD_INFO_HASHES}).
 * @param port our listen port
 * @param infoHashes 40-digit hex info-hashes
 * @param cookie our cookie (hex digits), so we can drop our own announces looped back to us
 * @returns the datagram
 * @throws {RangeError} for a bad port, info-hash or cookie, or too many info-hashes
 * @example
 * ```ts
 * import { encodeLsdAnnounce, parseLsdAnnounce } from "./lsd_message.ts";
 * import { deepStrictEqual } from "node:assert";
 * const hash = "0123456789abcdef0123456789abcdef01234567";
 * const bytes = encodeLsdAnnounce(6881, [hash], "5eed");
 * deepStrictEqual(parseLsdAnnounce(bytes), { port: 6881, infoHashes: [hash], cookie: "5eed" });
 * ```
 */
export function encodeLsdAnnounce(
  port: number,
  infoHashes: readonly string[],
  cookie: string,
): Uint8Array {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new RangeError(`Cannot announce port ${port} over LSD`);
  }
  if (infoHashes.length === 0 || infoHashes.length > MAX_LSD_INFO_HASHES) {
    throw new RangeError(`Cannot announce ${infoHashes.length} info-hashes in one LSD message`);
  }
  if (!/^[0-9a-f]{1,16}$/.test(cookie)) throw new RangeError(`Invalid LSD cookie: ${cookie}`);
  const lines = [
    "BT-SEARCH * HTTP/1.1",
    `Host: ${LSD_GROUP_V4.host}:${LSD_GROUP_V4.port}`,
    `Port: ${port}`,
  ];
  for (const hash of infoHashes) {
    const lower = hash.toLowerCase();
    if (!HEX40.test(lower)) throw new RangeError(`Invalid info-hash for LSD: ${hash}`);
    lines.push(`Infohash: ${lower}`);
  }
  lines.push(`cookie: ${cookie}`, "", "", "");
  return new TextEncoder().encode(lines.join("\r\n"));
}

/**
 * Reads an announce.
 * @param bytes one datagram
 * @returns the announce, or `undefined` for anything that is not a well-formed one (too
 *   long, another method, no valid port, no valid info-hash)
 */
export function parseLsdAnnounce(bytes: Uint8Array): LsdAnnounce | undefined {
  if (bytes.length > MAX_LSD_MESSAGE_BYTES) return undefined;
  const text = new TextDecoder("latin1").decode(bytes);
  const lines = text.split("\n").map((l) => l.replace(/\r$/, ""));
  if (!/^BT-SEARCH \* HTTP\/1\.[01]$/i.test(lines[0] ?? "")) return undefined;
  let port: number | undefined;
  let cookie: string | undefined;
  const infoHashes = new Set<string>();
  let hashLines = 0;
  for (const line of lines.slice(1)) {
    if (line === "") break; // end of the headers
    const colon = line.indexOf(":");
    if (colon <= 0) return undefined;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim().toLowerCase();
    if (name === "port") {
      if (!/^\d{1,5}$/.test(value)) return undefined;
      port = Number(value);
    } else if (name === "infohash") {
      if (++hashLines > MAX_LSD_INFO_HASHES) return undefined;
      if (HEX40.test(value) && !/^0+$/.test(value)) infoHashes.add(value);
    } else if (name === "cookie") {
      cookie = value;
    }
  }
  if (port === undefined || port < 1 || port > 65535 || infoHashes.size === 0) return undefined;
  return { port, infoHashes: [...infoHashes], ...(cookie !== undefined ? { cookie } : {}) };
}
