import { assertEquals, assertThrows } from "../../tests/assert.ts";
import { allowedFastSet } from "./mod.ts";

const infoHash = new Uint8Array(20).fill(0xaa);

/** The BEP 6 vectors: info-hash 0xAA×20, IP 80.4.4.200, 1313 pieces. */
const VECTORS: [number, number[]][] = [
  [7, [1059, 431, 808, 1217, 287, 376, 1188]],
  [9, [1059, 431, 808, 1217, 287, 376, 1188, 353, 508]],
];

for (const [count, expected] of VECTORS) {
  Deno.test(`allowedFastSet() gives the BEP 6 vector for k=${count}`, () => {
    assertEquals(allowedFastSet(infoHash, "80.4.4.200", { pieceCount: 1313, count }), expected);
  });
}

Deno.test("allowedFastSet() uses only the /24 and accepts bytes", () => {
  const a = allowedFastSet(infoHash, "80.4.4.200", { pieceCount: 1313 });
  assertEquals(allowedFastSet(infoHash, new Uint8Array([80, 4, 4, 1]), { pieceCount: 1313 }), a);
  assertEquals(a.length, 10);
});

Deno.test("allowedFastSet() allows every piece when k covers the torrent", () => {
  assertEquals(allowedFastSet(infoHash, "10.0.0.1", { pieceCount: 4, count: 10 }), [0, 1, 2, 3]);
  assertEquals(allowedFastSet(infoHash, "10.0.0.1", { pieceCount: 5, count: 0 }), []);
});

const BAD: [string, () => unknown][] = [
  ["an IPv6 address", () => allowedFastSet(infoHash, "::1", { pieceCount: 10 })],
  ["an octet of 256", () => allowedFastSet(infoHash, "1.2.3.256", { pieceCount: 10 })],
  ["a 5-byte address", () => allowedFastSet(infoHash, new Uint8Array(5), { pieceCount: 10 })],
  ["a 19-byte info-hash", () => allowedFastSet(new Uint8Array(19), "1.2.3.4", { pieceCount: 10 })],
  ["a piece count of 0", () => allowedFastSet(infoHash, "1.2.3.4", { pieceCount: 0 })],
  ["a negative count", () => allowedFastSet(infoHash, "1.2.3.4", { pieceCount: 9, count: -1 })],
];

for (const [why, fn] of BAD) {
  Deno.test(`allowedFastSet() rejects ${why}`, () => {
    assertThrows(fn, RangeError);
  });
}
