import * as fs from "node:fs";
import { join } from "node:path";
import { assert, assertEquals } from "../../tests/assert.ts";
import { DirectWriter } from "./direct_writer.ts";
import { alignedView } from "./buffer_recycler.ts";

function pattern(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 131 + seed * 7 + (i >> 12)) & 0xff;
  return out;
}

/**
 * Runs `fn` with a DirectWriter on a fresh file (its buffered and direct descriptors),
 * closes both, and returns the file's bytes; the temp directory goes afterwards.
 */
async function writeFile(
  fn: (writer: DirectWriter, fd: number, direct: number | undefined) => void,
): Promise<{ writer: DirectWriter; got: Uint8Array }> {
  const dir = await Deno.makeTempDir({ prefix: "direct-writer-" });
  try {
    const path = join(dir, "f.bin");
    const fd = fs.openSync(path, "w+");
    const writer = new DirectWriter();
    const direct = writer.openDirect(path);
    try {
      fn(writer, fd, direct);
    } finally {
      fs.closeSync(fd);
      if (direct !== undefined) fs.closeSync(direct);
    }
    return { writer, got: await Deno.readFile(path) };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("DirectWriter writes unaligned spans exactly: head and tail buffered, middle direct", async () => {
  const expected = new Uint8Array(6 * 1024 * 1024);
  // spans: unaligned start, several chunks, unaligned end; a short one; one at the end
  const spans = [
    { pos: 1000, length: 3 * 1024 * 1024 + 777 },
    { pos: 3 * 1024 * 1024 + 1777, length: 5000 },
    { pos: 4 * 1024 * 1024, length: 2 * 1024 * 1024 - 3 },
  ];
  const { writer, got } = await writeFile((writer, fd, direct) => {
    for (const [i, s] of spans.entries()) {
      const data = pattern(s.length + 10, i);
      writer.write({ bytes: data, at: 10, length: s.length, pos: s.pos }, fd, direct);
      expected.set(data.subarray(10, 10 + s.length), s.pos);
    }
  });
  assertEquals(got.length, 6 * 1024 * 1024 - 3);
  assert(got.every((b, i) => b === expected[i]), "file content differs");
  if (writer.enabled) {
    assert(writer.directBytes >= 5 * 1024 * 1024 - 3 * 4096, `${writer.directBytes}`);
  } else console.log("O_DIRECT refused by this file system: buffered path tested only");
});

Deno.test("DirectWriter(false) never opens a direct descriptor", () => {
  const writer = new DirectWriter(false);
  assertEquals(writer.openDirect("/nonexistent"), undefined);
  assertEquals(writer.enabled, false);
});

Deno.test("DirectWriter writes a buffer marked aligned without its staging copy, others through it", async () => {
  const MIB = 1 << 20;
  let zeroCopy = 0;
  const { writer, got } = await writeFile((writer, fd, direct) => {
    const aligned = alignedView(MIB)!;
    aligned.set(pattern(MIB, 1));
    writer.write({ bytes: aligned, at: 0, length: MIB, pos: 0, aligned: true }, fd, direct);
    zeroCopy = writer.zeroCopyBytes;
    const misaligned = new Uint8Array(MIB + 16).subarray(16);
    misaligned.set(pattern(MIB, 2));
    writer.write({ bytes: misaligned, at: 0, length: MIB, pos: MIB }, fd, direct);
    // marked aligned but not (where the device needs it): refused without a byte, then staged
    const shifted = new Uint8Array(MIB + 16).subarray(16);
    shifted.set(pattern(MIB, 3));
    writer.write({ bytes: shifted, at: 0, length: MIB, pos: 2 * MIB, aligned: true }, fd, direct);
  });
  for (let i = 0; i < 3; i++) {
    assertEquals(got.subarray(i * MIB, (i + 1) * MIB), pattern(MIB, i + 1));
  }
  if (writer.enabled) {
    assertEquals([zeroCopy, writer.directBytes], [MIB, 3 * MIB]);
    assert([MIB, 2 * MIB].includes(writer.zeroCopyBytes), `${writer.zeroCopyBytes}`);
  } else console.log("O_DIRECT refused by this file system: buffered path tested only");
});
