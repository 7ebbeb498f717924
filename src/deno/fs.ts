/**
 * Small whole-file helpers on the main isolate, for state files such as resume
 * data (never for piece data: that goes through the worker pool).
 *
 * Layer: platform.
 * @module
 */
import { dirname, join } from "node:path";
import { StorageError } from "../errors.ts";
import { concatBytes } from "../util/bytes.ts";

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
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
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
      const n = await file.read(chunk);
      if (n === null) break;
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
    file.close();
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
  if (!/^[0-9a-fA-F]{40}$/.test(infoHashHex)) {
    throw new RangeError(`Cannot name a resume file for info-hash "${infoHashHex}"`);
  }
  return join(root, ".swarmd", `${infoHashHex.toLowerCase()}.resume`);
}
