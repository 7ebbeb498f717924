import { join } from "node:path";
import { assertEquals, assertRejects, assertThrows } from "../../tests/assert.ts";
import { StorageError } from "../errors.ts";
import {
  openControlLog,
  readControlFile,
  readFileCapped,
  resumePath,
  writeControlFile,
  writeFileAtomic,
} from "./fs.ts";

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

Deno.test("readControlFile() and writeControlFile() refuse a symlink below the root (RELIABILITY P6)", async () => {
  await withDir(async (dir) => {
    const root = join(dir, "dl"), outside = join(dir, "outside");
    await Deno.mkdir(root);
    await Deno.mkdir(outside);
    const parts = [".swarmd", "x.resume"];
    assertEquals(await readControlFile(root, parts, 10), undefined);
    await writeControlFile(root, parts, new Uint8Array([1, 2]));
    assertEquals(await readControlFile(root, parts, 10), new Uint8Array([1, 2]));
    // A link planted as the control directory: neither followed for writing nor reading.
    await Deno.remove(join(root, ".swarmd"), { recursive: true });
    await Deno.writeFile(join(outside, "x.resume"), new Uint8Array([9]));
    await Deno.symlink(outside, join(root, ".swarmd"));
    await assertRejects(
      () => writeControlFile(root, parts, new Uint8Array([3])),
      StorageError,
      "is a symlink",
    );
    await assertRejects(() => readControlFile(root, parts, 10), StorageError, "is a symlink");
    assertEquals(await Deno.readFile(join(outside, "x.resume")), new Uint8Array([9]));
    assertEquals([...Deno.readDirSync(outside)].length, 1, "nothing written outside the root");
    // A link as the file itself.
    await Deno.remove(join(root, ".swarmd"));
    await Deno.mkdir(join(root, ".swarmd"));
    await Deno.symlink(join(outside, "x.resume"), join(root, ".swarmd", "x.resume"));
    await assertRejects(() => readControlFile(root, parts, 10), StorageError, "is a symlink");
    await assertRejects(() => writeControlFile(root, parts, new Uint8Array([3])), StorageError);
    assertEquals(await Deno.readFile(join(outside, "x.resume")), new Uint8Array([9]));
    // A regular file where the root should be: nothing to read.
    await Deno.writeTextFile(join(dir, "file"), "x");
    assertEquals(await readControlFile(join(dir, "file"), parts, 10), undefined);
  });
});

Deno.test("openControlLog() appends, and refuses a log file that is a symlink", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "logs", "swarmd.log");
    for (const text of ["a\n", "b\n"]) {
      const log = await openControlLog(path);
      await log.write(new TextEncoder().encode(text));
      await log.close();
    }
    assertEquals(await Deno.readTextFile(path), "a\nb\n");
    await Deno.symlink(path, join(dir, "link.log"));
    await assertRejects(() => openControlLog(join(dir, "link.log")), StorageError, "symlink");
    assertEquals(await Deno.readTextFile(path), "a\nb\n");
  });
});
