import { concatBytes } from "../util/bytes.ts";
import { assert, assertEquals } from "../../tests/assert.ts";
import { fuzzCases, mutate } from "../../tests/fuzz.ts";
import type { SeededRandom } from "../util/prng.ts";
import {
  decodeExtensionHandshake,
  decodeHandshake,
  decodeMessage,
  DEFAULT_MAX_MESSAGE_LENGTH,
  encodeExtensionHandshake,
  encodeHandshake,
  encodeMessage,
  type ExtensionHandshake,
  MAX_PIECE_COUNT,
  WireFramer,
  type WireMessage,
  WireSyntaxError,
} from "./mod.ts";

const U32 = 2 ** 32;

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

function randomBitfield(r: SeededRandom, pieceCount: number | undefined): Uint8Array {
  const bitfield = r.bytes(pieceCount === undefined ? 1 + r.int(64) : Math.ceil(pieceCount / 8));
  const spare = pieceCount === undefined ? 0 : bitfield.length * 8 - pieceCount;
  if (spare > 0) bitfield[bitfield.length - 1]! &= 0xff << spare;
  return bitfield;
}

/** A random message the framer must accept under `pieceCount`. */
function randomMessage(r: SeededRandom, pieceCount: number | undefined): WireMessage {
  const block = () => ({ index: r.int(U32), begin: r.int(U32), length: r.int(U32) });
  switch (r.int(17)) {
    case 0:
      return { type: "have", index: r.int(pieceCount ?? MAX_PIECE_COUNT) };
    case 1:
      return { type: "bitfield", bitfield: randomBitfield(r, pieceCount) };
    case 2:
    case 3: {
      const length = r.next() < 0.05 ? 16384 : 1 + r.int(300);
      return { type: "piece", index: r.int(U32), begin: r.int(U32), block: r.bytes(length) };
    }
    case 4:
      return { type: "request", ...block() };
    case 5:
      return { type: "cancel", ...block() };
    case 6:
      return { type: "reject", ...block() };
    case 7:
      return { type: "port", port: r.int(65536) };
    case 8:
      return { type: r.next() < 0.5 ? "suggest" : "allowed-fast", index: r.int(U32) };
    case 9: {
      const length = r.next() < 0.02 ? 20000 + r.int(50000) : r.int(200);
      return { type: "extended", extendedId: r.int(256), payload: r.bytes(length) };
    }
    default: {
      const bare = [
        "keep-alive",
        "choke",
        "unchoke",
        "interested",
        "not-interested",
        "have-all",
        "have-none",
      ] as const;
      return { type: bare[r.int(bare.length)]! };
    }
  }
}

function randomChunks(r: SeededRandom, stream: Uint8Array): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  const mode = r.int(3); // tiny pieces, medium pieces or one whole chunk
  for (let at = 0; at < stream.length;) {
    const n = mode === 0 ? 1 + r.int(6) : mode === 1 ? 1 + r.int(5000) : stream.length;
    chunks.push(stream.subarray(at, at + n));
    at += n;
  }
  return chunks;
}

interface Outcome {
  messages: WireMessage[];
  error: [string, number] | undefined;
}

/** Runs the framer; anything but a WireSyntaxError escapes and fails the case. */
function frame(chunks: Uint8Array[], pieceCount: number | undefined): Outcome {
  const framer = new WireFramer(pieceCount === undefined ? {} : { pieceCount });
  const messages: WireMessage[] = [];
  try {
    for (const chunk of chunks) {
      framer.feed(chunk, (m) => messages.push(copy(m)));
      framer.assertInvariants();
      assert(framer.bufferedBytes <= DEFAULT_MAX_MESSAGE_LENGTH + 4);
    }
  } catch (e) {
    if (!(e instanceof WireSyntaxError)) throw e;
    return { messages, error: [e.message, e.offset] };
  }
  return { messages, error: undefined };
}

/** The same stream through decodeMessage, frame after frame. */
function decodeAll(stream: Uint8Array, pieceCount: number | undefined): Outcome {
  const messages: WireMessage[] = [];
  const options = pieceCount === undefined ? {} : { pieceCount };
  try {
    for (let at = 0;;) {
      const decoded = decodeMessage(stream, at, options);
      if (decoded === undefined) return { messages, error: undefined };
      messages.push(copy(decoded.message));
      at = decoded.end;
    }
  } catch (e) {
    if (!(e instanceof WireSyntaxError)) throw e;
    return { messages, error: [e.message, e.offset] };
  }
}

Deno.test("fuzz: WireFramer frames random streams in any split; mutations parse or throw WireSyntaxError", () => {
  fuzzCases("wire", (r) => {
    const pieceCount = r.next() < 0.5 ? undefined : 1 + r.int(5000);
    const messages = Array.from({ length: r.int(25) }, () => randomMessage(r, pieceCount));
    const stream = concatBytes(messages.map(encodeMessage));
    const clean = frame(randomChunks(r, stream), pieceCount);
    assertEquals(clean, { messages, error: undefined });
    assertEquals(decodeAll(stream, pieceCount), clean);

    const bad = mutate(r, stream);
    const whole = frame([bad], pieceCount);
    assertEquals(frame(randomChunks(r, bad), pieceCount), whole);
    assertEquals(decodeAll(bad, pieceCount), whole);
  }, (bytes) => {
    for (const pieceCount of [undefined, 1, 9, 1000]) {
      const whole = frame([bytes], pieceCount);
      const bytewise = Array.from(bytes, (b) => new Uint8Array([b]));
      assertEquals(frame(bytewise, pieceCount), whole);
    }
  });
});

function randomExtensionHandshake(r: SeededRandom): ExtensionHandshake {
  const m = new Map<string, number>();
  for (let i = r.int(6); i > 0; i--) m.set(`ut_${r.int(1000)}`, r.int(256));
  const h: { -readonly [K in keyof ExtensionHandshake]: ExtensionHandshake[K] } = { m };
  if (r.next() < 0.5) h.v = `client ${r.int(100)}`;
  if (r.next() < 0.5) h.p = 1 + r.int(65535);
  if (r.next() < 0.5) h.reqq = 1 + r.int(2000);
  if (r.next() < 0.5) h.yourip = r.bytes(r.next() < 0.5 ? 4 : 16);
  if (r.next() < 0.5) h.metadataSize = r.int(2 ** 30);
  if (r.next() < 0.5) h.uploadOnly = r.next() < 0.5;
  return h;
}

function onlyWireErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof WireSyntaxError)) throw e;
  }
}

Deno.test("fuzz: handshakes round-trip; mutations decode or throw WireSyntaxError", () => {
  fuzzCases("wire", (r) => {
    const options = {
      infoHash: r.bytes(20),
      peerId: r.bytes(20),
      extensionProtocol: r.next() < 0.5,
      fastExtension: r.next() < 0.5,
      dht: r.next() < 0.5,
    };
    const decoded = decodeHandshake(encodeHandshake(options));
    const { reserved: _, ...flags } = decoded;
    assertEquals(flags, options);
    onlyWireErrors(() => decodeHandshake(mutate(r, encodeHandshake(options))));

    const h = randomExtensionHandshake(r);
    const payload = encodeExtensionHandshake(h);
    assertEquals(decodeExtensionHandshake(payload), h);
    onlyWireErrors(() => decodeExtensionHandshake(mutate(r, payload)));
  }, (bytes) => {
    onlyWireErrors(() => decodeHandshake(bytes));
    onlyWireErrors(() => decodeExtensionHandshake(bytes));
  });
});
