/**
 * Compact peer entries for ut_pex (BEP 11): 6 bytes per IPv4 peer and 18 bytes per
 * IPv6 peer, address then port, big-endian (the BEP 23 / BEP 7 forms), with IPv4-mapped
 * IPv6 folded to IPv4 so the local-address rule sees the real address. Parsing comes
 * from src/util/ip.ts. Private to `src/extensions/`.
 *
 * Layer: core (no I/O).
 * @module
 */
import type { PeerAddress } from "../runtime/types.ts";
import { formatIp as formatRawIp, parseIp } from "../util/ip.ts";

export { parseIpv4, parseIpv6 } from "../util/ip.ts";

/** Bytes per compact IPv4 entry. */
export const COMPACT_V4_LENGTH = 6;
/** Bytes per compact IPv6 entry. */
export const COMPACT_V6_LENGTH = 18;

/**
 * Formats 4 or 16 address bytes, folding IPv4-mapped IPv6 to IPv4 (so the local-address
 * rule sees the real address).
 * @param b the address bytes
 * @returns the literal
 */
export function formatIp(b: Uint8Array): string {
  return formatRawIp(b.length === 16 && isMappedV4(b) ? b.subarray(12) : b);
}

function isMappedV4(b: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return false;
  return b[10] === 0xff && b[11] === 0xff;
}

/**
 * The compact entry of a peer, or `undefined` when its host is not an IP literal or
 * its port is invalid. IPv4-mapped IPv6 hosts encode as IPv4.
 * @param addr the peer
 * @returns 6 or 18 bytes, or `undefined`
 */
export function compactEntry(addr: PeerAddress): Uint8Array | undefined {
  if (!Number.isInteger(addr.port) || addr.port < 1 || addr.port > 0xffff) return undefined;
  const ip = parseIp(addr.host); // IPv4-mapped IPv6 folds to IPv4
  if (!ip) return undefined;
  const out = new Uint8Array(ip.length + 2);
  out.set(ip);
  out[ip.length] = addr.port >> 8;
  out[ip.length + 1] = addr.port & 0xff;
  return out;
}

/**
 * Reads compact entries; a partial tail is dropped (RELIABILITY EX6), and no more
 * than `max` entries are read.
 * @param bytes the concatenated entries
 * @param entryLength 6 or 18
 * @param max the most entries to read
 * @returns the peers, port 0 included (the caller filters)
 */
export function readCompact(bytes: Uint8Array, entryLength: number, max: number): PeerAddress[] {
  const out: PeerAddress[] = [];
  const ipLength = entryLength - 2;
  for (let at = 0; at + entryLength <= bytes.length && out.length < max; at += entryLength) {
    const port = (bytes[at + ipLength]! << 8) | bytes[at + ipLength + 1]!;
    out.push({ host: formatIp(bytes.subarray(at, at + ipLength)), port });
  }
  return out;
}
