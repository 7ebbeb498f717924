import { assert, assertEquals, assertThrows } from "../../tests/assert.ts";
import { Bitfield } from "../util/bitfield.ts";
import { bits, pickerFrom } from "./_fixture_test.ts";

const ALL = "all" as const;
const B0 = { index: 0, begin: 0, length: 16384 };
const B1 = { index: 0, begin: 16384, length: 16384 };

Deno.test("PiecePicker.pickBlocks() duplicates nothing while a wanted block is free", () => {
  const picker = pickerFrom("1", "", { blocksPerPiece: 2 });
  assertEquals(picker.pickBlocks({ id: "a", has: ALL }, 1), [B0]);
  assert(!picker.inEndgame);
  assertEquals(picker.pickBlocks({ id: "b", has: ALL }, 1), [B1]);
  assert(picker.inEndgame);
  assertEquals(picker.pickBlocks({ id: "b", has: ALL }, 2), [B0]);
});

Deno.test("PiecePicker.pickBlocks() enters endgame within one call once the last free block goes", () => {
  const picker = pickerFrom("1", "", { blocksPerPiece: 2 });
  picker.pickBlocks({ id: "a", has: ALL }, 1);
  assertEquals(picker.pickBlocks({ id: "b", has: ALL }, 2), [B1, B0]);
  picker.assertInvariants();
});

Deno.test("PiecePicker.pickBlocks() in endgame sends one extra copy per block, never twice", () => {
  const picker = pickerFrom("1", "", { blocksPerPiece: 2 });
  assertEquals(picker.pickBlocks({ id: "a", has: ALL }, 2), [B0, B1]);
  assertEquals(picker.pickBlocks({ id: "a", has: ALL }, 2), []);
  assertEquals(picker.pickBlocks({ id: "b", has: ALL, isSnubbed: true }, 2), []);
  assertEquals(picker.pickBlocks({ id: "b", has: ALL }, 2), [B0, B1]);
  assertEquals(picker.pickBlocks({ id: "c", has: ALL }, 2), []);
  picker.assertInvariants();
});

Deno.test("PiecePicker.blockReceived() returns the endgame copies to cancel", () => {
  const picker = pickerFrom("1", "", { blocksPerPiece: 2 });
  picker.pickBlocks({ id: "a", has: ALL }, 2);
  picker.pickBlocks({ id: "b", has: ALL }, 2);
  const first = picker.blockReceived("b", 0, 0);
  assertEquals(first, {
    isNew: true,
    wasRequested: true,
    cancel: [{ peerId: "a", ...B0 }],
    pieceComplete: false,
  });
  assertEquals(picker.requestsOf("a"), [B1]);
  const late = picker.blockReceived("a", 0, 0);
  assertEquals(late, { isNew: false, wasRequested: false, cancel: [], pieceComplete: false });
  const last = picker.blockReceived("a", 0, 16384);
  assertEquals(last.cancel, [{ peerId: "b", ...B1 }]);
  assert(last.pieceComplete);
  assertEquals(picker.requestsOf("b"), []);
  assertEquals([...picker.contributorsOf(0)].sort(), ["a", "b"]);
  picker.pieceVerified(0);
  assert(picker.isComplete && !picker.inEndgame);
  assertEquals(picker.contributorsOf(0).size, 0);
  picker.assertInvariants();
});

Deno.test("PiecePicker.releaseRequests() hands an endgame copy to its other holder", () => {
  const picker = pickerFrom("1", "", { blocksPerPiece: 2 });
  picker.pickBlocks({ id: "a", has: ALL }, 2);
  picker.pickBlocks({ id: "b", has: ALL }, 1);
  assertEquals(picker.releaseRequests("a"), [B0, B1]);
  assertEquals(picker.requestsOf("b"), [B0]);
  assertEquals(picker.pickBlocks({ id: "c", has: ALL }, 1), [B1]);
  assertEquals(picker.pickBlocks({ id: "d", has: ALL }, 2), [B0, B1]);
  picker.assertInvariants();
});

Deno.test("PiecePicker.releaseRequests() returns blocks to the pool", () => {
  const picker = pickerFrom("11", "", { blocksPerPiece: 2 });
  const picked = picker.pickBlocks({ id: "a", has: ALL }, 3);
  assertEquals(picked.length, 3);
  const notHeld = { index: picked[2]!.index, begin: 16384 };
  assertEquals(picker.releaseRequests("a", [picked[1]!, notHeld]), [picked[1]]);
  assertEquals(picker.requestsOf("a"), [picked[0], picked[2]]);
  const refill = picker.pickBlocks({ id: "b", has: ALL }, 2); // both partial pieces' free blocks
  assertEquals(new Set(refill), new Set([picked[1], { ...notHeld, length: 16384 }]));
  picker.releaseRequests("a");
  picker.releaseRequests("b");
  assertEquals(picker.requestsOf("a"), []);
  assertEquals(picker.releaseRequests("nobody"), []);
  picker.assertInvariants();
  assertEquals(picker.pickBlocks({ id: "c", has: ALL }, 4).length, 4);
});

