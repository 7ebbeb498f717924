/**
 * Magnet links (BEP 9; `x.pe` peers and `so` select-only from BEP 53; `btmh` from BEP 52
 * recognised, v2-only links refused).
 *
 * Hostile input (RELIABILITY M1–M3): a URI over {@linkcode MAX_MAGNET_LENGTH} characters,
 * a missing, malformed or repeated `xt=urn:btih:`, or bad percent-encoding fails with a
 * {@linkcode MetainfoError} naming the parameter. Beyond
 * {@linkcode MAX_TRACKERS} trackers, unusable URLs and peers, and unknown parameters are
 * skipped with a line in `warnings`. `dn` is for display only: control characters are
 * replaced with `"_"`, and a caller that uses it as a path must pass it through
 * `sanitizeComponent`.
 *
 * Layer: core (pure).
 * @module
 */
import { formatAddress } from "../util/address.ts";
import { MetainfoError } from "../errors.ts";
import type { PeerAddress } from "../runtime/types.ts";
import { fromHex, fromUtf8Strict, toHex } from "../util/bytes.ts";
import { cleanTiers, cleanWebSeeds, MAX_TRACKERS, usableWebSeedUrl } from "./_urls.ts";
import { formatSelectOnly, parsePeer, parseSelectOnly } from "./_magnet_params.ts";

/** Longest magnet URI accepted, in characters (RELIABILITY M1). */
export const MAX_MAGNET_LENGTH = 64 * 1024;
/** Most `x.pe` peers kept from one link. */
export const MAX_MAGNET_PEERS = 100;

/** A parsed magnet link. */
export interface MagnetLink {
  /** The v1 info-hash (20 bytes). */
  readonly infoHash: Uint8Array;
  /** Lower-case hex of `infoHash`. */
  readonly infoHashHex: string;
  /** `dn`: a display name only, never a path as is. */
  readonly displayName?: string;
  /** Every usable `tr`, de-duplicated, in order, at most {@linkcode MAX_TRACKERS}. */
  readonly trackers: string[];
  /** `x.pe` peer addresses (BEP 9). */
  readonly peers: PeerAddress[];
  /** `ws` web seeds (BEP 19), http and https only. */
  readonly webSeeds: string[];
  /** `so` (BEP 53): file indices to download, sorted and unique. */
  readonly selectOnly?: number[];
  /** `xt=urn:btmh:` (BEP 52): the v2 multihash (0x12 0x20 + 32-byte SHA-256), kept as is. */
  readonly btmh?: Uint8Array;
  /** What was skipped or repaired, one line each. */
  readonly warnings: string[];
}

const BTIH = "urn:btih:";
const BTMH = "urn:btmh:";
const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const textEncoder = new TextEncoder();

function fail(field: string, detail: string): never {
  throw new MetainfoError(field, `Cannot parse magnet link: ${detail}`);
}

/** Strict percent-decoding to UTF-8; `+` is a space only in `dn`. */
function decodeParam(key: string, value: string): string {
  const text = key === "dn" ? value.replaceAll("+", " ") : value;
  if (/%(?![0-9a-fA-F]{2})/.test(text)) fail(key, `parameter "${key}" has bad percent-encoding`);
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x25) {
      bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (c < 0x80) bytes.push(c);
    else {
      const ch = String.fromCodePoint(text.codePointAt(i)!);
      bytes.push(...textEncoder.encode(ch));
      i += ch.length - 1;
    }
  }
  const decoded = fromUtf8Strict(new Uint8Array(bytes));
  if (decoded === undefined) fail(key, `parameter "${key}" is not valid UTF-8`);
  return decoded;
}

