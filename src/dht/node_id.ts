/**
 * Node ids (BEP 5) and their security extension (BEP 42): XOR distance, ordering,
 * random ids inside a bucket's range, and crc32c-based id generation and checks.
 *
 * Layer: core (pure; randomness is injected).
 * @module
 */
import type { Random } from "../runtime/types.ts";
import { isLocalHost, parseIp } from "./_address.ts";

/** Length of a node id and of an info-hash, in bytes. */
export const NODE_ID_LENGTH = 20;

const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/**
 * CRC-32C (Castagnoli), as BEP 42 uses it.
 * @param data the input
 * @returns the checksum as an unsigned 32-bit integer
 * @example
 * ```ts
 * import { crc32c } from "./node_id.ts";
 * import { deepStrictEqual } from "node:assert";
 * deepStrictEqual(crc32c(new TextEncoder().encode("123456789")), 0xe3069283);
 * ```
 */
export function crc32c(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = CRC32C_TABLE[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function checkId(id: Uint8Array, name: string): void {
  if (id.length !== NODE_ID_LENGTH) {
    throw new RangeError(`Cannot use ${name} of ${id.length} bytes: node ids are 20 bytes`);
  }
}

/**
 * XOR distance between two ids.
 * @param a an id
 * @param b another id
 * @returns the 20-byte distance
 * @throws {RangeError} when an id is not 20 bytes
 * @example
 * ```ts
 * import { xorDistance } from "./node_id.ts";
 * import { deepStrictEqual } from "node:assert";
 * const a = new Uint8Array(20).fill(0xff);
 * deepStrictEqual(xorDistance(a, new Uint8Array(20))[19], 0xff);
 * ```
 */
export function xorDistance(a: Uint8Array, b: Uint8Array): Uint8Array {
  checkId(a, "id a");
  checkId(b, "id b");
  const out = new Uint8Array(NODE_ID_LENGTH);
  for (let i = 0; i < NODE_ID_LENGTH; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}

/**
 * Orders two ids by their XOR distance to `target`.
 * @param target the lookup target
 * @param a an id
 * @param b another id
 * @returns negative when `a` is closer, positive when `b` is closer, 0 when equal
 * @example
 * ```ts
 * import { compareDistance } from "./node_id.ts";
 * import { ok } from "node:assert";
 * const t = new Uint8Array(20), near = new Uint8Array(20), far = new Uint8Array(20);
 * near[19] = 1;
 * far[0] = 1;
 * ok(compareDistance(t, near, far) < 0);
 * ```
 */
export function compareDistance(target: Uint8Array, a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < NODE_ID_LENGTH; i++) {
    const t = target[i]!;
    const d = (a[i]! ^ t) - (b[i]! ^ t);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * Number of leading bits two ids share (160 when equal).
 * @param a an id
 * @param b another id
 * @returns 0..160
 * @example
 * ```ts
 * import { commonPrefixBits } from "./node_id.ts";
 * import { deepStrictEqual } from "node:assert";
 * const b = new Uint8Array(20);
 * b[1] = 0x10; // bit 11
 * deepStrictEqual(commonPrefixBits(new Uint8Array(20), b), 11);
 * ```
 */
export function commonPrefixBits(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < NODE_ID_LENGTH; i++) {
    const x = a[i]! ^ b[i]!;
    if (x !== 0) return i * 8 + Math.clz32(x) - 24;
  }
  return NODE_ID_LENGTH * 8;
}

/**
 * A random id that shares exactly the first `prefixBits` bits of `base` and differs
 * at bit `prefixBits` (the range of routing bucket `prefixBits`); with
 * `prefixBits = 160` it returns a copy of `base`.
 * @param base the id whose prefix to keep (usually our own)
 * @param prefixBits 0..160
 * @param random randomness source
 * @returns a new 20-byte id
 * @throws {RangeError} when `prefixBits` is out of range
 * @example
 * ```ts
 * import { commonPrefixBits, randomIdInBucket } from "./node_id.ts";
 * import { SeededRandom } from "../util/prng.ts";
 * import { deepStrictEqual } from "node:assert";
 * const self = new Uint8Array(20);
 * deepStrictEqual(commonPrefixBits(self, randomIdInBucket(self, 12, new SeededRandom(1))), 12);
 * ```
 */
export function randomIdInBucket(base: Uint8Array, prefixBits: number, random: Random): Uint8Array {
  if (!Number.isInteger(prefixBits) || prefixBits < 0 || prefixBits > 160) {
    throw new RangeError(`Cannot pick an id with a prefix of ${prefixBits} bits`);
  }
  const out = random.bytes(NODE_ID_LENGTH);
  if (prefixBits === 160) return base.slice();
  const whole = prefixBits >> 3, bits = prefixBits & 7;
  out.set(base.subarray(0, whole));
  const keep = (0xff00 >> bits) & 0xff; // the top `bits` bits come from base
  const flip = 0x80 >> bits; // the first bit that must differ from base
  const low = ~(keep | flip) & 0xff; // the rest stays random
  const b = base[whole]!;
  out[whole] = (b & keep) | (~b & flip) | (out[whole]! & low);
  return out;
}

const V4_MASK = [0x03, 0x0f, 0x3f, 0xff];
const V6_MASK = [0x01, 0x03, 0x07, 0x0f, 0x1f, 0x3f, 0x7f, 0xff];

function bep42Prefix(ip: Uint8Array, r: number): number {
  const count = ip.length === 4 ? 4 : 8;
  const mask = count === 4 ? V4_MASK : V6_MASK;
  const masked = new Uint8Array(count);
  for (let i = 0; i < count; i++) masked[i] = ip[i]! & mask[i]!;
  masked[0]! |= (r & 7) << 5;
  return crc32c(masked);
}

/**
 * A BEP 42 node id for an external IP: the top 21 bits come from crc32c of the
 * masked IP and 3 random bits, which are repeated in the last byte.
 * @param host our external IPv4 or IPv6 address
 * @param random randomness source
 * @param seedByte the random last byte (0..255); drawn from `random` when omitted
 * @returns a 20-byte id
 * @throws {TypeError} when `host` is not an IP literal
 * @example
 * ```ts
 * import { bep42NodeId, isBep42Valid } from "./node_id.ts";
 * import { SeededRandom } from "../util/prng.ts";
 * import { ok } from "node:assert";
 * const id = bep42NodeId("124.31.75.21", new SeededRandom(1));
 * ok(isBep42Valid(id, "124.31.75.21"));
 * ```
 */
export function bep42NodeId(host: string, random: Random, seedByte?: number): Uint8Array {
  const ip = parseIp(host);
  if (!ip) throw new TypeError(`Cannot derive a node id from "${host}": not an IP address`);
  const rand = (seedByte ?? random.int(256)) & 0xff;
  const crc = bep42Prefix(ip, rand & 7);
  const id = random.bytes(NODE_ID_LENGTH);
  id[0] = crc >>> 24;
  id[1] = (crc >>> 16) & 0xff;
  id[2] = ((crc >>> 8) & 0xf8) | (id[2]! & 7);
  id[19] = rand;
  return id;
}

/**
 * Whether `id` is a valid BEP 42 id for `host`. Local addresses are exempt (always valid).
 * @param id the node id
 * @param host the node's IP
 * @returns true when the top 21 bits match the crc32c of the masked IP
 */
export function isBep42Valid(id: Uint8Array, host: string): boolean {
  if (id.length !== NODE_ID_LENGTH) return false;
  if (isLocalHost(host)) return true;
  const ip = parseIp(host);
  if (!ip) return false;
  const crc = bep42Prefix(ip, id[19]! & 7);
  return id[0] === crc >>> 24 && id[1] === ((crc >>> 16) & 0xff) &&
    (id[2]! & 0xf8) === ((crc >>> 8) & 0xf8);
}
