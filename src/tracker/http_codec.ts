/**
 * HTTP tracker codec: announce URLs with every BEP 3 parameter, announce responses
 * (compact peers BEP 23, dictionary peers, `peers6` BEP 7, `failure reason`, BEP 31
 * `retry in`, `warning message`, intervals), and scrape by the BEP 48 URL convention.
 *
 * Responses are decoded with MESSAGE_LIMITS (1 MiB, depth 8); a partial tail of a compact
 * list is ignored and peers are capped (RELIABILITY TC3); intervals are clamped by
 * {@linkcode clampIntervalS}.
 *
 * Layer: core (no I/O).
 * @module
 */
import {
  type BencodeDict,
  BencodeSyntaxError,
  type BencodeValue,
  decode,
  getBytes,
  getInt,
  getText,
  isBytes,
  isDict,
  isList,
  MESSAGE_LIMITS,
} from "../bencode/mod.ts";
import { fromLatin1, fromUtf8 } from "../util/bytes.ts";
import type { PeerAddress } from "../runtime/types.ts";
import { clampIntervalS } from "./announce_schedule.ts";
import { decodeCompactPeers } from "./compact_peers.ts";
import { TrackerSyntaxError } from "./tracker_errors.ts";
import type { AnnounceParams, AnnounceResponse, ScrapeEntry } from "./types.ts";

/** Default cap on peers taken from one response (libtorrent's peer list is 3,000). */
export const DEFAULT_MAX_PEERS_PER_RESPONSE = 2000;

const UNRESERVED = /[A-Za-z0-9\-._~]/;

/**
 * Percent-encodes raw bytes for a query string (RFC 3986 unreserved bytes kept).
 * @param bytes the bytes (e.g. an info-hash)
 * @returns the encoded text
 * @example
 * ```ts
 * import { percentEncodeBytes } from "./mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * assertEquals(percentEncodeBytes(new Uint8Array([0x41, 0x00, 0xff, 0x7e])), "A%00%FF~");
 * ```
 */
export function percentEncodeBytes(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) {
    const c = String.fromCharCode(b);
    out += b < 0x80 && UNRESERVED.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

function checkHash(name: string, bytes: Uint8Array): void {
  if (bytes.length !== 20) {
    throw new TypeError(`Cannot announce: ${name} is ${bytes.length} bytes, not 20`);
  }
}

function checkCount(name: string, n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`Cannot announce: ${name} is ${n}`);
}

/**
 * Builds an HTTP announce URL (BEP 3), keeping any query the tracker URL already has.
 * @param trackerUrl the tracker's announce URL
 * @param params what to announce
 * @returns the full URL
 * @throws {TypeError} when the info-hash or peer id is not 20 bytes
 * @throws {RangeError} when the port or a counter is out of range
 * @example
 * ```ts
 * import { buildAnnounceUrl } from "./mod.ts";
 * import { ok as assert } from "node:assert";
 * const url = buildAnnounceUrl("http://tracker.example/announce?pk=1", {
 *   infoHash: new Uint8Array(20).fill(0xab),
 *   peerId: new TextEncoder().encode("-SW0100-123456789012"),
 *   port: 6881,
 *   uploaded: 0,
 *   downloaded: 0,
 *   left: 100,
 *   event: "started",
 * });
 * assert(url.startsWith("http://tracker.example/announce?pk=1&info_hash=%AB%AB"));
 * assert(url.endsWith("&left=100&event=started&compact=1"));
 * ```
 */
export function buildAnnounceUrl(trackerUrl: string, params: AnnounceParams): string {
  checkHash("info_hash", params.infoHash);
  checkHash("peer_id", params.peerId);
  if (!Number.isInteger(params.port) || params.port < 1 || params.port > 65535) {
    throw new RangeError(`Cannot announce: port ${params.port} out of range`);
  }
  checkCount("uploaded", params.uploaded);
  checkCount("downloaded", params.downloaded);
  checkCount("left", params.left);
  const q = [
    `info_hash=${percentEncodeBytes(params.infoHash)}`,
    `peer_id=${percentEncodeBytes(params.peerId)}`,
    `port=${params.port}`,
    `uploaded=${params.uploaded}`,
    `downloaded=${params.downloaded}`,
    `left=${params.left}`,
  ];
  if (params.key !== undefined) {
    q.push(`key=${(params.key >>> 0).toString(16).toUpperCase().padStart(8, "0")}`);
  }
  if (params.event !== undefined) q.push(`event=${params.event}`);
  if (params.numwant !== undefined) q.push(`numwant=${Math.max(0, Math.floor(params.numwant))}`);
  q.push("compact=1");
  if (params.trackerId !== undefined) q.push(`trackerid=${percentEncodeBytes(params.trackerId)}`);
  return appendQuery(trackerUrl, q.join("&"));
}

