/**
 * Bencode decoder with limits checked before allocation, byte-exact keys and raw spans.
 *
 * BEP 3 (bencoding). Dictionaries decode to `Map<string, BencodeValue>` whose keys are
 * latin1 "binary strings" (one char per byte), so binary keys survive and no key can
 * reach an object prototype (`__proto__`). Strings decode to copied `Uint8Array`s, so a
 * value never aliases a reused network buffer. Integers beyond ±(2^53−1) are rejected,
 * never rounded. Duplicate keys are rejected; unsorted keys are accepted, and
 * {@linkcode decodeWithSpans} gives the original bytes of any container so the
 * info-hash is SHA-1 of the `info` bytes exactly as received.
 *
 * Layer: core (no I/O).
 * @module
 */

/** A decoded bencode value. */
export type BencodeValue = number | Uint8Array | BencodeValue[] | BencodeDict;
/** A decoded bencode dictionary; keys are latin1 binary strings. */
export type BencodeDict = Map<string, BencodeValue>;

/** Caps applied while decoding untrusted bytes (RELIABILITY.md, limits table). */
export interface BencodeLimits {
  /** Maximum input length in bytes. */
  readonly maxBytes?: number;
  /** Maximum nesting of lists and dictionaries. */
  readonly maxDepth?: number;
  /** Maximum number of values (integers, strings, lists, dicts). */
  readonly maxTokens?: number;
  /** Maximum length of one byte string. */
  readonly maxStringLength?: number;
  /** Allow bytes after the first complete value (e.g. ut_metadata data messages). */
  readonly allowTrailing?: boolean;
}

/** Limits for .torrent and resume files: 10 MiB, depth 32, 1M tokens. */
export const FILE_LIMITS: Readonly<Required<BencodeLimits>> = Object.freeze({
  maxBytes: 10 * 1024 * 1024,
  maxDepth: 32,
  maxTokens: 1_000_000,
  maxStringLength: 10 * 1024 * 1024,
  allowTrailing: false,
});

/** Limits for tracker replies, extension messages and PEX: 1 MiB, depth 8, 100k tokens. */
export const MESSAGE_LIMITS: Readonly<Required<BencodeLimits>> = Object.freeze({
  maxBytes: 1024 * 1024,
  maxDepth: 8,
  maxTokens: 100_000,
  maxStringLength: 1024 * 1024,
  allowTrailing: false,
});

/** Limits for DHT packets: depth 10, 500 tokens. */
export const DHT_LIMITS: Readonly<Required<BencodeLimits>> = Object.freeze({
  maxBytes: 64 * 1024,
  maxDepth: 10,
  maxTokens: 500,
  maxStringLength: 64 * 1024,
  allowTrailing: false,
});

/** Malformed bencode; `offset` is the byte where decoding failed. */
export class BencodeSyntaxError extends SyntaxError {
  /** Byte offset of the failure in the input. */
  readonly offset: number;
  /** Builds the error. */
  constructor(message: string, offset: number) {
    super(`Cannot decode bencode at offset ${offset}: ${message}`);
    this.name = "BencodeSyntaxError";
    this.offset = offset;
  }
}

/** Which limit a {@linkcode BencodeLimitError} hit. */
export type BencodeLimit = "bytes" | "depth" | "tokens" | "string-length";

/** Input exceeded one of the {@linkcode BencodeLimits}. */
export class BencodeLimitError extends BencodeSyntaxError {
  /** The limit that was exceeded. */
  readonly limit: BencodeLimit;
  /** Builds the error. */
  constructor(limit: BencodeLimit, message: string, offset: number) {
    super(message, offset);
    this.name = "BencodeLimitError";
    this.limit = limit;
  }
}

/** Result of {@linkcode decodeWithSpans}. */
export interface DecodedWithSpans {
  /** The decoded value. */
  readonly value: BencodeValue;
  /** Offset just past the value (equals the input length unless `allowTrailing`). */
  readonly end: number;
  /** The `[start, end)` byte span of a decoded list or dictionary, by identity. */
  spanOf(container: BencodeValue): readonly [number, number] | undefined;
}

const E = 0x65, I = 0x69, L = 0x6c, D = 0x64, COLON = 0x3a, MINUS = 0x2d;

class Decoder {
  pos = 0;
  tokens = 0;
  readonly spans: WeakMap<object, readonly [number, number]> | undefined;
  readonly maxDepth: number;
  readonly maxTokens: number;
  readonly maxString: number;

  constructor(readonly buf: Uint8Array, limits: BencodeLimits, withSpans: boolean) {
    this.maxDepth = limits.maxDepth ?? FILE_LIMITS.maxDepth;
    this.maxTokens = limits.maxTokens ?? FILE_LIMITS.maxTokens;
    this.maxString = limits.maxStringLength ?? FILE_LIMITS.maxStringLength;
    this.spans = withSpans ? new WeakMap() : undefined;
  }

  fail(message: string, at = this.pos): never {
    throw new BencodeSyntaxError(message, at);
  }

  value(depth: number): BencodeValue {
    if (++this.tokens > this.maxTokens) {
      throw new BencodeLimitError("tokens", `more than ${this.maxTokens} values`, this.pos);
    }
    const c = this.buf[this.pos];
    if (c === undefined) this.fail("unexpected end of input");
    if (c === I) return this.integer();
    if (c >= 0x30 && c <= 0x39) return this.string();
    if (c === L || c === D) {
      if (depth >= this.maxDepth) {
        throw new BencodeLimitError("depth", `nesting deeper than ${this.maxDepth}`, this.pos);
      }
      return c === L ? this.list(depth + 1) : this.dict(depth + 1);
    }
    return this.fail(`unexpected byte 0x${c.toString(16).padStart(2, "0")}`);
  }

