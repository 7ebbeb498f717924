import { assertEquals, assertThrows } from "../../tests/assert.ts";
import { encode } from "../bencode/mod.ts";
import type { PeerAddress } from "../runtime/types.ts";
import {
  decodePex,
  encodePex,
  ExtensionSyntaxError,
  PEX_MAX_PEERS_PER_MESSAGE,
  PexFlags,
  type PexMessage,
  type PexMessageInput,
} from "./mod.ts";

const latin1 = (b: Uint8Array) => String.fromCharCode(...b);
const bytes = (...b: number[]) => new Uint8Array(b);

function v4(i: number, port = 6881): PeerAddress {
  return { host: `203.0.${(i >> 8) & 0xff}.${i & 0xff}`, port };
}

function compactV4(count: number): Uint8Array {
  const out = new Uint8Array(count * 6);
  for (let i = 0; i < count; i++) out.set([203, 0, (i >> 8) & 0xff, i & 0xff, 0x1a, 0xe1], i * 6);
  return out;
}

Deno.test("encodePex() writes the BEP 11 layout with all six keys in order", () => {
  const payload = encodePex({
    added: [{ host: "1.2.3.4", port: 6881 }],
    addedFlags: [PexFlags.seed | PexFlags.reachable],
    dropped6: [{ host: "::1", port: 0x0102 }],
  });
  const v6 = "\x00".repeat(15) + "\x01\x01\x02";
  assertEquals(
    latin1(payload),
    "d5:added6:\x01\x02\x03\x04\x1a\xe17:added.f1:\x12" +
      "6:added60:8:added6.f0:7:dropped0:8:dropped618:" + v6 + "e",
  );
});

/** [why, input, decoded]. */
const ROUND_TRIPS: [string, PexMessageInput, PexMessage][] = [
  ["an empty message", {}, { added: [], dropped: [] }],
  ["IPv4 with flags", {
    added: [v4(1), v4(2, 1)],
    addedFlags: [0x01 | 0x04, 0x08 | 0x10],
    dropped: [v4(3, 65535)],
  }, {
    added: [{ addr: v4(1), flags: 0x05 }, { addr: v4(2, 1), flags: 0x18 }],
    dropped: [v4(3, 65535)],
  }],
  ["IPv6 in RFC 5952 form, after IPv4", {
    added: [v4(9)],
    added6: [{ host: "2001:DB8:0:0:1:0:0:1", port: 80 }],
    added6Flags: [2],
    dropped6: [{ host: "2001:db8::", port: 443 }],
  }, {
    added: [{ addr: v4(9), flags: 0 }, { addr: { host: "2001:db8::1:0:0:1", port: 80 }, flags: 2 }],
    dropped: [{ host: "2001:db8::", port: 443 }],
  }],
];

for (const [why, input, expected] of ROUND_TRIPS) {
  Deno.test(`decodePex() round-trips ${why}`, () => {
    assertEquals(decodePex(encodePex(input)), expected);
  });
}

Deno.test("decodePex() folds IPv4-mapped IPv6 peers to IPv4", () => {
  const mapped = bytes(...new Array(10).fill(0), 0xff, 0xff, 127, 0, 0, 1, 0, 80);
  assertEquals(decodePex(encode({ added6: mapped })).added, [
    { addr: { host: "127.0.0.1", port: 80 }, flags: 0 },
  ]);
});

/** [why (RELIABILITY EX6), payload, expected added count, expected dropped count]. */
const LENIENT: [string, Uint8Array, number, number][] = [
  ["10k added: first 50 used", encode({ added: compactV4(10_000) }), 50, 0],
  ["10k dropped: first 50 used", encode({ dropped: compactV4(10_000) }), 0, 50],
  ["added length not a multiple of 6", encode({ added: compactV4(4).subarray(0, 23) }), 3, 0],
  ["dropped6 with a 17-byte tail", encode({ dropped6: new Uint8Array(35) }), 0, 1],
  ["added as an integer", encode({ added: 5, dropped: compactV4(1) }), 0, 1],
  ["added as a list", encode({ added: [compactV4(1)] }), 0, 0],
  ["unknown keys", encode({ "added.x": 1, foo: { bar: [1] } }), 0, 0],
  [
    "40 IPv4 + 40 IPv6 added: 50 in all",
    encode({
      added: compactV4(40),
      added6: new Uint8Array(40 * 18).fill(0x20),
    }),
    50,
    0,
  ],
];

for (const [why, payload, added, dropped] of LENIENT) {
  Deno.test(`decodePex() tolerates ${why}`, () => {
    const m = decodePex(payload);
    assertEquals([m.added.length, m.dropped.length], [added, dropped]);
  });
}

Deno.test("decodePex() uses the first 50 of 10k added peers, in order (EX6)", () => {
  const m = decodePex(encode({ added: compactV4(10_000) }));
  assertEquals(m.added.map((p) => p.addr), Array.from({ length: 50 }, (_, i) => v4(i)));
  assertEquals(PEX_MAX_PEERS_PER_MESSAGE, 50);
});

Deno.test("decodePex() gives flags 0 where added.f is short or missing", () => {
  const m = decodePex(encode({ added: compactV4(3), "added.f": bytes(0x02) }));
  assertEquals(m.added.map((p) => p.flags), [0x02, 0, 0]);
});

/** [why, payload, offset, message fragment]. */
const MALFORMED: [string, Uint8Array, number, string][] = [
  ["a 500 KiB payload", encode({ added: new Uint8Array(500 * 1024) }), 0, "exceeds 65536"],
  ["65,537 bytes", new Uint8Array(65537), 0, "exceeds 65536"],
  ["not a dictionary", encode([1, 2]), 0, "not a dictionary"],
  ["an empty payload", new Uint8Array(0), 0, "unexpected end"],
  ["trailing bytes", new TextEncoder().encode("dexx"), 2, "trailing"],
  ["truncated", new TextEncoder().encode("d5:added6:ab"), 8, "runs past"],
];

for (const [why, payload, offset, fragment] of MALFORMED) {
  Deno.test(`decodePex() rejects ${why} with ExtensionSyntaxError`, () => {
    const e = assertThrows(() => decodePex(payload), ExtensionSyntaxError, fragment);
    assertEquals(e.offset, offset);
  });
}

const BAD_ENCODES: [string, PexMessageInput, ErrorConstructor][] = [
  ["an IPv6 peer in added", { added: [{ host: "::2", port: 1 }] }, TypeError],
  ["an IPv4 peer in added6", { added6: [{ host: "1.2.3.4", port: 1 }] }, TypeError],
  ["a host name", { dropped: [{ host: "example.com", port: 1 }] }, TypeError],
  ["port 0", { added: [{ host: "1.2.3.4", port: 0 }] }, TypeError],
  ["port 65536", { added: [{ host: "1.2.3.4", port: 65536 }] }, TypeError],
  ["too few flags", { added: [v4(1), v4(2)], addedFlags: [1] }, RangeError],
  ["a flag of 256", { added: [v4(1)], addedFlags: [256] }, RangeError],
];

for (const [why, input, ErrorClass] of BAD_ENCODES) {
  Deno.test(`encodePex() throws ${ErrorClass.name} for ${why}`, () => {
    assertThrows(() => encodePex(input), ErrorClass, "Cannot encode ut_pex");
  });
}