function appendQuery(url: string, query: string): string {
  const base = url.split("#")[0]!;
  if (!base.includes("?")) return `${base}?${query}`;
  return base.endsWith("?") || base.endsWith("&") ? base + query : `${base}&${query}`;
}

/** A tracker's refusal in a 200 response (`failure reason`). */
export interface HttpTrackerFailure {
  /** Discriminant. */
  readonly kind: "failure";
  /** The tracker's text. */
  readonly reason: string;
  /** BEP 31 `retry in` minutes, converted to seconds, when numeric. */
  readonly retryInS: number | undefined;
  /** True for `retry in: never` (stop using this URL, TC4). */
  readonly permanent: boolean;
}

/** A decoded announce response. */
export type HttpAnnounceResult =
  | { readonly kind: "ok"; readonly response: AnnounceResponse }
  | HttpTrackerFailure;

/** Options for the response parsers. */
export interface HttpParseOptions {
  /** Cap on peers kept (default {@linkcode DEFAULT_MAX_PEERS_PER_RESPONSE}). */
  readonly maxPeers?: number;
}

function decodeBody(body: Uint8Array): BencodeDict {
  let value: BencodeValue;
  try {
    value = decode(body, { ...MESSAGE_LIMITS, allowTrailing: true });
  } catch (e) {
    if (e instanceof BencodeSyntaxError) {
      throw new TrackerSyntaxError(e.message, e.offset, { cause: e });
    }
    throw e;
  }
  if (!isDict(value)) throw new TrackerSyntaxError("response is not a dictionary", 0);
  return value;
}

function fields<T>(read: () => T): T {
  try {
    return read();
  } catch (e) {
    if (e instanceof TypeError) throw new TrackerSyntaxError(e.message, 0, { cause: e });
    throw e;
  }
}

function failureOf(dict: BencodeDict): HttpTrackerFailure | undefined {
  const reason = getText(dict, "failure reason");
  if (reason === undefined) return undefined;
  const retry = dict.get("retry in");
  const never = isBytes(retry) && fromUtf8(retry).trim().toLowerCase() === "never";
  const minutes = typeof retry === "number" && retry >= 0 ? retry : undefined;
  return {
    kind: "failure",
    reason,
    retryInS: minutes === undefined ? undefined : minutes * 60,
    permanent: never,
  };
}

function dictPeers(list: BencodeValue[], max: number): PeerAddress[] {
  const out: PeerAddress[] = [];
  for (const item of list) {
    if (out.length >= max) break;
    if (!isDict(item)) continue;
    const ip = item.get("ip");
    const port = item.get("port");
    if (!isBytes(ip) || ip.length === 0 || ip.length > 255 || typeof port !== "number") continue;
    if (!Number.isInteger(port) || port < 1 || port > 65535) continue;
    out.push({ host: fromUtf8(ip), port });
  }
  return out;
}

function peersOf(dict: BencodeDict, max: number): PeerAddress[] {
  const peers = dict.get("peers");
  let out: PeerAddress[] = [];
  if (isBytes(peers)) out = decodeCompactPeers(peers, 4, max);
  else if (isList(peers)) out = dictPeers(peers, max);
  const peers6 = dict.get("peers6");
  if (isBytes(peers6) && out.length < max) {
    out.push(...decodeCompactPeers(peers6, 6, max - out.length));
  }
  return out;
}

function count(n: number | undefined): number | undefined {
  return n !== undefined && n >= 0 ? n : undefined;
}

/**
 * Decodes an HTTP announce response body.
 * @param body the response bytes (bencoded dictionary)
 * @param options caps
 * @returns the normalised response, or the tracker's failure
 * @throws {TrackerSyntaxError} on bad bencode, a non-dictionary, or a field of the wrong type
 * @example
 * ```ts
 * import { parseAnnounceResponse } from "./mod.ts";
 * import { encode } from "../bencode/mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const body = encode({ interval: 0, peers: new Uint8Array([10, 0, 0, 1, 0x1a, 0xe1]) });
 * const result = parseAnnounceResponse(body);
 * assertEquals(result.kind, "ok");
 * if (result.kind === "ok") {
 *   assertEquals(result.response.peers, [{ host: "10.0.0.1", port: 6881 }]);
 *   assertEquals(result.response.intervalS, 60); // 0 is clamped to 60 s
 * }
 * ```
 */