Deno.test("PiecePicker.pieceFailed() frees every block and names the senders", () => {
  const picker = pickerFrom("1", "", { blocksPerPiece: 2 });
  picker.pickBlocks({ id: "a", has: ALL }, 1);
  picker.pickBlocks({ id: "b", has: ALL }, 1);
  picker.blockReceived("a", 0, 0);
  assert(picker.blockReceived("b", 0, 16384).pieceComplete);
  assertEquals([...picker.pieceFailed(0)].sort(), ["a", "b"]);
  picker.assertInvariants();
  assert(!picker.inEndgame);
  assertEquals(picker.pickBlocks({ id: "c", has: ALL }, 5), [B0, B1]);
  assertEquals(picker.pieceFailed(0).size, 0);
  assertThrows(() => picker.pieceFailed(1), RangeError);
});

Deno.test("PiecePicker.blockReceived() drops blocks outside the torrent or already verified", () => {
  const picker = pickerFrom("11", "x.", { blocksPerPiece: 2, shortBy: 1 });
  const dropped = { isNew: false, wasRequested: false, cancel: [], pieceComplete: false };
  for (const [index, begin] of [[0, 0], [2, 0], [-1, 0], [1, 5], [1, 32768], [0.5, 0], [1, NaN]]) {
    assertEquals(picker.blockReceived("x", index!, begin!), dropped);
  }
  const unsolicited = picker.blockReceived("x", 1, 16384);
  assertEquals(unsolicited.isNew && !unsolicited.wasRequested, true);
  assertEquals(picker.pickBlocks({ id: "y", has: ALL }, 4), [{
    index: 1,
    begin: 0,
    length: 16384,
  }]);
  picker.assertInvariants();
});

Deno.test("PiecePicker.setHave() forgets outstanding requests of that piece", () => {
  const picker = pickerFrom("11", "", { blocksPerPiece: 2 });
  picker.pickBlocks({ id: "a", has: ALL }, 4);
  picker.setHave(0);
  assertEquals(picker.requestsOf("a").every((r) => r.index === 1), true);
  picker.assertInvariants();
});

Deno.test("PiecePicker availability counts bitfields, HAVEs and seeds", () => {
  const picker = pickerFrom("000");
  picker.addPeer(bits("xx."));
  picker.addPeer(bits(".x."));
  picker.peerHave(2);
  for (let k = 0; k < 100; k++) { // HAVE_ALL / HAVE_NONE alternation (PW12)
    picker.addSeed();
    picker.removeSeed();
  }
  picker.addSeed();
  assertEquals([0, 1, 2].map((i) => picker.availabilityOf(i)), [2, 3, 2]);
  picker.removePeer(bits("xx."));
  assertEquals([0, 1, 2].map((i) => picker.availabilityOf(i)), [1, 2, 2]);
  assertThrows(() => picker.removePeer(bits("x..")), RangeError, "negative");
  assertEquals(picker.availabilityOf(0), 1);
  picker.removeSeed();
  assertThrows(() => picker.removeSeed(), RangeError);
  assertThrows(() => picker.addPeer(new Bitfield(4)), RangeError);
  assertThrows(() => picker.peerHave(3), RangeError);
  assertThrows(() => picker.pickBlocks({ id: "p", has: new Bitfield(2) }, 1), RangeError);
  picker.assertInvariants();
});

Deno.test("PiecePicker constructor rejects inconsistent sizes", async (t) => {
  const bad: [string, Record<string, number>][] = [
    ["zero piece length", { pieceLength: 0 }],
    ["wrong piece count", { pieceCount: 3 }],
    ["zero total length", { totalLength: 0, pieceCount: 0 }],
    ["fractional block length", { blockLength: 1.5 }],
    ["negative randomFirstPieces", { randomFirstPieces: -1 }],
  ];
  const { PiecePicker } = await import("./mod.ts");
  const { SeededRandom } = await import("../util/prng.ts");
  for (const [name, patch] of bad) {
    await t.step(name, () => {
      const options = { pieceCount: 2, pieceLength: 16384, totalLength: 20000, ...patch };
      assertThrows(() => new PiecePicker({ ...options, random: new SeededRandom(1) }), RangeError);
    });
  }
});
