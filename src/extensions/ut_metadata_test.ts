import { assertEquals, assertThrows } from "../../tests/assert.ts";
import {
  decodeMetadataMessage,
  encodeMetadataData,
  encodeMetadataReject,
  encodeMetadataRequest,
  ExtensionSyntaxError,
  type MetadataMessage,
  metadataPieceCount,
  metadataPieceLength,
} from "./mod.ts";

const text = (s: string) => new TextEncoder().encode(s);
const str = (b: Uint8Array) => new TextDecoder().decode(b);

Deno.test("encodeMetadataRequest() writes the BEP 9 request example", () => {
  assertEquals(str(encodeMetadataRequest(0)), "d8:msg_typei0e5:piecei0ee");
});

Deno.test("encodeMetadataReject() writes the BEP 9 reject example", () => {
  assertEquals(str(encodeMetadataReject(0)), "d8:msg_typei2e5:piecei0ee");
});

Deno.test("encodeMetadataData() writes the BEP 9 data example: dictionary then raw bytes", () => {
  const payload = encodeMetadataData(0, 34256, text("xxxxxxxx"));
  assertEquals(str(payload), "d8:msg_typei1e5:piecei0e10:total_sizei34256eexxxxxxxx");
});

/** [BEP 9 example payload, decoded message]. */
const VECTORS: [string, MetadataMessage][] = [
  ["d8:msg_typei0e5:piecei0ee", { type: "request", piece: 0 }],
  ["d8:msg_typei2e5:piecei0ee", { type: "reject", piece: 0 }],
  ["d8:msg_typei1e5:piecei0e10:total_sizei34256eexxxxxxxx", {
    type: "data",
    piece: 0,
    totalSize: 34256,
    data: text("xxxxxxxx"),
  }],
  // BEP 9: an unrecognized msg_type MUST be ignored, so it decodes rather than throws
  ["d8:msg_typei3e5:piecei0ee", { type: "unknown", msgType: 3 }],
  ["d8:msg_typei7ee", { type: "unknown", msgType: 7 }],
  // unknown keys and trailing bytes after a request are tolerated
  ["d1:xi9e8:msg_typei0e5:piecei41ee", { type: "request", piece: 41 }],
  ["d8:msg_typei0e5:piecei1eeJUNK", { type: "request", piece: 1 }],
  // a data message with no bytes (an empty final piece never happens, but parses)
  ["d8:msg_typei1e5:piecei2e10:total_sizei32768ee", {
    type: "data",
    piece: 2,
    totalSize: 32768,
    data: new Uint8Array(0),
  }],
];

for (const [payload, expected] of VECTORS) {
  Deno.test(`decodeMetadataMessage() decodes ${JSON.stringify(payload.slice(0, 40))}`, () => {
    assertEquals(decodeMetadataMessage(text(payload)), expected);
  });
}

Deno.test("decodeMetadataMessage() takes the header end from the decoder, not from 'ee' (EX3)", () => {
  // "ee" inside the header (a string value), and data that itself starts with "ee"
  const header = "d3:abc2:ee8:msg_typei1e5:piecei0e10:total_sizei5ee";
  const m = decodeMetadataMessage(text(header + "eeeee"));
  assertEquals(m, { type: "data", piece: 0, totalSize: 5, data: text("eeeee") });
  const nested = "d1:ad1:bi1ee8:msg_typei1e5:piecei0e10:total_sizei3ee";
  assertEquals(decodeMetadataMessage(text(nested + "e\x00e")), {
    type: "data",
    piece: 0,
    totalSize: 3,
    data: text("e\x00e"),
  });
});

