/**
 * Compact peer entries for ut_pex (BEP 11): 6 bytes per IPv4 peer and 18 bytes per
 * IPv6 peer, address then port, big-endian (the BEP 23 / BEP 7 forms). Also parses
 * and formats IP literals: IPv6 in RFC 5952 form, IPv4-mapped IPv6 folded to IPv4,
 * so `isLocalAddress` sees the real address. Private to `src/extensions/`.
 *
 * Layer: core (no I/O).
 * @module
 */
import type { PeerAddress } from "../runtime/types.ts";

/** Bytes per compact IPv4 entry. */
export const COMPACT_V4_LENGTH = 6;
/** Bytes per compact IPv6 entry. */
export const COMPACT_V6_LENGTH = 18;

/**
 * Parses a canonical IPv4 dotted quad (no leading zeros), without regular expressions:
 * the sender parses every address of every snapshot.
 * @param text the literal
 * @returns 4 bytes, or `undefined`
 */
export function parseIpv4(text: string): Uint8Array | undefined {
  if (text.length < 7 || text.length > 15) return undefined;
  const out = new Uint8Array(4);
  let part = 0, value = 0, digits = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 0x2e;
    if (c === 0x2e) { // "."
      if (digits === 0 || part > 3) return undefined;
      out[part++] = value;
      value = digits = 0;
    } else if (c >= 0x30 && c <= 0x39) {
      if (digits > 0 && value === 0) return undefined; // leading zero
      value = value * 10 + c - 0x30;
      if (++digits > 3 || value > 255) return undefined;
    } else return undefined;
  }
  return part === 4 ? out : undefined;
}

function groups(text: string): number[] | undefined {
  if (text === "") return [];
  const out: number[] = [];
  const parts = text.split(":");
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (i === parts.length - 1 && p.includes(".")) {
      const v4 = parseIpv4(p);
      if (!v4) return undefined;
      out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
    } else if (/^[0-9a-fA-F]{1,4}$/.test(p)) out.push(parseInt(p, 16));
    else return undefined;
  }
  return out;
}

/**
 * Parses an IPv6 literal (no brackets, no zone id; an IPv4 tail is allowed).
 * @param text the literal
 * @returns 16 bytes, or `undefined`
 */
export function parseIpv6(text: string): Uint8Array | undefined {
  if (text.length > 45 || !text.includes(":")) return undefined;
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !tail) return undefined;
  const total = head.length + tail.length;
  if (halves.length === 2 ? total > 7 : total !== 8) return undefined;
  const all = [...head, ...new Array<number>(8 - total).fill(0), ...tail];
  const out = new Uint8Array(16);
  all.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  return out;
}

function isMappedV4(b: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return false;
  return b[10] === 0xff && b[11] === 0xff;
}

/**
 * Formats 4 or 16 address bytes; IPv6 in RFC 5952 form, IPv4-mapped folded to IPv4.
 * @param b the address bytes
 * @returns the literal
 */
export function formatIp(b: Uint8Array): string {
  if (b.length === 16 && isMappedV4(b)) b = b.subarray(12);
  if (b.length === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push((b[i]! << 8) | b[i + 1]!);
  let bestAt = -1, bestLen = 1;
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) [bestAt, bestLen] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  const hex = g.map((x) => x.toString(16));
  if (bestAt < 0) return hex.join(":");
  return `${hex.slice(0, bestAt).join(":")}::${hex.slice(bestAt + bestLen).join(":")}`;
}

/**
 * The compact entry of a peer, or `undefined` when its host is not an IP literal or
 * its port is invalid. IPv4-mapped IPv6 hosts encode as IPv4.
 * @param addr the peer
 * @returns 6 or 18 bytes, or `undefined`
 */
export function compactEntry(addr: PeerAddress): Uint8Array | undefined {
  if (!Number.isInteger(addr.port) || addr.port < 1 || addr.port > 0xffff) return undefined;
  let ip = parseIpv4(addr.host) ?? parseIpv6(addr.host);
  if (!ip) return undefined;
  if (ip.length === 16 && isMappedV4(ip)) ip = ip.subarray(12);
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
