import { assert, assertEquals, assertThrows } from "../../tests/assert.ts";
import { SeededRandom } from "../util/prng.ts";
import { Bitfield } from "../util/bitfield.ts";
import { PiecePicker } from "./mod.ts";
import type { PickPeer } from "./mod.ts";
import { bits, pickerFrom } from "./_fixture_test.ts";

const ALL = "all" as const;
const pieces = (picks: { index: number }[]) => picks.map((r) => r.index);

// [name, availability, our have-mask, peer's have-mask ("" = all), maxBlocks, expected pieces]
const rarestCases: [string, string, string, string, number, number[]][] = [
  ["takes the rarest piece first", "3120", "....", "", 4, [3, 1, 2, 0]],
  ["skips pieces we have", "3120", ".x.x", "", 4, [2, 0]],
  ["takes only pieces the peer has", "3120", "....", "x.x.", 4, [2, 0]],
  ["stops at maxBlocks", "3120", "....", "", 2, [3, 1]],
  ["returns nothing when the peer has nothing we need", "111", "x..", "x..", 3, []],
  ["returns nothing when we are complete", "12", "xx", "", 3, []],
  ["returns nothing for maxBlocks 0", "12", "..", "", 0, []],
];
for (const [name, avail, have, peerHas, max, expected] of rarestCases) {
  Deno.test(`PiecePicker.pickBlocks() ${name}`, () => {
    const picker = pickerFrom(avail, have);
    const has = peerHas === "" ? ALL : bits(peerHas);
    assertEquals(pieces(picker.pickBlocks({ id: "p", has }, max)), expected);
    picker.assertInvariants();
  });
}

Deno.test("PiecePicker.pickBlocks() breaks availability ties at random, repeatably per seed", () => {
  const firsts = new Set<number>();
  for (let seed = 1; seed <= 200; seed++) {
    const picker = pickerFrom("1".repeat(100), "", { seed });
    const [first] = picker.pickBlocks({ id: "p", has: ALL }, 1);
    firsts.add(first!.index);
    const again = pickerFrom("1".repeat(100), "", { seed }).pickBlocks({ id: "p", has: ALL }, 1);
    assertEquals(again[0]!.index, first!.index);
  }
  assert(firsts.size > 60, `only ${firsts.size} distinct first picks`);
});

Deno.test("PiecePicker.pickBlocks() keeps the random tie-break after HAVEs move pieces", () => {
  const counts = new Array<number>(10).fill(0);
  for (let seed = 1; seed <= 1000; seed++) {
    const picker = pickerFrom("0000000000", "", { seed });
    for (let i = 0; i < 10; i++) picker.peerHave(i); // every piece moves to availability 1
    counts[picker.pickBlocks({ id: "p", has: ALL }, 1)[0]!.index]!++;
  }
  for (const c of counts) assert(c > 60 && c < 140, `uneven tie-break: ${counts}`);
});

Deno.test("PiecePicker.pickBlocks() picks random pieces until randomFirstPieces are verified", () => {
  const firsts = new Set<number>();
  for (let seed = 1; seed <= 50; seed++) {
    const picker = pickerFrom("1555555555", "", { seed, randomFirstPieces: 2 });
    firsts.add(picker.pickBlocks({ id: "p", has: ALL }, 1)[0]!.index);
  }
  assert(firsts.size > 5, `random-first picked only ${[...firsts]}`);
  for (let seed = 1; seed <= 20; seed++) {
    const picker = pickerFrom("1555555555", "........xx", { seed, randomFirstPieces: 2 });
    assertEquals(pieces(picker.pickBlocks({ id: "p", has: ALL }, 1)), [0]);
  }
});

