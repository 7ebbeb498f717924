import { assert, assertEquals, assertThrows } from "../../tests/assert.ts";
import { fuzzCases } from "../../tests/fuzz.ts";
import { Bitfield } from "../util/bitfield.ts";
import type { SeededRandom } from "../util/prng.ts";
import type { BlockRequest, PickPeer, PiecePicker } from "./mod.ts";
import { bits, pickerFrom } from "./_fixture_test.ts";

const ALL = "all" as const;
const pieces = (picks: readonly { index: number }[]) => picks.map((r) => r.index);
const block = (index: number, b: number) => ({ index, begin: b * 16384, length: 16384 });

// [name, availability, deadlines "piece@ms", peer, now, maxBlocks, expected pieces]
const deadlineCases: [string, string, string[], Partial<PickPeer>, number, number, number[]][] = [
  ["takes a deadline piece before the rarest", "3122", ["0@100"], {}, 0, 2, [0, 1]],
  ["takes deadline pieces earliest first", "3333", ["3@300", "1@100"], {}, 0, 3, [1, 3, 0]],
  ["lets a peer that delivers in time take a piece", "3122", ["0@100"], { deliveryMs: 80 }, 0, 1, [
    0,
  ]],
  [
    "leaves a piece to faster peers when this one would be late",
    "3122",
    ["0@100"],
    {
      deliveryMs: 150,
    },
    0,
    1,
    [1],
  ],
  [
    "gives an overdue piece to any peer, however slow",
    "3122",
    ["0@100"],
    {
      deliveryMs: 9000,
    },
    100,
    1,
    [0],
  ],
  ["gives a peer of unknown speed the benefit of the doubt", "3122", ["0@100"], {}, 0, 1, [0]],
  ["gives a snubbed peer no time-critical piece", "3122", ["0@100"], { isSnubbed: true }, 200, 1, [
    0,
  ]],
  ["passes over a deadline piece the peer lacks", "3122", ["0@100"], { has: bits(".xxx") }, 0, 1, [
    1,
  ]],
  [
    "passes over a deadline piece a choking peer does not allow",
    "3122",
    ["0@100"],
    {
      choked: true,
      allowedFast: new Set([2]),
    },
    0,
    2,
    [2],
  ],
];
for (const [name, avail, deadlines, peer, now, max, expected] of deadlineCases) {
  Deno.test(`PiecePicker.pickBlocks() ${name}`, () => {
    const picker = pickerFrom(avail);
    for (const d of deadlines) {
      const [piece, at] = d.split("@").map(Number);
      picker.setPieceDeadline(piece!, at!);
    }
    const picks = picker.pickBlocks({ id: "p", has: ALL, ...peer }, max, { now });
    assertEquals(pieces(picks), expected);
    picker.assertInvariants();
  });
}

Deno.test("PiecePicker.pickBlocks() duplicates an overdue piece's blocks once, for fast peers", () => {
  const picker = pickerFrom("111", "", { blocksPerPiece: 2 });
  picker.setPieceDeadline(0, 50);
  assertEquals(picker.pickBlocks({ id: "a", has: ALL }, 2, { now: 0 }), [block(0, 0), block(0, 1)]);
  const notPiece0 = (picks: BlockRequest[]) =>
    assert(!pieces(picks).includes(0), `${pieces(picks)}`);
  notPiece0(picker.pickBlocks({ id: "b", has: ALL }, 1, { now: 10 })); // not overdue yet
  // overdue, but c is too slow to beat a's copy
  notPiece0(picker.pickBlocks({ id: "c", has: ALL, deliveryMs: 5000 }, 1, { now: 60 }));
  const dups = picker.pickBlocks({ id: "d", has: ALL, deliveryMs: 100 }, 2, { now: 60 });
  assertEquals(dups, [block(0, 0), block(0, 1)]);
  notPiece0(picker.pickBlocks({ id: "e", has: ALL }, 2, { now: 60 }));
  assertEquals(picker.requestsOf("a").length, 2);
  const receipt = picker.blockReceived("d", 0, 0);
  assertEquals(receipt.cancel, [{ peerId: "a", ...block(0, 0) }]);
  picker.assertInvariants();
});

