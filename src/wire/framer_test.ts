import { assert, assertEquals, assertThrows } from "../../tests/assert.ts";
import { fromHex } from "../util/bytes.ts";
import { SeededRandom } from "../util/prng.ts";
import {
  encodeMessage,
  MAX_PIECE_COUNT,
  WireFramer,
  type WireFramerOptions,
  type WireMessage,
  WireSyntaxError,
} from "./mod.ts";

const hex = (s: string) => fromHex(s.replaceAll(" ", ""));
const bytes = (...b: number[]) => new Uint8Array(b);

/** A copy whose byte fields outlive the callback. */
function copy(message: WireMessage): WireMessage {
  switch (message.type) {
    case "piece":
      return { ...message, block: message.block.slice() };
    case "bitfield":
      return { ...message, bitfield: message.bitfield.slice() };
    case "extended":
      return { ...message, payload: message.payload.slice() };
    default:
      return { ...message };
  }
}

/** Feeds `chunks` in order, checking invariants after each; returns copies of the messages. */
function feedAll(framer: WireFramer, chunks: Iterable<Uint8Array>): WireMessage[] {
  const out: WireMessage[] = [];
  for (const chunk of chunks) {
    framer.feed(chunk, (m) => out.push(copy(m)));
    framer.assertInvariants();
  }
  return out;
}

function* bytewise(stream: Uint8Array): Iterable<Uint8Array> {
  for (let i = 0; i < stream.length; i++) yield stream.subarray(i, i + 1);
}

function concat(frames: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
  let at = 0;
  for (const f of frames) at += (out.set(f, at), f.length);
  return out;
}

const bigBlock = new Uint8Array(16384).map((_, i) => i % 251);
const MESSAGES: WireMessage[] = [
  { type: "keep-alive" },
  { type: "bitfield", bitfield: bytes(0xa5, 0x80) },
  { type: "have-none" },
  { type: "unchoke" },
  { type: "piece", index: 3, begin: 16384, block: bigBlock },
  { type: "keep-alive" },
  { type: "have", index: 8 },
  { type: "request", index: 1, begin: 0, length: 16384 },
  { type: "extended", extendedId: 3, payload: new Uint8Array(40000).fill(7) },
  { type: "port", port: 6881 },
  { type: "piece", index: 8, begin: 0, block: bytes(1) },
  { type: "reject", index: 1, begin: 0, length: 16384 },
  { type: "allowed-fast", index: 4 },
  { type: "suggest", index: 2 },
  { type: "cancel", index: 1, begin: 0, length: 16384 },
  { type: "choke" },
  { type: "keep-alive" },
];
const STREAM = concat(MESSAGES.map(encodeMessage));

Deno.test("WireFramer.feed() parses a coalesced stream in one chunk", () => {
  assertEquals(feedAll(new WireFramer({ pieceCount: 9 }), [STREAM]), MESSAGES);
});

Deno.test("WireFramer.feed() parses a stream fed one byte at a time", () => {
  const framer = new WireFramer({ pieceCount: 9 });
  assertEquals(feedAll(framer, bytewise(STREAM)), MESSAGES);
  assertEquals(framer.bufferedBytes, 0);
});

Deno.test("WireFramer.feed() parses a stream split at every point", () => {
  for (let cut = 0; cut <= STREAM.length; cut += 97) {
    const chunks = [STREAM.subarray(0, cut), STREAM.subarray(cut)];
    assertEquals(feedAll(new WireFramer({ pieceCount: 9 }), chunks), MESSAGES, `cut ${cut}`);
  }
});

Deno.test("WireFramer.feed() parses a stream in random splits", () => {
  const random = new SeededRandom(7);
  for (let round = 0; round < 50; round++) {
    const chunks: Uint8Array[] = [];
    for (let at = 0; at < STREAM.length;) {
      const n = random.next() < 0.3 ? 1 + random.int(8) : 1 + random.int(40000);
      chunks.push(STREAM.subarray(at, at + n));
      at += n;
    }
    assertEquals(feedAll(new WireFramer({ pieceCount: 9 }), chunks), MESSAGES);
  }
});

Deno.test("WireFramer.feed() hands out views of the chunk for whole messages", () => {
  const frame = encodeMessage({ type: "piece", index: 0, begin: 0, block: bigBlock });
  let block: Uint8Array | undefined;
  new WireFramer().feed(frame, (m) => {
    if (m.type === "piece") block = m.block;
  });
  assert(block !== undefined);
  assertEquals(block.buffer, frame.buffer);
  assertEquals(block.byteOffset, 13);
});

Deno.test("WireFramer.feed() holds only a straddling frame, then forgets it", () => {
  const frame = encodeMessage({ type: "piece", index: 0, begin: 0, block: bigBlock });
  const framer = new WireFramer();
  const seen: WireMessage[] = [];
  framer.feed(frame.subarray(0, 100), (m) => seen.push(copy(m)));
  assertEquals(framer.bufferedBytes, 100);
  framer.feed(frame.subarray(100), (m) => seen.push(copy(m)));
  assertEquals(framer.bufferedBytes, 0);
  assertEquals(seen, [{ type: "piece", index: 0, begin: 0, block: bigBlock }]);
});

