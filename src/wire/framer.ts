/**
 * The incremental peer wire framer: the receive path after the handshake (BEP 3,
 * BEP 5, BEP 6, BEP 10). Bytes go in as they arrive; whole messages come out in order.
 *
 * Copies: a message wholly inside one chunk is parsed in place, so its `block`,
 * `bitfield` or `payload` is a view of the chunk, valid only during the callback (the
 * consumer copies a block once, into its piece buffer). Only a frame that straddles
 * chunks is copied, into a reused internal buffer.
 *
 * Limits (RELIABILITY PW2-PW5, EX1; rules in `_frame.ts`): the length prefix is checked
 * against the cap as soon as its 4 bytes are seen, and the per-type length as soon as
 * the id byte is seen, both before anything past the 5-byte header is buffered. So
 * the framer never holds more than `maxMessageLength + 4` bytes. Its buffer grows with
 * the bytes that arrived (doubling, from room for a piece frame), never to a size the
 * peer merely declared: a peer that drips a 1 MiB message costs what it sent (PW10).
 *
 * Invariants (checked by {@linkcode WireFramer.assertInvariants}): with `h` bytes of a
 * partial frame held, `h < 4` means its length is unknown; `h ≥ 4` means its length
 * passed the cap and the frame needs more than `h` bytes; the buffer holds `h` bytes.
 *
 * Layer: core (no I/O).
 * @module
 */
import { MAX_PIECE_MESSAGE_LENGTH } from "./constants.ts";
import {
  checkPieceCount,
  type DecodeOptions,
  frameHeaderError,
  type FrameLimits,
  KEEP_ALIVE,
  lengthPrefixError,
  parseFrame,
  readU32,
  resolveLimits,
} from "./_frame.ts";
import { WireSyntaxError } from "./errors.ts";
import type { WireMessage } from "./messages.ts";

/** Options for {@linkcode WireFramer}. */
export type WireFramerOptions = DecodeOptions;

/** Receives each decoded message; byte fields are views valid only during the call. */
export type MessageHandler = (message: WireMessage) => void;

/** The reused buffer holds any piece frame; larger frames get a transient one. */
const STANDARD_CAPACITY = 4 + MAX_PIECE_MESSAGE_LENGTH;
const EMPTY = new Uint8Array(0);

/**
 * Splits a peer's byte stream (after the 68-byte handshake) into messages.
 *
 * @example
 * ```ts
 * import { WireFramer } from "./framer.ts";
 * import { encodeMessage, type WireMessage } from "./messages.ts";
 * import { deepStrictEqual } from "node:assert";
 * const framer = new WireFramer({ pieceCount: 100 });
 * const bytes = encodeMessage({ type: "have", index: 7 });
 * const seen: WireMessage[] = [];
 * framer.feed(bytes.subarray(0, 3), (m) => seen.push(m));
 * deepStrictEqual(framer.bufferedBytes, 3);
 * framer.feed(bytes.subarray(3), (m) => seen.push(m));
 * deepStrictEqual(seen, [{ type: "have", index: 7 }]);
 * ```
 */
export class WireFramer {
  readonly #limits: FrameLimits;
  #buffer: Uint8Array = EMPTY;
  /** Bytes of the partial frame held in `#buffer`. */
  #held = 0;
  /** Total size of the partial frame (prefix included), once its prefix is known; else 0. */
  #frameSize = 0;
  /** Stream offset of the partial frame's first byte. */
  #frameStart = 0;
  /** Stream bytes fed before the current chunk. */
  #streamOffset = 0;
  #failure: unknown = undefined;
  #feeding = false;

  /**
   * Makes a framer.
   * @param options the length cap (default 1 MiB + 2) and, when known, the piece count
   * @throws {RangeError} for a cap outside 16,393..2^32−1 or a piece count outside 1..2^21
   */
  constructor(options: WireFramerOptions = {}) {
    this.#limits = resolveLimits(options);
  }

  /**
   * Sets the piece count once metadata arrives: bitfields must then be exactly
   * ⌈n/8⌉ bytes with zero spare bits, and `have` indices below n.
   * @param pieceCount the torrent's piece count
   * @throws {RangeError} unless an integer in 1..2^21
   */
  setPieceCount(pieceCount: number): void {
    this.#limits.pieceCount = checkPieceCount(pieceCount);
  }

  /** Bytes of a partial frame held until more bytes arrive. */
  get bufferedBytes(): number {
    return this.#held;
  }

  /** Bytes the framer's buffer takes (what a slow peer costs us; for tests and benches). */
  get capacityBytes(): number {
    return this.#buffer.length;
  }

  /**
   * Total size (length prefix included) of the partial frame held, once its prefix is
   * known; 0 when nothing is held or the prefix is incomplete. A driver uses it to give a
   * slow peer time in proportion to the message (RELIABILITY PW10).
   */
  get heldFrameBytes(): number {
    return this.#held >= 4 ? this.#frameSize : 0;
  }

