/**
 * The rule that peers learned from the network are never loopback, private, link-local,
 * multicast or port 0 (RELIABILITY EX7, D7), except in test mode. Address parsing and
 * classification live in ip.ts.
 *
 * Layer: core.
 * @module
 */
import { isLocalHost } from "./ip.ts";

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
