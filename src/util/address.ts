/**
 * Addresses as peers and sources: the one text form (`formatAddress`) and parser
 * (`parseHostPort`), and the source-scope rule for addresses learned from the network
 * (RELIABILITY EX7, D7): an address is usable when the source that gave it is at least as
 * local. A tracker, DHT node or PEX peer on a loopback address may give loopback, private
 * and public addresses; one on a private network private and public ones; a public source
 * public ones only — so a public tracker cannot make us dial into the user's LAN, while a
 * LAN or loopback swarm forms with default settings. Special addresses (unspecified,
 * multicast, broadcast) and port 0 are never usable. Address parsing and classification
 * live in ip.ts.
 *
 * Layer: core.
 * @module
 */
import { classifyHost, isLocalHost } from "./ip.ts";

/** Locality of a host: 2 loopback, 1 private, 0 global, -1 never usable (special). */
export type Locality = -1 | 0 | 1 | 2;

/**
 * How local a host is: loopback (and `localhost`) 2; private (RFC 1918, CGNAT,
 * link-local, ULA) 1; global, or a DNS name, 0; special (unspecified, multicast,
 * broadcast) -1.
 * @param host an IP literal or a DNS name
 * @returns the locality
 */
export function localityOf(host: string): Locality {
  switch (classifyHost(host)) {
    case "loopback":
      return 2;
    case "private":
      return 1;
    case "special":
      return -1;
    default:
      return 0;
  }
}

/**
 * The source-scope rule: whether an address learned from `source` may be used.
 * @param addr the address learned
 * @param source the host that gave it (a tracker, DHT node or PEX peer)
 * @returns true when the port is valid and `source` is at least as local as `addr`
 * @example
 * ```ts
 * import { isWithinScope } from "./address.ts";
 * import { strictEqual } from "node:assert";
 * strictEqual(isWithinScope({ host: "192.168.1.5", port: 6881 }, "127.0.0.1"), true);
 * strictEqual(isWithinScope({ host: "127.0.0.2", port: 6881 }, "192.168.1.1"), false);
 * strictEqual(isWithinScope({ host: "10.0.0.7", port: 6881 }, "203.0.113.9"), false);
 * ```
 */
export function isWithinScope(
  addr: { readonly host: string; readonly port: number },
  source: string,
): boolean {
  if (!isValidPort(addr.port)) return false;
  const locality = localityOf(addr.host);
  return locality >= 0 && locality <= localityOf(source);
}

/** True for loopback, private (RFC 1918, CGNAT, link-local, ULA) and special addresses, and `localhost`. */
export function isLocalAddress(host: string): boolean {
  return isLocalHost(host);
}

/** True when `port` is a usable TCP/UDP port. */
export function isValidPort(port: number): boolean {
  return Number.isInteger(port) && port >= 1 && port <= 65535;
}

/** `host:port`, with an IPv6 host in brackets: the one text form of an address (and its map key). */
export function formatAddress(addr: { readonly host: string; readonly port: number }): string {
  return addr.host.includes(":") ? `[${addr.host}]:${addr.port}` : `${addr.host}:${addr.port}`;
}

const V6_HOST_PORT = /^\[([0-9a-fA-F:.]{2,45})\]:(\d{1,5})$/;
const HOST_PORT = /^([A-Za-z0-9][A-Za-z0-9.-]{0,252}):(\d{1,5})$/;

/**
 * Parses `host:port` or `[v6]:port`: the one parser of addresses from flags, settings and
 * magnet links.
 * @param text the address
 * @returns the address (an IPv6 host without brackets), or `undefined` when malformed
 * @example
 * ```ts
 * import { parseHostPort } from "./address.ts";
 * import { deepStrictEqual } from "node:assert";
 * deepStrictEqual(parseHostPort("[::1]:6881"), { host: "::1", port: 6881 });
 * deepStrictEqual(parseHostPort("router.bittorrent.com:0"), undefined);
 * ```
 */
export function parseHostPort(text: string): { host: string; port: number } | undefined {
  const v6 = V6_HOST_PORT.exec(text);
  const match = v6 ?? HOST_PORT.exec(text);
  if (!match) return undefined;
  const host = match[1]!;
  const port = Number(match[2]);
  if (!isValidPort(port) || (v6 && !host.includes(":"))) return undefined;
  return { host, port };
}
