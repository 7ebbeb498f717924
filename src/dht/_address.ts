/**
 * Address helpers for the DHT: a non-allocating IPv4 reader for the hot path, the
 * local-address rule (RELIABILITY D7), per-IP and per-subnet keys (D5). Parsing and
 * formatting come from src/util/ip.ts.
 *
 * Layer: core (pure). Private to `src/dht/`.
 * @module
 */
import type { PeerAddress } from "../runtime/types.ts";
import { classifyHost, formatIp, parseIp, parseIpv6 } from "../util/ip.ts";
import { isValidPort, isWithinScope } from "../util/address.ts";

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

export { formatIp, parseIp, parseIpv4, parseIpv6 } from "../util/ip.ts";

/**
 * True for addresses a public DHT must never insert or hand out (D7): loopback,
 * private, link-local, carrier-grade NAT, multicast, reserved, unspecified, and
 * anything that is not an IP literal.
 * @param host the host text
 * @returns whether the host is local or unusable
 */
export function isLocalHost(host: string): boolean {
  return classifyHost(host) !== "global";
}

/**
 * Whether an address may enter the routing table, a lookup or a peer list (D7), by the
 * source-scope rule (util/address.ts `isWithinScope`): a node or peer learned from
 * `source` is usable when `source` is at least as local. A node we heard from directly
 * (it queried us, answered us, or we were told to use it) is its own source: any unicast
 * address of it is usable, a LAN or loopback DHT included, while a public node can never
 * point us (or, in our replies, anyone) at a local address.
 * @param addr the address
 * @param source the host that told us of it (`addr.host` for a node heard directly)
 * @param allowLocal accept every IP literal whatever its source (test mode)
 * @returns true when the port is 1..65535, the host an IP literal, and the scope allows it
 */
export function isUsableAddress(addr: PeerAddress, source: string, allowLocal: boolean): boolean {
  if (!isValidPort(addr.port)) return false;
  if (ipv4Number(addr.host) < 0 && parseIpv6(addr.host) === undefined) return false;
  return allowLocal || isWithinScope(addr, source);
}

/** A canonical `host:port` key (IPv6 bracketed): util/address.ts's `formatAddress`. */
export { formatAddress as addressKey } from "../util/address.ts";

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
  const ip = parseIp(host); // IPv4-mapped IPv6 folds to IPv4: one host, one key (D5)
  return ip ? formatIp(ip) : host;
}
