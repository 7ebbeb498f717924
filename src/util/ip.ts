/**
 * IP address helpers shared by trackers, the DHT and PEX: parse and format IPv4/IPv6 literals (IPv4-mapped
 * IPv6 folds to IPv4), and classify an address as loopback, private, special or global
 * for the SSRF rule (RELIABILITY M4/TC6) and for compact peer encoding (BEP 23, BEP 7).
 *
 * Layer: core (no I/O).
 * @module
 */

/** Where an address points, for the SSRF rule. `name` is a DNS name we cannot classify. */
export type AddressClass = "loopback" | "private" | "special" | "global" | "name";

/**
 * Parses an IPv4 dotted quad.
 * @param text the literal, e.g. `"10.0.0.1"`
 * @returns 4 bytes, or `undefined` when `text` is not a canonical dotted quad
 */
export function parseIpv4(text: string): Uint8Array | undefined {
  if (text.length < 7 || text.length > 15) return undefined;
  const out = new Uint8Array(4);
  let part = 0, value = 0, digits = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 0x2e;
    if (c === 0x2e) {
      if (digits === 0 || part > 3) return undefined;
      out[part++] = value;
      value = 0;
      digits = 0;
    } else if (c >= 0x30 && c <= 0x39) {
      if (digits > 0 && value === 0) return undefined; // no leading zeros (not octal)
      value = value * 10 + c - 0x30;
      if (++digits > 3 || value > 255) return undefined;
    } else {
      return undefined;
    }
  }
  return part === 4 ? out : undefined;
}

/**
 * The address bytes of an IP literal as a latin1 string (4 or 16 chars), for map keys and
 * compact entries; IPv4 is parsed without allocating. Mapped IPv6 folds to IPv4.
 * @param text an IP literal
 * @returns the latin1 key, or `undefined` when `text` is not an IP literal
 */
export function ipKeyOf(text: string): string | undefined {
  let a = 0, b = 0, c = 0, value = 0, digits = 0, part = 0;
  const n = text.length;
  if (n >= 7 && n <= 15) {
    for (let i = 0; i <= n; i++) {
      const ch = i < n ? text.charCodeAt(i) : 0x2e;
      if (ch === 0x2e) {
        if (digits === 0) break;
        if (part === 0) a = value;
        else if (part === 1) b = value;
        else if (part === 2) c = value;
        else if (part === 3 && i === n) return String.fromCharCode(a, b, c, value);
        else break;
        part++;
        value = 0;
        digits = 0;
      } else if (ch >= 0x30 && ch <= 0x39 && !(digits > 0 && value === 0)) {
        value = value * 10 + ch - 0x30;
        if (++digits > 3 || value > 255) break;
      } else {
        break;
      }
    }
  }
  const ip = text.includes(":") ? parseIp(text) : undefined;
  return ip && String.fromCharCode.apply(null, ip as unknown as number[]);
}

function parseGroups(text: string): number[] | undefined {
  if (text === "") return [];
  const groups: number[] = [];
  const parts = text.split(":");
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (i === parts.length - 1 && p.includes(".")) {
      const v4 = parseIpv4(p);
      if (!v4) return undefined;
      groups.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
    } else {
      if (!/^[0-9a-fA-F]{1,4}$/.test(p)) return undefined;
      groups.push(parseInt(p, 16));
    }
  }
  return groups;
}

/**
 * Parses an IPv6 literal (no brackets, no zone id).
 * @param text the literal, e.g. `"::1"` or `"::ffff:1.2.3.4"`
 * @returns 16 bytes, or `undefined` when `text` is not an IPv6 literal
 */
export function parseIpv6(text: string): Uint8Array | undefined {
  if (text.length > 45 || !text.includes(":")) return undefined;
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const head = parseGroups(halves[0]!);
  const tail = halves.length === 2 ? parseGroups(halves[1]!) : [];
  if (!head || !tail) return undefined;
  const total = head.length + tail.length;
  if (halves.length === 2 ? total > 7 : total !== 8) return undefined;
  const groups = [...head, ...new Array<number>(8 - total).fill(0), ...tail];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  return out;
}

