import { assert, assertEquals, assertThrows } from "../../tests/assert.ts";
import {
  encodeLsdAnnounce,
  MAX_LSD_INFO_HASHES,
  MAX_LSD_MESSAGE_BYTES,
  parseLsdAnnounce,
} from "./lsd_message.ts";

const A = "0123456789abcdef0123456789abcdef01234567";
const B = "fedcba9876543210fedcba9876543210fedcba98";
const text = (s: string) => new TextEncoder().encode(s);

Deno.test("lsd: our announce is what BEP 14 shows, and reads back", () => {
  const bytes = encodeLsdAnnounce(51413, [A, B.toUpperCase()], "1f2e");
  assertEquals(
    new TextDecoder().decode(bytes),
    "BT-SEARCH * HTTP/1.1\r\nHost: 239.192.152.143:6771\r\nPort: 51413\r\n" +
      `Infohash: ${A}\r\nInfohash: ${B}\r\ncookie: 1f2e\r\n\r\n\r\n`,
  );
  assertEquals(parseLsdAnnounce(bytes), { port: 51413, infoHashes: [A, B], cookie: "1f2e" });
  const full = Array.from(
    { length: MAX_LSD_INFO_HASHES },
    (_, i) => i.toString(16).padStart(40, "a"),
  );
  assert(encodeLsdAnnounce(65535, full, "ffffffff").length <= MAX_LSD_MESSAGE_BYTES);
});

Deno.test("lsd: announces as libtorrent and Transmission send them are read", () => {
  // libtorrent: a hex cookie, the Host header first; Transmission: no cookie
  const lt = `BT-SEARCH * HTTP/1.1\r\nHost: 239.192.152.143:6771\r\nPort: 6881\r\n` +
    `Infohash: ${A.toUpperCase()}\r\ncookie: 7a3c91\r\n\r\n\r\n`;
  assertEquals(parseLsdAnnounce(text(lt)), { port: 6881, infoHashes: [A], cookie: "7a3c91" });
  const tr = `BT-SEARCH * HTTP/1.1\r\nHost: 239.192.152.143:6771\r\nPort: 51413\r\n` +
    `Infohash: ${B}\r\n\r\n\r\n`;
  assertEquals(parseLsdAnnounce(text(tr)), { port: 51413, infoHashes: [B] });
  // bare \n line ends, header names in any case, a repeated hash counted once
  const loose = `bt-search * HTTP/1.0\nPORT: 7000\ninfohash: ${A}\nINFOHASH: ${A}\n\n`;
  assertEquals(parseLsdAnnounce(text(loose)), { port: 7000, infoHashes: [A] });
});

Deno.test("lsd: anything else is not an announce", () => {
  const ok = (port: string, hash: string) =>
    `BT-SEARCH * HTTP/1.1\r\nHost: 239.192.152.143:6771\r\nPort: ${port}\r\nInfohash: ${hash}\r\n\r\n`;
  for (
    const bad of [
      "",
      "M-SEARCH * HTTP/1.1\r\nPort: 1\r\nInfohash: " + A + "\r\n\r\n", // SSDP, not LSD
      ok("0", A),
      ok("65536", A),
      ok("-1", A),
      ok("6881x", A),
      ok("6881", A.slice(1)), // 39 digits
      ok("6881", A + "0"), // 41 digits
      ok("6881", "g".repeat(40)),
      ok("6881", "0".repeat(40)),
      "BT-SEARCH * HTTP/1.1\r\nPort: 6881\r\n\r\n", // no info-hash
      `BT-SEARCH * HTTP/1.1\r\nInfohash: ${A}\r\n\r\n`, // no port
      `BT-SEARCH * HTTP/1.1\r\nno colon here\r\nPort: 6881\r\nInfohash: ${A}\r\n\r\n`,
    ]
  ) assertEquals(parseLsdAnnounce(text(bad)), undefined, JSON.stringify(bad));
  const many = `BT-SEARCH * HTTP/1.1\r\nPort: 6881\r\n` +
    `Infohash: ${A}\r\n`.repeat(MAX_LSD_INFO_HASHES + 1) + "\r\n";
  assertEquals(parseLsdAnnounce(text(many)), undefined);
  assertEquals(parseLsdAnnounce(new Uint8Array(MAX_LSD_MESSAGE_BYTES + 1)), undefined);
});

Deno.test("lsd: encoding refuses what it cannot send", () => {
  assertThrows(() => encodeLsdAnnounce(0, [A], "1"), RangeError);
  assertThrows(() => encodeLsdAnnounce(6881, [], "1"), RangeError);
  assertThrows(() => encodeLsdAnnounce(6881, [A.slice(2)], "1"), RangeError);
  assertThrows(() => encodeLsdAnnounce(6881, [A], "not hex"), RangeError);
  assertThrows(
    () => encodeLsdAnnounce(6881, Array(MAX_LSD_INFO_HASHES + 1).fill(A), "1"),
    RangeError,
  );
});

Deno.test("lsd: fuzz: parsing random and mutated datagrams never throws", () => {
  let seed = 14;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const base = encodeLsdAnnounce(6881, [A, B], "abc");
  const cases = Number(Deno.env.get("FUZZ_CASES") ?? 2000);
  for (let i = 0; i < cases; i++) {
    const bytes = next() < 0.5
      ? Uint8Array.from({ length: Math.floor(next() * 1500) }, () => Math.floor(next() * 256))
      : base.map((b) => (next() < 0.05 ? Math.floor(next() * 256) : b));
    const got = parseLsdAnnounce(bytes);
    if (got) {
      assert(got.port >= 1 && got.port <= 65535);
      assert(got.infoHashes.every((h) => /^[0-9a-f]{40}$/.test(h)));
    }
  }
});
