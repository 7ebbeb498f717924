import { assertEquals, assertThrows } from "../../../tests/assert.ts";
import { fromHex } from "../../util/bytes.ts";
import {
  encodePacket,
  HEADER_BYTES,
  isUtpFirstByte,
  MAX_EXTENSIONS,
  newHeader,
  parsePacket,
  ST_DATA,
  ST_FIN,
  ST_RESET,
  ST_STATE,
  ST_SYN,
  UtpSyntaxError,
} from "./packet.ts";
import { microStamp, seqAdd, seqDistance, seqLess, stampLess } from "./seq.ts";

/** A STATE with every field zero but the connection id; spread it and override. */
const STATE = {
  type: ST_STATE,
  connectionId: 1,
  timestampMicros: 0,
  timestampDifferenceMicros: 0,
  windowBytes: 0,
  seq: 0,
  ack: 0,
};

Deno.test("parsePacket() reads the BEP 29 header field by field", () => {
  // type SYN (4), version 1; no extension; connection id 0x1234; timestamp 0x01020304;
  // difference 0; window 0x00100000; seq 0xabcd; ack 0
  const bytes = fromHex("41001234010203040000000000100000abcd0000");
  const h = parsePacket(bytes);
  assertEquals(
    [h.type, h.connectionId, h.timestampMicros, h.timestampDifferenceMicros, h.windowBytes],
    [ST_SYN, 0x1234, 0x01020304, 0, 0x100000],
  );
  assertEquals([h.seq, h.ack, h.sackOffset, h.closeReason, h.payloadOffset], [
    0xabcd,
    0,
    0,
    -1,
    20,
  ]);
});

Deno.test("encodePacket() and parsePacket() round-trip every type with payload", () => {
  for (const type of [ST_DATA, ST_FIN, ST_STATE, ST_RESET, ST_SYN]) {
    const payload = type === ST_DATA ? new Uint8Array([9, 8, 7]) : undefined;
    const bytes = encodePacket({
      type,
      connectionId: 0xffff,
      timestampMicros: 0xfffffffe,
      timestampDifferenceMicros: 0x7fffffff,
      windowBytes: 1 << 20,
      seq: 65535,
      ack: 1,
      ...(payload ? { payload } : {}),
    });
    const h = parsePacket(bytes);
    assertEquals([h.type, h.connectionId, h.timestampMicros, h.seq, h.ack], [
      type,
      0xffff,
      0xfffffffe,
      65535,
      1,
    ]);
    assertEquals(bytes.subarray(h.payloadOffset), payload ?? new Uint8Array(0));
  }
});

Deno.test("parsePacket() accepts selective-ACK bitmasks of any length (libtorrent sends ⌈n/8⌉ bytes)", () => {
  for (const length of [1, 3, 4, 5, 7, 32, 255]) {
    const sack = new Uint8Array(length).fill(0xa5);
    const bytes = encodePacket({ ...STATE, sack });
    const h = parsePacket(bytes);
    assertEquals([h.sackOffset, h.sackLength, h.payloadOffset], [22, length, 22 + length]);
    assertEquals(bytes.subarray(h.sackOffset, h.sackOffset + h.sackLength), sack);
  }
});

Deno.test("parsePacket() reads libtorrent's close reason after a SACK and skips unknown extensions", () => {
  const withReason = encodePacket({
    ...STATE,
    type: ST_FIN,
    sack: new Uint8Array(4),
    closeReason: 7,
  });
  assertEquals(parsePacket(withReason).closeReason, 7);
  // extension 2 (extension bits, 8 bytes) then a payload byte
  const bits = fromHex("0102000100000000000000000000000000000000" + "0008" + "00".repeat(8) + "ff");
  const h = parsePacket(bits);
  assertEquals([h.type, h.sackOffset, h.payloadOffset], [ST_DATA, 0, 30]);
});

Deno.test("parsePacket() rejects short datagrams, wrong versions and types, broken extension chains", () => {
  const good = fromHex("01000001000000000000000000000000000000000000");
  const cases: [string, Uint8Array][] = [
    ["too short", good.subarray(0, HEADER_BYTES - 1)],
    ["version 2", Uint8Array.of(0x02, ...good.subarray(1))],
    ["type 5", Uint8Array.of(0x51, ...good.subarray(1))],
    ["extension header past the end", Uint8Array.of(0x01, 0x01, ...good.subarray(2, 20))],
    [
      "extension longer than the packet",
      Uint8Array.of(0x01, 0x01, ...good.subarray(2, 20), 0, 9, 1),
    ],
  ];
  const loop = new Uint8Array(HEADER_BYTES + 2 * (MAX_EXTENSIONS + 1));
  loop[0] = 0x01;
  loop[1] = 2;
  for (let i = HEADER_BYTES; i < loop.length; i += 2) loop[i] = 2; // each link says "another"
  cases.push(["too many extensions", loop]);
  for (const [name, bytes] of cases) {
    const e = assertThrows(() => parsePacket(bytes), UtpSyntaxError);
    assertEquals(e.message.startsWith("Cannot parse uTP packet"), true, name);
  }
});

Deno.test("parsePacket() reuses the record it is given and clears the SACK and close reason", () => {
  const h = newHeader();
  parsePacket(encodePacket({ ...STATE, sack: new Uint8Array(4), closeReason: 3 }), h);
  const same = parsePacket(fromHex("21000001000000000000000000000000000000000000"), h);
  assertEquals([same === h, h.sackOffset, h.closeReason], [true, 0, -1]);
});

Deno.test("isUtpFirstByte() matches uTP types 0..4 version 1, never a bencoded dictionary", () => {
  assertEquals([0x01, 0x11, 0x21, 0x31, 0x41].map(isUtpFirstByte), [true, true, true, true, true]);
  assertEquals([0x64, 0x51, 0x00, 0x02, 0x6c].map(isUtpFirstByte), [
    false,
    false,
    false,
    false,
    false,
  ]);
});

Deno.test("sequence and timestamp comparisons wrap", () => {
  const table: [number, number, boolean][] = [
    [1, 2, true],
    [2, 1, false],
    [65535, 0, true],
    [0, 65535, false],
    [65000, 100, true],
    [5, 5, false],
  ];
  for (const [a, b, less] of table) assertEquals(seqLess(a, b), less, `${a} < ${b}`);
  assertEquals([seqAdd(65535, 1), seqAdd(0, -1), seqDistance(2, 65534)], [0, 65535, 4]);
  assertEquals([stampLess(0xffffffff, 1), stampLess(1, 0xffffffff)], [true, false]);
  assertEquals(microStamp(4_294_967.296 + 0.001), 1);
});
