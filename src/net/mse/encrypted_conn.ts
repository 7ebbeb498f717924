/**
 * The `Conn`s an MSE handshake hands back: {@linkcode Rc4Conn} encrypts what is written
 * and decrypts what is read; {@linkcode PrefixedConn} first yields bytes that were read
 * past the handshake, so none is lost.
 *
 * Reads decrypt in place, in the caller's buffer: no copy, no allocation.
 *
 * Writes keep the `Conn` contract (the caller's `data` is left as it was): each write
 * is copied into a scratch buffer reused for the life of the connection, encrypted
 * there and written. The copy costs about 5 % of the RC4 work (a 256 KiB memcpy is
 * ~15 µs against ~350 µs of keystream; `bench/mse_bench.ts`), and it keeps a
 * caller from corrupting a buffer it still holds (a cached piece, a shared constant
 * message). A caller that hands over its buffers can set `inPlaceWrites`: then each
 * write encrypts `data` where it lies and the caller must not read or reuse it after
 * `write` is called. The scratch grows to the largest write, at most
 * `maxWriteChunkBytes` (256 KiB); a larger write goes out in chunks of that size.
 *
 * Writes are serialised in call order (the keystream must match the byte order on the
 * wire). Reads must not overlap: a second `read` before the first settles throws.
 *
 * Layer: driver (wraps an injected `Conn`; no platform calls).
 * @module
 */
import type { Conn, PeerAddress } from "../../runtime/types.ts";
import type { MseCiphers } from "./keys.ts";

/** Default cap on the scratch buffer, and so on the size of each underlying write. */
export const DEFAULT_MAX_WRITE_CHUNK_BYTES = 256 * 1024;

/** Options for {@linkcode Rc4Conn}. */
export interface Rc4ConnOptions {
  /**
   * Encrypt each written `data` in place instead of through the scratch buffer. The
   * caller then gives up `data` when it calls `write`. Default false.
   */
  readonly inPlaceWrites?: boolean;
  /** Largest underlying write and scratch size in bytes, ≥ 1 KiB. Default 256 KiB. */
  readonly maxWriteChunkBytes?: number;
}

/**
 * An RC4-encrypted stream over another `Conn` (MSE/PE after a handshake selected RC4).
 *
 * @example
 * ```ts
 * import { Rc4Conn } from "./encrypted_conn.ts";
 * import { Rc4 } from "./rc4.ts";
 * import { deepStrictEqual } from "node:assert";
 * const key = new Uint8Array(20).fill(9);
 * const sent: Uint8Array[] = [];
 * const inner = {
 *   remoteAddr: { host: "127.0.0.1", port: 1 },
 *   localAddr: { host: "127.0.0.1", port: 2 },
 *   read: () => Promise.resolve(null),
 *   write: (data: Uint8Array) => { sent.push(data.slice()); return Promise.resolve(); },
 *   close() {},
 * };
 * const conn = new Rc4Conn(inner, { encrypt: new Rc4(key), decrypt: new Rc4(key) });
 * const message = new Uint8Array([1, 2, 3]);
 * await conn.write(message);
 * deepStrictEqual(message, new Uint8Array([1, 2, 3])); // the caller's bytes are untouched
 * new Rc4(key).process(sent[0]!);
 * deepStrictEqual(sent[0], message);
 * ```
 */
export class Rc4Conn implements Conn {
  readonly #inner: Conn;
  readonly #encrypt: MseCiphers["encrypt"];
  readonly #decrypt: MseCiphers["decrypt"];
  readonly #inPlace: boolean;
  readonly #maxChunk: number;
  #scratch = new Uint8Array(0);
  #lastWrite: Promise<void> = Promise.resolve();
  #writeError: unknown = undefined;
  #reading = false;

  /**
   * Wraps `inner`.
   * @param inner the connection the handshake ran on
   * @param ciphers this side's keystreams, positioned for the payload stream
   * @param options write mode and chunk size
   * @throws {RangeError} for a chunk size under 1 KiB
   */
  constructor(inner: Conn, ciphers: MseCiphers, options: Rc4ConnOptions = {}) {
    const maxChunk = options.maxWriteChunkBytes ?? DEFAULT_MAX_WRITE_CHUNK_BYTES;
    if (!Number.isInteger(maxChunk) || maxChunk < 1024) {
      throw new RangeError(`Cannot use a write chunk of ${maxChunk} bytes`);
    }
    this.#inner = inner;
    this.#encrypt = ciphers.encrypt;
    this.#decrypt = ciphers.decrypt;
    this.#inPlace = options.inPlaceWrites ?? false;
    this.#maxChunk = maxChunk;
  }

  /** The other end of the connection. */
  get remoteAddr(): PeerAddress {
    return this.#inner.remoteAddr;
  }

  /** The local end of the connection. */
  get localAddr(): PeerAddress {
    return this.#inner.localAddr;
  }

