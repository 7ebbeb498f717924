/**
 * Private to src/wire/: the frame rules shared by `decodeMessage` and `WireFramer`
 * (BEP 3, BEP 5, BEP 6, BEP 10): per-type lengths checked from the 5-byte header
 * before any body is buffered, and the body parser.
 *
 * Rules (RELIABILITY PW2-PW5, EX1): a length prefix over the cap, an unknown id or a
 * wrong length for the type is a {@linkcode WireSyntaxError}. Fixed-size types have
 * exact lengths; a piece carries a 1..16384-byte block; a bitfield is exactly
 * ⌈n/8⌉ bytes with zero spare bits once the piece count n is known, else at most
 * 2^21 bits; a `have` index is below the piece count (below 2^21 before metadata);
 * an extended payload is at most 1 MiB. `request`, `suggest` and the rest pass
 * through with any uint32 values: judging them (BEP 6 reject) is the caller's policy.
 *
 * Layer: core (no I/O).
 * @module
 */
import {
  BLOCK_LENGTH,
  DEFAULT_MAX_MESSAGE_LENGTH,
  MAX_EXTENDED_PAYLOAD_LENGTH,
  MAX_PIECE_COUNT,
  MAX_PIECE_MESSAGE_LENGTH,
  MessageId,
} from "./constants.ts";
import { WireSyntaxError } from "./errors.ts";
import type { WireMessage } from "./messages.ts";

/** Options shared by `decodeMessage` and `WireFramer`. */
export interface DecodeOptions {
  /**
   * Cap on any length prefix, checked before buffering; at least 16,393 (a full piece
   * message). Default {@linkcode DEFAULT_MAX_MESSAGE_LENGTH} (1 MiB + 2).
   */
  readonly maxMessageLength?: number;
  /** The torrent's piece count (1..2^21), once metadata is known: enables exact bitfield and `have` checks. */
  readonly pieceCount?: number;
}

/** Resolved limits a frame is checked against (internal). */
export interface FrameLimits {
  /** Cap on the length prefix. */
  maxMessageLength: number;
  /** The piece count, when known. */
  pieceCount: number | undefined;
}

/**
 * Validates a piece count.
 * @param pieceCount the count
 * @returns the count
 * @throws {RangeError} unless an integer in 1..2^21
 */
export function checkPieceCount(pieceCount: number): number {
  if (!Number.isInteger(pieceCount) || pieceCount < 1 || pieceCount > MAX_PIECE_COUNT) {
    throw new RangeError(
      `Cannot use piece count ${pieceCount}: not an integer in 1..${MAX_PIECE_COUNT}`,
    );
  }
  return pieceCount;
}

/**
 * Validates options into limits.
 * @param options the caller's options
 * @returns the resolved limits
 * @throws {RangeError} for a cap outside 16,393..2^32−1 or a bad piece count
 */
export function resolveLimits(options: DecodeOptions): FrameLimits {
  const max = options.maxMessageLength ?? DEFAULT_MAX_MESSAGE_LENGTH;
  if (!Number.isInteger(max) || max < MAX_PIECE_MESSAGE_LENGTH || max > 0xffffffff) {
    throw new RangeError(
      `Cannot use maxMessageLength ${max}: not an integer in ${MAX_PIECE_MESSAGE_LENGTH}..2^32-1`,
    );
  }
  const count = options.pieceCount;
  return {
    maxMessageLength: max,
    pieceCount: count === undefined ? undefined : checkPieceCount(count),
  };
}

const NAMES: readonly string[] = (() => {
  const names: string[] = [];
  const kebab = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  for (const [key, id] of Object.entries(MessageId)) names[id] = kebab(key);
  return names;
})();

/**
 * Reads a big-endian uint32.
 * @param bytes the buffer
 * @param at where the 4 bytes start; the caller ensures they exist
 * @returns the value
 */
export function readU32(bytes: Uint8Array, at: number): number {
  return ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>>
    0;
}

/**
 * Why a length prefix is unacceptable whatever its id (PW2: checked before buffering).
 * @param length the length prefix value
 * @param limits the limits in force
 * @returns the reason, or `undefined` when it is within the cap
 */
export function lengthPrefixError(length: number, limits: FrameLimits): string | undefined {
  return length > limits.maxMessageLength
    ? `length prefix ${length} exceeds the cap of ${limits.maxMessageLength}`
    : undefined;
}

/** Frame length bounds (id included) by id; 0 marks an unknown id. */
const MIN_LENGTH = new Uint32Array(256);
const MAX_LENGTH = new Uint32Array(256);
(() => {
  const set = (ids: readonly number[], min: number, max: number) => {
    for (const id of ids) [MIN_LENGTH[id], MAX_LENGTH[id]] = [min, max];
  };
  const M = MessageId;
  set([M.choke, M.unchoke, M.interested, M.notInterested, M.haveAll, M.haveNone], 1, 1);
  set([M.have, M.suggest, M.allowedFast], 5, 5);
  set([M.request, M.cancel, M.reject], 13, 13);
  set([M.port], 3, 3);
  set([M.piece], 10, 9 + BLOCK_LENGTH); // BEP 3 blocks are 1..16 KiB (RELIABILITY PW2)
  set([M.bitfield], 2, 1 + MAX_PIECE_COUNT / 8); // exact once the piece count is known
  set([M.extended], 2, 2 + MAX_EXTENDED_PAYLOAD_LENGTH); // EX1
})();

