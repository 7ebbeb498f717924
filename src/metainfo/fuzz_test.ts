import { assert, assertEquals } from "../../tests/assert.ts";
import { fuzzCases, mutate } from "../../tests/fuzz.ts";
import { encode } from "../bencode/mod.ts";
import { MetainfoError } from "../errors.ts";
import { formatMagnet, parseMagnet } from "./magnet.ts";
import { parseTorrent } from "./parse.ts";

const VALID_TORRENT = encode({
  announce: "http://tracker.example/announce",
  "announce-list": [["http://tracker.example/announce"], ["udp://u.example:1/a"]],
  comment: "fuzz",
  info: {
    name: "root",
    "piece length": 16384,
    pieces: new Uint8Array(60).fill(3),
    files: [
      { length: 20000, path: ["a.bin"] },
      { length: 20000, path: ["sub", "b.bin"] },
      { length: 100, path: ["sub", "c.txt"], attr: "x" },
    ],
  },
  "url-list": ["http://w.example/"],
});

const VALID_MAGNET = "magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a&dn=a%20b" +
  "&tr=udp%3A%2F%2Ft.example%3A1&x.pe=[::1]:6881&ws=http://w.example/&so=0,2-4";

/** Flips bits, overwrites, inserts or deletes a few bytes. */

function parseOrMetainfoError(bytes: Uint8Array): void {
  try {
    const meta = parseTorrent(bytes);
    assertEquals(meta.pieceHashes.length, meta.pieceCount * 20);
    let offset = 0;
    for (const f of meta.files) {
      assertEquals(f.offset, offset);
      offset += f.length;
      assert(f.path.every((c) => c !== "" && c !== "." && c !== ".." && !/[/\\\0]/.test(c)));
    }
    assertEquals(offset, meta.totalLength);
  } catch (e) {
    if (!(e instanceof MetainfoError)) throw e;
  }
}

Deno.test("parseTorrent() fuzz: mutated torrents load or throw MetainfoError (B10)", () => {
  fuzzCases(
    "metainfo",
    (random) => parseOrMetainfoError(mutate(random, VALID_TORRENT, { maxEdits: 8 })),
    (bytes) => {
      parseOrMetainfoError(bytes);
    },
  );
});

Deno.test("parseMagnet() fuzz: mutated links parse or throw MetainfoError", () => {
  const base = new TextEncoder().encode(VALID_MAGNET);
  const decoder = new TextDecoder();
  const check = (bytes: Uint8Array) => {
    let link;
    try {
      link = parseMagnet(decoder.decode(bytes));
    } catch (e) {
      if (!(e instanceof MetainfoError)) throw e;
      return;
    }
    const again = parseMagnet(formatMagnet(link));
    assertEquals(formatMagnet(again), formatMagnet(link));
  };
  fuzzCases("magnet", (random) => check(mutate(random, base, { maxEdits: 8 })), check);
});