  /**
   * Reads and decrypts, in place in `buffer`.
   * @param buffer where the plaintext lands
   * @returns the byte count, or null at end of stream
   * @throws {Error} when another read is still pending, or when the inner read fails
   */
  async read(buffer: Uint8Array): Promise<number | null> {
    if (this.#reading) throw new Error("Rc4Conn.read() called while a read is pending");
    this.#reading = true;
    try {
      const n = await this.#inner.read(buffer);
      if (n !== null && n > 0) this.#decrypt.process(buffer, 0, n);
      return n;
    } finally {
      this.#reading = false;
    }
  }

  /**
   * Encrypts and writes every byte of `data`, after the writes called before it.
   * @param data the plaintext; untouched unless `inPlaceWrites` was set
   * @returns once the ciphertext is handed to the inner connection
   * @throws {Error} what the inner write threw; every later write rethrows it (the
   *   keystream ran ahead of the bytes that reached the wire)
   */
  write(data: Uint8Array): Promise<void> {
    const run = this.#lastWrite.then(() => this.#writeNow(data));
    this.#lastWrite = run.catch(() => {
      // Recorded in #writeError by #writeNow; the caller of this write gets the rejection.
    });
    return run;
  }

  /** Closes the inner connection; pending reads resolve null. Idempotent. */
  close(): void {
    this.#inner.close();
  }

  async #writeNow(data: Uint8Array): Promise<void> {
    if (this.#writeError !== undefined) throw this.#writeError;
    try {
      if (this.#inPlace) {
        this.#encrypt.process(data);
        await this.#inner.write(data);
        return;
      }
      for (let at = 0; at < data.length; at += this.#maxChunk) {
        const n = Math.min(this.#maxChunk, data.length - at);
        const scratch = this.#scratchFor(n);
        scratch.set(at === 0 && n === data.length ? data : data.subarray(at, at + n));
        this.#encrypt.process(scratch, 0, n);
        await this.#inner.write(n === scratch.length ? scratch : scratch.subarray(0, n));
      }
    } catch (e) {
      this.#writeError = e;
      throw e;
    }
  }

  /** The reused scratch buffer, grown (to a power of two, capped) to hold `n` bytes. */
  #scratchFor(n: number): Uint8Array {
    if (this.#scratch.length < n) {
      let size = Math.max(1024, this.#scratch.length);
      while (size < n) size *= 2;
      this.#scratch = new Uint8Array(Math.min(size, this.#maxChunk));
    }
    return this.#scratch;
  }
}

/**
 * A `Conn` that yields `prefix` before reading from `inner`: bytes read past a handshake.
 *
 * @example
 * ```ts
 * import { PrefixedConn } from "./encrypted_conn.ts";
 * import { deepStrictEqual } from "node:assert";
 * const inner = {
 *   remoteAddr: { host: "127.0.0.1", port: 1 },
 *   localAddr: { host: "127.0.0.1", port: 2 },
 *   read: () => Promise.resolve(null),
 *   write: () => Promise.resolve(),
 *   close() {},
 * };
 * const conn = new PrefixedConn(inner, new Uint8Array([1, 2, 3]));
 * const buf = new Uint8Array(2);
 * deepStrictEqual(await conn.read(buf), 2);
 * deepStrictEqual(await conn.read(buf), 1);
 * deepStrictEqual(buf[0], 3);
 * deepStrictEqual(await conn.read(buf), null);
 * ```
 */
export class PrefixedConn implements Conn {
  readonly #inner: Conn;
  #prefix: Uint8Array | undefined;

  /**
   * Wraps `inner`.
   * @param inner the connection to read from once the prefix is used up
   * @param prefix bytes to yield first (kept by reference, not copied)
   */
  constructor(inner: Conn, prefix: Uint8Array) {
    this.#inner = inner;
    this.#prefix = prefix.length > 0 ? prefix : undefined;
  }

  /** The other end of the connection. */
  get remoteAddr(): PeerAddress {
    return this.#inner.remoteAddr;
  }

  /** The local end of the connection. */
  get localAddr(): PeerAddress {
    return this.#inner.localAddr;
  }

  /** Prefix bytes still to be read. */
  get prefixBytes(): number {
    return this.#prefix?.length ?? 0;
  }

  /**
   * Copies prefix bytes into `buffer` while any remain, then reads from the inner conn.
   * @param buffer where the bytes land
   * @returns the byte count, or null at end of stream
   */
  read(buffer: Uint8Array): Promise<number | null> {
    const prefix = this.#prefix;
    if (prefix === undefined || buffer.length === 0) return this.#inner.read(buffer);
    const n = Math.min(prefix.length, buffer.length);
    buffer.set(n === prefix.length ? prefix : prefix.subarray(0, n));
    this.#prefix = n === prefix.length ? undefined : prefix.subarray(n);
    return Promise.resolve(n);
  }

  /**
   * Writes through to the inner conn.
   * @param data the bytes
   * @returns once the inner conn took them
   */
  write(data: Uint8Array): Promise<void> {
    return this.#inner.write(data);
  }

  /** Closes the inner connection. Idempotent. */
  close(): void {
    this.#inner.close();
  }
}