  /**
   * Parses every whole message `chunk` completes and calls `onMessage` for each, in
   * order. Byte fields of a message are views valid only during its callback. After
   * it throws (or `onMessage` throws), the framer is dead: every later call rethrows.
   *
   * @param chunk the next bytes of the stream; not retained after the call
   * @param onMessage receives each message
   * @throws {WireSyntaxError} when a frame breaks a rule; `offset` is the stream offset
   *   of its length prefix, counting from the first byte fed
   * @throws {Error} when called from inside `onMessage`
   */
  feed(chunk: Uint8Array, onMessage: MessageHandler): void {
    if (this.#failure !== undefined) throw this.#failure;
    if (this.#feeding) throw new Error("Cannot feed a WireFramer from inside its callback");
    this.#feeding = true;
    try {
      const pos = this.#held > 0 ? this.#resume(chunk, onMessage) : 0;
      if (pos < chunk.length) this.#scan(chunk, pos, onMessage);
      this.#streamOffset += chunk.length;
    } catch (e) {
      this.#failure = e;
      throw e;
    } finally {
      this.#feeding = false;
    }
  }

  /**
   * Checks the invariants listed in the module header.
   * @throws {Error} naming the broken invariant
   */
  assertInvariants(): void {
    const held = this.#held, size = this.#frameSize;
    const fail = (what: string) => {
      throw new Error(`WireFramer invariant broken: ${what} (held ${held}, frame ${size})`);
    };
    if (held < 0 || held > this.#buffer.length) fail("held bytes exceed the buffer");
    if (held < 4 && size !== 0) fail("frame size known before its prefix");
    if (held >= 4 && !(size > held && size <= this.#limits.maxMessageLength + 4)) {
      fail("held frame is complete or over the cap");
    }
    if (held === 0 && this.#buffer.length > STANDARD_CAPACITY) fail("large buffer retained");
  }

  /** Parses whole frames in `chunk` from `pos` in place, then holds any partial tail. */
  #scan(chunk: Uint8Array, pos: number, onMessage: MessageHandler): void {
    const limits = this.#limits;
    const end = chunk.length;
    while (end - pos >= 4) {
      const length = readU32(chunk, pos);
      if (length === 0) {
        pos += 4;
        onMessage(KEEP_ALIVE);
        continue;
      }
      const at = this.#streamOffset + pos;
      this.#check(lengthPrefixError(length, limits), at);
      if (end - pos < 5) break;
      this.#check(frameHeaderError(chunk[pos + 4]!, length, limits), at);
      if (end - pos < 4 + length) break;
      const message = parseFrame(chunk, pos + 4, length, limits, at);
      pos += 4 + length;
      onMessage(message);
    }
    if (pos < end) this.#hold(chunk, pos);
  }

  /** Copies a partial frame (header already checked as far as it goes) into the buffer. */
  #hold(chunk: Uint8Array, pos: number): void {
    const tail = chunk.length - pos;
    this.#frameSize = tail >= 4 ? 4 + readU32(chunk, pos) : 0;
    this.#frameStart = this.#streamOffset + pos;
    this.#reserve(tail);
    this.#buffer.set(chunk.subarray(pos), 0);
    this.#held = tail;
  }

  /** Continues the held frame with `chunk`; returns the bytes of `chunk` consumed. */
  #resume(chunk: Uint8Array, onMessage: MessageHandler): number {
    let pos = 0;
    if (this.#frameSize === 0) {
      pos = this.#append(chunk, 0, 4 - this.#held);
      if (this.#held < 4) return pos;
      const length = readU32(this.#buffer, 0);
      if (length === 0) {
        this.#release();
        onMessage(KEEP_ALIVE);
        return pos;
      }
      this.#check(lengthPrefixError(length, this.#limits), this.#frameStart);
      this.#frameSize = 4 + length;
    }
    if (pos === chunk.length) return pos;
    if (this.#held === 4) {
      const headerError = frameHeaderError(chunk[pos]!, this.#frameSize - 4, this.#limits);
      this.#check(headerError, this.#frameStart);
    }
    this.#reserve(this.#held + Math.min(this.#frameSize - this.#held, chunk.length - pos));
    pos = this.#append(chunk, pos, this.#frameSize - this.#held);
    if (this.#held < this.#frameSize) return pos;
    const buffer = this.#buffer, size = this.#frameSize;
    const message = parseFrame(buffer, 4, size - 4, this.#limits, this.#frameStart);
    this.#release();
    onMessage(message);
    return pos;
  }

  /** Appends up to `want` bytes of `chunk` from `pos`; returns the new position. */
  #append(chunk: Uint8Array, pos: number, want: number): number {
    const take = Math.min(want, chunk.length - pos);
    this.#buffer.set(chunk.subarray(pos, pos + take), this.#held);
    this.#held += take;
    return pos + take;
  }

  /**
   * Ensures room for `size` bytes that arrived (within the checked frame), keeping held
   * bytes: doubling, so a large frame costs O(its bytes) copies, and never past the frame.
   */
  #reserve(size: number): void {
    if (size <= this.#buffer.length) return;
    const grown = Math.min(
      Math.max(size, 2 * this.#buffer.length),
      Math.max(size, this.#frameSize),
    );
    const next = new Uint8Array(Math.max(grown, STANDARD_CAPACITY));
    next.set(this.#buffer.subarray(0, this.#held));
    this.#buffer = next;
  }

  /** Forgets the held frame; drops a buffer grown past the standard size. */
  #release(): void {
    this.#held = 0;
    this.#frameSize = 0;
    if (this.#buffer.length > STANDARD_CAPACITY) this.#buffer = EMPTY;
  }

  /** Throws `reason`, if there is one, as a WireSyntaxError at stream offset `offset`. */
  #check(reason: string | undefined, offset: number): void {
    if (reason !== undefined) throw new WireSyntaxError(reason, offset);
  }
}
