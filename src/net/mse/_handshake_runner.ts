/**
 * The machinery under both MSE handshake roles: {@linkcode HandshakeBuffer} holds the
 * peer's bytes under a limit each stage sets after checking the peer's lengths, and
 * {@linkcode HandshakeRunner} feeds it, collects bytes to send, and turns completion
 * into a result with the leftover stream bytes.
 *
 * Layer: core (no I/O).
 * @module
 */
import { concatBytes } from "../../util/bytes.ts";
import {
  fail,
  indexOf,
  type MseMethod,
  type MseResult,
  type MseStep,
} from "./_handshake_common.ts";
import type { MseCiphers } from "./keys.ts";

/**
 * Received handshake bytes. The current stage sets `limit`, the most it may hold, after
 * checking any length that comes from the peer; nothing past `limit` is ever buffered.
 *
 * Invariants: `pos ≤ length ≤ limit ≤ capacity`, and `limit ≤ maxBytes`.
 */
export class HandshakeBuffer {
  #bytes: Uint8Array;
  #length = 0;
  #limit: number;
  /** Parse position: bytes before it are consumed. */
  pos = 0;
  readonly #maxBytes: number;
  /** Where the next {@linkcode HandshakeBuffer.scan} resumes. */
  #scanned = 0;

  /** Starts holding up to `limit` bytes; `maxBytes` bounds every later limit. */
  constructor(limit: number, maxBytes: number) {
    this.#maxBytes = maxBytes;
    this.#limit = limit;
    this.#bytes = new Uint8Array(limit);
  }

  /** Bytes held. */
  get length(): number {
    return this.#length;
  }

  /** The most the current stage may hold. */
  get limit(): number {
    return this.#limit;
  }

  /** The held bytes (a view; stages decrypt their own span in place, once). */
  get bytes(): Uint8Array {
    return this.#bytes;
  }

  /** Raises or lowers the limit (never below what is held), growing storage as needed. */
  setLimit(limit: number): void {
    if (limit > this.#maxBytes || limit < this.#length) {
      throw new Error(`HandshakeBuffer limit ${limit} outside ${this.#length}..${this.#maxBytes}`);
    }
    if (limit > this.#bytes.length) {
      const grown = new Uint8Array(limit);
      grown.set(this.#bytes.subarray(0, this.#length));
      this.#bytes = grown;
    }
    this.#limit = limit;
  }

  /** Copies from `chunk[at..]` what fits under the limit; returns the new `at`. */
  take(chunk: Uint8Array, at: number): number {
    const n = Math.min(this.#limit - this.#length, chunk.length - at);
    if (n <= 0) return at;
    this.#bytes.set(chunk.subarray(at, at + n), this.#length);
    this.#length += n;
    return at + n;
  }

  /**
   * Looks for a sync marker in the held bytes from `pos` on, resuming where the last
   * scan stopped (a marker may straddle reads).
   * @returns its index, or −1 while it may still come
   * @throws {ProtocolError} `Cannot complete MSE handshake: ${missing}` once the limit
   *   (the end of the sync window) is held without it
   */
  scan(marker: Uint8Array, missing: string): number {
    const from = Math.max(this.#scanned, this.pos);
    const found = indexOf(this.#bytes, marker, from, this.#length);
    if (found >= 0) return found;
    if (this.#length === this.#limit) fail(missing);
    this.#scanned = Math.max(from, this.#length - marker.length + 1);
    return -1;
  }

  /** A copy of the unparsed bytes followed by `chunk[at..]`. */
  rest(chunk: Uint8Array, at: number): Uint8Array {
    const held = this.#bytes.subarray(this.pos, this.#length);
    const out = new Uint8Array(held.length + chunk.length - at);
    out.set(held);
    out.set(chunk.subarray(at), held.length);
    return out;
  }

  /** Checks the invariants in the class header. */
  assertInvariants(): void {
    const { pos, length, limit } = { pos: this.pos, length: this.#length, limit: this.#limit };
    if (!(0 <= pos && pos <= length && length <= limit && limit <= this.#bytes.length)) {
      throw new Error(
        `HandshakeBuffer invariant broken: pos ${pos}, length ${length}, ` +
          `limit ${limit}, capacity ${this.#bytes.length}`,
      );
    }
    if (limit > this.#maxBytes) throw new Error(`HandshakeBuffer limit ${limit} over the cap`);
  }
}

/** What a role knows when its handshake is complete (the driver adds the leftover). */
export interface Completion {
  /** The method for the payload stream. */
  readonly selected: MseMethod;
  /** SKEY. */
  readonly infoHash: Uint8Array;
  /** The IA (responder) or empty (initiator). */
  readonly initialPayload: Uint8Array;
  /** This side's keystreams, positioned after the handshake. */
  readonly ciphers: MseCiphers;
}

/**
 * The part both roles share: the bounded buffer, the bytes to send, failure and
 * completion. A role's stage function reads `buffer`, calls `send` and `complete`.
 */
export class HandshakeRunner {
  /** Received bytes. */
  readonly buffer: HandshakeBuffer;
  readonly #role: string;
  #send: Uint8Array[] = [];
  #failure: unknown = undefined;
  #completion: Completion | undefined = undefined;
  #result: MseResult | undefined = undefined;

  /** A runner for `role` (used in messages) holding up to `limit`, never past `maxBytes`. */
  constructor(role: string, limit: number, maxBytes: number) {
    this.#role = role;
    this.buffer = new HandshakeBuffer(limit, maxBytes);
  }

  /** Bytes of the peer's handshake held, waiting for more. */
  get bufferedBytes(): number {
    return this.buffer.length - this.buffer.pos;
  }

  /** Queues bytes for the peer. */
  send(bytes: Uint8Array): void {
    this.#send.push(bytes);
  }

  /** Marks the handshake complete; bytes after `buffer.pos` become the leftover. */
  complete(completion: Completion): void {
    this.#completion = completion;
  }

  /**
   * Takes what the buffer's limit allows from `chunk`, runs `advance` (one stage; true
   * when it moved on and wants to run again) until it waits or completes.
   * @throws {ProtocolError} what `advance` threw; every later call rethrows it
   * @throws {Error} after completion
   */
  receive(chunk: Uint8Array, advance: () => boolean): MseStep {
    if (this.#failure !== undefined) throw this.#failure;
    if (this.#result !== undefined) throw new Error(`${this.#role}.receive() after completion`);
    try {
      let at = 0;
      for (;;) {
        at = this.buffer.take(chunk, at);
        if (!advance()) break;
      }
      if (this.#completion !== undefined) this.#result = this.#finish(this.#completion, chunk, at);
      const sends = this.#send;
      this.#send = [];
      return { send: sends.length <= 1 ? sends[0] : concatBytes(sends), result: this.#result };
    } catch (e) {
      this.#failure = e;
      throw e;
    }
  }

  #finish(c: Completion, chunk: Uint8Array, at: number): MseResult {
    const leftover = this.buffer.rest(chunk, at);
    const rc4 = c.selected === "rc4";
    if (rc4) c.ciphers.decrypt.process(leftover);
    return { ...c, leftover, ciphers: rc4 ? c.ciphers : undefined };
  }
}
