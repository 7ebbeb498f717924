/**
 * A fixed-size bit set in BEP 3 bitfield order (bit 7 of byte 0 is piece 0).
 *
 * Layer: core (no I/O).
 * @module
 */

/** A fixed-length set of piece indices. Invariant: spare bits past `length` are zero. */
export class Bitfield {
  /** Number of bits. */
  readonly length: number;
  readonly #bytes: Uint8Array;
  #count = 0;

  /**
   * An empty (or copied) bitfield of `length` bits.
   * @throws {RangeError} for a negative or non-integer length
   */
  constructor(length: number) {
    if (!Number.isInteger(length) || length < 0) {
      throw new RangeError(`Cannot make a bitfield of length ${length}`);
    }
    this.length = length;
    this.#bytes = new Uint8Array(Math.ceil(length / 8));
  }

  /**
   * Parses wire bytes. `undefined` when the byte count is wrong or a spare bit is set
   * (RELIABILITY PW4: the caller disconnects).
   */
  static fromBytes(bytes: Uint8Array, length: number): Bitfield | undefined {
    const bf = new Bitfield(length);
    if (bytes.length !== bf.#bytes.length) return undefined;
    const spare = bf.#bytes.length * 8 - length;
    if (spare > 0 && (bytes[bytes.length - 1]! & ((1 << spare) - 1)) !== 0) return undefined;
    bf.#bytes.set(bytes);
    bf.#count = 0;
    for (const b of bytes) bf.#count += POPCOUNT[b]!;
    return bf;
  }

  /** A bitfield with every bit set. */
  static full(length: number): Bitfield {
    const bf = new Bitfield(length);
    for (let i = 0; i < length; i++) bf.set(i);
    return bf;
  }

  /** Number of set bits. */
  get count(): number {
    return this.#count;
  }

  /** True when every bit is set. */
  get isFull(): boolean {
    return this.#count === this.length;
  }

  /** Whether bit `index` is set; false outside the range. */
  has(index: number): boolean {
    if (index < 0 || index >= this.length) return false;
    return (this.#bytes[index >> 3]! & (0x80 >> (index & 7))) !== 0;
  }

  /** Sets bit `index`; returns true when it changed. @throws {RangeError} out of range */
  set(index: number): boolean {
    this.#check(index);
    const mask = 0x80 >> (index & 7);
    const byte = this.#bytes[index >> 3]!;
    if (byte & mask) return false;
    this.#bytes[index >> 3] = byte | mask;
    this.#count++;
    return true;
  }

  /** Clears bit `index`; returns true when it changed. @throws {RangeError} out of range */
  clear(index: number): boolean {
    this.#check(index);
    const mask = 0x80 >> (index & 7);
    const byte = this.#bytes[index >> 3]!;
    if (!(byte & mask)) return false;
    this.#bytes[index >> 3] = byte & ~mask;
    this.#count--;
    return true;
  }

  /** A copy of the wire bytes. */
  toBytes(): Uint8Array {
    return this.#bytes.slice();
  }

  /** An independent copy. */
  clone(): Bitfield {
    return Bitfield.fromBytes(this.#bytes, this.length)!;
  }

  /** Indices of set bits, ascending. */
  *indices(): IterableIterator<number> {
    for (let i = 0; i < this.length; i++) if (this.has(i)) yield i;
  }

  #check(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.length) {
      throw new RangeError(`Bit ${index} is outside 0..${this.length - 1}`);
    }
  }
}

const POPCOUNT = Uint8Array.from({ length: 256 }, (_, i) => {
  let c = 0;
  for (let v = i; v; v >>= 1) c += v & 1;
  return c;
});
