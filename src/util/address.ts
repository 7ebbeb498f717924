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
