import { assert, assertEquals, assertThrows } from "../../tests/assert.ts";
import { Bitfield } from "./bitfield.ts";

Deno.test("Bitfield uses BEP 3 bit order and counts", () => {
  const bf = new Bitfield(10);
  assert(bf.set(0));
  assert(bf.set(9));
  assert(!bf.set(9));
  assertEquals(bf.toBytes(), new Uint8Array([0x80, 0x40]));
  assertEquals(bf.count, 2);
  assert(bf.clear(0));
  assertEquals([...bf.indices()], [9]);
  assertThrows(() => bf.set(10), RangeError);
});

Deno.test("Bitfield.fromBytes() rejects wrong lengths and spare bits (PW4)", () => {
  assertEquals(Bitfield.fromBytes(new Uint8Array([0xff]), 10), undefined);
  assertEquals(Bitfield.fromBytes(new Uint8Array([0xff, 0x20]), 10), undefined);
  const ok = Bitfield.fromBytes(new Uint8Array([0xff, 0xc0]), 10)!;
  assert(ok.isFull);
  assert(Bitfield.full(10).isFull);
});
