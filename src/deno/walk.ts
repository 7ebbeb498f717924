/**
 * The directory walk behind `create`: lists the regular files of a path in a
 * deterministic order, as `buildTorrent` wants them (BEP 3 multi-file layout).
 *
 * Rules: a file gives a single-file torrent (root = its directory, path `[]`); a directory
 * gives every regular file below it, sorted by the "/"-joined relative path compared as
 * UTF-8 bytes: mktorrent's order (`strcmp` on the full path, checked against mktorrent
 * 1.1), so the same directory gives the same info-hash as `mktorrent`. Note that this is
 * not a per-component order: `foo bar` < `foo.txt` < `foo/x`, since " " and "." sort
 * before "/". (libtorrent's `add_files` keeps the directory listing order, so no order
 * can match it in general.) Symbolic links below the root are never
 * followed: they are listed in `skipped` ("symbolic link"); the root itself is followed,
 * since the user named it. Hidden (dot) files are included, as mktorrent does. Empty
 * directories are ignored; sockets, FIFOs and devices are skipped; directories deeper
 * than {@linkcode MAX_WALK_DEPTH} levels are skipped. A tree with no file at all is an error.
 *
 * Layer: platform (uses `Deno.lstat`, `Deno.stat`, `Deno.readDir`).
 * @module
 */
import { basename, dirname, resolve } from "node:path";
import { StorageError } from "../errors.ts";

/** Deepest directory level walked below the root (matches the parser's path-depth cap). */
export const MAX_WALK_DEPTH = 100;

/** One file found by {@linkcode collectFiles}. */
export interface WalkedFile {
  /** Components below `root`; `[]` for a single file. */
  readonly path: string[];
  /** Size in bytes. */
  readonly length: number;
}

/** One entry the walk left out, and why. */
export interface SkippedEntry {
  /** The entry's path below the root, joined with "/". */
  readonly path: string;
  /** Why it was left out, e.g. `"symbolic link"`. */
  readonly reason: string;
}

/** Result of {@linkcode collectFiles}. */
export interface WalkResult {
  /** The torrent name: the base name of the file or directory. */
  readonly name: string;
  /** Absolute directory that `files[i].path` is relative to. */
  readonly root: string;
  /** Regular files, sorted by "/"-joined path as UTF-8 bytes (mktorrent's order). */
  readonly files: WalkedFile[];
  /** Entries left out. */
  readonly skipped: SkippedEntry[];
}

const encoder = new TextEncoder();

function compareBytes(a: string, b: string): number {
  const x = encoder.encode(a);
  const y = encoder.encode(b);
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}

/**
 * Orders paths as mktorrent does: the "/"-joined paths compared as UTF-8 bytes (`strcmp`).
 * @param a one path
 * @param b another path
 * @returns negative, zero or positive, as for `Array.prototype.sort`
 */
export function comparePaths(a: readonly string[], b: readonly string[]): number {
  return compareBytes(a.join("/"), b.join("/"));
}

async function walk(
  dir: string,
  prefix: string[],
  out: { files: WalkedFile[]; skipped: SkippedEntry[] },
): Promise<void> {
  for await (const entry of Deno.readDir(dir)) {
    const path = [...prefix, entry.name];
    const full = resolve(dir, entry.name);
    if (entry.isSymlink) {
      out.skipped.push({ path: path.join("/"), reason: "symbolic link" });
    } else if (entry.isDirectory) {
      if (path.length >= MAX_WALK_DEPTH) {
        out.skipped.push({ path: path.join("/"), reason: `deeper than ${MAX_WALK_DEPTH} levels` });
      } else await walk(full, path, out);
    } else if (entry.isFile) {
      const info = await Deno.lstat(full);
      out.files.push({ path, length: info.size });
    } else {
      out.skipped.push({ path: path.join("/"), reason: "not a regular file" });
    }
  }
}

/**
 * Lists the files `create` puts in a torrent.
 *
 * @param path a file or a directory
 * @returns the name, the root directory, the sorted files and what was skipped
 * @throws {StorageError} op `"walk"` when the path cannot be read, is not a file or a
 *   directory, or holds no regular file
 */
export async function collectFiles(path: string): Promise<WalkResult> {
  const full = resolve(path);
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(full);
  } catch (e) {
    throw new StorageError(`Cannot read "${path}": ${(e as Error).message}`, {
      op: "walk",
      path: full,
      cause: e,
    });
  }
  const name = basename(full);
  if (info.isFile) {
    return { name, root: dirname(full), files: [{ path: [], length: info.size }], skipped: [] };
  }
  if (!info.isDirectory) {
    throw new StorageError(`Cannot create a torrent from "${path}": not a file or directory`, {
      op: "walk",
      path: full,
    });
  }
  const out = { files: [] as WalkedFile[], skipped: [] as SkippedEntry[] };
  try {
    await walk(full, [], out);
  } catch (e) {
    throw new StorageError(`Cannot walk "${path}": ${(e as Error).message}`, {
      op: "walk",
      path: full,
      cause: e,
    });
  }
  if (out.files.length === 0) {
    throw new StorageError(`Cannot create a torrent from "${path}": no files found`, {
      op: "walk",
      path: full,
    });
  }
  out.files.sort((a, b) => comparePaths(a.path, b.path));
  out.skipped.sort((a, b) => compareBytes(a.path, b.path));
  return { name, root: full, files: out.files, skipped: out.skipped };
}
