import { assert, assertEquals, assertThrows } from "../../tests/assert.ts";
import { MetainfoError } from "../errors.ts";
import { fromHex } from "../util/bytes.ts";
import { formatMagnet, type MagnetLink, MAX_MAGNET_LENGTH, parseMagnet } from "./magnet.ts";
import { MAX_TRACKERS } from "./_urls.ts";

const HEX = "c12fe1c06bba254a9dc9f519b335aa7c1367a88a";
// The same 20 bytes in RFC 4648 base32.
const B32 = "YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKEK";
const BTMH = "1220" + "ab".repeat(32);

function expectError(uri: string, field: string, fragment: string): void {
  const e = assertThrows(() => parseMagnet(uri), MetainfoError, fragment);
  assertEquals(e.field, field);
}

Deno.test("parseMagnet() reads hex and base32 info-hashes in either case", () => {
  for (const hash of [HEX, HEX.toUpperCase(), B32, B32.toLowerCase()]) {
    const link = parseMagnet(`magnet:?xt=urn:btih:${hash}`);
    assertEquals(link.infoHashHex, HEX);
    assertEquals(link.infoHash, fromHex(HEX));
  }
  assertEquals(parseMagnet(`MAGNET:?XT=URN:BTIH:${HEX}`).infoHashHex, HEX);
});

Deno.test("parseMagnet() reads every BEP 9 / BEP 53 parameter", () => {
  const link = parseMagnet(
    `magnet:?xt=urn:btih:${HEX}&dn=My+Film%20%C3%A9&tr=udp%3A%2F%2Fa.example%3A1337` +
      `&tr.1=http://b.example/announce&tr=udp%3A%2F%2Fa.example%3A1337` +
      `&ws=http%3A%2F%2Fseed.example%2Ff&x.pe=10.0.0.1:6881&x.pe=[2001:db8::1]:51413` +
      `&x.pe=peer.example:80&so=0,2,4-6&xt=urn:btmh:${BTMH}`,
  );
  assertEquals(link.displayName, "My Film é");
  assertEquals(link.trackers, ["udp://a.example:1337", "http://b.example/announce"]);
  assertEquals(link.webSeeds, ["http://seed.example/f"]);
  assertEquals(link.peers, [
    { host: "10.0.0.1", port: 6881 },
    { host: "2001:db8::1", port: 51413 },
    { host: "peer.example", port: 80 },
  ]);
  assertEquals(link.selectOnly, [0, 2, 4, 5, 6]);
  assertEquals(link.btmh, fromHex(BTMH));
  assertEquals(link.warnings, []);
});

Deno.test("parseMagnet() caps URI length and trackers (M1)", () => {
  const big = `magnet:?xt=urn:btih:${HEX}&dn=${"x".repeat(MAX_MAGNET_LENGTH)}`;
  expectError(big, "uri", `exceed the limit of ${MAX_MAGNET_LENGTH}`);
  const trs = Array.from({ length: 10_000 }, (_, i) => `tr=http://t${i}.example/a`).join("&");
  const uri = `magnet:?xt=urn:btih:${HEX}&${trs}`.slice(0, MAX_MAGNET_LENGTH);
  const link = parseMagnet(uri.slice(0, uri.lastIndexOf("&")));
  assertEquals(link.trackers.length, MAX_TRACKERS);
  assert(link.warnings.some((w) => w.includes("beyond the limit of 100")), link.warnings[0]);
});

Deno.test("parseMagnet() rejects bad, duplicate or missing xt (M2)", () => {
  const cases: [string, string][] = [
    [`magnet:?xt=urn:btih:${HEX.slice(1)}`, "neither 40 hex nor 32 base32"],
    [`magnet:?xt=urn:btih:${HEX}a`, "neither 40 hex nor 32 base32"],
    [`magnet:?xt=urn:btih:${HEX.slice(0, 39)}g`, "neither 40 hex"],
    [`magnet:?xt=urn:btih:${B32.slice(0, 31)}1`, "not valid base32"],
    [`magnet:?xt=urn:btih:${B32.slice(0, 31)}`, "neither 40 hex"],
    [`magnet:?xt=urn:btih:${HEX}&xt=urn:btih:${HEX}`, "more than one"],
    [`magnet:?xt=urn:btih:${HEX}&xt=urn:btih:${B32}`, "more than one"],
    [`magnet:?dn=x&tr=http://t.example/a`, `no "xt=urn:btih:" parameter`],
    [`magnet:?xt=urn:sha1:abc`, `no "xt=urn:btih:" parameter`],
    [`magnet:?xt=urn:btmh:${BTMH}`, "v2-only magnet links are not supported"],
    [`magnet:?xt=urn:btih:${HEX}&xt=urn:btmh:1220abcd`, "not a SHA-256 multihash"],
  ];
  for (const [uri, fragment] of cases) expectError(uri, "xt", fragment);
  expectError("http://example.com/?xt=urn:btih:" + HEX, "uri", `does not start with "magnet:?"`);
});

