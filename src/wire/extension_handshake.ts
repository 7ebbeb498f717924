/**
 * The BEP 10 extension handshake: the bencoded dictionary sent as extended message
 * id 0, naming the extensions a peer speaks (`m`) and a few facts about it.
 *
 * Decoding follows RELIABILITY EX1: the payload is decoded with `MESSAGE_LIMITS`
 * (1 MiB, depth 8); a payload that is not a dictionary is a `WireSyntaxError`;
 * fields of the wrong type are ignored; at most 128 `m` entries are read, and ids
 * outside 0..255 are dropped; `reqq` is clamped to our own cap.
 *
 * Layer: core (no I/O).
 * @module
 */
import { BencodeSyntaxError, decode, encode, isDict, MESSAGE_LIMITS } from "../bencode/mod.ts";
import type { BencodeDict, BencodeValue } from "../bencode/mod.ts";
import { fromUtf8 } from "../util/bytes.ts";
import { WireSyntaxError } from "./errors.ts";

/** The extended message id of the extension handshake (BEP 10). */
export const EXTENSION_HANDSHAKE_ID = 0;

/** At most this many `m` entries are read; the rest are ignored (EX1). */
export const MAX_EXTENSION_ENTRIES = 128;

/** The largest `reqq` believed: libtorrent's `max_allowed_in_request_queue` (PARAMETERS §2.1). */
export const MAX_REQQ = 2000;

/** At most this many bytes of the client name `v` are kept. */
export const MAX_CLIENT_NAME_BYTES = 100;

/** A BEP 10 extension handshake. */
export interface ExtensionHandshake {
  /** Extension name to the id the sender wants for it, 1..255; 0 disables a name. */
  readonly m: Map<string, number>;
  /** Client name and version, e.g. `"swarmd 0.1.0"`. */
  readonly v?: string;
  /** The sender's TCP listen port, 1..65535. */
  readonly p?: number;
  /** How many outstanding requests the sender queues; decoded values are clamped to 1..2000. */
  readonly reqq?: number;
  /** Our IP address as the sender sees it: 4 or 16 bytes. */
  readonly yourip?: Uint8Array;
  /** BEP 9 `metadata_size` as sent; the caller checks it against its own cap (EX2). */
  readonly metadataSize?: number;
  /** BEP 21 `upload_only`: the sender only uploads (a seed or partial seed). */
  readonly uploadOnly?: boolean;
}

function checkRange(name: string, value: number | undefined, min: number, max: number): void {
  if (value === undefined) return;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(
      `Cannot encode extension handshake: ${name} ${value} not in ${min}..${max}`,
    );
  }
}

/**
 * Encodes an extension handshake payload (send it as extended message id 0).
 *
 * @param handshake the fields to send; unset optional fields are left out
 * @returns the bencoded payload
 * @throws {RangeError} for an `m` id outside 0..255, `p` outside 1..65535, `reqq` below 1,
 *   a negative `metadataSize`, or `yourip` not 4 or 16 bytes
 * @throws {TypeError} for an `m` name with a character above U+00FF
 * @example
 * ```ts
 * import { encodeExtensionHandshake } from "./extension_handshake.ts";
 * import { deepStrictEqual } from "node:assert";
 * const payload = encodeExtensionHandshake({ m: new Map([["ut_metadata", 3]]), reqq: 500 });
 * deepStrictEqual(new TextDecoder().decode(payload), "d1:md11:ut_metadatai3ee4:reqqi500ee");
 * ```
 */
