import { assertEquals } from "../../tests/assert.ts";
import { classifyHost, formatIp, ipKeyOf, isLocalHost, normalizeHost, parseIp } from "./ip.ts";

Deno.test("parseIp() and formatIp() round-trip canonical literals and reject the rest", () => {
  const cases: [string, string | undefined][] = [
    ["1.2.3.4", "1.2.3.4"],
    ["255.255.255.255", "255.255.255.255"],
    ["01.2.3.4", undefined], // no octal-looking zeros
    ["1.2.3", undefined],
    ["1.2.3.4.5", undefined],
    ["256.0.0.1", undefined],
    ["::1", "::1"],
    ["[::1]", "::1"],
    ["::", "::"],
    ["2001:DB8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["2001:db8::", "2001:db8::"],
    ["::ffff:10.0.0.1", "10.0.0.1"], // IPv4-mapped folds to IPv4
    ["1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"],
    ["1:2:3:4:5:6:7:8:9", undefined],
    ["1::2::3", undefined],
    ["fe80::1%eth0", undefined],
    ["example.com", undefined],
    ["", undefined],
  ];
  for (const [text, expected] of cases) {
    const ip = parseIp(text);
    assertEquals(ip && formatIp(ip), expected, text);
    const key = ipKeyOf(text);
    assertEquals(
      key === undefined ? undefined : formatIp(Uint8Array.from(key, (c) => c.charCodeAt(0))),
      expected,
      text,
    );
  }
});

Deno.test("classifyHost() sorts hosts for the SSRF rule", () => {
  const cases: [string, string][] = [
    ["127.0.0.1", "loopback"],
    ["127.1.2.3", "loopback"],
    ["::1", "loopback"],
    ["localhost", "loopback"],
    ["tracker.localhost.", "loopback"],
    ["10.1.2.3", "private"],
    ["172.16.0.1", "private"],
    ["172.32.0.1", "global"],
    ["192.168.1.1", "private"],
    ["169.254.1.1", "private"],
    ["100.64.0.1", "private"],
    ["fd00::1", "private"],
    ["fe80::1", "private"],
    ["0.0.0.0", "special"],
    ["224.0.0.1", "special"],
    ["::", "special"],
    ["ff02::1", "special"],
    ["8.8.8.8", "global"],
    ["2001:db8::1", "global"],
    ["tracker.example.org", "name"],
  ];
  for (const [host, expected] of cases) assertEquals(classifyHost(host), expected, host);
  assertEquals(isLocalHost("10.0.0.1"), true);
  assertEquals(isLocalHost("example.org"), false);
  assertEquals(normalizeHost("0:0:0:0:0:0:0:1"), "::1");
  assertEquals(normalizeHost("Example.ORG"), "example.org");
});
