/**
 * UDP tracker codec (BEP 15): connect, announce and scrape requests; connect, announce
 * (IPv4 6-byte and IPv6 18-byte peer entries), scrape and error responses. Both sides:
 * clients encode requests and decode responses, the server the reverse.
 *
 * 64-bit counters saturate at `Number.MAX_SAFE_INTEGER` when decoded; bytes after an
 * announce request (BEP 41 options) are ignored; a scrape carries 1..74 info-hashes.
 *
 * Layer: core (no I/O).
 * @module
 */
import type { PeerAddress } from "../runtime/types.ts";
import { fromUtf8, utf8 } from "../util/bytes.ts";
import { decodeCompactPeers, encodeCompactPeers, type IpFamily } from "./compact_peers.ts";
import { TrackerSyntaxError } from "./tracker_errors.ts";
import type { AnnounceEvent } from "./types.ts";

/** The connect request's magic constant, 0x41727101980. */
export const UDP_PROTOCOL_ID = 0x41727101980;
/** Most info-hashes in one UDP scrape (fits a 1,500-byte MTU both ways). */
export const MAX_UDP_SCRAPE_HASHES = 74;
/** Longest error message we keep, in bytes. */
const MAX_ERROR_BYTES = 1024;

const ACTION_CONNECT = 0, ACTION_ANNOUNCE = 1, ACTION_SCRAPE = 2, ACTION_ERROR = 3;
const EVENTS: readonly (AnnounceEvent | undefined)[] = [
  undefined,
  "completed",
  "started",
  "stopped",
];

/** Client → server: ask for a connection id. */
export interface UdpConnectRequest {
  /** Discriminant. */
  readonly action: "connect";
  /** Random 32-bit id echoed by the server. */
  readonly transactionId: number;
}

/** Client → server: announce (98 bytes). */
export interface UdpAnnounceRequest {
  /** Discriminant. */
  readonly action: "announce";
  /** 8-byte id from a connect response. */
  readonly connectionId: Uint8Array;
  /** Random 32-bit id. */
  readonly transactionId: number;
  /** 20 bytes. */
  readonly infoHash: Uint8Array;
  /** 20 bytes. */
  readonly peerId: Uint8Array;
  /** Bytes downloaded. */
  readonly downloaded: number;
  /** Bytes left. */
  readonly left: number;
  /** Bytes uploaded. */
  readonly uploaded: number;
  /** Event, `undefined` for none. */
  readonly event: AnnounceEvent | undefined;
  /** Claimed IPv4 address as u32 (0 = use the source; servers ignore it, TS3). */
  readonly ip: number;
  /** 32-bit key. */
  readonly key: number;
  /** Peers wanted; -1 = tracker default. */
  readonly numwant: number;
  /** Listening port. */
  readonly port: number;
}

/** Client → server: scrape 1..74 info-hashes. */
export interface UdpScrapeRequest {
  /** Discriminant. */
  readonly action: "scrape";
  /** 8-byte id from a connect response. */
  readonly connectionId: Uint8Array;
  /** Random 32-bit id. */
  readonly transactionId: number;
  /** 20-byte info-hashes. */
  readonly infoHashes: readonly Uint8Array[];
}

/** Any UDP tracker request. */
export type UdpRequest = UdpConnectRequest | UdpAnnounceRequest | UdpScrapeRequest;

/** Server → client: the connection id. */
export interface UdpConnectResponse {
  /** Discriminant. */
  readonly action: "connect";
  /** Echoed id. */
  readonly transactionId: number;
  /** 8 bytes. */
  readonly connectionId: Uint8Array;
}

/** Server → client: announce result. */
export interface UdpAnnounceResponse {
  /** Discriminant. */
  readonly action: "announce";
  /** Echoed id. */
  readonly transactionId: number;
  /** Seconds to the next announce (raw, unclamped). */
  readonly intervalS: number;
  /** Leechers. */
  readonly leechers: number;
  /** Seeders. */
  readonly seeders: number;
  /** Peers of the socket's address family. */
  readonly peers: readonly PeerAddress[];
}

/** Counts for one scraped info-hash. */
export interface UdpScrapeCounts {
  /** Seeders. */
  readonly seeders: number;
  /** Completed downloads. */
  readonly completed: number;
  /** Leechers. */
  readonly leechers: number;
}

