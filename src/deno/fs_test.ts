import { join } from "node:path";
import { assertEquals, assertRejects, assertThrows } from "../../tests/assert.ts";
import { StorageError } from "../errors.ts";
import { readFileCapped, resumePath, writeFileAtomic } from "./fs.ts";

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("readFileCapped() reads up to the cap, answers undefined when missing", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "f");
    assertEquals(await readFileCapped(path, 10), undefined);
    await Deno.writeFile(path, new Uint8Array([1, 2, 3, 4]));
    assertEquals(await readFileCapped(path, 4), new Uint8Array([1, 2, 3, 4]));
    await assertRejects(() => readFileCapped(path, 3), StorageError, "larger than 3 bytes");
    await assertRejects(() => readFileCapped(dir, 3), StorageError);
  });
});

Deno.test("writeFileAtomic() creates parents, replaces the file and leaves no temporary file", async () => {
  await withDir(async (dir) => {
    const path = resumePath(dir, "AB".repeat(20));
    await writeFileAtomic(path, new Uint8Array([1]));
    await writeFileAtomic(path, new Uint8Array([2, 3]));
    assertEquals(await Deno.readFile(path), new Uint8Array([2, 3]));
    assertEquals([...Deno.readDirSync(join(dir, ".swarmd"))].map((e) => e.name), [
      `${"ab".repeat(20)}.resume`,
    ]);
    await Deno.writeTextFile(join(dir, "file"), "x");
    await assertRejects(
      () => writeFileAtomic(join(dir, "file", "y"), new Uint8Array(1)),
      StorageError,
    );
  });
});

Deno.test("resumePath() names <root>/.swarmd/<hex>.resume and refuses non-hex names", () => {
  assertEquals(resumePath("/dl", "0".repeat(40)), `/dl/.swarmd/${"0".repeat(40)}.resume`);
  for (const bad of ["", "0".repeat(39), "../".repeat(14) + "xx", "g".repeat(40)]) {
    assertThrows(() => resumePath("/dl", bad), RangeError);
  }
});