function parseBtih(value: string): Uint8Array {
  const hash = value.slice(BTIH.length);
  if (hash.length === 40 && /^[0-9a-fA-F]+$/.test(hash)) return fromHex(hash);
  if (hash.length === 32) {
    const out = new Uint8Array(20);
    let bits = 0, acc = 0, at = 0;
    for (const ch of hash.toUpperCase()) {
      const v = BASE32.indexOf(ch);
      if (v < 0) fail("xt", `info-hash "${hash}" is not valid base32`);
      acc = (acc << 5) | v;
      bits += 5;
      if (bits >= 8) {
        bits -= 8;
        out[at++] = (acc >>> bits) & 0xff;
      }
    }
    return out;
  }
  return fail("xt", `info-hash "${hash.slice(0, 80)}" is neither 40 hex nor 32 base32 characters`);
}

function parseBtmh(value: string): Uint8Array {
  const hash = value.slice(BTMH.length);
  if (!/^1220[0-9a-fA-F]{64}$/.test(hash)) {
    fail("xt", `"${value.slice(0, 90)}" is not a SHA-256 multihash (1220 + 64 hex)`);
  }
  return fromHex(hash);
}

interface Draft {
  infoHash?: Uint8Array;
  btmh?: Uint8Array;
  displayName?: string;
  trackers: string[];
  webSeeds: string[];
  peers: PeerAddress[];
  selectOnly?: number[];
  warnings: string[];
}

function applyXt(draft: Draft, value: string): void {
  const lower = value.slice(0, 9).toLowerCase();
  if (lower === BTIH) {
    if (draft.infoHash) fail("xt", `more than one "xt=urn:btih:" parameter`);
    draft.infoHash = parseBtih(value);
  } else if (lower === BTMH) {
    if (draft.btmh) fail("xt", `more than one "xt=urn:btmh:" parameter`);
    draft.btmh = parseBtmh(value);
  } else draft.warnings.push(`Ignored unsupported xt "${value.slice(0, 80)}"`);
}

function applyParam(draft: Draft, key: string, value: string): void {
  if (key === "xt") applyXt(draft, value);
  else if (key === "dn") {
    // deno-lint-ignore no-control-regex
    const clean = value.replace(/[\u0000-\u001F\u007F-\u009F]/g, "_");
    if (clean !== value) draft.warnings.push(`Replaced control characters in "dn"`);
    draft.displayName = clean;
  } else if (key === "tr") draft.trackers.push(value);
  else if (key === "ws") draft.webSeeds.push(value);
  else if (key === "x.pe") {
    const peer = parsePeer(value);
    if (peer === undefined) draft.warnings.push(`Ignored bad peer "${value.slice(0, 80)}"`);
    else if (draft.peers.length >= MAX_MAGNET_PEERS) return;
    else draft.peers.push(peer);
  } else if (key === "so") draft.selectOnly = parseSelectOnly(value);
  else draft.warnings.push(`Ignored unknown parameter "${key.slice(0, 40)}"`);
}

/**
 * Parses a magnet URI.
 *
 * @param uri the `magnet:?…` text
 * @returns the link; `warnings` lists what was skipped
 * @throws {MetainfoError} field `"uri"` when too long or not a magnet URI; field `"xt"` when
 *   the info-hash is missing, malformed or repeated, or the link is v2-only; the parameter
 *   name on bad percent-encoding or a bad `so`
 * @example
 * ```ts
 * import { parseMagnet } from "./mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const link = parseMagnet(
 *   "magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a&dn=Some+File" +
 *     "&tr=udp%3A%2F%2Ftracker.example%3A6969&x.pe=[::1]:6881&so=0,2-3",
 * );
 * assertEquals(link.infoHashHex, "c12fe1c06bba254a9dc9f519b335aa7c1367a88a");
 * assertEquals(link.displayName, "Some File");
 * assertEquals(link.trackers, ["udp://tracker.example:6969"]);
 * assertEquals(link.peers, [{ host: "::1", port: 6881 }]);
 * assertEquals(link.selectOnly, [0, 2, 3]);
 * ```
 */
