import { assertEquals, assertThrows } from "../../tests/assert.ts";
import { StorageLayout } from "./layout.ts";
import { findLostFiles } from "./lost_data.ts";

// Files of 10, 0 and 7 bytes, 4-byte pieces: piece 2 spans file 0 (bytes 8..9) and file 2.
const LAYOUT = new StorageLayout([{ length: 10 }, { length: 0 }, { length: 7 }], 4);
const whole = [{ length: 10, mtimeMs: 1 }, { length: 0, mtimeMs: 1 }, { length: 7, mtimeMs: 1 }];

Deno.test("findLostFiles() finds files missing or shorter than their verified bytes (F6)", () => {
  const has = (...pieces: number[]) => (i: number) => pieces.includes(i);
  assertEquals(findLostFiles(LAYOUT, has(0, 1, 2, 3, 4), whole), []);
  assertEquals(findLostFiles(LAYOUT, has(), [undefined, undefined, undefined]), []);
  // only piece 0 verified: file 0 needs 4 bytes, file 2 nothing
  assertEquals(
    findLostFiles(LAYOUT, has(0), [{ length: 4, mtimeMs: 2 }, undefined, undefined]),
    [],
  );
  assertEquals(findLostFiles(LAYOUT, has(2), [{ length: 9, mtimeMs: 2 }, undefined, undefined]), [
    { fileIndex: 0, expectedBytes: 10, actualBytes: 9 },
    { fileIndex: 2, expectedBytes: 2, actualBytes: undefined },
  ]);
  // the last piece of file 2 ends at its length, not at the piece boundary
  assertEquals(findLostFiles(LAYOUT, has(4), [undefined, undefined, { length: 6, mtimeMs: 2 }]), [
    { fileIndex: 2, expectedBytes: 7, actualBytes: 6 },
  ]);
  assertThrows(() => findLostFiles(LAYOUT, has(), []), RangeError);
});
