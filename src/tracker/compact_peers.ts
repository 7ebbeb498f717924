/**
 * Compact peer lists: 6 bytes per IPv4 peer (BEP 23) and 18 bytes per IPv6 peer (BEP 7),
 * address then port, both big-endian. A partial tail is ignored and the list capped
 * (RELIABILITY TC3); entries with port 0 are dropped (EX7).
 *
 * Layer: core (no I/O).
 * @module
 */
import type { PeerAddress } from "../runtime/types.ts";
import { formatIp, parseIp } from "../util/ip.ts";

/** Address family of a compact list: 4 → 6-byte entries, 6 → 18-byte entries. */
export type IpFamily = 4 | 6;

/**
 * Decodes a compact peer list.
 * @param bytes the concatenated entries
 * @param family 4 for BEP 23 (6-byte entries), 6 for BEP 7 (18-byte entries)
 * @param maxPeers stop after this many peers
 * @returns the peers; a partial trailing entry and port-0 entries are skipped
 * @example
 * ```ts
 * import { decodeCompactPeers } from "./mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const bytes = new Uint8Array([127, 0, 0, 1, 0x1a, 0xe1, 9, 9]); // the 2-byte tail is ignored
 * assertEquals(decodeCompactPeers(bytes, 4, 100), [{ host: "127.0.0.1", port: 6881 }]);
 * ```
 */
export function decodeCompactPeers(
  bytes: Uint8Array,
  family: IpFamily,
  maxPeers: number,
): PeerAddress[] {
  const size = family === 4 ? 6 : 18;
  const ipLength = size - 2;
  const out: PeerAddress[] = [];
  for (let at = 0; at + size <= bytes.length && out.length < maxPeers; at += size) {
    const port = (bytes[at + ipLength]! << 8) | bytes[at + ipLength + 1]!;
    if (port === 0) continue;
    out.push({ host: formatIp(bytes.subarray(at, at + ipLength)), port });
  }
  return out;
}

/**
 * Encodes one peer as a compact entry (6 bytes for IPv4, 18 for IPv6).
 * @param host an IP literal
 * @param port 1..65535
 * @returns the entry
 * @throws {TypeError} when `host` is not an IP literal
 * @throws {RangeError} when `port` is out of range
 */
export function encodeCompactPeer(host: string, port: number): Uint8Array {
  const ip = parseIp(host);
  if (!ip) throw new TypeError(`Cannot encode compact peer: "${host}" is not an IP literal`);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new RangeError(`Cannot encode compact peer: port ${port} out of range`);
  }
  const out = new Uint8Array(ip.length + 2);
  out.set(ip);
  out[ip.length] = port >> 8;
  out[ip.length + 1] = port & 0xff;
  return out;
}

/**
 * Encodes peers of one family as a compact list, skipping peers of the other family.
 * @param peers the peers (IP literals)
 * @param family which family to keep
 * @returns the concatenated entries
 * @throws {TypeError} when a host is not an IP literal
 * @example
 * ```ts
 * import { encodeCompactPeers } from "./mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * assertEquals(encodeCompactPeers([{ host: "::1", port: 1 }, { host: "1.2.3.4", port: 2 }], 4), new Uint8Array([1, 2, 3, 4, 0, 2]));
 * ```
 */
export function encodeCompactPeers(peers: readonly PeerAddress[], family: IpFamily): Uint8Array {
  const parts = peers.map((p) => encodeCompactPeer(p.host, p.port))
    .filter((e) => e.length === (family === 4 ? 6 : 18));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
