import * as fs from "node:fs";
import { join } from "node:path";
import { assertEquals, assertThrows } from "../../tests/assert.ts";
import { WriteBack, type WriteBackState } from "./write_back.ts";

Deno.test("WriteBack.wrote() starts a writeback per budget and waits at four budgets unflushed", async () => {
  const dir = await Deno.makeTempDir({ prefix: "write-back-" });
  const fd = fs.openSync(join(dir, "f.bin"), "w+");
  const state: WriteBackState = { fd, unflushed: 0, flushing: undefined };
  try {
    const writeBack = new WriteBack(1024);
    const chunk = new Uint8Array(512).fill(1);
    const write = (i: number) => {
      fs.writeSync(fd, chunk, 0, chunk.length, i * chunk.length);
      writeBack.wrote(state, chunk.length);
    };
    // No event-loop turn between writes: the first flush is still running, so the
    // writer waits once four budgets (4 KiB) are unflushed.
    for (let i = 0; i < 2; i++) write(i);
    assertEquals([writeBack.started, writeBack.waited], [1, 0]);
    const first = state.flushing;
    for (let i = 2; i < 10; i++) write(i);
    assertEquals([writeBack.started, writeBack.waited, state.unflushed], [1, 1, 0]);
    await first;
    assertEquals(state.flushing, undefined);
    for (let i = 10; i < 12; i++) write(i);
    assertEquals(writeBack.started, 2);
  } finally {
    await state.flushing; // the last flush ends before its descriptor goes
    fs.closeSync(fd);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("WriteBack with a zero budget leaves writeback to the kernel", () => {
  const writeBack = new WriteBack(0);
  const state: WriteBackState = { fd: -1, unflushed: 0, flushing: undefined };
  writeBack.wrote(state, 1 << 30);
  assertEquals([writeBack.started, writeBack.waited, state.unflushed], [0, 0, 0]);
  assertThrows(() => new WriteBack(-1), RangeError);
});
