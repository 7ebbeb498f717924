import { assertEquals, assertThrows } from "../../tests/assert.ts";
import { SeededRandom } from "../util/prng.ts";
import { HandshakeAdmission } from "./admission.ts";

/** Admits `spec`'s connections in order ("a1 a2 b1": address a, then a, then b). */
function run(spec: string, maxPending: number, maxPerAddress: number): string[] {
  const slots = new HandshakeAdmission<string>({ maxPending, maxPerAddress });
  const dropped: string[] = [];
  for (const item of spec.split(" ")) {
    dropped.push(...slots.admit(item[0]!, item));
    slots.assertInvariants();
  }
  return dropped;
}

Deno.test("HandshakeAdmission.admit() refuses past an address's share and makes room from the heaviest address", () => {
  const cases: [string, number, number, string[]][] = [
    ["a1 a2 a3", 8, 2, ["a3"]],
    ["a1 a2 b1 c1", 3, 4, ["a1"]],
    ["a1 b1 b2 c1", 3, 4, ["b1"]],
    ["a1 b1 c1 d1", 3, 4, ["a1"]], // a tie: the first admitted address
    ["a1 a2 a3 a4 b1", 4, 4, ["a1"]],
    ["a1 a2 a3 a4 a5 a6 b1 c1", 4, 4, ["a5", "a6", "a1", "a2"]],
  ];
  for (const [spec, max, perAddress, dropped] of cases) {
    assertEquals(run(spec, max, perAddress), dropped, spec);
  }
});

Deno.test("HandshakeAdmission: flooders from 30 addresses never displace a lone honest peer", () => {
  const random = new SeededRandom(1);
  const slots = new HandshakeAdmission<string>({ maxPending: 64, maxPerAddress: 4 });
  let honestDropped = false;
  slots.admit("honest", "h");
  for (let i = 0; i < 10_000; i++) {
    // 30 addresses of 4 slots could hold 120 of the 64: when full, one holds 3 or more
    const address = `flood${random.int(30)}`;
    if (slots.admit(address, `${address}-${i}`).includes("h")) honestDropped = true;
    if (random.int(3) === 0) slots.done(`${address}-${i}`);
    slots.assertInvariants();
  }
  assertEquals(honestDropped, false);
  assertEquals(slots.size <= 64, true);
});

Deno.test("HandshakeAdmission.admit() refuses when the caller has no room, and done() is idempotent", () => {
  const slots = new HandshakeAdmission<string>({ maxPending: 4, maxPerAddress: 4 });
  assertEquals(slots.admit("a", "a1"), []);
  assertEquals(slots.admit("b", "b1", 1), ["a1"]); // only one slot left in the session
  assertEquals(slots.admit("c", "c1", 0), ["c1"]);
  slots.done("b1");
  slots.done("b1");
  slots.done("never");
  assertEquals(slots.size, 0);
  slots.assertInvariants();
  assertThrows(() => new HandshakeAdmission({ maxPending: 0, maxPerAddress: 1 }), RangeError);
});
