/**
 * Compact encodings (BEP 5, BEP 32): peers as 6 bytes (IPv4 + port) or 18 bytes
 * (IPv6 + port), nodes as 26 bytes (id + IPv4 + port) or 38 bytes (id + IPv6 + port).
 *
 * Layer: core (pure).
 * @module
 */
import type { PeerAddress } from "../runtime/types.ts";
import { formatIp, ipv4Number, parseIp, parseIpv6 } from "./_address.ts";
import { NODE_ID_LENGTH } from "./node_id.ts";

/** A DHT node: its 20-byte id and UDP address. */
export interface DhtContact {
  /** The node id (20 bytes). */
  readonly id: Uint8Array;
  /** The node's UDP endpoint. */
  readonly address: PeerAddress;
}

/** Bytes of a compact IPv4 peer. */
export const COMPACT_PEER_V4 = 6;
/** Bytes of a compact IPv6 peer. */
export const COMPACT_PEER_V6 = 18;
/** Bytes of a compact IPv4 node (`nodes`). */
export const COMPACT_NODE_V4 = 26;
/** Bytes of a compact IPv6 node (`nodes6`). */
export const COMPACT_NODE_V6 = 38;

function writePeer(out: Uint8Array, at: number, ip: Uint8Array, port: number): void {
  out.set(ip, at);
  out[at + ip.length] = port >> 8;
  out[at + ip.length + 1] = port & 0xff;
}

function addressBytes(addr: PeerAddress): Uint8Array {
  const ip = parseIp(addr.host);
  if (!ip) throw new TypeError(`Cannot encode "${addr.host}" compactly: not an IP address`);
  if (!Number.isInteger(addr.port) || addr.port < 0 || addr.port > 65535) {
    throw new RangeError(`Cannot encode port ${addr.port}`);
  }
  return ip;
}

/**
 * Encodes one peer compactly (6 bytes for IPv4, 18 for IPv6).
 * @param addr the peer; `host` must be an IP literal
 * @returns the compact bytes
 * @throws {TypeError} when `host` is not an IP literal
 * @throws {RangeError} when the port is outside 0..65535
 * @example
 * ```ts
 * import { decodeCompactPeer, encodeCompactPeer } from "./compact.ts";
 * import { deepStrictEqual } from "node:assert";
 * const bytes = encodeCompactPeer({ host: "1.2.3.4", port: 6881 });
 * deepStrictEqual(Array.from(bytes), [1, 2, 3, 4, 0x1a, 0xe1]);
 * deepStrictEqual(decodeCompactPeer(bytes), { host: "1.2.3.4", port: 6881 });
 * ```
 */
export function encodeCompactPeer(addr: PeerAddress): Uint8Array {
  const ip = addressBytes(addr);
  const out = new Uint8Array(ip.length + 2);
  writePeer(out, 0, ip, addr.port);
  return out;
}

/**
 * Decodes one compact peer.
 * @param bytes 6 or 18 bytes
 * @returns the address, or `undefined` for any other length
 */
export function decodeCompactPeer(bytes: Uint8Array): PeerAddress | undefined {
  if (bytes.length !== COMPACT_PEER_V4 && bytes.length !== COMPACT_PEER_V6) return undefined;
  const n = bytes.length - 2;
  return { host: formatIp(bytes.subarray(0, n)), port: (bytes[n]! << 8) | bytes[n + 1]! };
}

/**
 * Encodes nodes compactly: only those of one family (IPv4 for `nodes`, IPv6 for `nodes6`).
 * @param contacts the nodes; those of the other family are skipped
 * @param family 4 or 6
 * @returns the concatenated entries
 * @throws {RangeError} when an id is not 20 bytes or a port is out of range
 * @example
 * ```ts
 * import { decodeCompactNodes, encodeCompactNodes } from "./compact.ts";
 * import { deepStrictEqual } from "node:assert";
 * const nodes = [{ id: new Uint8Array(20).fill(7), address: { host: "1.2.3.4", port: 6881 } }];
 * const bytes = encodeCompactNodes(nodes);
 * deepStrictEqual(bytes.length, 26);
 * deepStrictEqual(decodeCompactNodes(bytes), nodes);
 * deepStrictEqual(decodeCompactNodes(bytes.subarray(1)), undefined);
 * ```
 */
export function encodeCompactNodes(contacts: readonly DhtContact[], family: 4 | 6 = 4): Uint8Array {
  const size = family === 4 ? COMPACT_NODE_V4 : COMPACT_NODE_V6;
  const out = new Uint8Array(contacts.length * size);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const c of contacts) {
    const { host, port } = c.address;
    const v4 = ipv4Number(host); // hot path: no allocation for IPv4
    if (family === 4 ? v4 < 0 : v4 >= 0) continue;
    const v6 = family === 6 ? parseIpv6(host) : undefined;
    if (family === 6 && !v6) continue;
    if (c.id.length !== NODE_ID_LENGTH) {
      throw new RangeError(`Cannot encode a node id of ${c.id.length} bytes`);
    }
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new RangeError(`Cannot encode port ${port}`);
    }
    out.set(c.id, at);
    if (v6) out.set(v6, at + NODE_ID_LENGTH);
    else view.setUint32(at + NODE_ID_LENGTH, v4);
    out[at + size - 2] = port >> 8;
    out[at + size - 1] = port & 0xff;
    at += size;
  }
  return at === out.length ? out : out.slice(0, at);
}

/**
 * Decodes a `nodes` (26-byte entries) or `nodes6` (38-byte entries) string.
 * @param bytes the field value
 * @param family 4 for `nodes`, 6 for `nodes6`
 * @returns the contacts, or `undefined` when the length is not a multiple of the entry size
 */
export function decodeCompactNodes(bytes: Uint8Array, family: 4 | 6 = 4): DhtContact[] | undefined {
  const size = family === 4 ? COMPACT_NODE_V4 : COMPACT_NODE_V6;
  if (bytes.length % size !== 0) return undefined;
  const out: DhtContact[] = [];
  for (let at = 0; at < bytes.length; at += size) {
    const id = bytes.slice(at, at + NODE_ID_LENGTH);
    const address = decodeCompactPeer(bytes.subarray(at + NODE_ID_LENGTH, at + size))!;
    out.push({ id, address });
  }
  return out;
}