export function parseAnnounceResponse(
  body: Uint8Array,
  options: HttpParseOptions = {},
): HttpAnnounceResult {
  const dict = decodeBody(body);
  return fields(() => {
    const failure = failureOf(dict);
    if (failure) return failure;
    const interval = getInt(dict, "interval");
    const minInterval = getInt(dict, "min interval");
    const response: AnnounceResponse = {
      intervalS: clampIntervalS(interval),
      minIntervalS: minInterval === undefined ? undefined : clampIntervalS(minInterval),
      complete: count(getInt(dict, "complete")),
      incomplete: count(getInt(dict, "incomplete")),
      peers: peersOf(dict, options.maxPeers ?? DEFAULT_MAX_PEERS_PER_RESPONSE),
      warning: getText(dict, "warning message"),
      trackerId: getBytes(dict, "tracker id"),
    };
    return { kind: "ok", response };
  });
}

/**
 * The scrape URL of an announce URL by the BEP 48 convention: the last path segment must
 * start with `announce`, which becomes `scrape` (`/x/announce.php?k=1` → `/x/scrape.php?k=1`).
 * @param announceUrl an http(s) announce URL
 * @returns the scrape URL, or `undefined` when the tracker does not support scrape
 * @example
 * ```ts
 * import { scrapeUrlFor } from "./mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * assertEquals(scrapeUrlFor("http://t.example/x/announce.php?pk=1"), "http://t.example/x/scrape.php?pk=1");
 * assertEquals(scrapeUrlFor("http://t.example/tracker"), undefined);
 * ```
 */
export function scrapeUrlFor(announceUrl: string): string | undefined {
  const base = announceUrl.split("#")[0]!;
  const q = base.indexOf("?");
  const path = q < 0 ? base : base.slice(0, q);
  const authority = path.indexOf("//");
  const pathStart = path.indexOf("/", authority < 0 ? 0 : authority + 2);
  const slash = path.lastIndexOf("/");
  if (pathStart < 0 || slash < pathStart || !path.startsWith("announce", slash + 1)) {
    return undefined;
  }
  return `${path.slice(0, slash + 1)}scrape${path.slice(slash + 9)}${q < 0 ? "" : base.slice(q)}`;
}

/**
 * Builds a scrape request URL for some info-hashes.
 * @param announceUrl the tracker's announce URL
 * @param infoHashes 20-byte info-hashes
 * @returns the URL, or `undefined` when the tracker does not support scrape
 * @throws {TypeError} when an info-hash is not 20 bytes
 */
export function buildScrapeUrl(
  announceUrl: string,
  infoHashes: readonly Uint8Array[],
): string | undefined {
  const url = scrapeUrlFor(announceUrl);
  if (url === undefined) return undefined;
  for (const h of infoHashes) checkHash("info_hash", h);
  return appendQuery(url, infoHashes.map((h) => `info_hash=${percentEncodeBytes(h)}`).join("&"));
}

/** A decoded scrape response. */
export type HttpScrapeResult =
  | { readonly kind: "ok"; readonly files: ScrapeEntry[] }
  | HttpTrackerFailure;

/**
 * Decodes an HTTP scrape response; `files` keys are raw 20-byte info-hashes (B6).
 * Entries with a key that is not 20 bytes are skipped.
 * @param body the response bytes
 * @returns the entries, or the tracker's failure
 * @throws {TrackerSyntaxError} on bad bencode or a field of the wrong type
 * @example
 * ```ts
 * import { parseScrapeResponse } from "./mod.ts";
 * import { encode } from "../bencode/mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const key = "\u00ff".repeat(20); // raw 20-byte key, latin1
 * const result = parseScrapeResponse(encode({ files: new Map([[key, { complete: 2, incomplete: 3 }]]) }));
 * assertEquals(result.kind === "ok" && result.files[0]?.complete, 2);
 * ```
 */
export function parseScrapeResponse(body: Uint8Array): HttpScrapeResult {
  const dict = decodeBody(body);
  return fields(() => {
    const failure = failureOf(dict);
    if (failure) return failure;
    const files = dict.get("files");
    if (files !== undefined && !isDict(files)) {
      throw new TypeError(`Field "files" is not a dictionary`);
    }
    const out: ScrapeEntry[] = [];
    for (const [key, value] of files ?? []) {
      if (key.length !== 20 || !isDict(value)) continue;
      out.push({
        infoHash: fromLatin1(key),
        complete: count(getInt(value, "complete")) ?? 0,
        incomplete: count(getInt(value, "incomplete")) ?? 0,
        downloaded: count(getInt(value, "downloaded")) ?? 0,
      });
    }
    return { kind: "ok", files: out };
  });
}
