/**
 * The 68-byte peer handshake (BEP 3) and its reserved bits: BEP 10 extension
 * protocol (`reserved[5] & 0x10`), BEP 6 fast extension (`reserved[7] & 0x04`) and
 * BEP 5 DHT (`reserved[7] & 0x01`).
 *
 * Layout: `pstrlen` (19), `pstr` ("BitTorrent protocol"), 8 reserved bytes,
 * 20-byte info-hash, 20-byte peer id.
 *
 * Layer: core (no I/O).
 * @module
 */
import { PROTOCOL } from "./constants.ts";
import { WireSyntaxError } from "./errors.ts";

/** Bytes in a handshake: 1 + 19 + 8 + 20 + 20. */
export const HANDSHAKE_LENGTH = 68;

const PSTR = Uint8Array.from(PROTOCOL, (c) => c.charCodeAt(0));
const RESERVED_AT = 1 + PSTR.length;
const INFO_HASH_AT = RESERVED_AT + 8;
const PEER_ID_AT = INFO_HASH_AT + 20;

/** What {@linkcode encodeHandshake} writes. */
export interface HandshakeOptions {
  /** The torrent's 20-byte info-hash (v1). */
  readonly infoHash: Uint8Array;
  /** Our 20-byte peer id. */
  readonly peerId: Uint8Array;
  /** Advertise the BEP 10 extension protocol. Default false. */
  readonly extensionProtocol?: boolean;
  /** Advertise the BEP 6 fast extension. Default false. */
  readonly fastExtension?: boolean;
  /** Advertise a BEP 5 DHT node (we will send `port`). Default false. */
  readonly dht?: boolean;
}

/** A decoded handshake; every byte array is a copy. */
export interface Handshake {
  /** The 20-byte info-hash. */
  readonly infoHash: Uint8Array;
  /** The 20-byte peer id. */
  readonly peerId: Uint8Array;
  /** The peer speaks BEP 10. */
  readonly extensionProtocol: boolean;
  /** The peer speaks BEP 6. */
  readonly fastExtension: boolean;
  /** The peer runs a BEP 5 DHT node. */
  readonly dht: boolean;
  /** The 8 reserved bytes as sent, for other extensions. */
  readonly reserved: Uint8Array;
}

function checkId(name: string, bytes: Uint8Array): void {
  if (!(bytes instanceof Uint8Array) || bytes.length !== 20) {
    throw new RangeError(`Cannot encode handshake: ${name} must be 20 bytes`);
  }
}

/**
 * Encodes our handshake.
 *
 * @param options info-hash, peer id and the extensions to advertise
 * @returns the 68 handshake bytes
 * @throws {RangeError} when the info-hash or peer id is not 20 bytes
 * @example
 * ```ts
 * import { decodeHandshake, encodeHandshake, HANDSHAKE_LENGTH } from "./handshake.ts";
 * import { deepStrictEqual } from "node:assert";
 * const infoHash = new Uint8Array(20).fill(0xaa);
 * const peerId = new Uint8Array(20).fill(0x41);
 * const bytes = encodeHandshake({ infoHash, peerId, extensionProtocol: true });
 * deepStrictEqual(bytes.length, HANDSHAKE_LENGTH);
 * deepStrictEqual(bytes[25], 0x10);
 * deepStrictEqual(decodeHandshake(bytes).extensionProtocol, true);
 * ```
 */
export function encodeHandshake(options: HandshakeOptions): Uint8Array {
  checkId("info-hash", options.infoHash);
  checkId("peer id", options.peerId);
  const out = new Uint8Array(HANDSHAKE_LENGTH);
  out[0] = PSTR.length;
  out.set(PSTR, 1);
  if (options.extensionProtocol) out[RESERVED_AT + 5] = 0x10;
  if (options.fastExtension) out[RESERVED_AT + 7]! |= 0x04;
  if (options.dht) out[RESERVED_AT + 7]! |= 0x01;
  out.set(options.infoHash, INFO_HASH_AT);
  out.set(options.peerId, PEER_ID_AT);
  return out;
}

/**
 * Decodes a peer's handshake from the first 68 bytes of `bytes` (bytes after it
 * belong to the message stream). `pstrlen` and `pstr` are checked first, so a
 * non-BitTorrent peer is refused from its first bytes (RELIABILITY PW1). Whether the
 * info-hash and peer id are acceptable is the driver's decision.
 *
 * @param bytes at least the 68 handshake bytes
 * @returns the decoded handshake, with copied byte arrays
 * @throws {WireSyntaxError} when `pstrlen` is not 19, `pstr` differs, or fewer than 68 bytes are given
 * @example
 * ```ts
 * import { decodeHandshake, encodeHandshake } from "./handshake.ts";
 * import { WireSyntaxError } from "./errors.ts";
 * import { deepStrictEqual, throws } from "node:assert";
 * const bytes = encodeHandshake({
 *   infoHash: new Uint8Array(20),
 *   peerId: new Uint8Array(20),
 *   fastExtension: true,
 * });
 * deepStrictEqual(decodeHandshake(bytes).fastExtension, true);
 * bytes[0] = 0;
 * throws(() => decodeHandshake(bytes), WireSyntaxError);
 * ```
 */
export function decodeHandshake(bytes: Uint8Array): Handshake {
  const pstrlen = bytes[0];
  if (pstrlen === undefined) throw new WireSyntaxError("empty handshake", 0);
  if (pstrlen !== PSTR.length) {
    throw new WireSyntaxError(`handshake pstrlen ${pstrlen}, expected ${PSTR.length}`, 0);
  }
  const seen = Math.min(bytes.length, RESERVED_AT);
  for (let i = 1; i < seen; i++) {
    if (bytes[i] !== PSTR[i - 1]) {
      throw new WireSyntaxError(`handshake protocol string is not "${PROTOCOL}"`, i);
    }
  }
  if (bytes.length < HANDSHAKE_LENGTH) {
    throw new WireSyntaxError(
      `handshake of ${bytes.length} bytes, expected ${HANDSHAKE_LENGTH}`,
      bytes.length,
    );
  }
  const reserved = bytes.slice(RESERVED_AT, INFO_HASH_AT);
  return {
    infoHash: bytes.slice(INFO_HASH_AT, PEER_ID_AT),
    peerId: bytes.slice(PEER_ID_AT, HANDSHAKE_LENGTH),
    extensionProtocol: (reserved[5]! & 0x10) !== 0,
    fastExtension: (reserved[7]! & 0x04) !== 0,
    dht: (reserved[7]! & 0x01) !== 0,
    reserved,
  };
}