Deno.test("PiecePicker deadlines: a skipped piece with a deadline is fetched, still skipped", () => {
  const picker = pickerFrom("111");
  picker.setPiecePriority(1, 0);
  const remaining = picker.wantedRemainingBytes;
  picker.setPieceDeadline(1, 0);
  assertEquals(pieces(picker.pickBlocks({ id: "a", has: ALL }, 1, { now: 0 })), [1]);
  picker.assertInvariants();
  assert(picker.blockReceived("a", 1, 0).pieceComplete);
  picker.pieceVerified(1);
  assertEquals(picker.wantedRemainingBytes, remaining);
  assertEquals(picker.deadlineCount, 0);
  picker.assertInvariants();
});

Deno.test("PiecePicker deadlines: verifying drops one, a verified piece takes none, clear forgets", () => {
  const picker = pickerFrom("111", "x..");
  picker.setPieceDeadline(0, 10);
  assertEquals(picker.deadlineOf(0), undefined);
  picker.setPieceDeadline(1, 10);
  picker.setPieceDeadline(2, 20);
  picker.setPieceDeadline(2, 5); // moved
  assertEquals([picker.deadlineOf(1), picker.deadlineOf(2), picker.deadlineCount], [10, 5, 2]);
  picker.pieceVerified(1);
  assertEquals([picker.deadlineOf(1), picker.deadlineCount], [undefined, 1]);
  picker.clearPieceDeadline(2);
  picker.clearPieceDeadline(2);
  assertEquals(picker.deadlineCount, 0);
  picker.setPieceDeadline(2, 5);
  picker.pickBlocks({ id: "a", has: ALL }, 1, { now: 0 });
  picker.pieceFailed(2); // a failed piece is still awaited
  assertEquals(picker.deadlineOf(2), 5);
  assertThrows(() => picker.setPieceDeadline(3, 0), RangeError);
  assertThrows(() => picker.setPieceDeadline(2, NaN), RangeError);
  picker.assertInvariants();
});

// [name, availability, have-mask, setup, source, maxBlocks, expected "piece/block" list]
const spanCases: [
  string,
  string,
  string,
  (p: PiecePicker) => void,
  Partial<PickPeer>,
  number,
  string[],
][] = [
  ["runs from the rarest piece into the next ones", "1222", "", () => {}, {}, 5, [
    "0/0",
    "0/1",
    "1/0",
    "1/1",
    "2/0",
  ]],
  [
    "stops before a block another peer holds",
    "1222",
    "",
    (p) => {
      p.pickBlocks({ id: "x", has: bits(".x..") }, 2);
    },
    {},
    9,
    ["0/0", "0/1"],
  ],
  ["stops before a verified piece", "1222", ".x..", () => {}, {}, 9, ["0/0", "0/1"]],
  ["starts at a time-critical piece", "1222", "", (p) => p.setPieceDeadline(2, 0), {}, 9, [
    "2/0",
    "2/1",
    "3/0",
    "3/1",
  ]],
  [
    "continues a partial piece at its first free block",
    "1222",
    "",
    (p) => take(p, "x", 1, 0),
    {},
    3,
    [
      "1/1",
      "2/0",
      "2/1",
    ],
  ],
  [
    "continues a partial piece, up to a block another peer holds",
    "1222",
    "",
    (p) => {
      take(p, "x", 1, 1);
    },
    {},
    9,
    ["1/0"],
  ],
  ["skips pieces the source cannot serve", "1122", "", () => {}, { has: bits(".xx.") }, 9, [
    "1/0",
    "1/1",
    "2/0",
    "2/1",
  ]],
];
for (const [name, avail, have, setup, source, max, expected] of spanCases) {
  Deno.test(`PiecePicker.pickSpan() ${name}`, () => {
    const picker = pickerFrom(avail, have, { blocksPerPiece: 2 });
    setup(picker);
    const span = picker.pickSpan({ id: "web", has: ALL, ...source }, max, { now: 0 });
    assertEquals(span.map((r) => `${r.index}/${r.begin / 16384}`), expected);
    assertContiguous(picker, span);
    picker.assertInvariants();
  });
}

