/**
 * Human-readable byte counts for messages (binary units), shared by the engine's error
 * messages and the command line.
 *
 * Layer: util (pure).
 * @module
 */

/**
 * Formats a byte count with binary units.
 * @param bytes a count of bytes
 * @returns e.g. `"512 B"`, `"1.50 KiB"`, `"24.0 MiB"`
 * @example
 * ```ts
 * import { formatBytes } from "./format.ts";
 * import { strictEqual as assertEquals } from "node:assert";
 * assertEquals(formatBytes(1536), "1.50 KiB");
 * assertEquals(formatBytes(100), "100 B");
 * ```
 */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = bytes, i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0)} ${units[i]}`;
}
