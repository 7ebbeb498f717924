import { assertEquals } from "../../tests/assert.ts";
import {
  addressKey,
  canonicalHost,
  formatIp,
  isLocalHost,
  isUsableAddress,
  parseIp,
  subnetKey,
} from "./_address.ts";

Deno.test("isLocalHost() flags loopback, private, link-local, CGNAT, multicast and non-IPs (D7)", () => {
  const cases: [string, boolean][] = [
    ["1.2.3.4", false],
    ["11.0.0.1", false],
    ["127.0.0.1", true],
    ["10.1.2.3", true],
    ["172.16.0.1", true],
    ["172.32.0.1", false],
    ["192.168.1.1", true],
    ["169.254.0.1", true],
    ["100.64.0.1", true],
    ["100.128.0.1", false],
    ["224.0.0.1", true],
    ["255.255.255.255", true],
    ["0.0.0.0", true],
    ["2001:db8::1", false],
    ["::1", true],
    ["::", true],
    ["fe80::1", true],
    ["fd00::1", true],
    ["ff02::1", true],
    ["::ffff:127.0.0.1", true],
    ["::ffff:8.8.8.8", false],
    ["example.com", true],
    ["1.2.3", true],
    ["01.2.3.4", true],
  ];
  for (const [host, want] of cases) assertEquals(isLocalHost(host), want, host);
});

Deno.test("isUsableAddress() needs a port in 1..65535, an IP literal, and a source at least as local", () => {
  const cases: [string, number, string, boolean, boolean][] = [
    // [host, port, source, allowLocal, usable]
    ["1.2.3.4", 6881, "5.6.7.8", false, true],
    ["1.2.3.4", 0, "5.6.7.8", false, false],
    ["1.2.3.4", 65536, "5.6.7.8", false, false],
    ["127.0.0.1", 6881, "5.6.7.8", false, false], // a public node points at loopback (D7)
    ["192.168.1.9", 6881, "5.6.7.8", false, false],
    ["127.0.0.1", 6881, "127.0.0.1", false, true], // heard from directly: its own source
    ["127.0.0.2", 6881, "127.0.0.1", false, true], // a loopback node may give loopback
    ["192.168.1.9", 6881, "127.0.0.1", false, true],
    ["192.168.1.9", 6881, "192.168.1.1", false, true],
    ["127.0.0.2", 6881, "192.168.1.1", false, false], // a LAN node may not give loopback
    ["224.0.0.1", 6881, "127.0.0.1", false, false], // multicast, never
    ["127.0.0.1", 6881, "5.6.7.8", true, true], // test mode
    ["localhost", 6881, "127.0.0.1", true, false], // names are never nodes
  ];
  for (const [host, port, source, allow, want] of cases) {
    assertEquals(
      isUsableAddress({ host, port }, source, allow),
      want,
      `${host}:${port} from ${source}`,
    );
  }
});

Deno.test("formatIp() and parseIp() round-trip IPv4 and IPv6 in canonical form", () => {
  const cases: [string, string][] = [
    ["1.2.3.4", "1.2.3.4"],
    ["2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"],
    ["::", "::"],
    ["1::", "1::"],
    ["1:0:0:2:0:0:0:3", "1:0:0:2::3"],
    ["::ffff:1.2.3.4", "1.2.3.4"], // IPv4-mapped folds to IPv4
  ];
  for (const [text, canonical] of cases) {
    assertEquals(formatIp(parseIp(text)!), canonical, text);
    assertEquals(canonicalHost(text), canonical, text);
  }
  for (const bad of ["1.2.3.256", "1:2:3", "1::2::3", ":::", "g::1", ""]) {
    assertEquals(parseIp(bad), undefined, bad);
  }
});

Deno.test("subnetKey() groups /24 and /64; addressKey() brackets IPv6", () => {
  assertEquals(subnetKey("1.2.3.4"), subnetKey("1.2.3.200"));
  assertEquals(subnetKey("1.2.3.4") === subnetKey("1.2.4.4"), false);
  assertEquals(subnetKey("2001:db8:1:2::5"), subnetKey("2001:db8:1:2:ffff::1"));
  assertEquals(addressKey({ host: "::1", port: 5 }), "[::1]:5");
  assertEquals(addressKey({ host: "1.2.3.4", port: 5 }), "1.2.3.4:5");
});
