/**
 * One-shot peer wire frame decoding (BEP 3, BEP 5, BEP 6, BEP 10), with the same
 * rules as `WireFramer` (see `_frame.ts`): length caps and exact per-type lengths,
 * checked from the header before the body is looked at.
 *
 * Layer: core (no I/O).
 * @module
 */
import {
  type DecodeOptions,
  frameHeaderError,
  KEEP_ALIVE,
  lengthPrefixError,
  parseFrame,
  readU32,
  resolveLimits,
} from "./_frame.ts";
import { WireSyntaxError } from "./errors.ts";
import type { WireMessage } from "./messages.ts";

export type { DecodeOptions } from "./_frame.ts";

/** A decoded frame and the offset just past it. */
export interface DecodedMessage {
  /** The message; byte fields are views into the input. */
  readonly message: WireMessage;
  /** Offset just past the frame. */
  readonly end: number;
}

/**
 * Decodes the frame starting at `offset`, if it is whole. For a byte stream, use
 * `WireFramer`, which also handles frames split across reads.
 *
 * @param bytes the input
 * @param offset where the frame's length prefix starts (default 0)
 * @param options the length cap and, once known, the piece count
 * @returns the message (byte fields are views into `bytes`) and its end, or
 *   `undefined` when the frame is not yet complete
 * @throws {WireSyntaxError} when the frame breaks a rule; `offset` is the frame's start
 * @throws {RangeError} for a bad `offset` or options
 * @example
 * ```ts
 * import { decodeMessage } from "./decode_message.ts";
 * import { deepStrictEqual } from "node:assert";
 * const bytes = new Uint8Array([0, 0, 0, 5, 4, 0, 0, 0, 7, 0, 0]);
 * deepStrictEqual(decodeMessage(bytes), { message: { type: "have", index: 7 }, end: 9 });
 * deepStrictEqual(decodeMessage(bytes, 9), undefined);
 * ```
 */
export function decodeMessage(
  bytes: Uint8Array,
  offset = 0,
  options: DecodeOptions = {},
): DecodedMessage | undefined {
  if (!Number.isInteger(offset) || offset < 0 || offset > bytes.length) {
    throw new RangeError(`Cannot decode at offset ${offset} of ${bytes.length} bytes`);
  }
  const limits = resolveLimits(options);
  if (bytes.length - offset < 4) return undefined;
  const length = readU32(bytes, offset);
  if (length === 0) return { message: KEEP_ALIVE, end: offset + 4 };
  const capError = lengthPrefixError(length, limits);
  if (capError !== undefined) throw new WireSyntaxError(capError, offset);
  if (bytes.length - offset < 5) return undefined;
  const headerError = frameHeaderError(bytes[offset + 4]!, length, limits);
  if (headerError !== undefined) throw new WireSyntaxError(headerError, offset);
  if (bytes.length - offset < 4 + length) return undefined;
  return {
    message: parseFrame(bytes, offset + 4, length, limits, offset),
    end: offset + 4 + length,
  };
}
