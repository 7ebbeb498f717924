/**
 * Peer ids: ours in Azureus style (`-SW0100-` plus 12 random printable characters,
 * BEP 20), and a short human description of a peer's id for logs and the CLI.
 *
 * Layer: core (randomness injected).
 * @module
 */
import type { Random } from "../runtime/types.ts";

/**
 * Our Azureus-style client code: free in libtorrent's and Transmission's client tables
 * (`SD`, used before, is Xunlei/Thunder, which some trackers and peers ban).
 */
export const CLIENT_CODE = "SW";

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** Azureus-style client codes we can name (BEP 20 and the clients' sources). */
const CLIENTS: Readonly<Record<string, string>> = {
  AZ: "Vuze",
  BC: "BitComet",
  BI: "BiglyBT",
  BT: "BitTorrent",
  DE: "Deluge",
  FD: "Free Download Manager",
  KT: "KTorrent",
  LT: "libtorrent",
  lt: "rTorrent",
  qB: "qBittorrent",
  SD: "Xunlei",
  SW: "swarmd",
  TR: "Transmission",
  UM: "µTorrent Mac",
  UT: "µTorrent",
  WD: "WebTorrent Desktop",
  WW: "WebTorrent",
};

/**
 * Generates our peer id: `-SW` + `version` + `-` + 12 random characters from
 * `[0-9A-Za-z]`, so it stays readable in logs and in tracker URLs.
 *
 * @param random the randomness source (a secure one in production)
 * @param version four characters from `[0-9A-Za-z]`, e.g. `"0100"` for 0.1.0
 * @returns the 20-byte peer id
 * @throws {RangeError} when `version` is not four such characters
 * @example
 * ```ts
 * import { generatePeerId } from "./peer_id.ts";
 * import { SeededRandom } from "../util/prng.ts";
 * import { deepStrictEqual } from "node:assert";
 * const id = generatePeerId(new SeededRandom(1));
 * deepStrictEqual(id.length, 20);
 * deepStrictEqual(new TextDecoder().decode(id.subarray(0, 8)), "-SW0100-");
 * ```
 */
export function generatePeerId(random: Random, version = "0100"): Uint8Array {
  if (!/^[0-9A-Za-z]{4}$/.test(version)) {
    throw new RangeError(`Cannot make a peer id: version "${version}" is not 4 alphanumerics`);
  }
  const prefix = `-${CLIENT_CODE}${version}-`;
  const out = new Uint8Array(20);
  for (let i = 0; i < prefix.length; i++) out[i] = prefix.charCodeAt(i);
  for (let i = prefix.length; i < 20; i++) {
    out[i] = ALPHABET.charCodeAt(random.int(ALPHABET.length));
  }
  return out;
}

/** Two decimal digits, or undefined. */
function twoDigits(text: string): number | undefined {
  return /^\d\d$/.test(text) ? Number(text) : undefined;
}

/**
 * Clients whose four version characters do not say their own version one digit per part (as
 * Transmission's clients.cc reads them): Transmission up to 3.00 writes major + two-digit
 * minor + a tag (`-TR300Z-` is 3.00+), from 4.0 major, minor, patch + a tag (`-TR4060-` is
 * 4.0.6); WebTorrent writes two digits each for major and minor (`-WW0300-` is 3.0); rTorrent
 * writes its engine's version, libtorrent (rakshasa)'s (`-lt0D80-` is rTorrent 0.9.8 on
 * libtorrent 0.13.8). `undefined` falls back to the common style.
 */
const OWN_VERSION_STYLES: Readonly<Record<string, (v: string) => string | undefined>> = {
  TR: (v) => {
    const tag = v[3]!;
    if (!/^\d$/.test(v[0]!)) return undefined;
    if (v[0]! <= "3") {
      const minor = twoDigits(v.slice(1, 3));
      return minor === undefined
        ? undefined
        : `${v[0]}.${v.slice(1, 3)}${/[XZ]/.test(tag) ? "+" : ""}`;
    }
    if (!/^\d\d$/.test(v.slice(1, 3))) return undefined;
    const suffix = /[XZ]/.test(tag) ? " (dev)" : /[Bb]/.test(tag) ? " (beta)" : "";
    return `${v[0]}.${v[1]}.${v[2]}${suffix}`;
  },
  WW: (v) => {
    const major = twoDigits(v.slice(0, 2)), minor = twoDigits(v.slice(2, 4));
    return major === undefined || minor === undefined ? undefined : `${major}.${minor}`;
  },
  lt: (v) => {
    const engine = commonVersion(v);
    return engine === undefined ? undefined : `(libtorrent ${engine})`;
  },
};

/**
 * The common style: three version characters, then a build number or a letter tag
 * (Transmission's "Z", µTorrent's "W"): `2080` is 2.0.8, `13F0` 1.3.15, `3551` 3.5.5.1.
 */
function commonVersion(v: string): string | undefined {
  const digits: number[] = [];
  for (let i = 0; i < 3; i++) {
    const d = versionDigit(v.charCodeAt(i));
    if (d === undefined) return undefined;
    digits.push(d);
  }
  const build = v.charCodeAt(3) - 0x30;
  if (build >= 1 && build <= 9) digits.push(build);
  return digits.join(".");
}

/** A version character: `0-9`, then `A-Z` for 10-35 (libtorrent's convention). */
function versionDigit(code: number): number | undefined {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x41 && code <= 0x5a) return code - 0x41 + 10;
  return undefined;
}