  /** Parses digits up to `terminator`; rejects leading zeros, "-0" and unsafe integers. */
  digits(terminator: number, allowNegative: boolean): number {
    const start = this.pos;
    const buf = this.buf;
    let negative = false;
    if (allowNegative && buf[this.pos] === MINUS) {
      negative = true;
      this.pos++;
    }
    const first = this.pos;
    let n = 0;
    for (;;) {
      const c = buf[this.pos];
      if (c === undefined) this.fail("unexpected end of input");
      if (c === terminator) break;
      if (c < 0x30 || c > 0x39) this.fail(`unexpected byte 0x${c.toString(16)} in number`);
      n = n * 10 + (c - 0x30);
      if (n > Number.MAX_SAFE_INTEGER) this.fail("integer out of safe range", start);
      this.pos++;
    }
    const count = this.pos - first;
    if (count === 0) this.fail("empty number", start);
    if (buf[first] === 0x30 && count > 1) this.fail("leading zero in number", start);
    if (negative && n === 0) this.fail("negative zero", start);
    this.pos++; // terminator
    return negative ? -n : n;
  }

  integer(): number {
    this.pos++; // 'i'
    return this.digits(E, true);
  }

  string(): Uint8Array {
    const at = this.pos;
    const length = this.digits(COLON, false);
    if (length > this.maxString) {
      throw new BencodeLimitError("string-length", `string of ${length} bytes is too long`, at);
    }
    const end = this.pos + length;
    if (end > this.buf.length) this.fail(`string of ${length} bytes runs past the input`, at);
    const out = this.buf.slice(this.pos, end);
    this.pos = end;
    return out;
  }

  list(depth: number): BencodeValue[] {
    const start = this.pos++;
    const out: BencodeValue[] = [];
    while (this.buf[this.pos] !== E) out.push(this.value(depth));
    this.pos++;
    this.spans?.set(out, [start, this.pos]);
    return out;
  }

  dict(depth: number): BencodeDict {
    const start = this.pos++;
    const out: BencodeDict = new Map();
    while (this.buf[this.pos] !== E) {
      const keyAt = this.pos;
      const c = this.buf[this.pos];
      if (c === undefined) this.fail("unexpected end of input");
      if (c < 0x30 || c > 0x39) this.fail("dictionary key is not a string");
      this.tokens++;
      const key = latin1(this.string());
      if (out.has(key)) this.fail(`duplicate dictionary key "${printable(key)}"`, keyAt);
      out.set(key, this.value(depth));
    }
    this.pos++;
    this.spans?.set(out, [start, this.pos]);
    return out;
  }
}

function latin1(bytes: Uint8Array): string {
  return bytes.length < 4096
    ? String.fromCharCode.apply(null, bytes as unknown as number[])
    : Array.from(bytes, (b) => String.fromCharCode(b)).join("");
}

function printable(key: string): string {
  return key.slice(0, 40).replace(/[^\x20-\x7e]/g, "?");
}

function run(bytes: Uint8Array, limits: BencodeLimits, withSpans: boolean): Decoder & {
  result: BencodeValue;
} {
  const maxBytes = limits.maxBytes ?? FILE_LIMITS.maxBytes;
  if (bytes.length > maxBytes) {
    throw new BencodeLimitError("bytes", `input of ${bytes.length} bytes exceeds ${maxBytes}`, 0);
  }
  const decoder = new Decoder(bytes, limits, withSpans);
  const result = decoder.value(0);
  if (!limits.allowTrailing && decoder.pos !== bytes.length) {
    decoder.fail("trailing bytes after the value");
  }
  return Object.assign(decoder, { result });
}

/**
 * Decodes one bencoded value.
 *
 * @param bytes the encoded input
 * @param limits caps for untrusted input; defaults to {@linkcode FILE_LIMITS}
 * @returns the decoded value
 * @throws {BencodeSyntaxError} on malformed input ({@linkcode BencodeLimitError} for a cap)
 * @example
 * ```ts
 * import { decode } from "./decode.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const dict = decode(new TextEncoder().encode("d3:agei42ee")) as Map<string, unknown>;
 * assertEquals(dict.get("age"), 42);
 * ```
 */
export function decode(bytes: Uint8Array, limits: BencodeLimits = FILE_LIMITS): BencodeValue {
  return run(bytes, limits, false).result;
}

/**
 * Decodes one value and records the byte span of every list and dictionary.
 *
 * @param bytes the encoded input
 * @param limits caps for untrusted input; defaults to {@linkcode FILE_LIMITS}
 * @returns the value, its end offset, and a span lookup
 * @throws {BencodeSyntaxError} on malformed input
 */
export function decodeWithSpans(
  bytes: Uint8Array,
  limits: BencodeLimits = FILE_LIMITS,
): DecodedWithSpans {
  const d = run(bytes, limits, true);
  const spans = d.spans!;
  return {
    value: d.result,
    end: d.pos,
    spanOf: (container) => typeof container === "object" ? spans.get(container) : undefined,
  };
}

/**
 * Decodes a value at the start of `bytes` that may be followed by other bytes,
 * as ut_metadata data messages are. Returns the value and where it ended.
 *
 * @param bytes the input, starting with a bencoded value
 * @param limits caps for untrusted input
 * @returns the value and the offset just past it
 * @throws {BencodeSyntaxError} on malformed input
 */
export function decodePrefix(
  bytes: Uint8Array,
  limits: BencodeLimits = MESSAGE_LIMITS,
): { value: BencodeValue; end: number } {
  const d = run(bytes, { ...limits, allowTrailing: true }, false);
  return { value: d.result, end: d.pos };
}