export function encodeExtensionHandshake(handshake: ExtensionHandshake): Uint8Array {
  for (const [name, id] of handshake.m) checkRange(`m id for "${name}"`, id, 0, 255);
  checkRange("p", handshake.p, 1, 0xffff);
  checkRange("reqq", handshake.reqq, 1, Number.MAX_SAFE_INTEGER);
  checkRange("metadataSize", handshake.metadataSize, 0, Number.MAX_SAFE_INTEGER);
  const ip = handshake.yourip;
  if (ip !== undefined && ip.length !== 4 && ip.length !== 16) {
    throw new RangeError(`Cannot encode extension handshake: yourip of ${ip.length} bytes`);
  }
  const upload = handshake.uploadOnly;
  return encode({
    m: handshake.m,
    v: handshake.v,
    p: handshake.p,
    reqq: handshake.reqq,
    yourip: ip,
    metadata_size: handshake.metadataSize,
    upload_only: upload === undefined ? undefined : upload ? 1 : 0,
  });
}

function decodeExtensionMap(value: BencodeValue | undefined): Map<string, number> {
  const m = new Map<string, number>();
  if (!isDict(value)) return m; // no or malformed `m`: the peer speaks no extensions
  let seen = 0;
  for (const [name, id] of value) {
    if (++seen > MAX_EXTENSION_ENTRIES) break;
    if (typeof id === "number" && Number.isInteger(id) && id >= 0 && id <= 255) m.set(name, id);
  }
  return m;
}

function int(dict: BencodeDict, key: string): number | undefined {
  const value = dict.get(key);
  return typeof value === "number" ? value : undefined;
}

function bytes(dict: BencodeDict, key: string): Uint8Array | undefined {
  const value = dict.get(key);
  return value instanceof Uint8Array ? value : undefined;
}

/** Builds the result, leaving out fields that are absent or invalid. */
function fields(dict: BencodeDict): Omit<ExtensionHandshake, "m"> {
  const out: { -readonly [K in keyof ExtensionHandshake]?: ExtensionHandshake[K] } = {};
  const v = bytes(dict, "v");
  if (v !== undefined) out.v = fromUtf8(v.subarray(0, MAX_CLIENT_NAME_BYTES));
  const p = int(dict, "p");
  if (p !== undefined && p >= 1 && p <= 0xffff) out.p = p;
  const reqq = int(dict, "reqq");
  if (reqq !== undefined && reqq >= 1) out.reqq = Math.min(reqq, MAX_REQQ);
  const ip = bytes(dict, "yourip");
  if (ip !== undefined && (ip.length === 4 || ip.length === 16)) out.yourip = ip;
  const size = int(dict, "metadata_size");
  if (size !== undefined) out.metadataSize = size;
  const upload = int(dict, "upload_only");
  if (upload !== undefined) out.uploadOnly = upload !== 0;
  return out;
}

/**
 * Decodes an extension handshake payload (the bytes after extended id 0).
 *
 * @param payload the bencoded dictionary
 * @returns the handshake; invalid or out-of-range optional fields are left out
 * @throws {WireSyntaxError} when the payload is not valid bencode within
 *   `MESSAGE_LIMITS` (the cause is the `BencodeSyntaxError`) or not a dictionary
 * @example
 * ```ts
 * import { decodeExtensionHandshake } from "./extension_handshake.ts";
 * import { deepStrictEqual } from "node:assert";
 * const payload = new TextEncoder().encode("d1:md6:ut_pexi1ee4:reqqi99999999ee");
 * const h = decodeExtensionHandshake(payload);
 * deepStrictEqual(h.m.get("ut_pex"), 1);
 * deepStrictEqual(h.reqq, 2000);
 * ```
 */
export function decodeExtensionHandshake(payload: Uint8Array): ExtensionHandshake {
  let value: BencodeValue;
  try {
    value = decode(payload, MESSAGE_LIMITS);
  } catch (e) {
    if (!(e instanceof BencodeSyntaxError)) throw e;
    throw new WireSyntaxError(`extension handshake: ${e.message}`, e.offset, { cause: e });
  }
  if (!isDict(value)) throw new WireSyntaxError("extension handshake is not a dictionary", 0);
  return { m: decodeExtensionMap(value.get("m")), ...fields(value) };
}
