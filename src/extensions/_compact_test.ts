import { assertEquals } from "../../tests/assert.ts";
import { compactEntry, formatIp, parseIpv4, parseIpv6, readCompact } from "./_compact.ts";

/** [literal, canonical form after parse + format] (RFC 5952). */
const CANONICAL: [string, string][] = [
  ["1.2.3.4", "1.2.3.4"],
  ["255.255.255.255", "255.255.255.255"],
  ["::", "::"],
  ["::1", "::1"],
  ["2001:DB8:0:0:0:0:0:1", "2001:db8::1"],
  ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"], // first of two equal runs
  ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"], // a single zero group stays
  ["fe80::1:2", "fe80::1:2"],
  ["::ffff:10.0.0.1", "10.0.0.1"], // IPv4-mapped folds to IPv4
  ["1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"],
];

for (const [text, canonical] of CANONICAL) {
  Deno.test(`formatIp() writes ${text} as ${canonical}`, () => {
    assertEquals(formatIp((parseIpv4(text) ?? parseIpv6(text))!), canonical);
  });
}

const NOT_IPS = ["", "1.2.3", "1.2.3.4.5", "01.2.3.4", "256.1.1.1", "1.2.3.-4", "a.b.c.d", ":::"];
const NOT_V6 = ["1::2::3", "1:2:3:4:5:6:7:8:9", "12345::", "g::1", "1:2:3:4:5:6:7:8::", "x"];

for (const text of [...NOT_IPS, ...NOT_V6]) {
  Deno.test(`parseIpv4() and parseIpv6() refuse ${JSON.stringify(text)}`, () => {
    assertEquals([parseIpv4(text), parseIpv6(text)], [undefined, undefined]);
  });
}

Deno.test("compactEntry() writes address then big-endian port; mapped IPv6 as 6 bytes", () => {
  assertEquals(
    compactEntry({ host: "1.2.3.4", port: 0x1ae1 }),
    new Uint8Array([1, 2, 3, 4, 0x1a, 0xe1]),
  );
  assertEquals(
    compactEntry({ host: "::ffff:1.2.3.4", port: 1 }),
    new Uint8Array([1, 2, 3, 4, 0, 1]),
  );
  assertEquals(compactEntry({ host: "::1", port: 2 })?.length, 18);
  assertEquals(compactEntry({ host: "1.2.3.4", port: 0 }), undefined);
  assertEquals(compactEntry({ host: "example.com", port: 1 }), undefined);
});

Deno.test("readCompact() drops a partial tail and stops at max", () => {
  const bytes = new Uint8Array([1, 2, 3, 4, 0, 80, 5, 6, 7, 8, 0, 0, 9, 9]);
  assertEquals(readCompact(bytes, 6, 10), [{ host: "1.2.3.4", port: 80 }, {
    host: "5.6.7.8",
    port: 0,
  }]);
  assertEquals(readCompact(bytes, 6, 1), [{ host: "1.2.3.4", port: 80 }]);
});