/**
 * Parses an IPv4 or IPv6 literal; IPv4-mapped IPv6 (`::ffff:a.b.c.d`) becomes IPv4.
 * @param text the literal, optionally in brackets
 * @returns 4 or 16 bytes, or `undefined` when `text` is not an IP literal
 */
export function parseIp(text: string): Uint8Array | undefined {
  const bare = text.startsWith("[") && text.endsWith("]") ? text.slice(1, -1) : text;
  const v4 = parseIpv4(bare);
  if (v4) return v4;
  const v6 = parseIpv6(bare);
  if (!v6) return undefined;
  return isMappedV4(v6) ? v6.slice(12) : v6;
}

function isMappedV4(b: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return false;
  return b[10] === 0xff && b[11] === 0xff;
}

/**
 * Formats 4 or 16 address bytes (IPv6 in RFC 5952 form: lower case, longest zero run as `::`).
 * @param bytes the address
 * @returns the literal
 * @throws {RangeError} when `bytes` is not 4 or 16 long
 */
export function formatIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
  if (bytes.length !== 16) throw new RangeError(`Cannot format IP of ${bytes.length} bytes`);
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push((bytes[i]! << 8) | bytes[i + 1]!);
  let bestAt = -1, bestLen = 1;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) [bestAt, bestLen] = [i, j - i];
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (bestAt < 0) return hex.join(":");
  return `${hex.slice(0, bestAt).join(":")}::${hex.slice(bestAt + bestLen).join(":")}`;
}

/**
 * Canonical text of an IP literal (mapped IPv6 folded to IPv4); names are lower-cased.
 * @param host an IP literal or a DNS name
 * @returns the canonical form
 */
export function normalizeHost(host: string): string {
  const ip = parseIp(host);
  return ip ? formatIp(ip) : host.toLowerCase();
}

function classifyV4(b: Uint8Array): AddressClass {
  const [a, c] = [b[0]!, b[1]!];
  if (a === 127) return "loopback";
  if (a === 10 || (a === 172 && c >= 16 && c < 32) || (a === 192 && c === 168)) return "private";
  if ((a === 169 && c === 254) || (a === 100 && c >= 64 && c < 128)) return "private";
  if (a === 0 || a >= 224) return "special";
  return "global";
}

function classifyV6(b: Uint8Array): AddressClass {
  const zeroUntil15 = b.subarray(0, 15).every((x) => x === 0);
  if (zeroUntil15 && b[15] === 1) return "loopback";
  if (zeroUntil15 && b[15] === 0) return "special";
  if ((b[0]! & 0xfe) === 0xfc) return "private";
  if (b[0] === 0xfe && (b[1]! & 0xc0) === 0x80) return "private";
  if (b[0] === 0xff) return "special";
  return "global";
}

/**
 * Classifies a host for the SSRF rule: loopback, private (RFC 1918, CGNAT, link-local,
 * ULA), special (unspecified, multicast, broadcast), global, or an unresolved name.
 * `localhost` and `*.localhost` count as loopback.
 * @param host an IP literal (brackets allowed) or a DNS name
 * @returns the class
 */
export function classifyHost(host: string): AddressClass {
  const ip = parseIp(host);
  if (!ip) {
    const name = host.toLowerCase().replace(/\.$/, "");
    return name === "localhost" || name.endsWith(".localhost") ? "loopback" : "name";
  }
  return ip.length === 4 ? classifyV4(ip) : classifyV6(ip);
}

/**
 * True for loopback, private and special addresses (anything a global tracker must
 * not redirect us to).
 * @param host an IP literal or a DNS name
 * @returns whether the host is local
 */
export function isLocalHost(host: string): boolean {
  const c = classifyHost(host);
  return c === "loopback" || c === "private" || c === "special";
}
