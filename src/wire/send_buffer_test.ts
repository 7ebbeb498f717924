import { assertEquals, assertThrows } from "../../tests/assert.ts";
import { encodeMessage, type WireMessage } from "./messages.ts";
import { WireFramer } from "./framer.ts";
import { SendBuffer } from "./send_buffer.ts";
import { concatBytes } from "../util/bytes.ts";

const KiB = 1024;

/** Takes and releases every queued chunk; returns their lengths and the joined bytes. */
function drain(out: SendBuffer): { lengths: number[]; bytes: Uint8Array } {
  const parts: Uint8Array[] = [];
  for (let c = out.take(); c !== undefined; c = out.take()) {
    parts.push(c.slice());
    out.release(c);
    out.assertInvariants();
  }
  return { lengths: parts.map((p) => p.length), bytes: concatBytes(parts) };
}

function decodeAll(bytes: Uint8Array): WireMessage[] {
  const seen: WireMessage[] = [];
  new WireFramer().feed(bytes, (m) => {
    seen.push(m.type === "piece" ? { ...m, block: m.block.slice() } : m);
  });
  return seen;
}

Deno.test("SendBuffer encodes messages back to back, as encodeMessage does", () => {
  const messages: WireMessage[] = [
    { type: "keep-alive" },
    { type: "interested" },
    { type: "have", index: 7 },
    { type: "request", index: 1, begin: 16384, length: 16384 },
    { type: "bitfield", bitfield: new Uint8Array([0xff, 0x80]) },
    { type: "extended", extendedId: 3, payload: new Uint8Array([1, 2, 3]) },
  ];
  const out = new SendBuffer({ maxChunkBytes: 64 * KiB });
  for (const m of messages) out.message(m);
  out.assertInvariants();
  assertEquals(drain(out).bytes, concatBytes(messages.map(encodeMessage)));
});

Deno.test("SendBuffer.piece() frames a block as encodeMessage does", () => {
  const block = new Uint8Array(16 * KiB).map((_, i) => i * 7);
  const out = new SendBuffer({ maxChunkBytes: 64 * KiB });
  out.piece(3, 32 * KiB, block);
  out.raw(new Uint8Array([0, 0, 0, 1, 2]));
  assertEquals(
    drain(out).bytes,
    concatBytes([
      encodeMessage({ type: "piece", index: 3, begin: 32 * KiB, block }),
      new Uint8Array([0, 0, 0, 1, 2]),
    ]),
  );
});

Deno.test("SendBuffer grows its chunks while they fill, up to the maximum, and reuses them", () => {
  const out = new SendBuffer({ maxChunkBytes: 64 * KiB });
  const block = new Uint8Array(16 * KiB).fill(9);
  for (let i = 0; i < 20; i++) out.piece(0, i * 16 * KiB, block);
  const frames = 20 * (13 + 16 * KiB);
  assertEquals(out.bytes, frames);
  const { lengths, bytes } = drain(out);
  assertEquals(lengths.reduce((a, b) => a + b), frames);
  assertEquals(Math.max(...lengths) <= 64 * KiB, true);
  assertEquals(lengths.at(-1)! > 0, true);
  assertEquals(decodeAll(bytes).length, 20);
  // Full-size chunks now come back from the spares: no new memory while sending.
  out.piece(1, 0, block);
  const held = out.capacityBytes;
  const chunk = out.take()!;
  out.release(chunk);
  out.piece(1, 16 * KiB, block);
  assertEquals(out.capacityBytes <= held + 64 * KiB, true);
  out.assertInvariants();
});

Deno.test("SendBuffer keeps a small chunk for a connection that sends little", () => {
  const out = new SendBuffer({ maxChunkBytes: 256 * KiB });
  for (let round = 0; round < 50; round++) {
    for (let i = 0; i < 32; i++) {
      out.message({ type: "request", index: i, begin: 0, length: 16384 });
    }
    drain(out);
  }
  assertEquals(out.capacityBytes <= 2 * 4 * KiB, true);
  out.trim();
  assertEquals(out.capacityBytes, 0);
});

Deno.test("SendBuffer gives a message larger than any chunk a chunk of its own", () => {
  const out = new SendBuffer({ maxChunkBytes: 32 * KiB });
  const bitfield = new Uint8Array(100 * KiB).fill(0xff);
  out.message({ type: "have", index: 1 });
  out.message({ type: "bitfield", bitfield });
  out.message({ type: "have", index: 2 });
  const { lengths, bytes } = drain(out);
  assertEquals(lengths, [9, 5 + 100 * KiB, 9]);
  assertEquals(decodeAll(bytes).map((m) => m.type), ["have", "bitfield", "have"]);
});

Deno.test("SendBuffer.message() queues nothing for a field that does not fit the wire", () => {
  const out = new SendBuffer({ maxChunkBytes: 32 * KiB });
  out.message({ type: "have", index: 1 });
  assertThrows(() => out.message({ type: "have", index: 2 ** 32 }), RangeError);
  out.assertInvariants();
  assertEquals(out.bytes, 9);
  assertEquals(drain(out).bytes, encodeMessage({ type: "have", index: 1 }));
});

Deno.test("SendBuffer rejects chunk sizes it cannot use", () => {
  assertThrows(() => new SendBuffer({ maxChunkBytes: 1024 }), RangeError);
  assertThrows(() => new SendBuffer({ maxChunkBytes: 64 * KiB, initialChunkBytes: 8 }), RangeError);
});
