/**
 * Path safety for piece files (RELIABILITY rule 2, P6): every path component from a
 * torrent is re-checked, each existing component below the root is `lstat`ed, and a
 * symlink anywhere on the path is refused with a `StorageError` naming the file, never
 * followed. Missing parent directories are made one component at a time; a directory
 * another worker made first (EEXIST) is success once a fresh `lstat` shows a directory.
 *
 * Layer: platform (worker side).
 * @module
 */
import * as fs from "node:fs";
import { join } from "node:path";
import { StorageError } from "../errors.ts";

/**
 * Re-checks sanitised path components (they come from metainfo, but trust no one).
 * @param components path components below the root
 * @throws {StorageError} for an empty path or a component that is empty, `.`, `..`,
 *   or contains `/`, `\` or NUL
 */
export function checkComponents(components: readonly string[]): void {
  const bad = components.length === 0 ||
    components.some((c) => c === "" || c === "." || c === ".." || /[/\\\0]/.test(c));
  if (bad) {
    throw new StorageError(`Cannot use file path ${JSON.stringify(components)}: unsafe component`, {
      op: "open",
      path: components.join("/"),
    });
  }
}

/**
 * Joins `components` below `root`, refusing symlinks: each existing component is
 * `lstat`ed. With `create`, missing directories are made (and the root with them).
 * @param root the storage root (itself allowed to be a symlink: the user chose it)
 * @param components checked path components
 * @param create make missing parent directories
 * @returns the full path, or `undefined` when something is missing and `create` is false
 * @throws {StorageError} naming the file when a component is a symlink, a parent is
 *   not a directory, or a directory cannot be made
 */
export function resolveSafePath(
  root: string,
  components: readonly string[],
  create: boolean,
): string | undefined {
  checkComponents(components);
  const full = join(root, ...components);
  if (create) fsCall("mkdir", root, () => fs.mkdirSync(root, { recursive: true }));
  let path = root;
  for (const [i, component] of components.entries()) {
    path = join(path, component);
    const isLast = i === components.length - 1;
    let stat = lstatOrUndefined(path, full);
    if (stat === undefined) {
      if (!create) return undefined;
      if (isLast) continue;
      // Another worker may make the same directory between our lstat and mkdir: EEXIST
      // is success once a fresh lstat shows a directory (a symlink is still refused below).
      if (makeDirectory(path, full)) continue;
      stat = lstatOrUndefined(path, full);
      if (stat === undefined) {
        throw new StorageError(`Cannot use file "${full}": "${path}" vanished`, {
          op: "mkdir",
          path: full,
        });
      }
    }
    if (stat.isSymbolicLink()) {
      throw new StorageError(`Cannot use file "${full}": "${path}" is a symlink`, {
        op: "open",
        path: full,
      });
    }
    if (!isLast && !stat.isDirectory()) {
      throw new StorageError(`Cannot use file "${full}": "${path}" is not a directory`, {
        op: "open",
        path: full,
      });
    }
  }
  return full;
}

/** Makes one directory; false when something already exists there (the caller lstats it). */
function makeDirectory(path: string, file: string): boolean {
  return unless("EEXIST", () => fs.mkdirSync(path) ?? true, { op: "mkdir", path, file }) ?? false;
}

function lstatOrUndefined(path: string, file: string): fs.Stats | undefined {
  return unless("ENOENT", () => fs.lstatSync(path), { op: "stat", path, file });
}

/**
 * Runs `fn`: `undefined` when it fails with the error `code`; any other failure becomes a
 * `StorageError` naming the component `path` in its message and the `file` it was for.
 */
function unless<T>(
  code: string,
  fn: () => T,
  where: { op: string; path: string; file: string },
): T | undefined {
  try {
    return fn();
  } catch (e) {
    if ((e as { code?: string }).code === code) return undefined;
    throw new StorageError(`Cannot ${where.op} "${where.path}": ${errorMessage(e)}`, {
      op: where.op,
      path: where.file,
      cause: e,
    });
  }
}

/**
 * Runs a file system call, turning its error into a `StorageError` with `op` and `path`.
 * @param op the operation named in the error
 * @param path the file named in the error
 * @param fn the call
 * @returns what `fn` returns
 * @throws {StorageError} when `fn` throws
 */
export function fsCall<T>(op: string, path: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof StorageError) throw e;
    throw new StorageError(`Cannot ${op} "${path}": ${errorMessage(e)}`, { op, path, cause: e });
  }
}

/**
 * The message of a thrown value.
 * @param e what was thrown
 * @returns its message, or its string form
 */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
