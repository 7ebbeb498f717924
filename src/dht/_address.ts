/**
 * Address helpers for the DHT: IPv4/IPv6 parsing and formatting, the local-address
 * rule (RELIABILITY D7), per-IP and per-subnet keys (D5).
 *
 * Layer: core (pure). Private to `src/dht/`.
 * @module
 */
import type { PeerAddress } from "../runtime/types.ts";

/**
 * Reads a dotted-quad IPv4 address as a number, without allocating (hot path).
 * @param host the text
 * @returns the address as an unsigned 32-bit integer, or -1 when `host` is not a dotted quad
 */
export function ipv4Number(host: string): number {
  if (host.length < 7 || host.length > 15) return -1;
  let n = 0, part = 0, value = 0, digits = 0;
  for (let i = 0; i <= host.length; i++) {
    const c = i < host.length ? host.charCodeAt(i) : 0x2e;
    if (c === 0x2e) { // "."
      if (digits === 0 || part > 3) return -1;
      n = n * 256 + value;
      part++;
      value = 0;
      digits = 0;
    } else if (c >= 0x30 && c <= 0x39) {
      if (digits > 0 && value === 0) return -1; // leading zero
      value = value * 10 + c - 0x30;
      if (++digits > 3 || value > 255) return -1;
    } else return -1;
  }
  return part === 4 ? n : -1;
}

/**
 * Parses a dotted-quad IPv4 address.
 * @param host the text
 * @returns 4 bytes, or `undefined` when `host` is not a dotted quad
 */
export function parseIpv4(host: string): Uint8Array | undefined {
  const n = ipv4Number(host);
  if (n < 0) return undefined;
  return new Uint8Array([n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);
}

/**
 * Parses an IPv6 literal (no brackets, no zone; embedded IPv4 tail allowed).
 * @param host the text
 * @returns 16 bytes, or `undefined` when `host` is not an IPv6 literal
 */
export function parseIpv6(host: string): Uint8Array | undefined {
  if (!host.includes(":") || host.length > 45) return undefined;
  const halves = host.split("::");
  if (halves.length > 2) return undefined;
  const words = (half: string): number[] | undefined => {
    if (half === "") return [];
    const out: number[] = [];
    const parts = half.split(":");
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
  };
  const head = words(halves[0]!);
  const tail = halves.length === 2 ? words(halves[1]!) : [];
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const all = [...head, ...new Array<number>(missing).fill(0), ...tail];
  const out = new Uint8Array(16);
  all.forEach((w, i) => {
    out[2 * i] = w >> 8;
    out[2 * i + 1] = w & 0xff;
  });
  return out;
}

/**
 * Formats 4 or 16 address bytes as text (IPv6 in RFC 5952 short form).
 * @param bytes the address bytes
 * @returns the dotted quad or IPv6 literal
 * @throws {RangeError} when `bytes` is neither 4 nor 16 long
 */
export function formatIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
  if (bytes.length !== 16) {
    throw new RangeError(`Cannot format an address of ${bytes.length} bytes`);
  }
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push((bytes[i]! << 8) | bytes[i + 1]!);
  let bestAt = -1, bestLen = 1;
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) [bestAt, bestLen] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  const hex = words.map((w) => w.toString(16));
  if (bestAt < 0) return hex.join(":");
  return `${hex.slice(0, bestAt).join(":")}::${hex.slice(bestAt + bestLen).join(":")}`;
}

/**
 * The address bytes of a host literal.
 * @param host an IPv4 or IPv6 literal
 * @returns 4 or 16 bytes, or `undefined` for a hostname or garbage
 */
export function parseIp(host: string): Uint8Array | undefined {
  return parseIpv4(host) ?? parseIpv6(host);
}

function isLocalIpv4(n: number): boolean {
  const a = n >>> 24, c = (n >>> 16) & 0xff;
  return a === 0 || a === 10 || a === 127 || a >= 224 || // this-net, private, loopback, multicast+
    (a === 100 && (c & 0xc0) === 64) || // 100.64/10 carrier-grade NAT
    (a === 169 && c === 254) || (a === 172 && (c & 0xf0) === 16) || (a === 192 && c === 168);
}

/**
 * True for addresses a public DHT must never insert or hand out (D7): loopback,
 * private, link-local, carrier-grade NAT, multicast, reserved, unspecified, and
 * anything that is not an IP literal.
 * @param host the host text
 * @returns whether the host is local or unusable
 */
export function isLocalHost(host: string): boolean {
  const v4 = ipv4Number(host);
  if (v4 >= 0) return isLocalIpv4(v4);
  const v6 = parseIpv6(host);
  if (!v6) return true;
  const zeroHead = v6.subarray(0, 10).every((x) => x === 0);
  if (zeroHead && v6[10] === 0xff && v6[11] === 0xff) {
    return isLocalIpv4(((v6[12]! << 24) | (v6[13]! << 16) | (v6[14]! << 8) | v6[15]!) >>> 0);
  }
  if (zeroHead && v6[10] === 0 && v6[11] === 0 && v6.subarray(12, 15).every((x) => x === 0)) {
    return true; // :: and ::1
  }
  const first = v6[0]!;
  return first === 0xff || (first & 0xfe) === 0xfc || (first === 0xfe && (v6[1]! & 0xc0) === 0x80);
}

/**
 * Whether an address may enter the routing table, a lookup or a peer list (D7).
 * @param addr the address
 * @param allowLocal accept loopback/private addresses (test mode)
 * @returns true when the port is 1..65535, the host an IP literal, and not local unless allowed
 */
export function isUsableAddress(addr: PeerAddress, allowLocal: boolean): boolean {
  if (!Number.isInteger(addr.port) || addr.port < 1 || addr.port > 65535) return false;
  if (allowLocal) return ipv4Number(addr.host) >= 0 || parseIpv6(addr.host) !== undefined;
  return !isLocalHost(addr.host);
}

/**
 * A canonical `host:port` key (IPv6 bracketed).
 * @param addr the address
 * @returns the key
 */
export function addressKey(addr: PeerAddress): string {
  return addr.host.includes(":") ? `[${addr.host}]:${addr.port}` : `${addr.host}:${addr.port}`;
}

/**
 * The subnet an address belongs to for the D5 rule: /24 for IPv4, /64 for IPv6.
 * @param host the host text
 * @returns a key shared by all hosts of that subnet
 */
export function subnetKey(host: string): string {
  const v4 = ipv4Number(host);
  if (v4 >= 0) return String(v4 >>> 8);
  const v6 = parseIpv6(host);
  if (!v6) return host;
  const prefix = new Uint8Array(16);
  prefix.set(v6.subarray(0, 8));
  return formatIp(prefix);
}

/**
 * The canonical text of an IP literal (so `::0:1` and `::1` compare equal).
 * @param host the host text
 * @returns the canonical form, or `host` unchanged when it is not an IP literal
 */
export function canonicalHost(host: string): string {
  if (ipv4Number(host) >= 0) return host; // a valid dotted quad is already canonical
  const ip = parseIpv6(host);
  return ip ? formatIp(ip) : host;
}