export function parseMagnet(uri: string): MagnetLink {
  if (uri.length > MAX_MAGNET_LENGTH) {
    fail("uri", `${uri.length} characters exceed the limit of ${MAX_MAGNET_LENGTH}`);
  }
  if (!/^magnet:\?/i.test(uri)) fail("uri", `"${uri.slice(0, 40)}" does not start with "magnet:?"`);
  const draft: Draft = { trackers: [], webSeeds: [], peers: [], warnings: [] };
  for (const part of uri.slice(8).split("&")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    const rawKey = (eq < 0 ? part : part.slice(0, eq)).toLowerCase();
    const key = rawKey.replace(/^(xt|tr|ws|x\.pe)\.\d+$/, "$1");
    if (eq < 0) {
      draft.warnings.push(`Ignored parameter "${key.slice(0, 40)}" without a value`);
      continue;
    }
    applyParam(draft, key, decodeParam(key, part.slice(eq + 1)));
  }
  return finish(draft);
}

function finish(draft: Draft): MagnetLink {
  if (!draft.infoHash) {
    if (draft.btmh) fail("xt", "v2-only magnet links are not supported (no urn:btih)");
    fail("xt", `no "xt=urn:btih:" parameter`);
  }
  const { tiers, overflow, unusable } = cleanTiers(draft.trackers.map((t) => [t]));
  if (overflow > 0) {
    draft.warnings.push(`Ignored ${overflow} trackers beyond the limit of ${MAX_TRACKERS}`);
  }
  if (unusable > 0) draft.warnings.push(`Ignored ${unusable} unusable tracker URLs`);
  const webSeeds = cleanWebSeeds(draft.webSeeds);
  const badSeeds = draft.webSeeds.filter((w) => usableWebSeedUrl(w) === undefined).length;
  if (badSeeds > 0) draft.warnings.push(`Ignored ${badSeeds} unusable web seed URLs`);
  const link: { -readonly [K in keyof MagnetLink]: MagnetLink[K] } = {
    infoHash: draft.infoHash,
    infoHashHex: toHex(draft.infoHash),
    trackers: tiers.flat(),
    peers: draft.peers,
    webSeeds,
    warnings: draft.warnings,
  };
  if (draft.displayName !== undefined) link.displayName = draft.displayName;
  if (draft.selectOnly !== undefined) link.selectOnly = draft.selectOnly;
  if (draft.btmh !== undefined) link.btmh = draft.btmh;
  return link;
}

/**
 * Formats a magnet URI: `xt` (btih, then btmh), `dn`, `tr`, `ws`, `x.pe`, `so`, each
 * percent-encoded, so `parseMagnet(formatMagnet(link))` gives the same link back.
 *
 * @param link the link; only `infoHash` is required to be meaningful
 * @returns the URI
 * @throws {RangeError} when `infoHash` is not 20 bytes
 * @example
 * ```ts
 * import { formatMagnet, parseMagnet } from "./mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const uri = "magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a&dn=x";
 * assertEquals(formatMagnet(parseMagnet(uri)), uri);
 * ```
 */
export function formatMagnet(link: MagnetLink): string {
  if (link.infoHash.length !== 20) {
    throw new RangeError(`Cannot format magnet link: info-hash of ${link.infoHash.length} bytes`);
  }
  const parts = [`xt=${BTIH}${toHex(link.infoHash)}`];
  if (link.btmh) parts.push(`xt=${BTMH}${toHex(link.btmh)}`);
  if (link.displayName !== undefined) parts.push(`dn=${encodeURIComponent(link.displayName)}`);
  for (const t of link.trackers) parts.push(`tr=${encodeURIComponent(t)}`);
  for (const w of link.webSeeds) parts.push(`ws=${encodeURIComponent(w)}`);
  for (const p of link.peers) parts.push(`x.pe=${formatAddress(p)}`);
  if (link.selectOnly && link.selectOnly.length > 0) {
    parts.push(`so=${formatSelectOnly(link.selectOnly)}`);
  }
  return `magnet:?${parts.join("&")}`;
}
