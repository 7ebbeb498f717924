/**
 * Peer wire messages (BEP 3, BEP 5 `port`, BEP 6 fast extension, BEP 10 `extended`):
 * the `WireMessage` union and its encoders. Every frame is a 4-byte big-endian
 * length prefix, then (unless it is a keep-alive) a 1-byte id and the payload.
 *
 * The hot path writes into caller buffers: {@linkcode encodeMessageInto}, and
 * {@linkcode encodePieceHeaderInto} for senders that copy the block themselves.
 *
 * Layer: core (no I/O).
 * @module
 */
import { MessageId } from "./constants.ts";

/** A message with no payload. */
export interface BareMessage {
  /** The message type. */
  readonly type:
    | "keep-alive"
    | "choke"
    | "unchoke"
    | "interested"
    | "not-interested"
    | "have-all"
    | "have-none";
}

/** A message naming one piece: `have` (BEP 3), `suggest` and `allowed-fast` (BEP 6). */
export interface PieceIndexMessage {
  /** The message type. */
  readonly type: "have" | "suggest" | "allowed-fast";
  /** The piece index. */
  readonly index: number;
}

/** A message naming one block: `request`, `cancel` (BEP 3) and `reject` (BEP 6). */
export interface BlockRequestMessage {
  /** The message type. */
  readonly type: "request" | "cancel" | "reject";
  /** The piece index. */
  readonly index: number;
  /** Byte offset of the block in the piece. */
  readonly begin: number;
  /** Block length in bytes. */
  readonly length: number;
}

/** The pieces a peer has, in BEP 3 bit order. */
export interface BitfieldMessage {
  /** The message type. */
  readonly type: "bitfield";
  /** The raw bitfield bytes; from the framer, a view valid only during the callback. */
  readonly bitfield: Uint8Array;
}

/** A block of data. */
export interface PieceMessage {
  /** The message type. */
  readonly type: "piece";
  /** The piece index. */
  readonly index: number;
  /** Byte offset of the block in the piece. */
  readonly begin: number;
  /** The block; from the framer, a view valid only during the callback. */
  readonly block: Uint8Array;
}

/** The sender's DHT port (BEP 5). */
export interface PortMessage {
  /** The message type. */
  readonly type: "port";
  /** UDP port, 0..65535. */
  readonly port: number;
}

/** A BEP 10 extension message; `extendedId` 0 is the extension handshake. */
export interface ExtendedMessage {
  /** The message type. */
  readonly type: "extended";
  /** The extended message id, 0..255. */
  readonly extendedId: number;
  /** The payload; from the framer, a view valid only during the callback. */
  readonly payload: Uint8Array;
}

/** Any peer wire message after the handshake. */
export type WireMessage =
  | BareMessage
  | PieceIndexMessage
  | BlockRequestMessage
  | BitfieldMessage
  | PieceMessage
  | PortMessage
  | ExtendedMessage;

/** The `type` of a {@linkcode WireMessage}, e.g. `"piece"`. */
export type WireMessageType = WireMessage["type"];

/** The id byte of each message type (keep-alive has none). */
export const MESSAGE_ID_OF: Readonly<Record<Exclude<WireMessageType, "keep-alive">, MessageId>> =
  Object.freeze({
    "choke": MessageId.choke,
    "unchoke": MessageId.unchoke,
    "interested": MessageId.interested,
    "not-interested": MessageId.notInterested,
    "have": MessageId.have,
    "bitfield": MessageId.bitfield,
    "request": MessageId.request,
    "piece": MessageId.piece,
    "cancel": MessageId.cancel,
    "port": MessageId.port,
    "suggest": MessageId.suggest,
    "have-all": MessageId.haveAll,
    "have-none": MessageId.haveNone,
    "reject": MessageId.reject,
    "allowed-fast": MessageId.allowedFast,
    "extended": MessageId.extended,
  });

/** Body length (after the length prefix) of `message`. */
function bodyLength(message: WireMessage): number {
  switch (message.type) {
    case "keep-alive":
      return 0;
    case "have":
    case "suggest":
    case "allowed-fast":
      return 5;
    case "request":
    case "cancel":
    case "reject":
      return 13;
    case "bitfield":
      return 1 + message.bitfield.length;
    case "piece":
      return 9 + message.block.length;
    case "port":
      return 3;
    case "extended":
      return 2 + message.payload.length;
    default:
      return 1;
  }
}

/**
 * The encoded size of `message`, length prefix included.
 *
 * @param message the message
 * @returns bytes {@linkcode encodeMessageInto} will write
 * @throws never
 * @example
 * ```ts
 * import { messageLength } from "./messages.ts";
 * import { deepStrictEqual } from "node:assert";
 * deepStrictEqual(messageLength({ type: "keep-alive" }), 4);
 * deepStrictEqual(messageLength({ type: "request", index: 0, begin: 0, length: 16384 }), 17);
 * ```
 */
export function messageLength(message: WireMessage): number {
  return 4 + bodyLength(message);
}

function writeU32(target: Uint8Array, at: number, value: number): void {
  target[at] = value >>> 24;
  target[at + 1] = value >>> 16;
  target[at + 2] = value >>> 8;
  target[at + 3] = value;
}

function checkUint(name: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`Cannot encode ${name} ${value}: not an integer in 0..${max}`);
  }
}

const U32 = 0xffffffff;

/** Validates every number the encoder will write. */
function checkFields(message: WireMessage): void {
  switch (message.type) {
    case "have":
    case "suggest":
    case "allowed-fast":
      return checkUint("index", message.index, U32);
    case "request":
    case "cancel":
    case "reject":
      checkUint("length", message.length, U32);
    // falls through
    case "piece":
      checkUint("index", message.index, U32);
      return checkUint("begin", message.begin, U32);
    case "port":
      return checkUint("port", message.port, 0xffff);
    case "extended":
      return checkUint("extended id", message.extendedId, 0xff);
  }
}

