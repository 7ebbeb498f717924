import { assert, assertEquals, assertNotEquals, assertThrows } from "../../tests/assert.ts";
import { SeededRandom } from "../util/prng.ts";
import { describePeerId, generatePeerId } from "./mod.ts";

const text = (s: string) => new TextEncoder().encode(s);

Deno.test("generatePeerId() writes -SW<version>- and 12 alphanumerics", () => {
  const random = new SeededRandom(3);
  for (let i = 0; i < 50; i++) {
    const id = new TextDecoder().decode(generatePeerId(random, "0203"));
    assert(/^-SW0203-[0-9A-Za-z]{12}$/.test(id), id);
  }
});

Deno.test("generatePeerId() is deterministic per seed and differs across seeds", () => {
  assertEquals(generatePeerId(new SeededRandom(1)), generatePeerId(new SeededRandom(1)));
  assertNotEquals(generatePeerId(new SeededRandom(1)), generatePeerId(new SeededRandom(2)));
});

for (const version of ["010", "01000", "01.0", "01-0"]) {
  Deno.test(`generatePeerId() rejects version ${JSON.stringify(version)}`, () => {
    assertThrows(() => generatePeerId(new SeededRandom(1), version), RangeError, "version");
  });
}

/** [peer id, description]. */
const IDS: [string, string][] = [
  ["-LT2080-abcdefghijkl", "libtorrent 2.0.8"],
  ["-LT1210-abcdefghijkl", "libtorrent 1.2.1"],
  ["-qB4500-abcdefghijkl", "qBittorrent 4.5.0"],
  ["-TR300Z-abcdefghijkl", "Transmission 3.00+"],
  ["-TR3000-abcdefghijkl", "Transmission 3.00"],
  ["-TR2940-abcdefghijkl", "Transmission 2.94"],
  ["-TR4060-abcdefghijkl", "Transmission 4.0.6"],
  ["-TR410B-abcdefghijkl", "Transmission 4.1.0 (beta)"],
  ["-UT355W-abcdefghijkl", "µTorrent 3.5.5"],
  ["-DE13F0-abcdefghijkl", "Deluge 1.3.15"],
  ["-lt0D80-abcdefghijkl", "rTorrent (libtorrent 0.13.8)"],
  ["-SW0100-abcdefghijkl", "swarmd 0.1.0"],
  ["-WW0300-abcdefghijkl", "WebTorrent 3.0"],
  ["-WW0105-abcdefghijkl", "WebTorrent 1.5"],
  ["-XY1230-abcdefghijkl", "XY 1.2.3"],
  ["M7-4-3--abcdefghijkl", "BitTorrent 7.4.3"],
  ["A2-1-36-0-abcdefghij", "aria2 1.36.0"],
  ["A2-1-3x-0-abcdefghij", "unknown (A2-1-3x-)"],
  ["exbc\x00\x01LORDabcdefghijkl", "unknown (exbc..LO)"],
  ["-LTxx00-abcdefghijkl", "unknown (-LTxx00-)"],
  ["", "unknown ()"],
];

for (const [id, description] of IDS) {
  Deno.test(`describePeerId() names ${JSON.stringify(id.slice(0, 10))} "${description}"`, () => {
    assertEquals(describePeerId(text(id)), description);
  });
}
