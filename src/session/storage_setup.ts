/**
 * Opens a torrent's storage under its save path, decides which pieces are already
 * on disk (resume data when it still matches the files, else a rehash: RELIABILITY
 * rule 4, F2, F5; a sample of the pieces resume data vouches for is hashed again), and
 * saves resume data (`ResumeSaver`: on demand, and after changes at most every
 * `resumeSaveIntervalMs`), each time checking that the verified data is still on disk.
 *
 * Layer: driver.
 * @module
 */
import type { Metainfo } from "../metainfo/mod.ts";
import { checkExistingData, encodeResume, StorageLayout } from "../storage/mod.ts";
import { findLostFiles, type LostFile } from "../storage/lost_data.ts";
import { Bitfield } from "../util/bitfield.ts";
import type { FileStat, StorageId } from "../storage/disk_io.ts";
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
  /** True when a resume file was found (used or not). */
  readonly resumeFound: boolean;
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
    let unreadable: string | undefined;
    const resume = check.ignoreResume
      ? undefined
      : await ctx.resumeStore?.load(dir, meta.infoHashHex).catch((e) => {
        unreadable = `Cannot read resume data, checking all pieces: ${(e as Error).message}`;
        return undefined;
      });
    const layout = new StorageLayout(meta.files, meta.pieceLength);
    const checked = await checkExistingData(ctx.disk, id, {
      pieceHashes: meta.pieceHashes,
      layout,
      resume,
      infoHash: meta.infoHash,
      spotCheck: { pieces: ctx.settings.resumeSpotCheckPieces, random: ctx.random },
      ...(check.signal ? { signal: check.signal } : {}),
      ...(check.onProgress ? { onProgress: check.onProgress } : {}),
    });
    const { have, usedResume } = checked;
    const warning = checked.warning ?? unreadable;
    return { id, have, usedResume, warning, resumeFound: resume !== undefined };
  } catch (e) {
    await ctx.disk.close(id).catch(() => {}); // a failed or aborted check keeps no files open
    throw e;
  }
}

/** What {@linkcode ResumeSaver} reports to its torrent. */
export interface ResumeSaverHandlers {
  /** A save failed (a warning: the download goes on). */
  onError(error: unknown): void;
  /** Verified data is gone from disk: nothing more is saved (the old resume data stays). */
  onLost(lost: readonly LostFile[]): void;
}

/**
 * Keeps a torrent's resume data, and checks that the verified data is still on disk
 * (`findLostFiles`: every file at least as long as its verified bytes): with each save (on
 * demand, and after a change at most every `resumeSaveIntervalMs`), and between saves every
 * `fileCheckIntervalMs` while downloading. Once data is lost it saves nothing more, so the
 * last resume data (recorded while the files were whole) makes a restart recheck exactly
 * the files that changed.
 */
export class ResumeSaver {
  readonly #ctx: TorrentContext;
  readonly #meta: Metainfo;
  readonly #dir: string;
  readonly #picker: { has(index: number): boolean };
  readonly #handlers: ResumeSaverHandlers;
  readonly #layout: StorageLayout;
  #dirty = false;
  #savedAt = 0;
  #savedOnce = false;
  #checkedAt = 0;
  #lost = false;
  /** A resume file existed at start: it must be kept up to date even with nothing verified. */
  resumeFound = false;

  /** Saves `meta`'s state under `dir`; a failed save goes to `handlers`, never throws. */
  constructor(
    ctx: TorrentContext,
    meta: Metainfo,
    dir: string,
    picker: { has(index: number): boolean },
    handlers: ResumeSaverHandlers,
  ) {
    this.#ctx = ctx;
    this.#meta = meta;
    this.#dir = dir;
    this.#picker = picker;
    this.#handlers = handlers;
    this.#layout = new StorageLayout(meta.files, meta.pieceLength);
  }

  /**
   * A piece was verified: what is saved is out of date. The first one is saved at once, so
   * a resume file exists before the disk can fill up (the store may then rewrite it in place).
   */
  pieceVerified(id: StorageId): void {
    this.#dirty = true;
    if (this.#savedOnce) return;
    this.#savedOnce = true;
    void this.#run(id, "save");
  }

  /**
   * Saves if something changed and `resumeSaveIntervalMs` passed since the last save; else,
   * while downloading, checks the files when `fileCheckIntervalMs` passed.
   */
  tick(id: StorageId, now: number, downloading: boolean): void {
    const s = this.#ctx.settings;
    if (this.#dirty && now - this.#savedAt >= s.resumeSaveIntervalMs) void this.#run(id, "save");
    else if (downloading && now - this.#checkedAt >= s.fileCheckIntervalMs) {
      void this.#run(id, "check");
    }
  }

  /**
   * Checks that the verified data is on disk, then saves the resume data (nothing before
   * storage is open, nothing when no piece was ever verified here).
   * @returns false when verified data is gone (reported through `onLost`)
   */
  async save(id: StorageId): Promise<boolean> {
    return await this.#run(id, "save") !== "lost";
  }

  /**
   * Makes the resume file before the first piece is written, so it exists when the disk
   * fills up (the store rewrites it in place then). Failures are left to the writes.
   */
  async reserve(id: StorageId): Promise<void> {
    if (this.resumeFound || this.#savedOnce || !this.#ctx.resumeStore) return;
    this.#savedOnce = true;
    await this.#run(id, "reserve");
  }

  /**
   * The download is whole: check that every verified byte is on disk, then save.
   * @returns `"kept"`; `"lost"` when data is gone (reported through `onLost`); or the error
   *   that kept the files from being checked (not reported: the caller words it)
   */
  finish(id: StorageId): Promise<"kept" | "lost" | Error> {
    return this.#run(id, "final");
  }

  async #run(
    id: StorageId,
    mode: "check" | "save" | "final" | "reserve",
  ): Promise<"kept" | "lost" | Error> {
    if (id < 0 || this.#lost) return this.#lost ? "lost" : "kept";
    const now = this.#ctx.clock.now();
    this.#checkedAt = now;
    if (mode !== "check") {
      this.#dirty = false;
      this.#savedAt = now;
    }
    const meta = this.#meta;
    // Copied before the files are stat'ed: every recorded piece was written before its
    // file's recorded mtime.
    const have = new Bitfield(meta.pieceCount);
    for (let i = 0; i < meta.pieceCount; i++) if (this.#picker.has(i)) have.set(i);
    const empty = have.count === 0 &&
      (mode === "check" || (mode !== "reserve" && !this.resumeFound));
    if (empty) return "kept"; // nothing to keep
    let files: (FileStat | undefined)[];
    try {
      files = await this.#ctx.disk.statFiles(id);
    } catch (e) {
      if (mode === "final") return e instanceof Error ? e : new Error(String(e));
      if (mode === "save") this.#handlers.onError(e); // a failed check is tried again later
      // (and a failed reservation is left to the piece writes to report)
      return "kept";
    }
    const lost = findLostFiles(this.#layout, (i) => have.has(i), files);
    if (lost.length > 0 && !this.#lost) {
      this.#lost = true;
      this.#handlers.onLost(lost);
    }
    if (this.#lost) return "lost";
    if (mode === "check" || !this.#ctx.resumeStore) return "kept";
    try {
      const pieceCount = meta.pieceCount;
      const bytes = encodeResume({ infoHash: meta.infoHash, pieceCount, have, files });
      await this.#ctx.resumeStore.save(this.#dir, meta.infoHashHex, bytes);
    } catch (e) {
      if (mode !== "reserve") this.#handlers.onError(e);
    }
    return "kept";
  }
}
