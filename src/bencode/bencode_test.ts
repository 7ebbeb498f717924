import { assert, assertEquals, assertThrows } from "../../tests/assert.ts";
import bencodeReference from "bencode";
import {
  BencodeLimitError,
  BencodeSyntaxError,
  decode,
  decodePrefix,
  decodeWithSpans,
  DHT_LIMITS,
  encode,
} from "./mod.ts";
import type { BencodeDict } from "./mod.ts";
import type { SeededRandom } from "../util/prng.ts";
import { fuzzCases } from "../../tests/fuzz.ts";

const te = new TextEncoder();
const b = (s: string) => te.encode(s);

Deno.test("decode() reads every type", () => {
  const v = decode(b("d4:listli1ei-2e3:abce3:numi0e3:str5:helloe")) as BencodeDict;
  assertEquals(v.get("num"), 0);
  assertEquals(v.get("str"), b("hello"));
  assertEquals(v.get("list"), [1, -2, b("abc")]);
});

const rejects: [string, string, string][] = [
  // [input, why, expected message fragment]  (RELIABILITY B2, B3)
  ["i-0e", "negative zero", "negative zero"],
  ["i03e", "leading zero", "leading zero"],
  ["ie", "empty integer", "empty number"],
  ["i99999999999999999999e", "beyond 2^53", "out of safe range"],
  ["i9007199254740992e", "2^53", "out of safe range"],
  ["05:hello", "leading zero length", "leading zero"],
  ["4294967295:x", "length past the cap", "too long"],
  ["5:abc", "short string", "runs past the input"],
  ["i1ei2e", "trailing", "trailing bytes"],
  ["d1:ai1e1:ai2ee", "duplicate key", "duplicate dictionary key"],
  ["di1ei2ee", "integer key", "not a string"],
  ["l", "unterminated list", "unexpected end"],
  ["", "empty", "unexpected end"],
  ["x", "bad byte", "unexpected byte 0x78"],
  ["i1.5e", "float", "in number"],
];

for (const [input, why, fragment] of rejects) {
  Deno.test(`decode() rejects ${why}: ${JSON.stringify(input)}`, () => {
    const err = assertThrows(() => decode(b(input)), BencodeSyntaxError);
    assert(err.message.includes(fragment), err.message);
  });
}

Deno.test("decode() accepts the largest safe integers", () => {
  assertEquals(decode(b("i9007199254740991e")), 9007199254740991);
  assertEquals(decode(b("i-9007199254740991e")), -9007199254740991);
});

Deno.test("decode() stops deep nesting with a depth error, not a stack overflow (B1)", () => {
  const deep = b("l".repeat(100_000));
  const err = assertThrows(() => decode(deep), BencodeLimitError);
  assertEquals(err.limit, "depth");
  const dht = b("l".repeat(11) + "e".repeat(11));
  assertEquals(assertThrows(() => decode(dht, DHT_LIMITS), BencodeLimitError).limit, "depth");
});

Deno.test("decode() caps tokens and size before work (B4)", () => {
  const many = b("l" + "i1e".repeat(600) + "e");
  assertEquals(assertThrows(() => decode(many, DHT_LIMITS), BencodeLimitError).limit, "tokens");
  const big = new Uint8Array(10 * 1024 * 1024 + 1);
  assertEquals(assertThrows(() => decode(big), BencodeLimitError).limit, "bytes");
  const longString = b("99999999:");
  const err = assertThrows(() => decode(longString, { maxStringLength: 1000 }), BencodeLimitError);
  assertEquals(err.limit, "string-length");
});

Deno.test("decode() keeps binary and prototype keys as data (B6)", () => {
  const raw = new Uint8Array([0x64, 0x32, 0x3a, 0xff, 0x00, 0x69, 0x31, 0x65, 0x65]); // d2:\xff\0i1ee
  const dict = decode(raw) as BencodeDict;
  assertEquals([...dict.keys()], ["\xff\x00"]);
  const proto = decode(b("d9:__proto__i1e11:constructori2ee")) as BencodeDict;
  assertEquals(proto.get("__proto__"), 1);
  assertEquals(({} as Record<string, unknown>).constructor, Object);
  assertEquals(encode(dict), raw);
});

