import { assert, assertEquals } from "../../tests/assert.ts";
import { BufferRecycler, ownedBuffer } from "./buffer_recycler.ts";

Deno.test("BufferRecycler.take() returns a buffer of the same size, and give() keeps under the cap", () => {
  const recycler = new BufferRecycler(10);
  const a = new ArrayBuffer(4), b = new ArrayBuffer(4), c = new ArrayBuffer(3);
  recycler.give(a);
  recycler.give(c);
  assertEquals(recycler.bytes, 7);
  recycler.give(b); // 11 > 10: left to the garbage collector
  assertEquals(recycler.bytes, 7);
  assert(recycler.take(4).buffer === a);
  assert(recycler.take(3).buffer === c);
  assert(recycler.take(4).buffer !== a); // none left: a fresh one
  assertEquals(recycler.bytes, 0);
});

Deno.test("ownedBuffer() transfers a whole buffer and copies a partial view", () => {
  const whole = new Uint8Array(8);
  assert(ownedBuffer(whole) === whole.buffer);
  const view = new Uint8Array(16).subarray(4, 12);
  const copy = ownedBuffer(view);
  assert(copy !== view.buffer);
  assertEquals(copy.byteLength, 8);
});
