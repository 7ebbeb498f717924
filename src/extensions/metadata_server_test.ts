import { assert, assertEquals, assertThrows } from "../../tests/assert.ts";
import { SeededRandom } from "../util/prng.ts";
import { decodeMetadataMessage, type MetadataMessage, MetadataServer } from "./mod.ts";

const INFO = new SeededRandom(11).bytes(34256); // the BEP 9 example size: 3 pieces

function ask(
  server: MetadataServer,
  peer: string,
  piece: number,
  context = { now: 0, unsentBytes: 0 },
): MetadataMessage {
  return decodeMetadataMessage(server.request(peer, piece, context));
}

Deno.test("MetadataServer reports the size and piece count for the handshake", () => {
  const server = new MetadataServer(INFO);
  assertEquals(server.totalSize, 34256);
  assertEquals(server.pieceCount, 3);
});

/** [piece, expected first byte offset, expected length]. */
const PIECES: [number, number, number][] = [[0, 0, 16384], [1, 16384, 16384], [2, 32768, 1488]];

for (const [piece, begin, length] of PIECES) {
  Deno.test(`MetadataServer.request() answers piece ${piece} with ${length} bytes`, () => {
    const server = new MetadataServer(INFO);
    assertEquals(ask(server, "p", piece), {
      type: "data",
      piece,
      totalSize: 34256,
      data: INFO.subarray(begin, begin + length),
    });
  });
}

/** [why, piece as sent, piece in the reject]. */
const OUT_OF_RANGE: [string, number, number][] = [
  ["the piece count", 3, 3],
  ["2^40", 2 ** 40, 2 ** 40],
  ["a negative index", -1, 0],
  ["a fraction", 0.5, 0],
];

for (const [why, piece, rejected] of OUT_OF_RANGE) {
  Deno.test(`MetadataServer.request() rejects ${why}`, () => {
    const server = new MetadataServer(INFO);
    assertEquals(ask(server, "p", piece), { type: "reject", piece: rejected });
  });
}

Deno.test("MetadataServer.request() serves a burst of twice the pieces, then its rate (EX5)", () => {
  const server = new MetadataServer(INFO, { repliesPerSecond: 4 });
  const counts = { data: 0, reject: 0 };
  for (let i = 0; i < 100_000; i++) {
    const m = ask(server, "flood", i % 3);
    if (m.type === "data" || m.type === "reject") counts[m.type]++;
  }
  assertEquals(counts, { data: 6, reject: 100_000 - 6 }); // 2 × 3 pieces at once
  assert(server.overLimit("flood"));
  assertEquals(ask(server, "other", 0).type, "data"); // other peers are unaffected
  assertEquals(ask(server, "late", 0, { now: 0, unsentBytes: 0 }).type, "data");
  for (let i = 0; i < 5; i++) ask(server, "late", 0);
  assertEquals(ask(server, "late", 1, { now: 100, unsentBytes: 0 }).type, "reject");
  assertEquals(ask(server, "late", 1, { now: 250, unsentBytes: 0 }).type, "data"); // 4/s
  server.assertInvariants();
  server.removePeer("flood");
  assert(!server.overLimit("flood"));
});

Deno.test("MetadataServer.request() rejects a peer that has not read 64 KiB of what we sent", () => {
  const server = new MetadataServer(INFO);
  assertEquals(ask(server, "p", 0, { now: 0, unsentBytes: 64 * 1024 }).type, "data");
  assertEquals(ask(server, "p", 0, { now: 0, unsentBytes: 64 * 1024 + 1 }).type, "reject");
  assert(!server.overLimit("p"));
});

Deno.test("MetadataServer.overLimit() is true after more rejects than the limit", () => {
  const server = new MetadataServer(INFO, { rejectLimit: 2 });
  const full = { now: 0, unsentBytes: 1e9 };
  for (let i = 0; i < 2; i++) ask(server, "p", 0, full);
  assert(!server.overLimit("p"));
  ask(server, "p", 99); // out of range counts too
  assert(server.overLimit("p"));
  server.assertInvariants();
});

Deno.test("new MetadataServer() throws RangeError for empty info or a bad limit", () => {
  assertThrows(() => new MetadataServer(new Uint8Array(0)), RangeError, "empty info");
  assertThrows(() => new MetadataServer(INFO, { repliesPerSecond: 0 }), RangeError, "repliesPer");
  assertThrows(() => new MetadataServer(INFO, { rejectLimit: -1 }), RangeError, "rejectLimit");
});
