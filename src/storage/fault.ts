/**
 * What a failed file operation means for a download: can a retry fix it, and how to say
 * it in one line. A write refused for a permission, a path component that is a file (or
 * a symlink, which the path checks refuse: RELIABILITY rule 2), a read-only file system
 * or a full disk fails the same way on every retry; a busy or interrupted call, an I/O
 * error seen once or a worker that crashed may succeed next time (libtorrent's
 * `storage_error` and Transmission's `tr_torrentSetLocalError` make the same split: the
 * first kind pauses the torrent with an error).
 *
 * Errors cross from the disk workers as a message, an operation and a path (a structured
 * clone keeps no `code`), so the errno name is read from the message when the error has no
 * `code`: Node's file system calls write `EACCES: permission denied, open '/x'`, Deno's
 * and Rust's `No space left on device (os error 28)`.
 *
 * Layer: core (pure).
 * @module
 */
import { StorageError } from "../errors.ts";

/** The kinds of storage failure, by what the user has to do about them. */
export type StorageFaultKind =
  | "permission"
  | "not-a-directory"
  | "symlink"
  | "read-only"
  | "no-space"
  | "bad-path"
  | "transient";

/** A classified storage failure. */
export interface StorageFault {
  /** What went wrong, by remedy. */
  readonly kind: StorageFaultKind;
  /** True when retrying cannot help: every kind but `"transient"`. */
  readonly permanent: boolean;
  /** The cause in a few words, e.g. `permission denied (EACCES)`. */
  readonly cause: string;
  /** The file or directory involved, when known. */
  readonly path: string | undefined;
}

/** errno names by kind, with the words a user reads. */
const BY_CODE: Readonly<Record<string, readonly [StorageFaultKind, string]>> = {
  EACCES: ["permission", "permission denied"],
  EPERM: ["permission", "operation not permitted"],
  EROFS: ["read-only", "read-only file system"],
  ENOSPC: ["no-space", "no space left on device"],
  EDQUOT: ["no-space", "disk quota exceeded"],
  EFBIG: ["no-space", "file too large for the file system"],
  ENOTDIR: ["not-a-directory", "a component of the path is not a directory"],
  EEXIST: ["not-a-directory", "it exists and is not a directory"],
  EISDIR: ["bad-path", "it is a directory"],
  ELOOP: ["symlink", "it is a symlink, refused"],
  ENAMETOOLONG: ["bad-path", "file name too long"],
};

/**
 * Classifies a failed storage operation.
 * @param error what the disk backend rejected with (usually a `StorageError`)
 * @returns its kind, whether it is permanent, its cause and path
 * @example
 * ```ts
 * import { classifyStorageError } from "./fault.ts";
 * import { StorageError } from "../errors.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const e = new StorageError(
 *   `Cannot write "/dl/a": EACCES: permission denied, open '/dl/a'`,
 *   { op: "write", path: "/dl/a" },
 * );
 * assertEquals(classifyStorageError(e), {
 *   kind: "permission", permanent: true, cause: "permission denied (EACCES)", path: "/dl/a",
 * });
 * assertEquals(classifyStorageError(new Error("EAGAIN: try again")).permanent, false);
 * ```
 */
export function classifyStorageError(error: unknown): StorageFault {
  const path = error instanceof StorageError ? error.path : undefined;
  const message = error instanceof Error ? error.message : String(error);
  // The path checks' own refusals: `Cannot use file "/x/y": "/x" is a symlink`.
  const refused = /: ("[^"]*" is (?:a symlink|not a directory))$/.exec(message);
  if (refused) {
    const kind = refused[1]!.endsWith("symlink") ? "symlink" : "not-a-directory";
    const why = kind === "symlink" ? " (refused: nothing is written outside the root)" : "";
    return { kind, permanent: true, cause: refused[1]! + why, path };
  }
  const code = errorCode(error) ?? /\b(E[A-Z]{3,})\b/.exec(message)?.[1] ?? codeOfText(message);
  const known = code === undefined ? undefined : BY_CODE[code];
  if (known) return { kind: known[0], permanent: true, cause: `${known[1]} (${code})`, path };
  return { kind: "transient", permanent: false, cause: lastPart(message), path };
}

/**
 * errno names by the system's own words, for messages that carry no name (Deno and Rust
 * write `No space left on device (os error 28)`).
 */
const BY_TEXT: readonly (readonly [RegExp, string])[] = [
  [/permission denied/i, "EACCES"],
  [/operation not permitted/i, "EPERM"],
  [/read-only file system/i, "EROFS"],
  [/no space left on device/i, "ENOSPC"],
  [/(disk )?quota exceeded/i, "EDQUOT"],
  [/file too large/i, "EFBIG"],
  [/not a directory/i, "ENOTDIR"],
  [/file exists/i, "EEXIST"],
  [/is a directory/i, "EISDIR"],
  [/too many (levels of )?symbolic links/i, "ELOOP"],
  [/file name too long/i, "ENAMETOOLONG"],
];

function codeOfText(message: string): string | undefined {
  return BY_TEXT.find(([re]) => re.test(message))?.[1];
}

/** The `code` of a Node-style error, or of its cause. */
function errorCode(error: unknown): string | undefined {
  for (let e = error, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && /^E[A-Z]+$/.test(code)) return code;
  }
  return undefined;
}

/** `Cannot write "/x": EIO: i/o error, write` → `EIO: i/o error, write`. */
function lastPart(message: string): string {
  const first = message.split("\n")[0]!;
  const at = first.lastIndexOf('": ');
  return at >= 0 ? first.slice(at + 3) : first;
}