/**
 * Why a frame with message id `id` and length prefix `length` is unacceptable, checked
 * as soon as the id byte is seen and before the body is buffered (PW2, PW3, PW4).
 * @param id the message id byte
 * @param length the length prefix value (id included, > 0)
 * @param limits the limits in force
 * @returns the reason, or `undefined` when the frame may be buffered
 */
export function frameHeaderError(
  id: number,
  length: number,
  limits: FrameLimits,
): string | undefined {
  let min = MIN_LENGTH[id]!;
  let max = MAX_LENGTH[id]!;
  if (min === 0) return `unknown message id ${id}`;
  if (id === MessageId.bitfield && limits.pieceCount !== undefined) {
    min = max = 1 + Math.ceil(limits.pieceCount / 8);
  }
  if (length >= min && length <= max) return undefined;
  return `${NAMES[id]} message has length ${length}, expected ${
    min === max ? min : `${min}..${max}`
  }`;
}

const BARE: readonly WireMessage[] = (() => {
  const bare: WireMessage[] = [];
  const types = ["choke", "unchoke", "interested", "not-interested"] as const;
  types.forEach((type, id) => bare[id] = Object.freeze({ type }));
  bare[MessageId.haveAll] = Object.freeze({ type: "have-all" });
  bare[MessageId.haveNone] = Object.freeze({ type: "have-none" });
  return bare;
})();

/** The keep-alive message (a zero length prefix); shared and frozen. */
export const KEEP_ALIVE: WireMessage = Object.freeze({ type: "keep-alive" });

function parseHave(
  bytes: Uint8Array,
  at: number,
  limits: FrameLimits,
  offset: number,
): WireMessage {
  const index = readU32(bytes, at + 1);
  const count = limits.pieceCount ?? MAX_PIECE_COUNT;
  if (index >= count) {
    throw new WireSyntaxError(`have index ${index} is not below the piece count ${count}`, offset);
  }
  return { type: "have", index };
}

function parseBitfield(
  bytes: Uint8Array,
  at: number,
  end: number,
  limits: FrameLimits,
  offset: number,
) {
  const bitfield = bytes.subarray(at + 1, end);
  const n = limits.pieceCount;
  if (n === undefined) return { type: "bitfield", bitfield } as const;
  // Re-checked here: the piece count may have been set while this frame was held.
  if (bitfield.length !== Math.ceil(n / 8)) {
    throw new WireSyntaxError(`bitfield of ${bitfield.length} bytes for ${n} pieces`, offset);
  }
  const spare = bitfield.length * 8 - n;
  if (spare > 0 && (bitfield[bitfield.length - 1]! & ((1 << spare) - 1)) !== 0) {
    throw new WireSyntaxError("bitfield has spare bits set", offset); // PW4
  }
  return { type: "bitfield", bitfield } as const;
}

/**
 * Parses one frame body whose header passed {@linkcode frameHeaderError}.
 *
 * @param bytes buffer holding the body
 * @param at index of the id byte
 * @param length the length prefix value (id included, > 0)
 * @param limits the limits in force
 * @param offset offset reported in errors (the frame's start)
 * @returns the message; byte fields are views into `bytes`
 * @throws {WireSyntaxError} for a `have` index out of range or bitfield spare bits
 */
export function parseFrame(
  bytes: Uint8Array,
  at: number,
  length: number,
  limits: FrameLimits,
  offset: number,
): WireMessage {
  const id = bytes[at]!;
  switch (id) {
    case MessageId.have:
      return parseHave(bytes, at, limits, offset);
    case MessageId.suggest:
      return { type: "suggest", index: readU32(bytes, at + 1) };
    case MessageId.allowedFast:
      return { type: "allowed-fast", index: readU32(bytes, at + 1) };
    case MessageId.request:
    case MessageId.cancel:
    case MessageId.reject: {
      const type = id === MessageId.request
        ? "request"
        : id === MessageId.cancel
        ? "cancel"
        : "reject";
      return {
        type,
        index: readU32(bytes, at + 1),
        begin: readU32(bytes, at + 5),
        length: readU32(bytes, at + 9),
      };
    }
    case MessageId.piece:
      return {
        type: "piece",
        index: readU32(bytes, at + 1),
        begin: readU32(bytes, at + 5),
        block: bytes.subarray(at + 9, at + length),
      };
    case MessageId.bitfield:
      return parseBitfield(bytes, at, at + length, limits, offset);
    case MessageId.port:
      return { type: "port", port: (bytes[at + 1]! << 8) | bytes[at + 2]! };
    case MessageId.extended:
      return {
        type: "extended",
        extendedId: bytes[at + 1]!,
        payload: bytes.subarray(at + 2, at + length),
      };
    default:
      return BARE[id]!;
  }
}
