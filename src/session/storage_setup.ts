/**
 * Opens a torrent's storage under its save path, decides which pieces are already
 * on disk (resume data when it still matches the files, else a rehash: RELIABILITY
 * rule 4, F2, F5), and saves resume data.
 *
 * Layer: driver.
 * @module
 */
import type { Metainfo } from "../metainfo/mod.ts";
import { captureResume, checkExistingData, StorageLayout } from "../storage/mod.ts";
import { Bitfield } from "../util/bitfield.ts";
import type { StorageId } from "../runtime/types.ts";
import type { TorrentContext } from "./context.ts";

/** An opened storage and what is already verified on it. */
export interface OpenedStorage {
  /** Disk handle. */
  readonly id: StorageId;
  /** Pieces verified on disk. */
  readonly have: Bitfield;
  /** True when resume data let us skip a full rehash. */
  readonly usedResume: boolean;
  /** Why resume data was not used, when it existed. */
  readonly warning: string | undefined;
}

/**
 * Opens storage for `meta` under `dir` and checks existing data.
 * @param ctx session services
 * @param meta the torrent
 * @param dir save path
 * @returns the handle and verified pieces
 * @throws {StorageError} when the storage cannot be opened
 */
export async function openTorrentStorage(
  ctx: TorrentContext,
  meta: Metainfo,
  dir: string,
): Promise<OpenedStorage> {
  const id = await ctx.disk.open({
    root: dir,
    files: meta.files.map((f) => ({ path: f.path, length: f.length })),
    pieceLength: meta.pieceLength,
    totalLength: meta.totalLength,
    pieceHashes: meta.pieceHashes,
  });
  const resume = await ctx.resumeStore?.load(dir, meta.infoHashHex).catch(() => undefined);
  const layout = new StorageLayout(meta.files, meta.pieceLength);
  const checked = await checkExistingData(ctx.disk, id, {
    pieceHashes: meta.pieceHashes,
    layout,
    resume,
    infoHash: meta.infoHash,
  });
  return { id, have: checked.have, usedResume: checked.usedResume, warning: checked.warning };
}

/**
 * Writes resume data for the verified pieces (atomically, through the store).
 * @param ctx session services
 * @param meta the torrent
 * @param dir save path
 * @param id storage handle
 * @param picker knows which pieces are verified
 */
export async function saveResume(
  ctx: TorrentContext,
  meta: Metainfo,
  dir: string,
  id: StorageId,
  picker: { has(index: number): boolean },
): Promise<void> {
  if (!ctx.resumeStore) return;
  const have = new Bitfield(meta.pieceCount);
  for (let i = 0; i < meta.pieceCount; i++) if (picker.has(i)) have.set(i);
  // Missing files are recorded as missing (their pieces are simply not trusted later).
  const bytes = await captureResume(ctx.disk, id, { infoHash: meta.infoHash, have });
  await ctx.resumeStore.save(dir, meta.infoHashHex, bytes);
}
