/**
 * RC4 over typed arrays, in place: the stream cipher MSE/PE uses for its payload
 * (node:crypto in Deno has no RC4). One instance is one direction of one connection.
 *
 * Speed: `process` keeps `i`, `j` and the 256-byte state in locals and, on
 * little-endian hosts, XORs the keystream into the data four bytes at a time through a
 * `Uint32Array` view. The view is cached per underlying `ArrayBuffer`, so a caller that
 * reuses its read buffer (the peer connection does) allocates nothing per call.
 * About 740 MB/s here, ~80 % of OpenSSL's native RC4; the same loop a byte at a time
 * is ~20 % slower, a textbook one with the state in fields ~43 % (results at the end of
 * `bench/mse_bench.ts`).
 *
 * Copies: none; `process` rewrites the bytes where they lie.
 *
 * Layer: core (no I/O).
 * @module
 */

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
/** Below this, the word path's setup costs more than it saves. */
const WORD_PATH_MIN_BYTES = 32;

/**
 * One RC4 keystream.
 *
 * @example
 * ```ts
 * import { Rc4 } from "./rc4.ts";
 * import { deepStrictEqual } from "node:assert";
 * const key = new TextEncoder().encode("Key");
 * const data = new TextEncoder().encode("Plaintext");
 * new Rc4(key).process(data);
 * deepStrictEqual(Array.from(data.subarray(0, 3)), [0xbb, 0xf3, 0x16]);
 * new Rc4(key).process(data);
 * deepStrictEqual(new TextDecoder().decode(data), "Plaintext");
 * ```
 */
export class Rc4 {
  readonly #s = new Uint8Array(256);
  #i = 0;
  #j = 0;
  /** A word view of the last buffer's whole `ArrayBuffer`, reused while it stays the same. */
  #words: Uint32Array | undefined = undefined;

  /**
   * Runs the key schedule.
   * @param key 1..256 key bytes (MSE uses 20)
   * @throws {RangeError} for an empty key or one over 256 bytes
   */
  constructor(key: Uint8Array) {
    if (key.length < 1 || key.length > 256) {
      throw new RangeError(`Cannot key RC4: key of ${key.length} bytes, expected 1..256`);
    }
    const s = this.#s;
    for (let k = 0; k < 256; k++) s[k] = k;
    let j = 0;
    for (let k = 0; k < 256; k++) {
      const t = s[k]!;
      j = (j + t + key[k % key.length]!) & 255;
      s[k] = s[j]!;
      s[j] = t;
    }
  }

  /**
   * Advances the keystream by `count` bytes without using them (MSE drops the first 1,024).
   * @param count bytes to skip, a non-negative integer
   * @throws {RangeError} for a negative or fractional count
   */
  discard(count: number): void {
    if (!Number.isInteger(count) || count < 0) {
      throw new RangeError(`Cannot discard ${count} RC4 bytes`);
    }
    const s = this.#s;
    let i = this.#i, j = this.#j;
    for (let k = 0; k < count; k++) {
      i = (i + 1) & 255;
      const si = s[i]!;
      j = (j + si) & 255;
      s[i] = s[j]!;
      s[j] = si;
    }
    this.#i = i;
    this.#j = j;
  }

  /**
   * Encrypts or decrypts `buf[start, end)` in place (XOR with the next `end − start`
   * keystream bytes). Allocates nothing once it has seen `buf.buffer` (it caches one
   * word view), so a range replaces a `subarray` on hot paths.
   * @param buf the bytes to transform; rewritten where they lie
   * @param start first index (default 0)
   * @param end index past the last (default `buf.length`)
   * @throws {RangeError} unless `0 ≤ start ≤ end ≤ buf.length`
   */
  process(buf: Uint8Array, start = 0, end: number = buf.length): void {
    if (!(0 <= start && start <= end && end <= buf.length)) {
      throw new RangeError(`Cannot run RC4 over [${start}, ${end}) of ${buf.length} bytes`);
    }
    if (end - start < WORD_PATH_MIN_BYTES || !LITTLE_ENDIAN) {
      this.#bytes(buf, start, end);
      return;
    }
    // Bytes up to the first 4-aligned address, whole words, then the tail.
    const head = start + ((4 - ((buf.byteOffset + start) & 3)) & 3);
    this.#bytes(buf, start, head);
    const words = (end - head) >>> 2;
    this.#wordSteps(this.#wordView(buf, end), (buf.byteOffset + head) >>> 2, words);
    this.#bytes(buf, head + 4 * words, end);
  }

  /** One keystream byte at a time into `buf[from, to)`. */
  #bytes(buf: Uint8Array, from: number, to: number): void {
    const s = this.#s;
    let i = this.#i, j = this.#j;
    for (let k = from; k < to; k++) {
      i = (i + 1) & 255;
      const si = s[i]!;
      j = (j + si) & 255;
      const sj = s[j]!;
      s[i] = sj;
      s[j] = si;
      buf[k]! ^= s[(si + sj) & 255]!;
    }
    this.#i = i;
    this.#j = j;
  }

  /**
   * Four keystream bytes at a time, little-endian into `count` words from `first`. The
   * four steps are written out on purpose: a loop over them measured ~12 % slower.
   */
  #wordSteps(words: Uint32Array, first: number, count: number): void {
    const s = this.#s;
    let i = this.#i, j = this.#j;
    const end = first + count;
    for (let w = first; w < end; w++) {
      i = (i + 1) & 255;
      let si = s[i]!;
      j = (j + si) & 255;
      let sj = s[j]!;
      s[i] = sj;
      s[j] = si;
      let x = s[(si + sj) & 255]!;
      i = (i + 1) & 255;
      si = s[i]!;
      j = (j + si) & 255;
      sj = s[j]!;
      s[i] = sj;
      s[j] = si;
      x |= s[(si + sj) & 255]! << 8;
      i = (i + 1) & 255;
      si = s[i]!;
      j = (j + si) & 255;
      sj = s[j]!;
      s[i] = sj;
      s[j] = si;
      x |= s[(si + sj) & 255]! << 16;
      i = (i + 1) & 255;
      si = s[i]!;
      j = (j + si) & 255;
      sj = s[j]!;
      s[i] = sj;
      s[j] = si;
      x |= s[(si + sj) & 255]! << 24;
      words[w]! ^= x;
    }
    this.#i = i;
    this.#j = j;
  }

  /** The cached word view of `buf.buffer`, rebuilt only when the buffer changes or grows. */
  #wordView(buf: Uint8Array, end: number): Uint32Array {
    const backing = buf.buffer;
    let words = this.#words;
    if (
      words === undefined || words.buffer !== backing ||
      words.length < (buf.byteOffset + end) >>> 2
    ) {
      words = new Uint32Array(backing, 0, backing.byteLength >>> 2);
      this.#words = words;
    }
    return words;
  }
}
