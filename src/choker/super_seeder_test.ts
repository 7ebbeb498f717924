import { assert, assertEquals } from "../../tests/assert.ts";
import { Bitfield } from "../util/bitfield.ts";
import { SeededRandom } from "../util/prng.ts";
import { SuperSeeder } from "./super_seeder.ts";

function seeder(pieceCount: number, availability: (i: number) => number = () => 0) {
  return new SuperSeeder({ pieceCount, availabilityOf: availability, random: new SeededRandom(3) });
}

Deno.test("SuperSeeder.greet() reveals two pieces, each the least revealed, never one the peer has", () => {
  const s = seeder(6);
  const seen: number[] = [];
  for (const id of ["a", "b", "c"]) seen.push(...s.greet(id, new Bitfield(6)));
  assertEquals(seen.length, 6);
  assertEquals(new Set(seen).size, 6); // every piece once before any twice
  const has = new Bitfield(6);
  for (const i of [0, 1, 2, 3]) has.set(i);
  const d = seeder(6).greet("d", has);
  assert(d.every((i) => i >= 4));
});

Deno.test("SuperSeeder reveals the next piece only when the peer announces a revealed one", () => {
  const s = seeder(8, (i) => i < 4 ? 3 : 0); // rarest are 4..7
  const has = new Bitfield(8);
  const [first, second] = s.greet("a", has);
  assert(first! >= 4 && second! >= 4);
  assert(s.allows("a", first!));
  assert(!s.allows("a", 0));
  assertEquals(s.onHave("a", has, 0), []); // not one we revealed
  has.set(first!);
  const next = s.onHave("a", has, first!);
  assertEquals(next.length, 1);
  assert(!s.allows("a", first!));
  s.forget("a");
  assert(!s.allows("a", second!));
});
