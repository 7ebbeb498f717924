import { assert, assertEquals, assertThrows } from "../../tests/assert.ts";
import { fromHex, toHex } from "../util/bytes.ts";
import {
  decodeMessage,
  encodeMessage,
  encodeMessageInto,
  encodePieceHeaderInto,
  messageLength,
  PIECE_HEADER_LENGTH,
  type WireMessage,
} from "./mod.ts";

const hex = (s: string) => fromHex(s.replaceAll(" ", ""));
const bytes = (...b: number[]) => new Uint8Array(b);

/** [message, frame hex]: one row per type; layouts from BEP 3, 5, 6 and 10. */
const VECTORS: [WireMessage, string][] = [
  [{ type: "keep-alive" }, "00000000"],
  [{ type: "choke" }, "00000001 00"],
  [{ type: "unchoke" }, "00000001 01"],
  [{ type: "interested" }, "00000001 02"],
  [{ type: "not-interested" }, "00000001 03"],
  [{ type: "have", index: 42 }, "00000005 04 0000002a"],
  [{ type: "bitfield", bitfield: bytes(0xff, 0x80) }, "00000003 05 ff80"],
  [
    { type: "request", index: 1, begin: 16384, length: 16384 },
    "0000000d 06 00000001 00004000 00004000",
  ],
  [
    { type: "piece", index: 1, begin: 0, block: bytes(1, 2, 3) },
    "0000000c 07 00000001 00000000 010203",
  ],
  [
    { type: "cancel", index: 0xffffffff, begin: 0, length: 1 },
    "0000000d 08 ffffffff 00000000 00000001",
  ],
  [{ type: "port", port: 6881 }, "00000003 09 1ae1"],
  [{ type: "suggest", index: 5 }, "00000005 0d 00000005"],
  [{ type: "have-all" }, "00000001 0e"],
  [{ type: "have-none" }, "00000001 0f"],
  [
    { type: "reject", index: 2, begin: 32768, length: 16384 },
    "0000000d 10 00000002 00008000 00004000",
  ],
  [{ type: "allowed-fast", index: 7 }, "00000005 11 00000007"],
  [{ type: "extended", extendedId: 0, payload: bytes(0x64, 0x65) }, "00000004 14 00 6465"],
  [{ type: "extended", extendedId: 255, payload: bytes() }, "00000002 14 ff"],
];

for (const [message, frame] of VECTORS) {
  Deno.test(`encodeMessage() writes ${message.type} as ${frame}`, () => {
    assertEquals(toHex(encodeMessage(message)), frame.replaceAll(" ", ""));
    assertEquals(messageLength(message), hex(frame).length);
  });
  Deno.test(`decodeMessage() reads ${message.type} from ${frame}`, () => {
    const input = hex(`ff ${frame} ee`);
    const options = message.type === "bitfield" ? { pieceCount: 9 } : {};
    assertEquals(decodeMessage(input, 1, options), { message, end: input.length - 1 });
  });
}

Deno.test("encodeMessageInto() writes at an offset and returns the byte count", () => {
  const target = new Uint8Array(64).fill(0xee);
  let at = 3;
  for (const [message] of VECTORS.slice(0, 8)) at += encodeMessageInto(message, target, at);
  const expected = VECTORS.slice(0, 8).map(([, f]) => f.replaceAll(" ", "")).join("");
  assertEquals(toHex(target.subarray(3, at)), expected);
  assertEquals(target[2], 0xee);
  assertEquals(target[at], 0xee);
});

Deno.test("encodePieceHeaderInto() plus the block equals encodeMessage() of the piece", () => {
  const block = new Uint8Array(16384).map((_, i) => i * 7);
  const frame = new Uint8Array(PIECE_HEADER_LENGTH + block.length + 2);
  const n = encodePieceHeaderInto(frame, 2, 9, 32768, block.length);
  assertEquals(n, PIECE_HEADER_LENGTH);
  frame.set(block, 2 + n);
  assertEquals(frame.subarray(2), encodeMessage({ type: "piece", index: 9, begin: 32768, block }));
});

const badFields: [string, WireMessage, string][] = [
  ["a negative index", { type: "have", index: -1 }, "index -1"],
  ["an index of 2^32", { type: "suggest", index: 2 ** 32 }, "index 4294967296"],
  ["a fractional begin", { type: "request", index: 0, begin: 1.5, length: 1 }, "begin 1.5"],
  ["a NaN length", { type: "reject", index: 0, begin: 0, length: NaN }, "length NaN"],
  ["a piece index of 2^32", { type: "piece", index: 2 ** 32, begin: 0, block: bytes() }, "index"],
  ["port 65536", { type: "port", port: 65536 }, "port 65536"],
  ["extended id 256", { type: "extended", extendedId: 256, payload: bytes() }, "extended id 256"],
];

for (const [why, message, fragment] of badFields) {
  Deno.test(`encodeMessage() rejects ${why} with a RangeError`, () => {
    assertThrows(() => encodeMessage(message), RangeError, fragment);
    assertThrows(() => encodeMessageInto(message, new Uint8Array(64), 0), RangeError, fragment);
  });
}

Deno.test("encodeMessageInto() refuses to write past the target", () => {
  assertThrows(
    () => encodeMessageInto({ type: "have", index: 1 }, new Uint8Array(12), 4),
    RangeError,
    "9-byte have message at offset 4 of a 12-byte buffer",
  );
  assertThrows(() => encodeMessageInto({ type: "choke" }, new Uint8Array(8), -1), RangeError);
});

Deno.test("encodePieceHeaderInto() rejects bad fields and a short target", () => {
  const target = new Uint8Array(13);
  assertThrows(() => encodePieceHeaderInto(target, 1, 0, 0, 1), RangeError, "offset 1");
  assertThrows(() => encodePieceHeaderInto(target, 0, -1, 0, 1), RangeError, "index -1");
  assertThrows(() => encodePieceHeaderInto(target, 0, 0, 2 ** 32, 1), RangeError);
  assertThrows(() => encodePieceHeaderInto(target, 0, 0, 0, 2 ** 32 - 9), RangeError);
});

Deno.test("decodeMessage() returns undefined until the frame is whole", () => {
  const frame = encodeMessage({ type: "request", index: 1, begin: 2, length: 3 });
  for (let n = 0; n < frame.length; n++) {
    assertEquals(decodeMessage(frame.subarray(0, n)), undefined);
  }
  assert(decodeMessage(frame) !== undefined);
});

Deno.test("decodeMessage() returns views into its input, not copies", () => {
  const frame = encodeMessage({ type: "piece", index: 0, begin: 0, block: bytes(9, 9) });
  const decoded = decodeMessage(frame);
  assert(decoded?.message.type === "piece");
  assertEquals(decoded.message.block.buffer, frame.buffer);
});

Deno.test("decodeMessage() rejects a bad offset or options with a RangeError", () => {
  assertThrows(() => decodeMessage(bytes(0, 0, 0, 0), 5), RangeError, "offset 5");
  assertThrows(() => decodeMessage(bytes(), 0, { pieceCount: 0 }), RangeError, "piece count 0");
  assertThrows(() => decodeMessage(bytes(), 0, { maxMessageLength: 100 }), RangeError, "100");
});