Deno.test("PiecePicker.pickBlocks() finishes partial pieces before starting rarer ones", () => {
  const picker = pickerFrom("21", "", { blocksPerPiece: 2 });
  assertEquals(picker.pickBlocks({ id: "a", has: bits("x.") }, 1), [
    { index: 0, begin: 0, length: 16384 },
  ]);
  assertEquals(picker.pickBlocks({ id: "b", has: ALL }, 2), [
    { index: 0, begin: 16384, length: 16384 },
    { index: 1, begin: 0, length: 16384 },
  ]);
  picker.assertInvariants();
});

Deno.test("PiecePicker.pickBlocks() continues the peer's own partial pieces first", () => {
  const picker = pickerFrom("12", "", { blocksPerPiece: 3 });
  assertEquals(pieces(picker.pickBlocks({ id: "b", has: bits("x.") }, 1)), [0]);
  assertEquals(pieces(picker.pickBlocks({ id: "a", has: bits(".x") }, 1)), [1]);
  const next = picker.pickBlocks({ id: "a", has: ALL }, 1);
  assertEquals(next, [{ index: 1, begin: 16384, length: 16384 }]);
});

Deno.test("PiecePicker.pickBlocks() takes higher priorities first and never priority 0", () => {
  const picker = pickerFrom("3120");
  picker.setPiecePriority(0, 7);
  picker.setPiecePriority(3, 0);
  picker.setPiecePriority(2, 1);
  assertEquals(pieces(picker.pickBlocks({ id: "p", has: ALL }, 4)), [0, 1, 2]);
  assertEquals(picker.priorityOf(3), 0);
  picker.assertInvariants();
  assertThrows(() => picker.setPiecePriority(0, 8), RangeError);
  assertThrows(() => picker.setPiecePriority(0, 1.5), RangeError);
  assertThrows(() => picker.setPiecePriority(4, 1), RangeError);
});

Deno.test("PiecePicker.isComplete counts only wanted pieces", () => {
  const picker = pickerFrom("1111", "", { shortBy: 100 });
  assertEquals(picker.wantedRemainingBytes, 4 * 16384 - 100);
  picker.setPiecePriority(3, 0);
  assertEquals(picker.wantedRemainingBytes, 3 * 16384);
  for (const i of [0, 1]) picker.pieceVerified(i);
  assert(!picker.isComplete);
  picker.setPiecePriority(2, 0);
  assert(picker.isComplete);
  assertEquals(picker.wantedRemainingBytes, 0);
  picker.setPiecePriority(3, 4);
  assert(!picker.isComplete);
  picker.assertInvariants();
});

// [files as [offset, length], file priorities, expected piece priorities]; pieces of 16 KiB
const fileCases: [[number, number][], number[], number[]][] = [
  [[[0, 20000], [20000, 30000]], [0, 4], [0, 4, 4, 4]],
  [[[0, 20000], [20000, 30000]], [6, 0], [6, 6, 0, 0]],
  [[[0, 20000], [20000, 0], [20000, 30000]], [1, 7, 2], [1, 2, 2, 2]],
  [[[0, 16384], [16384, 33616]], [0, 0], [0, 0, 0, 0]],
];
for (const [files, prios, expected] of fileCases) {
  Deno.test(`PiecePicker.setFilePriorities() maps ${JSON.stringify(prios)} to pieces`, () => {
    const picker = new PiecePicker({
      pieceCount: 4,
      pieceLength: 16384,
      totalLength: 50000,
      random: new SeededRandom(1),
    });
    picker.setFilePriorities(files.map(([offset, length]) => ({ offset, length })), prios);
    assertEquals([0, 1, 2, 3].map((i) => picker.priorityOf(i)), expected);
    picker.assertInvariants();
  });
}

Deno.test("PiecePicker.setFilePriorities() rejects bad input", () => {
  const picker = pickerFrom("11");
  assertThrows(() => picker.setFilePriorities([{ offset: 0, length: 10 }], []), RangeError);
  assertThrows(() => picker.setFilePriorities([{ offset: 0, length: 40000 }], [4]), RangeError);
  assertThrows(() => picker.setFilePriorities([{ offset: 0, length: 10 }], [9]), RangeError);
});

