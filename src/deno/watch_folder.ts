/**
 * The daemon's watch folder: every 2 s, new `*.torrent` files in the folder are added to
 * the library and renamed `*.torrent.added` (or `*.torrent.invalid` when they do not
 * parse), so each is taken once and the operator can see what happened. Files are read
 * with a 10 MiB cap; only regular files directly in the folder are looked at (no symlink
 * is followed).
 *
 * Layer: platform.
 * @module
 */
import { join } from "node:path";
import type { Library } from "../daemon/library.ts";
import type { Logger } from "../runtime/types.ts";
import { readFileCapped } from "./fs.ts";

/** Polling period. */
const SCAN_INTERVAL_MS = 2_000;
/** Files looked at per scan, at most. */
const MAX_PER_SCAN = 100;

/**
 * Starts watching `dir`.
 * @param dir the folder
 * @param library where torrents go
 * @param logger where problems go
 * @returns a function that stops watching
 */
export function watchFolder(dir: string, library: Library, logger?: Logger): () => void {
  let busy = false;
  const scan = async () => {
    if (busy) return;
    busy = true;
    try {
      await scanOnce(dir, library, logger);
    } catch (e) {
      logger?.warn(`Cannot scan the watch folder: ${(e as Error).message}`, { dir });
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(scan, SCAN_INTERVAL_MS);
  void scan();
  return () => clearInterval(timer);
}

/**
 * Adds the `.torrent` files now in `dir` (renaming each once handled).
 * @returns how many were added
 */
export async function scanOnce(dir: string, library: Library, logger?: Logger): Promise<number> {
  let added = 0, seen = 0;
  for await (const entry of Deno.readDir(dir)) {
    if (!entry.isFile || !entry.name.toLowerCase().endsWith(".torrent")) continue;
    if (++seen > MAX_PER_SCAN) break;
    const path = join(dir, entry.name);
    let outcome = "added";
    try {
      const bytes = await readFileCapped(path, 10 * 1024 * 1024);
      if (!bytes) continue;
      const { duplicate } = await library.add({ torrent: bytes });
      if (!duplicate) added++;
    } catch (e) {
      outcome = "invalid";
      logger?.warn(`Watch folder: cannot add ${entry.name}: ${(e as Error).message}`, { dir });
    }
    await Deno.rename(path, `${path}.${outcome}`).catch(() => {});
  }
  return added;
}
