import { assertEquals, assertThrows } from "../../tests/assert.ts";
import { encode } from "../bencode/mod.ts";
import { BencodeSyntaxError } from "../bencode/mod.ts";
import {
  decodeExtensionHandshake,
  encodeExtensionHandshake,
  type ExtensionHandshake,
  MAX_EXTENSION_ENTRIES,
  MAX_REQQ,
  WireSyntaxError,
} from "./mod.ts";

const text = (s: string) => new TextEncoder().encode(s);
const str = (b: Uint8Array) => new TextDecoder().decode(b);

Deno.test("encodeExtensionHandshake() writes the BEP 10 example", () => {
  const payload = encodeExtensionHandshake({
    m: new Map([["ut_pex", 1], ["ut_metadata", 2]]),
    v: "swarmd 0.1.0",
    p: 6881,
    reqq: 500,
    yourip: new Uint8Array([127, 0, 0, 1]),
    metadataSize: 31235,
    uploadOnly: false,
  });
  const expected = "d1:md11:ut_metadatai2e6:ut_pexi1ee13:metadata_sizei31235e1:pi6881e" +
    "4:reqqi500e11:upload_onlyi0e1:v12:swarmd 0.1.06:yourip4:\x7f\x00\x00\x01e";
  assertEquals(str(payload), expected);
});

Deno.test("encodeExtensionHandshake() leaves out unset fields", () => {
  assertEquals(str(encodeExtensionHandshake({ m: new Map() })), "d1:mdee");
});

const ROUND_TRIPS: ExtensionHandshake[] = [
  { m: new Map() },
  { m: new Map([["ut_metadata", 3], ["ut_pex", 0]]), metadataSize: 0 },
  { m: new Map([["lt_donthave", 7]]), v: "µTorrent 3.5", p: 1, reqq: 2000, uploadOnly: true },
  { m: new Map(), yourip: new Uint8Array(16).fill(0xfe), metadataSize: 2 ** 40 },
];

for (const h of ROUND_TRIPS) {
  Deno.test(`decodeExtensionHandshake() round-trips ${[...h.m.keys(), ...Object.keys(h)]}`, () => {
    assertEquals(decodeExtensionHandshake(encodeExtensionHandshake(h)), h);
  });
}

/** [why, payload value, expected] for fields a peer gets wrong (RELIABILITY EX1, EX2). */
const LENIENT: [string, Record<string, unknown>, ExtensionHandshake][] = [
  ["no m", {}, { m: new Map() }],
  ["m not a dict", { m: 5 }, { m: new Map() }],
  ["m ids out of range or not integers", {
    m: { a: -1, b: 256, c: text("x"), d: 255, e: 0 },
  }, { m: new Map([["d", 255], ["e", 0]]) }],
  ["reqq of 10^9", { reqq: 1e9 }, { m: new Map(), reqq: MAX_REQQ }],
  ["reqq of 0", { reqq: 0 }, { m: new Map() }],
  ["p of 0 and 65536", { p: 0 }, { m: new Map() }],
  ["p as a string", { p: text("6881") }, { m: new Map() }],
  ["yourip of 5 bytes", { yourip: text("12345") }, { m: new Map() }],
  ["metadata_size of -1 (kept raw)", { metadata_size: -1 }, { m: new Map(), metadataSize: -1 }],
  ["upload_only of 2", { upload_only: 2 }, { m: new Map(), uploadOnly: true }],
  ["v as an integer", { v: 7 }, { m: new Map() }],
  ["v of 1,000 bytes", { v: text("x".repeat(1000)) }, { m: new Map(), v: "x".repeat(100) }],
  ["unknown keys", { complete_ago: 1, ipv6: text("x") }, { m: new Map() }],
];

for (const [why, value, expected] of LENIENT) {
  Deno.test(`decodeExtensionHandshake() tolerates ${why}`, () => {
    // deno-lint-ignore no-explicit-any
    assertEquals(decodeExtensionHandshake(encode(value as any)), expected);
  });
}

Deno.test("decodeExtensionHandshake() reads at most 128 m entries", () => {
  const m: Record<string, number> = {};
  for (let i = 0; i < 10_000; i++) m[`x${String(i).padStart(5, "0")}`] = 1 + (i % 255);
  const h = decodeExtensionHandshake(encode({ m }));
  assertEquals(h.m.size, MAX_EXTENSION_ENTRIES);
  assertEquals(h.m.get("x00000"), 1);
});

const BAD: [string, string, string][] = [
  ["a list", "li1ee", "not a dictionary"],
  ["an integer", "i5e", "not a dictionary"],
  ["truncated bencode", "d1:md", "unexpected end"],
  ["trailing bytes", "de1", "trailing bytes"],
  ["an empty payload", "", "unexpected end"],
  ["nesting past depth 8", "d1:m" + "l".repeat(20) + "e".repeat(20) + "e", "deeper than 8"],
];

for (const [why, payload, fragment] of BAD) {
  Deno.test(`decodeExtensionHandshake() rejects ${why}`, () => {
    const err = assertThrows(
      () => decodeExtensionHandshake(text(payload)),
      WireSyntaxError,
      fragment,
    );
    if (!fragment.startsWith("not")) assertEquals(err.cause instanceof BencodeSyntaxError, true);
  });
}

const BAD_FIELDS: [string, ExtensionHandshake][] = [
  ["an m id of 256", { m: new Map([["x", 256]]) }],
  ["an m id of -1", { m: new Map([["x", -1]]) }],
  ["p 0", { m: new Map(), p: 0 }],
  ["reqq 0", { m: new Map(), reqq: 0 }],
  ["a negative metadataSize", { m: new Map(), metadataSize: -5 }],
  ["a 5-byte yourip", { m: new Map(), yourip: new Uint8Array(5) }],
];

for (const [why, h] of BAD_FIELDS) {
  Deno.test(`encodeExtensionHandshake() rejects ${why}`, () => {
    assertThrows(() => encodeExtensionHandshake(h), RangeError);
  });
}
