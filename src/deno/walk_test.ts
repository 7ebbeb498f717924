import { join } from "node:path";
import { assertEquals, assertRejects } from "../../tests/assert.ts";
import { StorageError } from "../errors.ts";
import { collectFiles, comparePaths } from "./walk.ts";

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "swarmd_walk_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function writeFile(path: string, length: number): Promise<void> {
  await Deno.mkdir(join(path, ".."), { recursive: true });
  await Deno.writeFile(path, new Uint8Array(length));
}

Deno.test("comparePaths() orders joined paths as UTF-8 bytes, like mktorrent", () => {
  const paths = [["b"], ["a", "z"], ["a.b"], ["B"], ["é"], ["a b"], ["z"], ["a", "b", "c"]];
  paths.sort(comparePaths);
  assertEquals(paths, [["B"], ["a b"], ["a.b"], ["a", "b", "c"], ["a", "z"], ["b"], ["z"], ["é"]]);
});

Deno.test("collectFiles() lists a tree sorted, with hidden files, skipping symlinks", async () => {
  await withTempDir(async (dir) => {
    const root = join(dir, "content");
    await writeFile(join(root, "b.bin"), 3);
    await writeFile(join(root, "a", "z.txt"), 1);
    await writeFile(join(root, "a", "b", "c.txt"), 0);
    await writeFile(join(root, ".hidden"), 2);
    await writeFile(join(root, "Z"), 5);
    await Deno.mkdir(join(root, "empty", "deeper"), { recursive: true });
    await Deno.symlink(join(root, "b.bin"), join(root, "link.bin"));
    await Deno.symlink("/etc", join(root, "linkdir"));
    await Deno.symlink(join(dir, "missing"), join(root, "dangling"));
    const result = await collectFiles(root);
    assertEquals(result.name, "content");
    assertEquals(result.root, root);
    assertEquals(result.files, [
      { path: [".hidden"], length: 2 },
      { path: ["Z"], length: 5 },
      { path: ["a", "b", "c.txt"], length: 0 },
      { path: ["a", "z.txt"], length: 1 },
      { path: ["b.bin"], length: 3 },
    ]);
    assertEquals(result.skipped, [
      { path: "dangling", reason: "symbolic link" },
      { path: "link.bin", reason: "symbolic link" },
      { path: "linkdir", reason: "symbolic link" },
    ]);
  });
});

Deno.test("collectFiles() gives a single file with root = its directory", async () => {
  await withTempDir(async (dir) => {
    await writeFile(join(dir, "one.iso"), 7);
    const result = await collectFiles(join(dir, "one.iso"));
    assertEquals(result, {
      name: "one.iso",
      root: dir,
      files: [{ path: [], length: 7 }],
      skipped: [],
    });
  });
});

Deno.test("collectFiles() rejects an empty tree and a missing path", async () => {
  await withTempDir(async (dir) => {
    await Deno.mkdir(join(dir, "e", "f"), { recursive: true });
    await Deno.symlink("/etc/hostname", join(dir, "e", "only-link"));
    const e = await assertRejects(() => collectFiles(join(dir, "e")), StorageError, "no files");
    assertEquals(e.op, "walk");
    await assertRejects(() => collectFiles(join(dir, "nope")), StorageError, "Cannot read");
  });
});