Deno.test("decodeWithSpans() gives the raw bytes of an unsorted dictionary (B5)", () => {
  const text = "d4:infod1:zi1e1:ai2ee3:zzzi0ee";
  const { value, spanOf } = decodeWithSpans(b(text));
  const info = (value as BencodeDict).get("info")!;
  const [start, end] = spanOf(info)!;
  assertEquals(text.slice(start, end), "d1:zi1e1:ai2ee");
  assertEquals(new TextDecoder().decode(encode(info as BencodeDict)), "d1:ai2e1:zi1ee");
});

Deno.test("decodePrefix() returns where the value ends", () => {
  const r = decodePrefix(b("d8:msg_typei1e5:piecei0eeRAWDATA"));
  assertEquals(r.end, 25);
});

Deno.test("encode() sorts keys by bytes and skips undefined", () => {
  const out = encode(
    new Map<string, number | Uint8Array | undefined>([["b", 1], ["a", undefined], ["B", b("x")]]),
  );
  assertEquals(new TextDecoder().decode(out), "d1:B1:x1:bi1ee");
  assertThrows(() => encode(1.5), RangeError);
  assertThrows(() => encode({ "\u0100": 1 }), TypeError);
});

Deno.test("decode() rejects every proper prefix of a valid value (B10)", () => {
  const full = encode({ announce: "http://t/a", info: { length: 7, name: "x", pieces: b("p") } });
  for (let i = 0; i < full.length; i++) {
    assertThrows(() => decode(full.subarray(0, i)), BencodeSyntaxError);
  }
});

function randomValue(r: SeededRandom, depth: number, ascii = false): unknown {
  const pick = r.int(depth > 3 ? 2 : 4);
  if (pick === 0) return r.int(2 ** 31) * (r.next() < 0.3 ? -1 : 1);
  if (pick === 1) return r.bytes(r.int(20));
  if (pick === 2) return Array.from({ length: r.int(4) }, () => randomValue(r, depth + 1, ascii));
  const m = new Map<string, unknown>();
  for (let i = r.int(4); i > 0; i--) {
    const key = ascii
      ? Array.from({ length: 1 + r.int(6) }, () => String.fromCharCode(97 + r.int(26))).join("")
      : String.fromCharCode(...r.bytes(1 + r.int(6)));
    m.set(key, randomValue(r, depth + 1, ascii));
  }
  return m;
}

Deno.test("fuzz: bencode round-trips, mutations decode or throw BencodeSyntaxError", () => {
  fuzzCases("bencode", (r) => {
    const value = randomValue(r, 0);
    // deno-lint-ignore no-explicit-any
    const bytes = encode(value as any);
    assertEquals(decode(bytes), value);
    assertEquals(encode(decode(bytes)), bytes);
    // The npm reference codec agrees with us wherever keys are text (it decodes keys as
    // UTF-8 strings, which is why it cannot be our decoder: binary keys would be mangled).
    // deno-lint-ignore no-explicit-any
    const textual = encode(randomValue(r, 0, true) as any);
    assertEquals(
      new Uint8Array(bencodeReference.encode(bencodeReference.decode(textual))),
      textual,
    );
    const mutated = bytes.slice();
    for (let k = 1 + r.int(3); k > 0; k--) mutated[r.int(mutated.length)] = r.int(256);
    try {
      decode(mutated);
    } catch (e) {
      if (!(e instanceof BencodeSyntaxError)) throw e;
    }
  }, (bytes) => {
    try {
      decode(bytes);
    } catch (e) {
      if (!(e instanceof BencodeSyntaxError)) throw e;
    }
  });
});
