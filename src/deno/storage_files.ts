/**
 * The session's `StorageFiles` on a real file system: moves a torrent's files to a new
 * save path (a rename on one file system, else copy, keep the modification time, then
 * delete) and deletes them. Only the listed files below the save path are touched; every
 * existing path component is `lstat`ed and a symlink is refused (RELIABILITY rule 2, P6);
 * directories the files leave empty are removed, never the save path itself.
 *
 * Layer: platform.
 * @module
 */
import { dirname, join } from "node:path";
import type { StorageFiles } from "../session/context.ts";
import { StorageError } from "../errors.ts";

/** {@linkcode StorageFiles} over Deno's file system. */
export const DENO_STORAGE_FILES: StorageFiles = Object.freeze({
  moveFiles,
  deleteFiles,
});

async function moveFiles(
  from: string,
  to: string,
  paths: readonly (readonly string[])[],
): Promise<void> {
  for (const path of paths) {
    const source = await safePath(from, path);
    if (!source || !(await exists(source))) continue;
    const target = await safePath(to, path);
    if (!target) throw new StorageError(`Cannot move to "${to}": unsafe path`, { op: "move" });
    await Deno.mkdir(dirname(target), { recursive: true });
    try {
      await Deno.rename(source, target);
    } catch (e) {
      if (!(e instanceof Error) || !/EXDEV|cross-device/i.test(e.message)) {
        throw new StorageError(`Cannot move "${source}": ${(e as Error).message}`, {
          op: "move",
          path: source,
          cause: e,
        });
      }
      const info = await Deno.stat(source);
      await Deno.copyFile(source, target);
      if (info.mtime) await Deno.utime(target, info.atime ?? info.mtime, info.mtime);
      await Deno.remove(source);
    }
    await pruneEmpty(from, path);
  }
}

async function deleteFiles(root: string, paths: readonly (readonly string[])[]): Promise<void> {
  for (const path of paths) {
    const full = await safePath(root, path);
    if (!full) continue;
    await Deno.remove(full).catch((e) => {
      if (!(e instanceof Deno.errors.NotFound)) {
        throw new StorageError(`Cannot delete "${full}": ${e.message}`, {
          op: "delete",
          path: full,
          cause: e,
        });
      }
    });
    await pruneEmpty(root, path);
  }
}

/**
 * `root/components` when every component is safe and no existing one is a symlink;
 * undefined when a component is missing (nothing to do there).
 */
async function safePath(root: string, components: readonly string[]): Promise<string | undefined> {
  const bad = components.length === 0 ||
    components.some((c) => c === "" || c === "." || c === ".." || /[/\\\0]/.test(c));
  if (bad) throw new StorageError(`Unsafe path ${JSON.stringify(components)}`, { op: "open" });
  let path = root;
  for (const c of components) {
    path = join(path, c);
    let info: Deno.FileInfo;
    try {
      info = await Deno.lstat(path);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return join(root, ...components);
      throw e;
    }
    if (info.isSymlink) {
      throw new StorageError(`Refusing "${path}": it is a symlink`, { op: "open", path });
    }
  }
  return path;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

/** Removes the file's parent directories below `root` while they are empty. */
async function pruneEmpty(root: string, components: readonly string[]): Promise<void> {
  for (let depth = components.length - 1; depth >= 1; depth--) {
    try {
      await Deno.remove(join(root, ...components.slice(0, depth))); // fails unless empty
    } catch {
      return; // not empty, or gone: stop climbing
    }
  }
}
