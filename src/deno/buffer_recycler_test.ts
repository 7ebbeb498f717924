import { assert, assertEquals } from "../../tests/assert.ts";
import { alignedView, BUFFER_ALIGN, BufferRecycler, ownedBuffer } from "./buffer_recycler.ts";

function address(view: Uint8Array): bigint {
  const pointer = Deno.UnsafePointer.of(view);
  return BigInt(Deno.UnsafePointer.value(pointer!));
}

Deno.test("BufferRecycler.take() returns a buffer of the same size, and give() keeps under the cap", () => {
  const recycler = new BufferRecycler(10);
  const a = new Uint8Array(4), b = new Uint8Array(4), c = new Uint8Array(3);
  recycler.give(a);
  recycler.give(c);
  assertEquals(recycler.bytes, 7);
  recycler.give(b); // 11 > 10: left to the garbage collector
  assertEquals(recycler.bytes, 7);
  assert(recycler.take(4) === a);
  assert(recycler.take(3) === c);
  assert(recycler.take(4) !== a); // none left: a fresh one
  assertEquals(recycler.bytes, 0);
  recycler.give(new Uint8Array(8).subarray(2, 6)); // not ours: ignored
  assertEquals(recycler.bytes, 0);
});

Deno.test("BufferRecycler.take() places a large piece at a page-aligned address, kept across a transfer", () => {
  const recycler = new BufferRecycler(1 << 22);
  const view = recycler.take(1 << 20);
  assertEquals(view.byteLength, 1 << 20);
  assertEquals(address(view) % BigInt(BUFFER_ALIGN), 0n); // the tests run with -A (ffi granted)
  assert(recycler.owns(view) && view.buffer.byteLength === (1 << 20) + BUFFER_ALIGN);
  assert(!recycler.owns(view.subarray(1)));
  // a transfer detaches the buffer; the one that comes back is adopted at the same offset
  const { byteOffset } = view;
  const buffer = view.buffer as ArrayBuffer;
  const moved = structuredClone(buffer, { transfer: [buffer] });
  const back = recycler.adopt(moved, byteOffset, 1 << 20);
  assertEquals(address(back) % BigInt(BUFFER_ALIGN), 0n);
  recycler.give(back);
  assert(recycler.take(1 << 20) === back);
  assertEquals(recycler.take(1000).byteLength, 1000); // small pieces: whole buffers
  assertEquals(recycler.take(1000).buffer.byteLength, 1000);
});

Deno.test("alignedView() is page-aligned for every size it serves", () => {
  for (const length of [65536, 1 << 20, (1 << 20) + 7, 4 << 20]) {
    const view = alignedView(length)!;
    assertEquals([view.byteLength, address(view) % BigInt(BUFFER_ALIGN)], [length, 0n]);
  }
  assertEquals(alignedView(16384), undefined);
});

Deno.test("ownedBuffer() transfers a whole buffer and copies a partial view", () => {
  const whole = new Uint8Array(8);
  assert(ownedBuffer(whole) === whole.buffer);
  const view = new Uint8Array(16).subarray(4, 12);
  const copy = ownedBuffer(view);
  assert(copy !== view.buffer);
  assertEquals(copy.byteLength, 8);
});
