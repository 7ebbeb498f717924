/**
 * The BEP 9 `ut_metadata` message codec: `request`, `data` and `reject` payloads of
 * the extended message the peer assigned to `ut_metadata` in its BEP 10 handshake.
 *
 * Every message is a bencoded dictionary `{msg_type, piece[, total_size]}`; a `data`
 * message is followed by the raw metadata bytes of that piece. The end of the
 * dictionary is taken from the bencode decoder's offset, never by searching for
 * `ee` (RELIABILITY EX3), and the dictionary is decoded with `MESSAGE_LIMITS`.
 * An unknown `msg_type` decodes to an `"unknown"` message, which BEP 9 says MUST be
 * ignored.
 *
 * Layer: core (no I/O).
 * @module
 */
import {
  BencodeSyntaxError,
  type BencodeValue,
  decodePrefix,
  encode,
  isDict,
  MESSAGE_LIMITS,
} from "../bencode/mod.ts";
import { ExtensionSyntaxError } from "./errors.ts";

/** The metadata piece size: every piece but the last is exactly 16 KiB (BEP 9). */
export const METADATA_PIECE_LENGTH = 16384;

/** Default cap on `metadata_size`: 16 MiB (RELIABILITY limits table; anacrolix). */
export const DEFAULT_MAX_METADATA_BYTES: number = 16 * 1024 * 1024;

/** The shape of {@linkcode MetadataMessageType}: each message name and its `msg_type`. */
export interface MetadataMessageTypes {
  /** Asks for one piece of the metadata. */
  readonly request: 0;
  /** Carries one piece of the metadata after the dictionary. */
  readonly data: 1;
  /** The sender will not send the piece asked for. */
  readonly reject: 2;
}

/** The BEP 9 `msg_type` values. */
export const MetadataMessageType: MetadataMessageTypes = Object.freeze({
  request: 0,
  data: 1,
  reject: 2,
});

/** A `request` message: the sender wants piece `piece` of our metadata. */
export interface MetadataRequestMessage {
  /** Message kind. */
  readonly type: "request";
  /** The metadata piece index. */
  readonly piece: number;
}

/** A `data` message: one piece of the sender's metadata. */
export interface MetadataDataMessage {
  /** Message kind. */
  readonly type: "data";
  /** The metadata piece index. */
  readonly piece: number;
  /** The sender's `total_size` of the whole metadata, in bytes. */
  readonly totalSize: number;
  /** The piece bytes: a view into the decoded payload (copy it to keep it). */
  readonly data: Uint8Array;
}

/** A `reject` message: the sender will not send piece `piece`. */
export interface MetadataRejectMessage {
  /** Message kind. */
  readonly type: "reject";
  /** The metadata piece index. */
  readonly piece: number;
}

/** A message with a `msg_type` BEP 9 does not define; it MUST be ignored. */
export interface MetadataUnknownMessage {
  /** Message kind. */
  readonly type: "unknown";
  /** The `msg_type` as sent. */
  readonly msgType: number;
}

/** A decoded ut_metadata message. */
export type MetadataMessage =
  | MetadataRequestMessage
  | MetadataDataMessage
  | MetadataRejectMessage
  | MetadataUnknownMessage;

function checkIndex(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(
      `Cannot encode ut_metadata message: ${name} ${value} is not a non-negative integer`,
    );
  }
}

/**
 * Encodes a `request` message payload.
 * @param piece the metadata piece index, ≥ 0
 * @returns the bencoded payload, e.g. `d8:msg_typei0e5:piecei0ee`
 * @throws {RangeError} when `piece` is not a non-negative integer
 * @example
 * ```ts
 * import { encodeMetadataRequest } from "./ut_metadata.ts";
 * import { strictEqual } from "node:assert";
 * strictEqual(new TextDecoder().decode(encodeMetadataRequest(0)), "d8:msg_typei0e5:piecei0ee");
 * ```
 */
export function encodeMetadataRequest(piece: number): Uint8Array {
  checkIndex("piece", piece);
  return encode({ msg_type: MetadataMessageType.request, piece });
}

/**
 * Encodes a `reject` message payload.
 * @param piece the metadata piece index, ≥ 0
 * @returns the bencoded payload, e.g. `d8:msg_typei2e5:piecei0ee`
 * @throws {RangeError} when `piece` is not a non-negative integer
 * @example
 * ```ts
 * import { encodeMetadataReject } from "./ut_metadata.ts";
 * import { strictEqual } from "node:assert";
 * strictEqual(new TextDecoder().decode(encodeMetadataReject(0)), "d8:msg_typei2e5:piecei0ee");
 * ```
 */
export function encodeMetadataReject(piece: number): Uint8Array {
  checkIndex("piece", piece);
  return encode({ msg_type: MetadataMessageType.reject, piece });
}