function isAlnum(code: number | undefined): boolean {
  return code !== undefined && (versionDigit(code) !== undefined || (code >= 0x61 && code <= 0x7a));
}

function describeAzureus(bytes: Uint8Array): string | undefined {
  if (bytes[0] !== 0x2d || bytes[7] !== 0x2d || !isAlnum(bytes[1]) || !isAlnum(bytes[2])) {
    return undefined;
  }
  const code = String.fromCharCode(bytes[1]!, bytes[2]!);
  const v = String.fromCharCode(...bytes.subarray(3, 7));
  const version = OWN_VERSION_STYLES[code]?.(v) ?? commonVersion(v);
  return version === undefined ? undefined : `${CLIENTS[code] ?? code} ${version}`;
}

/** Mainline style: `M7-4-3--`. */
function describeMainline(bytes: Uint8Array): string | undefined {
  const head = String.fromCharCode(...bytes.subarray(0, 8));
  const match = /^M(\d)-(\d{1,2})-(\d{1,2})-/.exec(head);
  return match ? `BitTorrent ${match[1]}.${match[2]}.${match[3]}` : undefined;
}

/** aria2's own style: `A2-1-36-0-` (major, minor, patch in decimal). */
function describeAria2(bytes: Uint8Array): string | undefined {
  const head = String.fromCharCode(...bytes.subarray(0, 12));
  const match = /^A2-(\d{1,2})-(\d{1,2})-(\d{1,2})-/.exec(head);
  return match ? `aria2 ${match[1]}.${match[2]}.${match[3]}` : undefined;
}

function printable(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes.subarray(0, 8)) out += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : ".";
  return out;
}

/**
 * Names the client behind a peer id, for logs and the CLI (never for decisions).
 * Azureus-style ids (`-LT2080-…`) give the client and version; Mainline ids
 * (`M7-4-3--…`) give BitTorrent's, aria2's (`A2-1-36-0-…`) aria2's; anything else is
 * `unknown (` + the first 8 characters, unprintable ones as `.` + `)`.
 *
 * @param bytes the peer id (normally 20 bytes; any length is accepted)
 * @returns e.g. `"libtorrent 2.0.8"`, `"XY 1.2.3"` for an unlisted code, or `"unknown (exbc..LO)"`
 * @throws never
 * @example
 * ```ts
 * import { describePeerId } from "./peer_id.ts";
 * import { deepStrictEqual } from "node:assert";
 * const id = new TextEncoder().encode("-LT2080-abcdefghijkl");
 * deepStrictEqual(describePeerId(id), "libtorrent 2.0.8");
 * ```
 */
export function describePeerId(bytes: Uint8Array): string {
  return describeAzureus(bytes) ?? describeMainline(bytes) ?? describeAria2(bytes) ??
    `unknown (${printable(bytes)})`;
}
