import { assertEquals } from "../../tests/assert.ts";
import { StorageError } from "../errors.ts";
import { classifyStorageError, type StorageFaultKind } from "./fault.ts";

/** A worker's error as it reaches the main isolate: message, op and path only. */
function fromWorker(message: string, path = "/dl/p/a.bin"): StorageError {
  return new StorageError(message, { op: "write", path });
}

Deno.test("classifyStorageError() tells faults no retry fixes from ones a retry may fix", () => {
  const cases: [string, StorageFaultKind, boolean, string][] = [
    [
      `Cannot write "/x": EACCES: permission denied, open '/x'`,
      "permission",
      true,
      "permission denied (EACCES)",
    ],
    [
      `Cannot write "/x": EPERM: operation not permitted, open '/x'`,
      "permission",
      true,
      "operation not permitted (EPERM)",
    ],
    [
      `Cannot mkdir "/f": EEXIST: file already exists, mkdir '/f'`,
      "not-a-directory",
      true,
      "it exists and is not a directory (EEXIST)",
    ],
    [
      `Cannot write "/x": ENOTDIR: not a directory, open '/f/x'`,
      "not-a-directory",
      true,
      "a component of the path is not a directory (ENOTDIR)",
    ],
    [
      `Cannot write "/x": ENOSPC: no space left on device, write`,
      "no-space",
      true,
      "no space left on device (ENOSPC)",
    ],
    [
      `Cannot write "/x": EDQUOT: disk quota exceeded, write`,
      "no-space",
      true,
      "disk quota exceeded (EDQUOT)",
    ],
    [
      `Cannot write "/x": EROFS: read-only file system, open '/x'`,
      "read-only",
      true,
      "read-only file system (EROFS)",
    ],
    [
      `Cannot write "/x": ELOOP: too many symbolic links encountered, open '/x'`,
      "symlink",
      true,
      "it is a symlink, refused (ELOOP)",
    ],
    [
      `Cannot use file "/dl/p/a.bin": "/dl/p" is a symlink`,
      "symlink",
      true,
      `"/dl/p" is a symlink (refused: nothing is written outside the root)`,
    ],
    [
      `Cannot use file "/dl/p/a.bin": "/dl/p" is not a directory`,
      "not-a-directory",
      true,
      `"/dl/p" is not a directory`,
    ],
    [
      `Cannot write "/x": No space left on device (os error 28)`,
      "no-space",
      true,
      "no space left on device (ENOSPC)",
    ],
    [
      `Cannot write "/x": Permission denied (os error 13)`,
      "permission",
      true,
      "permission denied (EACCES)",
    ],
    [
      `Cannot write "/x": EAGAIN: resource temporarily unavailable, write`,
      "transient",
      false,
      "EAGAIN: resource temporarily unavailable, write",
    ],
    [`Cannot write "/x": EIO: i/o error, write`, "transient", false, "EIO: i/o error, write"],
    [
      `Cannot write: the worker crashed: out of memory`,
      "transient",
      false,
      "Cannot write: the worker crashed: out of memory",
    ],
  ];
  for (const [message, kind, permanent, cause] of cases) {
    const fault = classifyStorageError(fromWorker(message));
    assertEquals(fault, { kind, permanent, cause, path: "/dl/p/a.bin" }, message);
  }
});

Deno.test("classifyStorageError() reads a Node-style code from the error or its cause", () => {
  const cause = Object.assign(new Error("open failed"), { code: "EROFS" });
  const wrapped = new StorageError("Cannot write piece 1", { op: "write", cause });
  assertEquals(classifyStorageError(wrapped).kind, "read-only");
  assertEquals(classifyStorageError("not an error"), {
    kind: "transient",
    permanent: false,
    cause: "not an error",
    path: undefined,
  });
});