/** Server → client: scrape result, in request order. */
export interface UdpScrapeResponse {
  /** Discriminant. */
  readonly action: "scrape";
  /** Echoed id. */
  readonly transactionId: number;
  /** One entry per requested hash. */
  readonly entries: readonly UdpScrapeCounts[];
}

/** Server → client: refusal. */
export interface UdpErrorResponse {
  /** Discriminant. */
  readonly action: "error";
  /** Echoed id. */
  readonly transactionId: number;
  /** Human-readable reason. */
  readonly message: string;
}

/** Any UDP tracker response. */
export type UdpResponse =
  | UdpConnectResponse
  | UdpAnnounceResponse
  | UdpScrapeResponse
  | UdpErrorResponse;

function writeU64(view: DataView, at: number, n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new RangeError(`Cannot encode ${n} as an unsigned 64-bit count`);
  }
  view.setUint32(at, Math.floor(n / 4294967296));
  view.setUint32(at + 4, n >>> 0);
}

function readU64(view: DataView, at: number): number {
  const hi = view.getUint32(at);
  return hi >= 0x200000 ? Number.MAX_SAFE_INTEGER : hi * 4294967296 + view.getUint32(at + 4);
}

function checkLength(name: string, bytes: Uint8Array, length: number): void {
  if (bytes.length !== length) {
    throw new TypeError(`Cannot encode UDP ${name}: ${bytes.length} bytes, not ${length}`);
  }
}

function header(
  length: number,
  connectionId: Uint8Array,
  action: number,
  tid: number,
): [Uint8Array, DataView] {
  checkLength("connection id", connectionId, 8);
  const out = new Uint8Array(length);
  const view = new DataView(out.buffer);
  out.set(connectionId);
  view.setUint32(8, action);
  view.setUint32(12, tid >>> 0);
  return [out, view];
}

function encodeAnnounceRequest(r: UdpAnnounceRequest): Uint8Array {
  checkLength("info-hash", r.infoHash, 20);
  checkLength("peer id", r.peerId, 20);
  if (!Number.isInteger(r.port) || r.port < 0 || r.port > 65535) {
    throw new RangeError(`Cannot encode port ${r.port}`);
  }
  const [out, view] = header(98, r.connectionId, ACTION_ANNOUNCE, r.transactionId);
  out.set(r.infoHash, 16);
  out.set(r.peerId, 36);
  writeU64(view, 56, r.downloaded);
  writeU64(view, 64, r.left);
  writeU64(view, 72, r.uploaded);
  view.setUint32(80, EVENTS.indexOf(r.event));
  view.setUint32(84, r.ip >>> 0);
  view.setUint32(88, r.key >>> 0);
  view.setInt32(92, r.numwant | 0);
  view.setUint16(96, r.port);
  return out;
}

/**
 * Encodes a client request.
 * @param request the request
 * @returns the datagram
 * @throws {TypeError} when an id or hash has the wrong length
 * @throws {RangeError} on a bad counter, port, or scrape of 0 or more than 74 hashes
 * @example
 * ```ts
 * import { encodeUdpRequest } from "./mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const connect = encodeUdpRequest({ action: "connect", transactionId: 1 });
 * assertEquals(Array.from(connect.subarray(0, 8)), [0, 0, 0x04, 0x17, 0x27, 0x10, 0x19, 0x80]);
 * ```
 */
export function encodeUdpRequest(request: UdpRequest): Uint8Array {
  switch (request.action) {
    case "connect": {
      const out = new Uint8Array(16);
      const view = new DataView(out.buffer);
      writeU64(view, 0, UDP_PROTOCOL_ID);
      view.setUint32(8, ACTION_CONNECT);
      view.setUint32(12, request.transactionId >>> 0);
      return out;
    }
    case "announce":
      return encodeAnnounceRequest(request);
    case "scrape": {
      const n = request.infoHashes.length;
      if (n < 1 || n > MAX_UDP_SCRAPE_HASHES) {
        throw new RangeError(`Cannot scrape ${n} info-hashes over UDP`);
      }
      const [out] = header(16 + 20 * n, request.connectionId, ACTION_SCRAPE, request.transactionId);
      request.infoHashes.forEach((h, i) => {
        checkLength("info-hash", h, 20);
        out.set(h, 16 + 20 * i);
      });
      return out;
    }
  }
}

