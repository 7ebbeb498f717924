import { assertEquals, assertThrows } from "../../tests/assert.ts";
import { SeededRandom } from "../util/prng.ts";
import {
  decodeMetadataMessage,
  DEFAULT_MAX_METADATA_QUEUED,
  type MetadataMessage,
  MetadataServer,
} from "./mod.ts";

const INFO = new SeededRandom(11).bytes(34256); // the BEP 9 example size: 3 pieces

function ask(server: MetadataServer, peer: string, piece: number): MetadataMessage {
  return decodeMetadataMessage(server.request(peer, piece));
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
    assertEquals(server.queuedFor("p"), 1);
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
    assertEquals(server.queuedFor("p"), 0);
  });
}

Deno.test("MetadataServer.request() queues at most 64 per peer and rejects the rest (EX5)", () => {
  const server = new MetadataServer(INFO);
  const counts = { data: 0, reject: 0 };
  for (let i = 0; i < 100_000; i++) {
    const m = ask(server, "flood", i % 3);
    if (m.type === "data" || m.type === "reject") counts[m.type]++;
  }
  assertEquals(counts, { data: DEFAULT_MAX_METADATA_QUEUED, reject: 100_000 - 64 });
  assertEquals(server.queuedFor("flood"), 64);
  assertEquals(ask(server, "other", 0).type, "data"); // other peers are unaffected
  server.sent("flood");
  assertEquals(ask(server, "flood", 1).type, "data");
  assertEquals(ask(server, "flood", 1).type, "reject");
  server.assertInvariants();
  server.removePeer("flood");
  assertEquals(server.queuedFor("flood"), 0);
});

Deno.test("MetadataServer.sent() never lets a count go below zero", () => {
  const server = new MetadataServer(INFO, { maxQueuedPerPeer: 1 });
  server.sent("p");
  assertEquals(server.queuedFor("p"), 0);
  assertEquals(ask(server, "p", 0).type, "data");
  assertEquals(ask(server, "p", 0).type, "reject");
  server.assertInvariants();
});

Deno.test("new MetadataServer() throws RangeError for empty info or a bad cap", () => {
  assertThrows(() => new MetadataServer(new Uint8Array(0)), RangeError, "empty info");
  assertThrows(() => new MetadataServer(INFO, { maxQueuedPerPeer: 0 }), RangeError, "maxQueued");
});
