import { assertEquals, assertThrows } from "../../tests/assert.ts";
import { fuzzCases } from "../../tests/fuzz.ts";
import { ReadWindows, type ReadWindowsOptions } from "./read_windows.ts";

const OPTIONS: ReadWindowsOptions = {
  pieceLength: 100,
  totalLength: 1000,
  readAheadBytes: 300,
  deadlineStepMs: 10,
  maxReaders: 2,
  maxWindowPieces: 8,
};
const none = () => false;

// [name, from, to, verified pieces, expected deadlines (now = 1000)]
const cases: [string, number, number, number[], [number, number][]][] = [
  ["dues the piece under the reader now, the next ones a step apart", 150, 1000, [], [
    [1, 1000],
    [2, 1010],
    [3, 1020],
    [4, 1030],
  ]],
  ["stops at the end of the read", 150, 260, [], [[1, 1000], [2, 1010]]],
  ["stops at the end of the torrent", 950, 5000, [], [[9, 1000]]],
  ["skips verified pieces, the first missing one due now", 150, 1000, [1, 2], [
    [3, 1000],
    [4, 1010],
  ]],
  ["needs nothing at the end", 1000, 1000, [], []],
];
for (const [name, from, to, verified, expected] of cases) {
  Deno.test(`ReadWindows.move() ${name}`, () => {
    const w = new ReadWindows(OPTIONS);
    const id = w.open()!;
    const changes = w.move(id, { from, to }, 1000, (i) => verified.includes(i));
    assertEquals(changes, { set: expected, clear: [] });
    assertEquals([...w.deadlines()], expected);
    w.assertInvariants();
  });
}

Deno.test("ReadWindows.move() on a seek clears the old window and sets the new one", () => {
  const w = new ReadWindows(OPTIONS);
  const id = w.open()!;
  w.move(id, { from: 0, to: 1000 }, 0, none);
  const seek = w.move(id, { from: 250, to: 1000 }, 5, none);
  assertEquals(seek, { set: [[2, 5], [3, 15], [4, 25], [5, 35]], clear: [0, 1] });
  w.assertInvariants();
});

Deno.test("ReadWindows: two readers share a piece at the earlier deadline; closing releases", () => {
  const w = new ReadWindows(OPTIONS);
  const a = w.open()!, b = w.open()!;
  assertEquals(w.open(), undefined); // maxReaders
  w.move(a, { from: 0, to: 1000 }, 0, none); // 0@0 1@10 2@20
  const moved = w.move(b, { from: 200, to: 1000 }, 0, none); // 2@0 3@10 4@20
  assertEquals(moved, { set: [[2, 0], [3, 10], [4, 20]], clear: [] });
  assertEquals(w.close(b), { set: [[2, 20]], clear: [3, 4] });
  assertEquals(w.close(a), { set: [], clear: [0, 1, 2] });
  assertEquals(w.close(a), { set: [], clear: [] });
  assertEquals(w.readerCount, 0);
  w.assertInvariants();
});

Deno.test("ReadWindows caps a window at maxWindowPieces and checks its options", () => {
  const w = new ReadWindows({ ...OPTIONS, readAheadBytes: 10_000, maxWindowPieces: 3 });
  const id = w.open()!;
  assertEquals(w.move(id, { from: 0, to: 1000 }, 0, none).set.length, 3);
  assertThrows(() => new ReadWindows({ ...OPTIONS, deadlineStepMs: 0 }), RangeError);
});

Deno.test("ReadWindows keeps its invariants under random moves, seeks and closes", () => {
  fuzzCases("read_windows", (random) => {
    const w = new ReadWindows({ ...OPTIONS, maxReaders: 1 + random.int(4) });
    const open: number[] = [];
    for (let step = 0; step < 50; step++) {
      const op = random.int(4);
      if (op === 0) {
        const id = w.open();
        if (id !== undefined) open.push(id);
      } else if (op === 1 && open.length > 0) {
        w.close(open.splice(random.int(open.length), 1)[0]!);
      } else if (open.length > 0) {
        const from = random.int(1100);
        const id = open[random.int(open.length)]!;
        w.move(id, { from, to: from + random.int(600) }, step, (i) => i % 3 === 0);
      }
      w.assertInvariants();
    }
  });
});
