/**
 * Small whole-file helpers on the main isolate, for control files such as resume data,
 * the DHT table and logs (never for piece data: that goes through the worker pool).
 *
 * Control files take the same path checks as piece data (RELIABILITY rule 2, P6):
 * `readControlFile`, `writeControlFile` and `openControlLog` name a file as a root the
 * user chose plus components below it, `lstat` each component (`resolveSafePath`, shared
 * with the piece workers) and refuse a symlink anywhere below the root, so a link planted
 * in a download directory (`<dir>/.swarmd -> ~/.ssh`) cannot redirect what we write.
 *
 * Layer: platform.
 * @module
 */
import { basename, dirname, join } from "node:path";
import * as fsp from "node:fs/promises";
import { constants } from "node:fs";
import { StorageError } from "../errors.ts";
import { concatBytes } from "../util/bytes.ts";
import { classifyStorageError } from "../storage/fault.ts";
import { resolveSafePath } from "./safe_path.ts";

/**
 * Reads a whole file, refusing to read more than `maxBytes` (RELIABILITY rule 1).
 * @param path file to read
 * @param maxBytes cap in bytes
 * @returns the bytes, or `undefined` when the file does not exist
 * @throws {StorageError} when the file is larger than `maxBytes` or cannot be read
 */
export async function readFileCapped(
  path: string,
  maxBytes: number,
): Promise<Uint8Array | undefined> {
  return await readCapped(path, maxBytes, 0);
}

/** {@linkcode readFileCapped} with extra open flags (`O_NOFOLLOW`). */
async function readCapped(
  path: string,
  maxBytes: number,
  flags: number,
): Promise<Uint8Array | undefined> {
  let file: fsp.FileHandle;
  try {
    file = await fsp.open(path, constants.O_RDONLY | flags);
  } catch (e) {
    if ((e as { code?: string }).code === "ENOENT") return undefined;
    throw new StorageError(`Cannot open "${path}": ${(e as Error).message}`, {
      op: "read",
      path,
      cause: e,
    });
  }
  try {
    const chunks: Uint8Array[] = [];
    let length = 0;
    while (length <= maxBytes) {
      const chunk = new Uint8Array(Math.min(64 * 1024, maxBytes + 1 - length));
      const { bytesRead: n } = await file.read(chunk, 0, chunk.length, null);
      if (n === 0) break;
      chunks.push(chunk.subarray(0, n));
      length += n;
    }
    if (length > maxBytes) {
      throw new StorageError(`Cannot read "${path}": larger than ${maxBytes} bytes`, {
        op: "read",
        path,
      });
    }
    return concatBytes(chunks);
  } catch (e) {
    if (e instanceof StorageError) throw e;
    throw new StorageError(`Cannot read "${path}": ${(e as Error).message}`, {
      op: "read",
      path,
      cause: e,
    });
  } finally {
    await file.close();
  }
}

/**
 * Reads a control file below `root`, refusing symlinks below the root.
 * @param root a directory the user chose (itself allowed to be a symlink)
 * @param components the file's path below `root`
 * @param maxBytes cap in bytes
 * @returns the bytes, or `undefined` when the file is missing (or a directory on its path
 *   is missing or a file)
 * @throws {StorageError} naming the file when a component is a symlink, or the file is too
 *   large or unreadable
 */
export async function readControlFile(
  root: string,
  components: readonly string[],
  maxBytes: number,
): Promise<Uint8Array | undefined> {
  let path: string | undefined;
  try {
    path = resolveSafePath(root, components, false);
  } catch (e) {
    // A file where a directory should be: the control file cannot exist (a symlink throws).
    if (classifyStorageError(e).kind === "not-a-directory") return undefined;
    throw e;
  }
  return path === undefined ? undefined : await readCapped(path, maxBytes, constants.O_NOFOLLOW);
}

/**
 * Replaces a control file below `root` atomically ({@linkcode writeFileAtomic}), making
 * missing directories and refusing symlinks below the root.
 * @param root a directory the user chose (made when missing; itself allowed to be a symlink)
 * @param components the file's path below `root`
 * @param bytes new contents
 * @throws {StorageError} naming the file when a component is a symlink or not a directory,
 *   or any step of the write fails
 */
export async function writeControlFile(
  root: string,
  components: readonly string[],
  bytes: Uint8Array,
): Promise<void> {
  const path = resolveSafePath(root, components, true)!;
  try {
    await writeFileAtomic(path, bytes);
  } catch (e) {
    // A full disk has no room for the temporary file: rewrite the old file in place (its
    // blocks are allocated). Not atomic, but a torn file is only ignored at the next start.
    if (classifyStorageError(e).kind !== "no-space" || !await rewriteInPlace(path, bytes)) throw e;
  }
}