Deno.test("parseMagnet() reports bad percent-encoding by parameter (M3)", () => {
  const cases: [string, string][] = [
    [`magnet:?xt=urn:btih:${HEX}&dn=%zz`, "dn"],
    [`magnet:?xt=urn:btih:${HEX}&tr=http://a/%4`, "tr"],
    [`magnet:?xt=urn:btih:${HEX}&dn=%`, "dn"],
    [`magnet:?xt=urn:btih:%zz${HEX}`, "xt"],
  ];
  for (const [uri, field] of cases) expectError(uri, field, `"${field}" has bad percent-encoding`);
  expectError(`magnet:?xt=urn:btih:${HEX}&dn=%ff%fe`, "dn", `"dn" is not valid UTF-8`);
});

Deno.test("parseMagnet() keeps dn for display only: NUL replaced, ../ untouched (M3)", () => {
  const nul = parseMagnet(`magnet:?xt=urn:btih:${HEX}&dn=a%00b`);
  assertEquals(nul.displayName, "a_b");
  assert(nul.warnings.some((w) => w.includes("control characters")));
  const up = parseMagnet(`magnet:?xt=urn:btih:${HEX}&dn=..%2F..%2Fx`);
  assertEquals(up.displayName, "../../x");
});

Deno.test("parseMagnet() skips bad peers, trackers and unknown parameters with warnings", () => {
  const link = parseMagnet(
    `magnet:?xt=urn:btih:${HEX}&x.pe=nohost&x.pe=1.2.3.4:0&x.pe=[1.2.3.4]:5&tr=ftp://x/` +
      `&ws=udp://x:1/&foo=bar&kt=a+b&novalue`,
  );
  assertEquals(link.peers, []);
  assertEquals(link.trackers, []);
  assertEquals(link.webSeeds, []);
  assertEquals(link.warnings.length, 8);
});

Deno.test("parseMagnet() rejects a malformed or oversized so", () => {
  for (const so of ["a", "1-", "5-2", "1,,2", "0-2000000", "99999999"]) {
    expectError(`magnet:?xt=urn:btih:${HEX}&so=${so}`, "so", `parameter "so"`);
  }
  const wide = parseMagnet(`magnet:?xt=urn:btih:${HEX}&so=3,1-2,2`);
  assertEquals(wide.selectOnly, [1, 2, 3]);
});

Deno.test("formatMagnet() round-trips: format(parse(x)) is stable and parse(format(l)) = l", () => {
  const uris = [
    `magnet:?xt=urn:btih:${B32}&dn=A+b%2Fc&tr=udp://t.example:1/a&so=3,1,2,7`,
    `magnet:?xt=urn:btih:${HEX}&xt=urn:btmh:${BTMH}&x.pe=[::1]:1&ws=https://w.example/x%20y`,
    `magnet:?xt=urn:btih:${HEX}`,
  ];
  for (const uri of uris) {
    const once = formatMagnet(parseMagnet(uri));
    assertEquals(formatMagnet(parseMagnet(once)), once);
  }
  const link: MagnetLink = {
    infoHash: fromHex(HEX),
    infoHashHex: HEX,
    displayName: "name & more = 100% ünïcode + x",
    trackers: ["udp://a.example:6969/announce?k=v&x=1", "http://b.example/announce"],
    peers: [{ host: "10.1.2.3", port: 6881 }, { host: "fe80::1", port: 2 }],
    webSeeds: ["https://w.example/path/"],
    selectOnly: [0, 1, 2, 5, 9, 10],
    btmh: fromHex(BTMH),
    warnings: [],
  };
  assertEquals(parseMagnet(formatMagnet(link)), link);
  assert(formatMagnet(link).includes("&so=0-2,5,9-10"));
  assertThrows(() => formatMagnet({ ...link, infoHash: new Uint8Array(3) }), RangeError);
});