function fail(message: string, offset: number): never {
  throw new TrackerSyntaxError(message, offset);
}

function decodeAnnounceRequest(bytes: Uint8Array, view: DataView): UdpAnnounceRequest {
  if (bytes.length < 98) fail(`announce request of ${bytes.length} bytes, need 98`, bytes.length);
  const eventCode = view.getUint32(80);
  if (eventCode > 3) fail(`unknown event ${eventCode}`, 80);
  return {
    action: "announce",
    connectionId: bytes.subarray(0, 8),
    transactionId: view.getUint32(12),
    infoHash: bytes.subarray(16, 36),
    peerId: bytes.subarray(36, 56),
    downloaded: readU64(view, 56),
    left: readU64(view, 64),
    uploaded: readU64(view, 72),
    event: EVENTS[eventCode],
    ip: view.getUint32(84),
    key: view.getUint32(88),
    numwant: view.getInt32(92),
    port: view.getUint16(96),
  };
}

/**
 * Decodes a client request (server side). Ids and hashes are views into `bytes` (no
 * copies on the server's hot path): copy them before reusing the buffer if they must outlive it.
 * @param bytes the datagram
 * @returns the request
 * @throws {TrackerSyntaxError} on a short packet, bad magic, unknown action or event, or a
 *   scrape whose length is not 16 + 20·n with 1 ≤ n ≤ 74
 * @example
 * ```ts
 * import { decodeUdpRequest, encodeUdpRequest, type UdpRequest } from "./mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const request: UdpRequest = {
 *   action: "scrape",
 *   connectionId: new Uint8Array(8).fill(1),
 *   transactionId: 7,
 *   infoHashes: [new Uint8Array(20).fill(2)],
 * };
 * assertEquals(decodeUdpRequest(encodeUdpRequest(request)), request);
 * ```
 */
export function decodeUdpRequest(bytes: Uint8Array): UdpRequest {
  if (bytes.length < 16) fail(`request of ${bytes.length} bytes, need 16`, bytes.length);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const action = view.getUint32(8);
  const transactionId = view.getUint32(12);
  if (action === ACTION_CONNECT) {
    if (readU64(view, 0) !== UDP_PROTOCOL_ID) fail("bad protocol id in connect", 0);
    return { action: "connect", transactionId };
  }
  if (action === ACTION_ANNOUNCE) return decodeAnnounceRequest(bytes, view);
  if (action !== ACTION_SCRAPE) fail(`unknown action ${action}`, 8);
  const n = (bytes.length - 16) / 20;
  if (!Number.isInteger(n)) fail(`scrape of ${bytes.length} bytes is not 16 + 20·n`, bytes.length);
  if (n < 1 || n > MAX_UDP_SCRAPE_HASHES) fail(`scrape of ${n} info-hashes`, 16);
  const infoHashes = Array.from({ length: n }, (_, i) => bytes.subarray(16 + 20 * i, 36 + 20 * i));
  return { action: "scrape", connectionId: bytes.subarray(0, 8), transactionId, infoHashes };
}

/** Interval and counts of an announce response. */
export interface UdpAnnounceCounts {
  /** Seconds to the next announce. */
  readonly intervalS: number;
  /** Leechers. */
  readonly leechers: number;
  /** Seeders. */
  readonly seeders: number;
}

/**
 * Writes the 20-byte announce response header into `out` (the server's hot path: peers
 * follow at offset 20, written by the caller).
 * @param out the response buffer, at least 20 bytes
 * @param transactionId echoed id
 * @param counts interval, leechers and seeders (saturated at 2^32 − 1)
 */
export function writeUdpAnnounceHeader(
  out: Uint8Array,
  transactionId: number,
  counts: UdpAnnounceCounts,
): void {
  const sat = (n: number) => (n >= 0xffffffff ? 0xffffffff : n >>> 0);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  view.setUint32(0, ACTION_ANNOUNCE);
  view.setUint32(4, transactionId >>> 0);
  view.setUint32(8, sat(counts.intervalS));
  view.setUint32(12, sat(counts.leechers));
  view.setUint32(16, sat(counts.seeders));
}