/**
 * Deletes a control file below `root` (never through a symlink below the root); a file
 * that is already gone is fine.
 * @param root a directory the user chose
 * @param components the file's path below `root`
 * @throws {StorageError} naming the file when a component is a symlink
 */
export async function removeControlFile(
  root: string,
  components: readonly string[],
): Promise<void> {
  let path: string | undefined;
  try {
    path = resolveSafePath(root, components, false);
  } catch (e) {
    if (classifyStorageError(e).kind === "not-a-directory") return;
    throw e;
  }
  if (path !== undefined) await fsp.rm(path, { force: true });
}

/** Overwrites an existing regular file (never through a symlink); false when there is none. */
async function rewriteInPlace(path: string, bytes: Uint8Array): Promise<boolean> {
  let file: fsp.FileHandle;
  try {
    file = await fsp.open(path, constants.O_WRONLY | constants.O_NOFOLLOW);
  } catch {
    return false; // no old file to reuse: the original error stands
  }
  try {
    for (let at = 0; at < bytes.length;) {
      at += (await file.write(bytes, at, bytes.length - at, at)).bytesWritten;
    }
    await file.truncate(bytes.length);
    await file.sync();
    return true;
  } catch {
    return false; // the original error says more
  } finally {
    await file.close();
  }
}

/**
 * Opens a log file for appending (created `0644` when missing), refusing a symlink as the
 * file itself: the directory is the user's choice, the name below it is checked.
 * @param path the log file
 * @returns a handle; the caller closes it
 * @throws {StorageError} naming the file when it is a symlink or cannot be opened
 */
export async function openControlLog(path: string): Promise<fsp.FileHandle> {
  const safe = resolveSafePath(dirname(path), [basename(path)], true)!;
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND | constants.O_NOFOLLOW;
  try {
    return await fsp.open(safe, flags, 0o644);
  } catch (e) {
    throw new StorageError(`Cannot open log "${safe}": ${(e as Error).message}`, {
      op: "open",
      path: safe,
      cause: e,
    });
  }
}

/**
 * Replaces a file atomically: writes a temporary file in the same directory,
 * fsyncs it, then renames it over `path` (RELIABILITY F1). Parent directories are
 * created.
 * @param path destination
 * @param bytes new contents
 * @throws {StorageError} when any step fails (the temporary file is removed)
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const dir = dirname(path);
  const suffix = Array.from(crypto.getRandomValues(new Uint8Array(6)), (b) => b.toString(16)).join(
    "",
  );
  const tmp = `${path}.${suffix}.tmp`;
  try {
    await Deno.mkdir(dir, { recursive: true });
    using file = await Deno.open(tmp, { write: true, createNew: true, mode: 0o644 });
    for (let at = 0; at < bytes.length;) at += await file.write(bytes.subarray(at));
    await file.sync();
  } catch (e) {
    await Deno.remove(tmp).catch(() => {}); // best effort: it may not exist
    throw new StorageError(`Cannot write "${path}": ${(e as Error).message}`, {
      op: "write",
      path,
      cause: e,
    });
  }
  try {
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {}); // best effort: the old file stays intact
    throw new StorageError(`Cannot replace "${path}": ${(e as Error).message}`, {
      op: "rename",
      path,
      cause: e,
    });
  }
  await syncDirectory(dir);
}

/** Makes the rename durable where the platform allows opening a directory. */
async function syncDirectory(dir: string): Promise<void> {
  try {
    using handle = await Deno.open(dir, { read: true });
    await handle.sync();
  } catch {
    // not supported on every platform (e.g. Windows); the rename itself is already atomic
  }
}

/**
 * Where a torrent's resume data lives: `<root>/.swarmd/<info-hash hex>.resume`.
 * @param root the download root
 * @param infoHashHex the info-hash as 40 hex digits
 * @returns the path
 * @throws {RangeError} when `infoHashHex` is not 40 hex digits (it becomes a file name)
 */
export function resumePath(root: string, infoHashHex: string): string {
  return join(root, ...resumeComponents(infoHashHex));
}

/**
 * A resume file's path below its download root: `[".swarmd", "<info-hash hex>.resume"]`.
 * @param infoHashHex the info-hash as 40 hex digits
 * @returns the path components
 * @throws {RangeError} when `infoHashHex` is not 40 hex digits (it becomes a file name)
 */
export function resumeComponents(infoHashHex: string): string[] {
  if (!/^[0-9a-fA-F]{40}$/.test(infoHashHex)) {
    throw new RangeError(`Cannot name a resume file for info-hash "${infoHashHex}"`);
  }
  return [".swarmd", `${infoHashHex.toLowerCase()}.resume`];
}
