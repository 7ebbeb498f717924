import { assertEquals } from "../../tests/assert.ts";
import { EarlyPieces } from "./early_pieces.ts";

function resolved(e: EarlyPieces, pieceCount: number): string {
  const r = e.resolve(pieceCount);
  return r.kind === "some"
    ? `some ${[...r.has.indices()].join(",")}`
    : r.kind === "all"
    ? "all"
    : `invalid: ${r.reason}`;
}

Deno.test("EarlyPieces.resolve() checks what a peer announced against the piece count", () => {
  const cases: [string, (e: EarlyPieces) => void, number, string][] = [
    ["nothing", () => {}, 10, "some "],
    ["HAVE_ALL", (e) => e.haveAll(), 10, "all"],
    [
      "a bitfield and HAVEs",
      (e) => {
        e.bitfield(new Uint8Array([0b1000_0000, 0]));
        e.have(9);
      },
      10,
      "some 0,9",
    ],
    ["HAVEs that fill it", (e) => [0, 1, 2].forEach((i) => e.have(i)), 3, "all"],
    [
      "a bitfield one byte too long",
      (e) => e.bitfield(new Uint8Array(3)),
      10,
      "invalid: bitfield of the wrong length or with spare bits set",
    ],
    [
      "a spare bit set",
      (e) => e.bitfield(new Uint8Array([0, 0b0010_0000])),
      10,
      "invalid: bitfield of the wrong length or with spare bits set",
    ],
    ["a HAVE past the end", (e) => e.have(10), 10, "invalid: have 10 out of range"],
    [
      "HAVE_NONE after all of it",
      (e) => {
        e.haveAll();
        e.bitfield(new Uint8Array(9));
        e.have(3);
        e.haveNone();
      },
      10,
      "some ",
    ],
  ];
  for (const [what, announce, pieceCount, expected] of cases) {
    const e = new EarlyPieces();
    announce(e);
    assertEquals(resolved(e, pieceCount), expected, what);
  }
});

Deno.test("EarlyPieces.have() refuses indices beyond any torrent (2^21) and keeps its copy of a bitfield", () => {
  const e = new EarlyPieces();
  assertEquals(e.have(2 ** 21 - 1), true);
  assertEquals(e.have(2 ** 21), false);
  const view = new Uint8Array([0xff]);
  const f = new EarlyPieces();
  f.bitfield(view);
  view[0] = 0; // the caller's buffer is reused
  assertEquals(resolved(f, 8), "all");
});