Deno.test("WireFramer.feed() drops a large buffer after a large straddling frame", () => {
  const payload = new Uint8Array(1024 * 1024).fill(1);
  const frame = encodeMessage({ type: "extended", extendedId: 1, payload });
  const framer = new WireFramer();
  const seen = feedAll(framer, [frame.subarray(0, 10), frame.subarray(10), bytes(0, 0, 0, 0)]);
  assertEquals(seen, [{ type: "extended", extendedId: 1, payload }, { type: "keep-alive" }]);
  framer.assertInvariants(); // includes "no large buffer retained"
});

Deno.test("WireFramer.feed() buffers what a slow peer sent, never the size it declared (PW10)", () => {
  const payload = new Uint8Array(1024 * 1024).fill(2);
  const frame = encodeMessage({ type: "extended", extendedId: 1, payload });
  const framer = new WireFramer();
  const seen: WireMessage[] = [];
  framer.feed(frame.subarray(0, 100), (m) => seen.push(copy(m)));
  assertEquals(framer.heldFrameBytes, frame.length);
  assertEquals(framer.capacityBytes, 4 + 9 + 16 * 1024); // room for a piece frame, not 1 MiB
  let fed = 100;
  for (; fed + 4096 < frame.length; fed += 4096) {
    framer.feed(frame.subarray(fed, fed + 4096), (m) => seen.push(copy(m)));
    assert(framer.capacityBytes <= Math.max(2 * (fed + 4096), 16 * 1024 + 17), `${fed}`);
    framer.assertInvariants();
  }
  framer.feed(frame.subarray(fed), (m) => seen.push(copy(m)));
  assertEquals(seen, [{ type: "extended", extendedId: 1, payload }]);
});

Deno.test("WireFramer.feed() accepts a bitfield of up to 2^21 bits before metadata", () => {
  const bitfield = new Uint8Array(MAX_PIECE_COUNT / 8).fill(0xff);
  const seen = feedAll(new WireFramer(), [encodeMessage({ type: "bitfield", bitfield })]);
  assertEquals(seen.length, 1);
});

Deno.test("WireFramer.feed() ignores empty chunks", () => {
  const framer = new WireFramer();
  assertEquals(feedAll(framer, [bytes(), bytes(0, 0), bytes(), bytes(0, 0), bytes()]), [
    { type: "keep-alive" },
  ]);
});

/** [why, stream hex, options, message fragment, error offset] (RELIABILITY PW2-PW5, EX1). */
const REJECTIONS: [string, string, WireFramerOptions, string, number][] = [
  [
    "length prefix 0xffffffff",
    "ffffffff",
    {},
    "length prefix 4294967295 exceeds the cap of 1048578",
    0,
  ],
  [
    "length over a custom cap",
    "00004e22 14",
    { maxMessageLength: 20000 },
    "exceeds the cap of 20000",
    0,
  ],
  ["unknown id 10", "00000001 0a", {}, "unknown message id 10", 0],
  ["unknown id 255", "00000001 ff", {}, "unknown message id 255", 0],
  [
    "unknown id after a message",
    "00000001 01 00000000 00000002 12 00",
    {},
    "unknown message id 18",
    9,
  ],
  ["choke of 2 bytes", "00000002 00 00", {}, "choke message has length 2, expected 1", 0],
  ["interested of 5 bytes", "00000005 02", {}, "interested message has length 5, expected 1", 0],
  ["have-all of 2 bytes", "00000002 0e", {}, "have-all message has length 2, expected 1", 0],
  ["have of 6 bytes", "00000006 04", {}, "have message has length 6, expected 5", 0],
  ["have of 4 bytes", "00000004 04", {}, "have message has length 4, expected 5", 0],
  ["suggest of 4 bytes", "00000004 0d", {}, "suggest message has length 4, expected 5", 0],
  [
    "allowed-fast of 6 bytes",
    "00000006 11",
    {},
    "allowed-fast message has length 6, expected 5",
    0,
  ],
  ["request of 14 bytes", "0000000e 06", {}, "request message has length 14, expected 13", 0],
  ["cancel of 12 bytes", "0000000c 08", {}, "cancel message has length 12, expected 13", 0],
  ["reject of 14 bytes", "0000000e 10", {}, "reject message has length 14, expected 13", 0],
  ["port of 2 bytes", "00000002 09", {}, "port message has length 2, expected 3", 0],
  ["piece with no block", "00000009 07", {}, "piece message has length 9, expected 10..16393", 0],
  ["piece over 16 KiB", "0000400a 07", {}, "piece message has length 16394, expected 10..16393", 0],
  ["empty bitfield", "00000001 05", {}, "bitfield message has length 1, expected 2..262145", 0],
  ["bitfield over 2^21 bits", "00040002 05", {}, "has length 262146, expected 2..262145", 0],
  ["bitfield too short", "00000002 05 ff", { pieceCount: 9 }, "has length 2, expected 3", 0],
  ["bitfield too long", "00000004 05", { pieceCount: 9 }, "has length 4, expected 3", 0],
  ["bitfield spare bits", "00000003 05 ff81", { pieceCount: 9 }, "bitfield has spare bits set", 0],
  [
    "have at the piece count",
    "00000005 04 0000000a",
    { pieceCount: 10 },
    "have index 10 is not below the piece count 10",
    0,
  ],
  [
    "have 2^31 before metadata",
    "00000005 04 80000000",
    {},
    "have index 2147483648 is not below the piece count 2097152",
    0,
  ],
  [
    "extended without an id",
    "00000001 14",
    {},
    "extended message has length 1, expected 2..1048578",
    0,
  ],
  [
    "extended over 1 MiB",
    "00100003 14",
    { maxMessageLength: 2 ** 32 - 1 },
    "has length 1048579, expected 2..1048578",
    0,
  ],
];

