/**
 * Opens a torrent's storage under its save path, decides which pieces are already
 * on disk (resume data when it still matches the files, else a rehash: RELIABILITY
 * rule 4, F2, F5), and saves resume data (`ResumeSaver`: on demand, and after changes at
 * most every `resumeSaveIntervalMs`).
 *
 * Layer: driver.
 * @module
 */
import type { Metainfo } from "../metainfo/mod.ts";
import { captureResume, checkExistingData, StorageLayout } from "../storage/mod.ts";
import { Bitfield } from "../util/bitfield.ts";
import type { StorageId } from "../storage/disk_io.ts";
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

/** How {@linkcode openTorrentStorage} checks the data. */
export interface CheckOptions {
  /** Stops the check (the storage is closed again and the promise rejects). */
  readonly signal?: AbortSignal;
  /** Rehash every piece, whatever the resume data says (a recheck). */
  readonly ignoreResume?: boolean;
  /** Pieces hashed so far. */
  readonly onProgress?: (done: number) => void;
}

/**
 * Opens storage for `meta` under `dir` and checks existing data.
 * @param ctx session services
 * @param meta the torrent
 * @param dir save path
 * @param check abort signal, full rehash, progress
 * @returns the handle and verified pieces
 * @throws {StorageError} when the storage cannot be opened (or the check is aborted)
 */
export async function openTorrentStorage(
  ctx: TorrentContext,
  meta: Metainfo,
  dir: string,
  check: CheckOptions = {},
): Promise<OpenedStorage> {
  const id = await ctx.disk.open({
    root: dir,
    files: meta.files.map((f) => ({ path: f.path, length: f.length })),
    pieceLength: meta.pieceLength,
    totalLength: meta.totalLength,
    pieceHashes: meta.pieceHashes,
  });
  try {
    const resume = check.ignoreResume
      ? undefined
      : await ctx.resumeStore?.load(dir, meta.infoHashHex).catch(() => undefined);
    const layout = new StorageLayout(meta.files, meta.pieceLength);
    const checked = await checkExistingData(ctx.disk, id, {
      pieceHashes: meta.pieceHashes,
      layout,
      resume,
      infoHash: meta.infoHash,
      ...(check.signal ? { signal: check.signal } : {}),
      ...(check.onProgress ? { onProgress: check.onProgress } : {}),
    });
    return { id, have: checked.have, usedResume: checked.usedResume, warning: checked.warning };
  } catch (e) {
    await ctx.disk.close(id).catch(() => {}); // a failed or aborted check keeps no files open
    throw e;
  }
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

/** When a torrent writes its resume data: on demand, and after a change at most every interval. */
export class ResumeSaver {
  readonly #ctx: TorrentContext;
  readonly #meta: Metainfo;
  readonly #dir: string;
  readonly #picker: { has(index: number): boolean };
  readonly #onError: (error: unknown) => void;
  #dirty = false;
  #savedAt = 0;

  /** Saves `meta`'s state under `dir`; a failed save goes to `onError`, never throws. */
  constructor(
    ctx: TorrentContext,
    meta: Metainfo,
    dir: string,
    picker: { has(index: number): boolean },
    onError: (error: unknown) => void,
  ) {
    this.#ctx = ctx;
    this.#meta = meta;
    this.#dir = dir;
    this.#picker = picker;
    this.#onError = onError;
  }

  /** A piece was verified: what is saved is out of date. */
  markDirty(): void {
    this.#dirty = true;
  }

  /** Saves if something changed and `resumeSaveIntervalMs` passed since the last save. */
  saveIfDue(id: StorageId, now: number): void {
    if (this.#dirty && now - this.#savedAt >= this.#ctx.settings.resumeSaveIntervalMs) {
      void this.save(id);
    }
  }

  /** Saves now (nothing before storage is open). */
  async save(id: StorageId): Promise<void> {
    if (id < 0) return;
    this.#dirty = false;
    this.#savedAt = this.#ctx.clock.now();
    try {
      await saveResume(this.#ctx, this.#meta, this.#dir, id, this.#picker);
    } catch (e) {
      this.#onError(e);
    }
  }
}
