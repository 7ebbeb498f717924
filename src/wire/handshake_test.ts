import { assertEquals, assertThrows } from "../../tests/assert.ts";
import { fromHex, toHex } from "../util/bytes.ts";
import { decodeHandshake, encodeHandshake, HANDSHAKE_LENGTH, WireSyntaxError } from "./mod.ts";

const infoHash = fromHex("aa".repeat(20));
const peerId = new TextEncoder().encode("-SW0100-abcdefghijkl");
const PSTR_HEX = "13" + toHex(new TextEncoder().encode("BitTorrent protocol"));

/** [flags, reserved hex] (BEP 10: byte 5 0x10; BEP 6: byte 7 0x04; BEP 5: byte 7 0x01). */
const RESERVED: [
  { extensionProtocol?: boolean; fastExtension?: boolean; dht?: boolean },
  string,
][] = [
  [{}, "0000000000000000"],
  [{ extensionProtocol: true }, "0000000000100000"],
  [{ fastExtension: true }, "0000000000000004"],
  [{ dht: true }, "0000000000000001"],
  [{ extensionProtocol: true, fastExtension: true, dht: true }, "0000000000100005"],
];

for (const [flags, reserved] of RESERVED) {
  Deno.test(`encodeHandshake() sets reserved ${reserved} for ${JSON.stringify(flags)}`, () => {
    const bytes = encodeHandshake({ infoHash, peerId, ...flags });
    assertEquals(toHex(bytes), PSTR_HEX + reserved + "aa".repeat(20) + toHex(peerId));
    const decoded = decodeHandshake(bytes);
    assertEquals(decoded, {
      infoHash,
      peerId,
      extensionProtocol: flags.extensionProtocol ?? false,
      fastExtension: flags.fastExtension ?? false,
      dht: flags.dht ?? false,
      reserved: fromHex(reserved),
    });
  });
}

Deno.test("decodeHandshake() keeps unknown reserved bits and copies every field", () => {
  const bytes = encodeHandshake({ infoHash, peerId });
  bytes[20] = 0x80; // reserved[0], e.g. a vendor bit
  const decoded = decodeHandshake(bytes);
  assertEquals(decoded.reserved[0], 0x80);
  bytes.fill(0);
  assertEquals(decoded.infoHash, infoHash);
  assertEquals(decoded.peerId, peerId);
});

Deno.test("decodeHandshake() reads only the first 68 bytes", () => {
  const bytes = new Uint8Array(HANDSHAKE_LENGTH + 5);
  bytes.set(encodeHandshake({ infoHash, peerId }));
  assertEquals(decodeHandshake(bytes).peerId, peerId);
});

/** [why, mutate, fragment, offset] (RELIABILITY PW1). */
const BAD: [string, (b: Uint8Array) => Uint8Array, string, number][] = [
  ["pstrlen 0", (b) => (b[0] = 0, b), "pstrlen 0, expected 19", 0],
  ["pstrlen 255", (b) => (b[0] = 255, b), "pstrlen 255, expected 19", 0],
  ["pstrlen 18", (b) => (b[0] = 18, b), "pstrlen 18", 0],
  ["a wrong protocol string", (b) => (b[5] = 0x74, b), 'not "BitTorrent protocol"', 5],
  ["an empty input", () => new Uint8Array(0), "empty handshake", 0],
  ["a truncated handshake", (b) => b.subarray(0, 67), "67 bytes, expected 68", 67],
  ["only pstrlen", (b) => b.subarray(0, 1), "1 bytes, expected 68", 1],
  ["a wrong byte within a short prefix", (b) => (b[3] = 0, b.subarray(0, 5)), "protocol string", 3],
];

for (const [why, mutate, fragment, offset] of BAD) {
  Deno.test(`decodeHandshake() rejects ${why}`, () => {
    const input = mutate(encodeHandshake({ infoHash, peerId }));
    const err = assertThrows(() => decodeHandshake(input), WireSyntaxError, fragment);
    assertEquals(err.offset, offset);
  });
}

Deno.test("encodeHandshake() rejects ids that are not 20 bytes", () => {
  assertThrows(
    () => encodeHandshake({ infoHash: new Uint8Array(19), peerId }),
    RangeError,
    "info-hash",
  );
  assertThrows(
    () => encodeHandshake({ infoHash, peerId: new Uint8Array(21) }),
    RangeError,
    "peer id",
  );
});