function failure(options: WireFramerOptions, chunks: Iterable<Uint8Array>): WireSyntaxError {
  const framer = new WireFramer(options);
  return assertThrows(() => feedAll(framer, chunks), WireSyntaxError);
}

for (const [why, stream, options, fragment, offset] of REJECTIONS) {
  Deno.test(`WireFramer.feed() rejects ${why}`, () => {
    const whole = failure(options, [hex(stream)]);
    assert(whole.message.includes(fragment), whole.message);
    assertEquals(whole.offset, offset);
    const split = failure(options, bytewise(hex(stream)));
    assertEquals([split.message, split.offset], [whole.message, whole.offset]);
  });
}

Deno.test("WireFramer.feed() rejects a bad length prefix from its 4 bytes, before buffering", () => {
  const framer = new WireFramer();
  framer.feed(hex("ffff"), () => {});
  assertEquals(framer.bufferedBytes, 2);
  assertThrows(() => framer.feed(hex("ffff"), () => {}), WireSyntaxError, "exceeds the cap");
  assertEquals(framer.bufferedBytes, 4); // the prefix itself, nothing after it
});

Deno.test("WireFramer.feed() rejects a bad type length from its 5-byte header", () => {
  const framer = new WireFramer();
  framer.feed(hex("0000ffff"), () => {}); // a 64 KiB frame: under the cap, so far
  assertThrows(() => framer.feed(hex("07"), () => {}), WireSyntaxError, "piece message");
  assertEquals(framer.bufferedBytes, 4);
});

Deno.test("WireFramer.feed() reports stream offsets across chunks", () => {
  const framer = new WireFramer();
  framer.feed(hex("00000000 00000001"), () => {});
  framer.feed(hex("01 00000005 04 00"), () => {});
  const err = assertThrows(() => framer.feed(hex("000000 00000002 01"), () => {}), WireSyntaxError);
  assertEquals(err.offset, 18);
});

Deno.test("WireFramer.feed() rethrows its first error after failing", () => {
  const framer = new WireFramer();
  const first = assertThrows(() => framer.feed(hex("00000001 0a"), () => {}), WireSyntaxError);
  const again = assertThrows(() => framer.feed(hex("00000000"), () => {}), WireSyntaxError);
  assert(first === again);
});

Deno.test("WireFramer.feed() fails when a callback feeds it again", () => {
  const framer = new WireFramer();
  assertThrows(
    () => framer.feed(hex("00000000"), () => framer.feed(hex("00000000"), () => {})),
    Error,
    "from inside its callback",
  );
});

Deno.test("WireFramer.setPieceCount() turns on exact bitfield and have checks", () => {
  const framer = new WireFramer();
  assertEquals(feedAll(framer, [hex("00000005 04 00000063")]), [{ type: "have", index: 99 }]);
  framer.setPieceCount(99);
  assertThrows(() => feedAll(framer, [hex("00000005 04 00000063")]), WireSyntaxError, "index 99");
});

Deno.test("WireFramer.setPieceCount() applies to a bitfield already being held", () => {
  const framer = new WireFramer();
  framer.feed(hex("00000005 05 ffff"), () => {}); // 4 bytes: fine before metadata
  framer.setPieceCount(9);
  assertThrows(() => framer.feed(hex("ffff"), () => {}), WireSyntaxError, "4 bytes for 9 pieces");
});

const badOptions: [string, WireFramerOptions][] = [
  ["piece count 0", { pieceCount: 0 }],
  ["piece count 2^21 + 1", { pieceCount: MAX_PIECE_COUNT + 1 }],
  ["piece count 1.5", { pieceCount: 1.5 }],
  ["a cap below a piece message", { maxMessageLength: 16392 }],
  ["a cap of 2^32", { maxMessageLength: 2 ** 32 }],
];

for (const [why, options] of badOptions) {
  Deno.test(`new WireFramer() rejects ${why}`, () => {
    assertThrows(() => new WireFramer(options), RangeError);
  });
}

Deno.test("WireFramer.setPieceCount() rejects a count outside 1..2^21", () => {
  assertThrows(() => new WireFramer().setPieceCount(-1), RangeError, "piece count -1");
});