Deno.test("PiecePicker.pickSpan() duplicates a run of an overdue piece, and in endgame", () => {
  const picker = pickerFrom("1", "", { blocksPerPiece: 3 });
  picker.setPieceDeadline(0, 10);
  assertEquals(picker.pickBlocks({ id: "a", has: ALL }, 3, { now: 0 }).length, 3);
  assertEquals(picker.pickSpan({ id: "web", has: ALL }, 2, { now: 0 }), [
    block(0, 0),
    block(0, 1),
  ]); // endgame: every block is requested
  assertEquals(picker.pickSpan({ id: "web2", has: ALL }, 3, { now: 20 }), [block(0, 2)]);
  picker.assertInvariants();
});

function take(picker: PiecePicker, peerId: string, index: number, b: number): void {
  const has = new Bitfield(picker.pieceCount);
  has.set(index);
  for (let k = 0; k <= b; k++) picker.pickBlocks({ id: `${peerId}${k}`, has }, 1);
  for (let k = 0; k < b; k++) picker.releaseRequests(`${peerId}${k}`);
}

function assertContiguous(picker: PiecePicker, span: readonly BlockRequest[]): void {
  const start = (r: BlockRequest) => r.index * picker.pieceLengthOf(0) + r.begin;
  for (let k = 1; k < span.length; k++) {
    assertEquals(start(span[k]!), start(span[k - 1]!) + span[k - 1]!.length, "span has a gap");
  }
}

Deno.test("PiecePicker with deadlines and spans keeps its invariants under random operations", () => {
  fuzzCases("piece_picker_deadlines", (random) => {
    const picker = pickerFrom("1".repeat(1 + random.int(10)), "", {
      blocksPerPiece: 1 + random.int(3),
      seed: random.int(1000),
    });
    const ids = ["a", "b", "c", "web"];
    for (let step = 0; step < 80; step++) deadlineStep(picker, ids, random, step * 10);
  });
});

function deadlineStep(picker: PiecePicker, ids: string[], random: SeededRandom, now: number) {
  const n = picker.pieceCount;
  const id = ids[random.int(ids.length)]!;
  const op = random.int(8);
  if (op === 0) picker.setPieceDeadline(random.int(n), now + random.int(100) - 50);
  else if (op === 1) picker.clearPieceDeadline(random.int(n));
  else if (op === 2) picker.setPiecePriority(random.int(n), random.int(8));
  else if (op === 3) {
    const span = picker.pickSpan({ id, has: ALL, deliveryMs: random.int(300) }, 1 + random.int(6), {
      now,
    });
    assertContiguous(picker, span);
  } else if (op === 4) {
    picker.pickBlocks({ id, has: ALL, deliveryMs: random.int(3000) }, 4, { now });
  } else if (op === 5) picker.releaseRequests(id);
  else {
    for (const r of picker.requestsOf(id).slice(0, 2)) {
      if (picker.blockReceived(id, r.index, r.begin).pieceComplete) {
        if (random.next() < 0.8) picker.pieceVerified(r.index);
        else picker.pieceFailed(r.index);
      }
    }
  }
  for (const peer of ids) {
    const own = picker.requestsOf(peer).map((r) => `${r.index}/${r.begin}`);
    assertEquals(new Set(own).size, own.length, "a block requested twice from one peer");
  }
  picker.assertInvariants();
}