/**
 * Encodes a server response.
 * @param response the response
 * @param family address family of the socket (selects 6- or 18-byte peers)
 * @returns the datagram
 * @throws {TypeError} when a connection id is not 8 bytes or a peer host is not an IP literal
 */
export function encodeUdpResponse(response: UdpResponse, family: IpFamily = 4): Uint8Array {
  const tid = response.transactionId;
  switch (response.action) {
    case "connect": {
      checkLength("connection id", response.connectionId, 8);
      const out = new Uint8Array(16);
      new DataView(out.buffer).setUint32(4, tid >>> 0);
      out.set(response.connectionId, 8);
      return out;
    }
    case "announce": {
      const peers = encodeCompactPeers(response.peers, family);
      const out = new Uint8Array(20 + peers.length);
      writeUdpAnnounceHeader(out, tid, response);
      out.set(peers, 20);
      return out;
    }
    case "scrape": {
      const out = new Uint8Array(8 + 12 * response.entries.length);
      const view = new DataView(out.buffer);
      view.setUint32(0, ACTION_SCRAPE);
      view.setUint32(4, tid >>> 0);
      response.entries.forEach((e, i) => {
        view.setUint32(8 + 12 * i, e.seeders >>> 0);
        view.setUint32(12 + 12 * i, e.completed >>> 0);
        view.setUint32(16 + 12 * i, e.leechers >>> 0);
      });
      return out;
    }
    case "error": {
      const text = utf8(response.message).subarray(0, MAX_ERROR_BYTES);
      const out = new Uint8Array(8 + text.length);
      const view = new DataView(out.buffer);
      view.setUint32(0, ACTION_ERROR);
      view.setUint32(4, tid >>> 0);
      out.set(text, 8);
      return out;
    }
  }
}

/**
 * Decodes a server response (client side).
 * @param bytes the datagram
 * @param family address family of our socket (selects 6- or 18-byte peers)
 * @param maxPeers cap on peers kept
 * @returns the response
 * @throws {TrackerSyntaxError} on a short packet or an unknown action
 * @example
 * ```ts
 * import { decodeUdpResponse, encodeUdpResponse, type UdpResponse } from "./mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const response: UdpResponse = {
 *   action: "announce",
 *   transactionId: 9,
 *   intervalS: 1800,
 *   leechers: 1,
 *   seeders: 2,
 *   peers: [{ host: "2001:db8::1", port: 6881 }],
 * };
 * assertEquals(decodeUdpResponse(encodeUdpResponse(response, 6), 6), response);
 * ```
 */
export function decodeUdpResponse(
  bytes: Uint8Array,
  family: IpFamily = 4,
  maxPeers = 2000,
): UdpResponse {
  if (bytes.length < 8) fail(`response of ${bytes.length} bytes, need 8`, bytes.length);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const action = view.getUint32(0);
  const transactionId = view.getUint32(4);
  switch (action) {
    case ACTION_CONNECT:
      if (bytes.length < 16) {
        fail(`connect response of ${bytes.length} bytes, need 16`, bytes.length);
      }
      return { action: "connect", transactionId, connectionId: bytes.slice(8, 16) };
    case ACTION_ANNOUNCE:
      if (bytes.length < 20) {
        fail(`announce response of ${bytes.length} bytes, need 20`, bytes.length);
      }
      return {
        action: "announce",
        transactionId,
        intervalS: view.getUint32(8),
        leechers: view.getUint32(12),
        seeders: view.getUint32(16),
        peers: decodeCompactPeers(bytes.subarray(20), family, maxPeers),
      };
    case ACTION_SCRAPE: {
      const n = Math.floor((bytes.length - 8) / 12);
      const entries = Array.from({ length: n }, (_, i) => ({
        seeders: view.getUint32(8 + 12 * i),
        completed: view.getUint32(12 + 12 * i),
        leechers: view.getUint32(16 + 12 * i),
      }));
      return { action: "scrape", transactionId, entries };
    }
    case ACTION_ERROR:
      return {
        action: "error",
        transactionId,
        message: fromUtf8(bytes.subarray(8, 8 + MAX_ERROR_BYTES)),
      };
    default:
      return fail(`unknown action ${action}`, 0);
  }
}
