import { assertEquals, assertThrows } from "../../tests/assert.ts";
import { decodeCompactPeers, encodeCompactPeer, encodeCompactPeers } from "./compact_peers.ts";

Deno.test("decodeCompactPeers() reads BEP 23 entries and ignores a partial tail (TC3)", () => {
  const bytes = new Uint8Array([10, 0, 0, 1, 0x1a, 0xe1, 192, 168, 1, 2, 0, 80, 1, 2, 3]);
  assertEquals(decodeCompactPeers(bytes, 4, 100), [
    { host: "10.0.0.1", port: 6881 },
    { host: "192.168.1.2", port: 80 },
  ]);
});

Deno.test("decodeCompactPeers() reads BEP 7 entries, drops port 0 and caps the count", () => {
  const v6 = encodeCompactPeers([{ host: "::1", port: 1 }, { host: "2001:db8::2", port: 2 }], 6);
  assertEquals(decodeCompactPeers(v6, 6, 1), [{ host: "::1", port: 1 }]);
  const zeroPort = new Uint8Array([1, 2, 3, 4, 0, 0, 5, 6, 7, 8, 0, 9]);
  assertEquals(decodeCompactPeers(zeroPort, 4, 10), [{ host: "5.6.7.8", port: 9 }]);
  const huge = new Uint8Array(6 * 1_000_000).fill(1);
  assertEquals(decodeCompactPeers(huge, 4, 2000).length, 2000);
});

Deno.test("encodeCompactPeer() rejects names and bad ports", () => {
  assertEquals(encodeCompactPeer("1.2.3.4", 0x1234), new Uint8Array([1, 2, 3, 4, 0x12, 0x34]));
  assertThrows(() => encodeCompactPeer("example.com", 1), TypeError, "not an IP literal");
  assertThrows(() => encodeCompactPeer("1.2.3.4", 0), RangeError, "port 0");
  assertThrows(() => encodeCompactPeer("1.2.3.4", 65536), RangeError);
  assertEquals(
    encodeCompactPeers([{ host: "::1", port: 1 }, { host: "1.1.1.1", port: 2 }], 4).length,
    6,
  );
});