/** Writes the payload of `message` (the bytes after the id) at `at`. */
function writePayload(message: WireMessage, target: Uint8Array, at: number): void {
  switch (message.type) {
    case "have":
    case "suggest":
    case "allowed-fast":
      return writeU32(target, at, message.index);
    case "request":
    case "cancel":
    case "reject":
      writeU32(target, at, message.index);
      writeU32(target, at + 4, message.begin);
      return writeU32(target, at + 8, message.length);
    case "bitfield":
      return target.set(message.bitfield, at);
    case "piece":
      writeU32(target, at, message.index);
      writeU32(target, at + 4, message.begin);
      return target.set(message.block, at + 8);
    case "port":
      target[at] = message.port >>> 8;
      target[at + 1] = message.port;
      return;
    case "extended":
      target[at] = message.extendedId;
      return target.set(message.payload, at + 1);
  }
}

/**
 * Encodes `message` into `target` at `offset`: the allocation-free send path.
 * The caller ensures `messageLength(message)` bytes of room.
 *
 * @param message the message
 * @param target the buffer to write into
 * @param offset where the frame starts
 * @returns bytes written, equal to `messageLength(message)`
 * @throws {RangeError} when a field does not fit its wire width (index, begin and length
 *   are uint32, port uint16, extended id uint8), the frame is over 4 GiB, or `target` lacks room
 * @example
 * ```ts
 * import { encodeMessageInto } from "./messages.ts";
 * import { deepStrictEqual } from "node:assert";
 * const out = new Uint8Array(16);
 * const n = encodeMessageInto({ type: "have", index: 42 }, out, 2);
 * deepStrictEqual(n, 9);
 * deepStrictEqual([...out.subarray(2, 11)], [0, 0, 0, 5, 4, 0, 0, 0, 42]);
 * ```
 */
export function encodeMessageInto(
  message: WireMessage,
  target: Uint8Array,
  offset: number,
): number {
  checkFields(message);
  const body = bodyLength(message);
  if (body > U32) throw new RangeError(`Cannot encode a ${message.type} message of ${body} bytes`);
  if (!Number.isInteger(offset) || offset < 0 || offset + 4 + body > target.length) {
    throw new RangeError(
      `Cannot encode a ${4 + body}-byte ${message.type} message at offset ${offset} ` +
        `of a ${target.length}-byte buffer`,
    );
  }
  writeU32(target, offset, body);
  if (message.type !== "keep-alive") {
    target[offset + 4] = MESSAGE_ID_OF[message.type];
    writePayload(message, target, offset + 5);
  }
  return 4 + body;
}

/**
 * Encodes `message` into a new buffer.
 *
 * @param message the message
 * @returns the frame, length prefix included
 * @throws {RangeError} when a field does not fit its wire width (see {@linkcode encodeMessageInto})
 * @example
 * ```ts
 * import { encodeMessage } from "./messages.ts";
 * import { deepStrictEqual } from "node:assert";
 * deepStrictEqual([...encodeMessage({ type: "interested" })], [0, 0, 0, 1, 2]);
 * deepStrictEqual([...encodeMessage({ type: "port", port: 6881 })], [0, 0, 0, 3, 9, 0x1a, 0xe1]);
 * ```
 */
export function encodeMessage(message: WireMessage): Uint8Array {
  const out = new Uint8Array(messageLength(message));
  encodeMessageInto(message, out, 0);
  return out;
}

/** Bytes {@linkcode encodePieceHeaderInto} writes: length prefix, id, index, begin. */
export const PIECE_HEADER_LENGTH = 13;

/**
 * Writes the 13-byte header of a piece message whose `blockLength`-byte block the
 * caller copies to `offset + 13` itself (e.g. straight from its piece cache).
 *
 * @param target the buffer to write into; the caller ensures 13 bytes of room
 * @param offset where the frame starts
 * @param index the piece index (uint32)
 * @param begin the block's offset in the piece (uint32)
 * @param blockLength the block length, 0..2^32−10
 * @returns 13, the header length
 * @throws {RangeError} when a field does not fit or `target` lacks 13 bytes of room
 * @example
 * ```ts
 * import { encodePieceHeaderInto } from "./messages.ts";
 * import { deepStrictEqual } from "node:assert";
 * const frame = new Uint8Array(13 + 4);
 * const at = encodePieceHeaderInto(frame, 0, 1, 16384, 4);
 * frame.set([1, 2, 3, 4], at);
 * deepStrictEqual([...frame.subarray(0, 13)], [0, 0, 0, 13, 7, 0, 0, 0, 1, 0, 0, 0x40, 0]);
 * ```
 */
export function encodePieceHeaderInto(
  target: Uint8Array,
  offset: number,
  index: number,
  begin: number,
  blockLength: number,
): number {
  if (
    (index >>> 0) !== index || (begin >>> 0) !== begin || (blockLength >>> 0) !== blockLength ||
    blockLength > U32 - 9 || !(offset >= 0 && offset + PIECE_HEADER_LENGTH <= target.length) ||
    (offset >>> 0) !== offset
  ) {
    throw new RangeError(
      `Cannot encode piece header (index ${index}, begin ${begin}, length ${blockLength}) ` +
        `at offset ${offset} of a ${target.length}-byte buffer`,
    );
  }
  writeU32(target, offset, 9 + blockLength);
  target[offset + 4] = MessageId.piece;
  writeU32(target, offset + 5, index);
  writeU32(target, offset + 9, begin);
  return PIECE_HEADER_LENGTH;
}