/** [why, payload, expected offset, message fragment]. */
const MALFORMED: [string, Uint8Array, number, string][] = [
  ["empty payload", text(""), 0, "unexpected end"],
  ["not a dictionary", text("i5e"), 0, "not a dictionary"],
  ["a list", text("le"), 0, "not a dictionary"],
  ["no msg_type", text("d5:piecei0ee"), 0, '"msg_type" is missing'],
  ["msg_type as a string", text("d8:msg_type1:05:piecei0ee"), 0, '"msg_type" is missing'],
  ["negative msg_type", text("d8:msg_typei-1e5:piecei0ee"), 0, "negative"],
  ["request without piece", text("d8:msg_typei0ee"), 0, '"piece" is missing'],
  ["reject with negative piece", text("d8:msg_typei2e5:piecei-4ee"), 0, "negative"],
  ["data without total_size", text("d8:msg_typei1e5:piecei0eexx"), 0, '"total_size"'],
  ["data with total_size -1", text("d8:msg_typei1e5:piecei0e10:total_sizei-1ee"), 0, "negative"],
  ["truncated header", text("d8:msg_typei1e5:piecei0e10:total_sizei3"), 39, "unexpected end"],
  ["string past the end", text("d8:msg_typei1e5:piece99:x"), 21, "runs past"],
  ["duplicate key", text("d8:msg_typei1e8:msg_typei1ee"), 14, "duplicate"],
  ["nesting deeper than 8", text("d1:a" + "l".repeat(9) + "e".repeat(9) + "e"), 11, "nesting"],
  ["leading zero", text("d8:msg_typei00ee"), 12, "leading zero"],
];

for (const [why, payload, offset, fragment] of MALFORMED) {
  Deno.test(`decodeMetadataMessage() rejects ${why} with ExtensionSyntaxError`, () => {
    const e = assertThrows(() => decodeMetadataMessage(payload), ExtensionSyntaxError, fragment);
    assertEquals(e.offset, offset);
    assertEquals(e instanceof SyntaxError, true);
  });
}

Deno.test("decodeMetadataMessage() rejects data longer than 16 KiB at the header end", () => {
  const payload = encodeMetadataData(0, 40000, new Uint8Array(16384));
  const longer = new Uint8Array(payload.length + 1);
  longer.set(payload);
  const headerEnd = payload.length - 16384;
  const e = assertThrows(() => decodeMetadataMessage(longer), ExtensionSyntaxError, "16385");
  assertEquals(e.offset, headerEnd);
});

Deno.test("decodeMetadataMessage() returns data as a view of the payload", () => {
  const payload = encodeMetadataData(1, 16385, new Uint8Array([7]));
  const m = decodeMetadataMessage(payload);
  assertEquals(m.type === "data" && m.data.buffer === payload.buffer, true);
});

const BAD_ENCODES: [string, () => unknown][] = [
  ["request piece -1", () => encodeMetadataRequest(-1)],
  ["request piece 1.5", () => encodeMetadataRequest(1.5)],
  ["reject piece NaN", () => encodeMetadataReject(NaN)],
  ["data totalSize -3", () => encodeMetadataData(0, -3, new Uint8Array(1))],
  ["data of 16385 bytes", () => encodeMetadataData(0, 20000, new Uint8Array(16385))],
];

for (const [why, fn] of BAD_ENCODES) {
  Deno.test(`encodeMetadata*() throws RangeError for ${why}`, () => {
    assertThrows(fn, RangeError, "Cannot encode ut_metadata message");
  });
}

/** [totalSize, count, lengths of each piece]. */
const GEOMETRY: [number, number, number[]][] = [
  [1, 1, [1]],
  [16384, 1, [16384]],
  [16385, 2, [16384, 1]],
  [34256, 3, [16384, 16384, 1488]],
  [0, 0, []],
];

for (const [size, count, lengths] of GEOMETRY) {
  Deno.test(`metadataPieceCount() and metadataPieceLength() split ${size} bytes`, () => {
    assertEquals(metadataPieceCount(size), count);
    assertEquals(lengths.map((_, i) => metadataPieceLength(size, i)), lengths);
  });
}
