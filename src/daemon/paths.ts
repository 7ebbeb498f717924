/**
 * Paths that arrive over the RPC (download directories, moves, free-space queries) must
 * stay inside the roots the operator configured. This is the lexical half: the path is
 * made absolute and normalised (`..` resolved) and must equal a root or lie below one.
 * The Deno binding adds the other half, resolving symlinks of the deepest existing
 * ancestor before the same test.
 *
 * Layer: core (pure).
 * @module
 */
import { isAbsolute, normalize, relative, resolve, sep } from "node:path";

/**
 * The normalised absolute path when it lies within one of `roots`, else undefined.
 * @param path the path from the request (relative paths are taken against the first root)
 * @param roots absolute root directories
 * @returns the confined absolute path, or undefined
 * @example
 * ```ts
 * import { confinePath } from "./paths.ts";
 * import { strictEqual } from "node:assert";
 * strictEqual(confinePath("/data/dl/x", ["/data/dl"]), "/data/dl/x");
 * strictEqual(confinePath("/data/dl/../etc", ["/data/dl"]), undefined);
 * strictEqual(confinePath("sub", ["/data/dl"]), "/data/dl/sub");
 * ```
 */
export function confinePath(path: string, roots: readonly string[]): string | undefined {
  if (path.length === 0 || path.includes("\0") || roots.length === 0) return undefined;
  const absolute = isAbsolute(path) ? normalize(path) : resolve(roots[0]!, path);
  return roots.some((root) => within(absolute, root)) ? trimSep(absolute) : undefined;
}

/**
 * Whether `path` equals `root` or lies below it (both absolute and normalised).
 * @returns true when inside
 */
export function within(path: string, root: string): boolean {
  const rel = relative(normalize(root), normalize(path));
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel) && rel.split(sep)[0] !== "..");
}

function trimSep(path: string): string {
  return path.length > 1 && path.endsWith(sep) ? path.slice(0, -1) : path;
}
