/**
 * IP address classification for the rule that peers learned from the network are
 * never loopback, private, link-local, multicast or port 0 (RELIABILITY EX7, D7),
 * except in test mode.
 *
 * Layer: core.
 * @module
 */

/** True for IPv4/IPv6 literals in loopback, private, link-local, CGNAT, multicast or unspecified ranges. */
export function isLocalAddress(host: string): boolean {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (v4) {
    const [a, b] = [Number(v4[1]), Number(v4[2])];
    return a === 0 || a === 10 || a === 127 || (a === 169 && b === 254) ||
      (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) ||
      (a === 100 && b >= 64 && b <= 127) || a >= 224;
  }
  const h = host.toLowerCase();
  if (h.includes(":")) {
    if (h === "::" || h === "::1") return true;
    if (h.startsWith("::ffff:")) return isLocalAddress(h.slice(7));
    return /^(fe[89ab]|f[cd]|ff)/.test(h);
  }
  return h === "localhost";
}

/** True when `port` is a usable TCP/UDP port. */
export function isValidPort(port: number): boolean {
  return Number.isInteger(port) && port >= 1 && port <= 65535;
}