Deno.test("PiecePicker.pickBlocks() cuts the last block of the last piece short", () => {
  const picker = new PiecePicker({
    pieceCount: 2,
    pieceLength: 32768,
    totalLength: 32768 + 20000,
    random: new SeededRandom(3),
    randomFirstPieces: 0,
  });
  picker.peerHave(0);
  const picks = picker.pickBlocks({ id: "p", has: ALL }, 10);
  assertEquals(picks, [
    { index: 1, begin: 0, length: 16384 },
    { index: 1, begin: 16384, length: 3616 },
    { index: 0, begin: 0, length: 16384 },
    { index: 0, begin: 16384, length: 16384 },
  ]);
  assertEquals(picker.pieceLengthOf(1), 20000);
});

Deno.test("PiecePicker.pickBlocks() asks a choking peer only for allowed-fast pieces (BEP 6)", () => {
  const picker = pickerFrom("1111");
  const choked: PickPeer = { id: "p", has: ALL, choked: true };
  assertEquals(picker.pickBlocks(choked, 4), []);
  assertEquals(picker.pickBlocks({ ...choked, allowedFast: new Set() }, 4), []);
  assertEquals(pieces(picker.pickBlocks({ ...choked, allowedFast: new Set([2, 9]) }, 4)), [2]);
});

Deno.test("PiecePicker.pickBlocks() gives a snubbed peer common pieces and no others' partials", () => {
  const picker = pickerFrom("1239", "", { blocksPerPiece: 2 });
  assertEquals(pieces(picker.pickBlocks({ id: "a", has: ALL }, 1)), [0]);
  assertEquals(pieces(picker.pickBlocks({ id: "s", has: ALL, isSnubbed: true }, 1)), [3]);
  assertEquals(pieces(picker.pickBlocks({ id: "s", has: ALL, isSnubbed: true }, 2)), [3, 2]);
});

Deno.test("PiecePicker.sequential picks untouched pieces in index order", () => {
  const picker = new PiecePicker({
    pieceCount: 6,
    pieceLength: 16384,
    totalLength: 6 * 16384,
    random: new SeededRandom(1),
    randomFirstPieces: 0,
  });
  const has = Bitfield.full(6);
  picker.addPeer(has);
  picker.peerHave(0); // piece 0 is now the most common: rarest-first would avoid it
  picker.sequential = true;
  assertEquals(picker.pickBlocks({ id: "a", has }, 3).map((b) => b.index), [0, 1, 2]);
});

Deno.test("PiecePicker.pickBlocks() takes BEP 6 suggested pieces first, unless we have them", () => {
  const picker = pickerFrom("3120", ".x..");
  const suggested = new Set([0, 1]); // 1 is ours already
  assertEquals(pieces(picker.pickBlocks({ id: "p", has: ALL, suggested }, 3)), [0, 3, 2]);
  picker.assertInvariants();
  const snubbed = pickerFrom("3120", "....");
  assertEquals(
    pieces(snubbed.pickBlocks({ id: "p", has: ALL, suggested, isSnubbed: true }, 1)),
    pieces(pickerFrom("3120", "....").pickBlocks({ id: "p", has: ALL, isSnubbed: true }, 1)),
  ); // a snubbed peer's hints are ignored
});

Deno.test("PiecePicker.pickBlocks() leaves pieces the peer refused to other peers, suggested or not", () => {
  const picker = pickerFrom("3120", "....");
  const refused = new Map([[2, 0], [0, 0]]);
  const suggested = new Set([0, 1]);
  assertEquals(pieces(picker.pickBlocks({ id: "p", has: ALL, refused, suggested }, 4)), [1, 3]);
  assertEquals(pieces(picker.pickBlocks({ id: "q", has: ALL }, 1)), [2]); // rarest, for others
  picker.assertInvariants();
});
