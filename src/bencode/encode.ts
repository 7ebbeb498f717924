/**
 * Bencode encoder: keys sorted as raw byte strings (BEP 3), integers checked.
 *
 * Input values: integers (`number` or `bigint`), `Uint8Array`, `string` (encoded as
 * UTF-8), arrays, `Map`s and plain objects. Dictionary keys are latin1 binary strings,
 * as the decoder produces them; a key with a character above U+00FF is a `TypeError`.
 * `undefined` entries in maps and objects are skipped, so optional fields can be left unset.
 *
 * Layer: core (no I/O).
 * @module
 */

/** A value the encoder accepts. */
export type Encodable =
  | number
  | bigint
  | string
  | Uint8Array
  | readonly Encodable[]
  | ReadonlyMap<string, Encodable | undefined>
  | { readonly [key: string]: Encodable | undefined };

const textEncoder = new TextEncoder();

class Writer {
  buf = new Uint8Array(256);
  len = 0;

  reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  ascii(text: string): void {
    this.reserve(text.length);
    for (let i = 0; i < text.length; i++) this.buf[this.len++] = text.charCodeAt(i);
  }

  bytes(data: Uint8Array): void {
    this.ascii(`${data.length}:`);
    this.reserve(data.length);
    this.buf.set(data, this.len);
    this.len += data.length;
  }

  key(key: string): void {
    this.ascii(`${key.length}:`);
    this.reserve(key.length);
    for (let i = 0; i < key.length; i++) {
      const c = key.charCodeAt(i);
      if (c > 0xff) throw new TypeError(`Cannot encode dictionary key "${key}": not a byte string`);
      this.buf[this.len++] = c;
    }
  }
}

function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0; // UTF-16 code units of latin1 strings = byte order
}

function writeValue(w: Writer, value: Encodable, depth: number): void {
  if (depth > 512) throw new RangeError("Cannot encode value: nesting deeper than 512");
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) {
      throw new RangeError(`Cannot encode number ${value}: not a safe integer`);
    }
    w.ascii(`i${value}e`);
  } else if (typeof value === "bigint") {
    w.ascii(`i${value}e`);
  } else if (typeof value === "string") {
    w.bytes(textEncoder.encode(value));
  } else if (value instanceof Uint8Array) {
    w.bytes(value);
  } else if (Array.isArray(value)) {
    w.ascii("l");
    for (const item of value as readonly Encodable[]) writeValue(w, item, depth + 1);
    w.ascii("e");
  } else if (value instanceof Map) {
    writeDict(w, [...(value as ReadonlyMap<string, Encodable | undefined>).entries()], depth);
  } else if (typeof value === "object" && value !== null) {
    writeDict(w, Object.entries(value), depth);
  } else {
    throw new TypeError(`Cannot encode value of type ${typeof value}`);
  }
}

function writeDict(w: Writer, entries: [string, Encodable | undefined][], depth: number): void {
  entries.sort((a, b) => compareKeys(a[0], b[0]));
  w.ascii("d");
  for (const [key, item] of entries) {
    if (item === undefined) continue;
    w.key(key);
    writeValue(w, item, depth + 1);
  }
  w.ascii("e");
}

/**
 * Encodes a value as bencode.
 *
 * @param value the value to encode
 * @returns the encoded bytes
 * @throws {TypeError} for unsupported types or non-byte keys
 * @throws {RangeError} for non-integer numbers
 * @example
 * ```ts
 * import { encode } from "./encode.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * assertEquals(new TextDecoder().decode(encode({ b: 1, a: "x" })), "d1:a1:x1:bi1ee");
 * ```
 */
export function encode(value: Encodable): Uint8Array {
  const w = new Writer();
  writeValue(w, value, 0);
  return w.buf.slice(0, w.len);
}