/**
 * Encodes a `data` message payload: the dictionary followed by the piece bytes.
 * @param piece the metadata piece index, ≥ 0
 * @param totalSize the size of the whole metadata in bytes
 * @param data the piece bytes, at most 16 KiB
 * @returns the payload
 * @throws {RangeError} when an index is invalid or `data` is longer than 16 KiB
 * @example
 * ```ts
 * import { encodeMetadataData } from "./ut_metadata.ts";
 * import { strictEqual } from "node:assert";
 * const payload = encodeMetadataData(0, 34256, new TextEncoder().encode("xxxxxxxx"));
 * strictEqual(
 *   new TextDecoder().decode(payload),
 *   "d8:msg_typei1e5:piecei0e10:total_sizei34256eexxxxxxxx",
 * );
 * ```
 */
export function encodeMetadataData(piece: number, totalSize: number, data: Uint8Array): Uint8Array {
  checkIndex("piece", piece);
  checkIndex("totalSize", totalSize);
  if (data.length > METADATA_PIECE_LENGTH) {
    throw new RangeError(
      `Cannot encode ut_metadata message: data of ${data.length} bytes exceeds 16384`,
    );
  }
  const header = encode({ msg_type: MetadataMessageType.data, piece, total_size: totalSize });
  const out = new Uint8Array(header.length + data.length);
  out.set(header);
  out.set(data, header.length);
  return out;
}

const WHAT = "ut_metadata message";

function fail(message: string, offset: number, cause?: unknown): never {
  throw new ExtensionSyntaxError(WHAT, message, offset, cause === undefined ? {} : { cause });
}

function decodeHeader(payload: Uint8Array): { value: BencodeValue; end: number } {
  try {
    return decodePrefix(payload, MESSAGE_LIMITS);
  } catch (e) {
    if (e instanceof BencodeSyntaxError) fail(e.message, e.offset, e);
    throw e;
  }
}

function index(value: BencodeValue | undefined, key: string): number {
  if (typeof value !== "number") fail(`"${key}" is missing or not an integer`, 0);
  if (value < 0) fail(`"${key}" is negative: ${value}`, 0);
  return value;
}

/**
 * Decodes a ut_metadata payload (the extended message body after its id byte).
 * @param payload the payload bytes
 * @returns the message; a `data` message's `data` is a view into `payload`
 * @throws {ExtensionSyntaxError} when the header is not a bencoded dictionary within
 *   `MESSAGE_LIMITS`, `msg_type`/`piece`/`total_size` is missing, not an integer or
 *   negative, or a data message carries more than 16 KiB
 * @example
 * ```ts
 * import { decodeMetadataMessage, encodeMetadataData } from "./ut_metadata.ts";
 * import { deepStrictEqual } from "node:assert";
 * const payload = encodeMetadataData(0, 3, new Uint8Array([1, 2, 3]));
 * deepStrictEqual(decodeMetadataMessage(payload), {
 *   type: "data", piece: 0, totalSize: 3, data: new Uint8Array([1, 2, 3]),
 * });
 * ```
 */
export function decodeMetadataMessage(payload: Uint8Array): MetadataMessage {
  const { value, end } = decodeHeader(payload);
  if (!isDict(value)) fail("payload is not a dictionary", 0);
  const msgType = index(value.get("msg_type"), "msg_type");
  switch (msgType) {
    case MetadataMessageType.request:
      return { type: "request", piece: index(value.get("piece"), "piece") };
    case MetadataMessageType.reject:
      return { type: "reject", piece: index(value.get("piece"), "piece") };
    case MetadataMessageType.data: {
      const piece = index(value.get("piece"), "piece");
      const totalSize = index(value.get("total_size"), "total_size");
      const length = payload.length - end;
      if (length > METADATA_PIECE_LENGTH) fail(`data of ${length} bytes exceeds 16384`, end);
      return { type: "data", piece, totalSize, data: payload.subarray(end) };
    }
    default:
      return { type: "unknown", msgType };
  }
}

/**
 * The number of 16 KiB pieces metadata of `totalSize` bytes splits into.
 * @param totalSize the metadata size in bytes, ≥ 0
 * @returns ⌈totalSize / 16384⌉
 * @example
 * ```ts
 * import { metadataPieceCount, metadataPieceLength } from "./ut_metadata.ts";
 * import { strictEqual } from "node:assert";
 * strictEqual(metadataPieceCount(34256), 3);
 * strictEqual(metadataPieceLength(34256, 2), 1488);
 * ```
 */
export function metadataPieceCount(totalSize: number): number {
  return Math.ceil(totalSize / METADATA_PIECE_LENGTH);
}

/**
 * The exact length of piece `piece` of metadata of `totalSize` bytes: 16 KiB for every
 * piece but the last, the remainder for the last.
 * @param totalSize the metadata size in bytes
 * @param piece a piece index below {@linkcode metadataPieceCount}
 * @returns the piece length in bytes
 */
export function metadataPieceLength(totalSize: number, piece: number): number {
  return Math.min(METADATA_PIECE_LENGTH, totalSize - piece * METADATA_PIECE_LENGTH);
}
