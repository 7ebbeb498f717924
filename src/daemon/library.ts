/**
 * The daemon's library: many torrents in one {@linkcode Session}, each with a record that
 * survives restarts (a `LibraryStore`: node:sqlite in the Deno binding), Transmission-style
 * ids, the download and seed queues, seeding limits, global and per-torrent rate limits,
 * lifetime counters, and a hook when a download completes.
 *
 * Every change is written to the store at once (add, remove, start, stop, settings);
 * lifetime counters every `saveIntervalMs` and at close. After a `kill -9` the torrents
 * come back from the store and their pieces from resume data plus a recheck of files that
 * changed since (RELIABILITY F1).
 *
 * Layer: driver (decisions come from the queue core).
 * @module
 */
import type { Clock, Timer } from "../runtime/types.ts";
import type { Session } from "../session/session.ts";
import type { Torrent } from "../session/torrent_handle.ts";
import type { EngineEvent } from "../session/events.ts";
import { parseMagnet, parseTorrent } from "../metainfo/mod.ts";
import { every } from "../util/every.ts";
import { planQueue, seedingLimitReached } from "./queue.ts";
import { isComplete, selectEntries, torrentFile } from "./torrent_file.ts";
import {
  type DaemonSettings,
  type LibraryStore,
  newRecord,
  type SessionTotals,
  sessionTotals,
  type StoredTorrent,
  type TorrentPrefs,
} from "./library_types.ts";

/** A torrent that finished downloading, for the completion hook. */
export interface CompletedTorrent {
  /** Transmission id. */
  readonly id: number;
  /** Hex info-hash. */
  readonly infoHash: string;
  /** Name. */
  readonly name: string;
  /** Save path. */
  readonly dir: string;
}

/** Services and options of a {@linkcode Library}. */
export interface LibraryOptions {
  /** The engine. */
  readonly session: Session;
  /** Where records live. */
  readonly store: LibraryStore;
  /** Monotonic time and timers. */
  readonly clock: Clock;
  /** Wall-clock milliseconds since the epoch (dates shown to users). */
  readonly wallClock: () => number;
  /** Settings used when the store has none. */
  readonly settings: DaemonSettings;
  /** Settings the operator gave explicitly: they win over saved ones at start. */
  readonly overrides?: Partial<DaemonSettings>;
  /** Called once per completed download (the roof runs the operator's command). */
  readonly onComplete?: (torrent: CompletedTorrent) => void;
  /** Counters are saved this often. Default 10,000 ms. */
  readonly saveIntervalMs?: number;
}

export { isComplete, magnetOf, torrentFile } from "./torrent_file.ts";

/** One torrent in the library. */
export interface LibraryEntry {
  /** Transmission id (stable while the daemon runs). */
  readonly id: number;
  /** The engine's handle. */
  readonly torrent: Torrent;
  /** The stored record (replaced on every change). */
  record: StoredTorrent;
  /** Wall ms of the last payload transfer or start. */
  lastActiveAt: number;
  /** Wall ms it started running this time, 0 while paused. */
  runningSince: number;
  /** Started with `torrent-start-now`: runs whatever the queue says, until stopped. */
  forced?: boolean;
}

/** Options of {@linkcode Library.add}. */
export interface LibraryAddOptions {
  /** Save path (default: the settings' download directory). */
  readonly dir?: string;
  /** Add stopped (default: not `startAddedTorrents`). */
  readonly paused?: boolean;
  /** File priorities (0 = don't download). */
  readonly filePriorities?: readonly number[];
}

const RECENT_MS = 60_000;

/** Many torrents, their records, the queue and the limits. */
export class Library {
  readonly #o: LibraryOptions;
  readonly #entries = new Map<number, LibraryEntry>();
  readonly #byHash = new Map<string, LibraryEntry>();
  readonly #removed: { id: number; at: number }[] = [];
  readonly #abort = new AbortController();
  readonly #saved = new WeakMap<LibraryEntry, string>();
  #settings: DaemonSettings;
  #totals: SessionTotals;
  #nextId = 1;
  #timer: Timer | undefined;
  #startedAt: number;
  #savedAt: number;

  /** Builds the library; {@linkcode open} loads the stored torrents. */
  constructor(options: LibraryOptions) {
    this.#o = options;
    const saved = options.store.loadValue("settings");
    this.#settings = {
      ...options.settings,
      ...(saved ? JSON.parse(saved) : {}),
      ...options.overrides,
    };
    const totals = options.store.loadValue("totals");
    this.#totals = totals ? JSON.parse(totals) : {
      uploadedBytes: 0,
      downloadedBytes: 0,
      filesAdded: 0,
      sessionCount: 0,
      secondsActive: 0,
    };
    this.#totals = { ...this.#totals, sessionCount: this.#totals.sessionCount + 1 };
    this.#startedAt = this.#savedAt = options.wallClock();
  }

  /** The session-wide options. */
  get settings(): DaemonSettings {
    return this.#settings;
  }

  /** The engine. */
  get session(): Session {
    return this.#o.session;
  }

  /**
   * Loads every stored torrent (checked, paused), applies the limits, then lets the queue
   * start what should run; starts the periodic work.
   */
  async open(): Promise<void> {
    this.#applySpeedLimits();
    void this.#watchEvents();
    const records = this.#o.store.loadTorrents().sort((a, b) =>
      a.prefs.queuePosition - b.prefs.queuePosition
    );
    await Promise.all(records.map((r) => this.#load(r).catch(() => undefined)));
    this.#timer = every(this.#o.clock, 1_000, () => this.tick(), () => {});
    this.tick();
  }

  /**
   * Adds a torrent from `.torrent` bytes or a magnet link.
   * @param source the torrent
   * @param options save path, paused, file priorities
   * @returns the entry, and whether it was already there (then nothing changed)
   * @throws {MetainfoError} for an invalid torrent or link
   */
  async add(
    source: { readonly torrent: Uint8Array } | { readonly magnet: string },
    options: LibraryAddOptions = {},
  ): Promise<{ entry: LibraryEntry; duplicate: boolean }> {
    const meta = "torrent" in source ? parseTorrent(source.torrent) : undefined;
    const link = "magnet" in source ? parseMagnet(source.magnet) : undefined;
    const hex = meta?.infoHashHex ?? link!.infoHashHex;
    const existing = this.#byHash.get(hex);
    if (existing) return { entry: existing, duplicate: true };
    const position = Math.max(
      -1,
      ...[...this.#entries.values()].map((e) => e.record.prefs.queuePosition),
    ) + 1;
    const record = newRecord({
      infoHash: hex,
      name: meta?.name ?? link?.displayName ?? hex,
      source,
      dir: options.dir ?? this.#settings.downloadDir,
      paused: options.paused ?? !this.#settings.startAddedTorrents,
      addedAt: Math.floor(this.#o.wallClock() / 1000),
      prefs: {
        queuePosition: position,
        ...(options.filePriorities ? { filePriorities: options.filePriorities } : {}),
      },
    });
    const entry = await this.#load(record);
    this.#o.store.saveTorrent(record);
    this.#totals = { ...this.#totals, filesAdded: this.#totals.filesAdded + 1 };
    this.tick();
    return { entry, duplicate: false };
  }

  /** Every entry, by id. */
  entries(): LibraryEntry[] {
    return [...this.#entries.values()];
  }

  /**
   * Finds entries by Transmission `ids`: omitted = all; a number; an array of numbers and
   * hash strings; or `"recently-active"`.
   * @returns the entries (unknown ids are skipped, as Transmission does)
   */
  select(ids: unknown): LibraryEntry[] {
    return selectEntries(ids, this.entries(), this.#o.wallClock() - RECENT_MS);
  }

  /** Ids removed in the last minute (for `recently-active`). */
  recentlyRemoved(): number[] {
    const since = this.#o.wallClock() - RECENT_MS;
    return this.#removed.filter((r) => r.at >= since).map((r) => r.id);
  }

  /** Starts torrents (the queue may hold them; `now` starts them regardless of it). */
  async start(entries: readonly LibraryEntry[], now = false): Promise<void> {
    for (const e of entries) {
      this.#update(e, { paused: false, finished: false, error: "" });
      e.forced = now;
      if (now) await this.#run(e);
    }
    this.tick();
  }

  /** Stops torrents (paused until started again). */
  async stop(entries: readonly LibraryEntry[]): Promise<void> {
    await Promise.all(entries.map(async (e) => {
      this.#update(e, { paused: true });
      await this.#halt(e);
    }));
  }

  /** Rehashes torrents (full verify). */
  async verify(entries: readonly LibraryEntry[]): Promise<void> {
    await Promise.all(entries.map((e) => e.torrent.recheck()));
  }

  /**
   * Removes torrents; with `deleteData` their files go too.
   * @throws {Error} when deleting files fails
   */
  async remove(entries: readonly LibraryEntry[], deleteData: boolean): Promise<void> {
    for (const e of entries) {
      this.#entries.delete(e.id);
      this.#byHash.delete(e.record.infoHash);
      this.#o.store.deleteTorrent(e.record.infoHash);
      this.#removed.push({ id: e.id, at: this.#o.wallClock() });
      await this.#o.session.remove(e.record.infoHash, { deleteFiles: deleteData });
    }
    while (this.#removed.length > 1000) this.#removed.shift();
  }

  /**
   * Moves torrents' data to `dir` (or, without `move`, only points them there).
   * @throws {Error} when a move fails
   */
  async setLocation(entries: readonly LibraryEntry[], dir: string, move: boolean): Promise<void> {
    for (const e of entries) {
      if (move) await e.torrent.moveStorage(dir);
      else {
        // Transmission: look for the data at the new place (a recheck there)
        const wasRunning = e.runningSince > 0;
        await this.#halt(e);
        await this.#reload(e, dir);
        if (wasRunning) this.tick();
      }
      this.#update(e, { dir });
    }
  }

  /**
   * Changes a torrent's own options (file priorities, limits, queue position, ...).
   * @throws {RangeError} for bad file priorities
   */
  setPrefs(e: LibraryEntry, prefs: Partial<TorrentPrefs>): void {
    const next = { ...e.record.prefs, ...prefs };
    if (prefs.filePriorities) e.torrent.setFilePriorities(prefs.filePriorities);
    e.torrent.setRateLimits({
      download: next.downloadLimited ? next.downloadLimit : 0,
      upload: next.uploadLimited ? next.uploadLimit : 0,
    });
    this.#update(e, { prefs: next });
  }

  /** Changes session-wide options (saved at once). */
  setSettings(changes: Partial<DaemonSettings>): void {
    this.#settings = { ...this.#settings, ...changes };
    this.#o.store.saveValue("settings", JSON.stringify(this.#settings));
    this.#applySpeedLimits();
    this.tick();
  }

  /** Lifetime bytes of an entry (stored base plus this run). */
  totals(e: LibraryEntry): { uploaded: number; downloaded: number } {
    const s = e.torrent.stats();
    return {
      uploaded: e.record.uploaded + s.bytesUploaded,
      downloaded: e.record.downloaded + s.bytesDownloaded,
    };
  }

  /** Cumulative and current session statistics. */
  sessionTotals(): { cumulative: SessionTotals; current: SessionTotals } {
    let up = 0, down = 0;
    for (const e of this.#entries.values()) {
      const s = e.torrent.stats();
      up += s.bytesUploaded;
      down += s.bytesDownloaded;
    }
    const seconds = Math.floor((this.#o.wallClock() - this.#startedAt) / 1000);
    return sessionTotals(this.#totals, { uploaded: up, downloaded: down, seconds });
  }

  /** Queue and seeding limits, activity, and periodic saving (once a second). */
  tick(): void {
    const now = this.#o.wallClock();
    for (const e of this.#entries.values()) this.#observe(e, now);
    const s = this.#settings;
    const plan = planQueue(
      [...this.#entries.values()].map((e) => ({
        id: e.id,
        // a torrent in error waits for the user to start it again (that clears the error)
        wanted: !e.record.paused && !e.record.finished && !e.record.error &&
          e.torrent.stats().state !== "error",
        forced: e.forced === true,
        complete: isComplete(e),
        running: e.runningSince > 0,
        position: e.record.prefs.queuePosition,
      })),
      {
        downloads: s.downloadQueueEnabled ? s.downloadQueueSize : Infinity,
        seeds: s.seedQueueEnabled ? s.seedQueueSize : Infinity,
      },
    );
    for (const id of plan.stop) void this.#halt(this.#entries.get(id)!);
    for (const id of plan.start) void this.#run(this.#entries.get(id)!);
    if (now - this.#savedAt >= (this.#o.saveIntervalMs ?? 10_000)) this.#saveCounters(now);
  }

  /** Saves every record and the totals, then closes the session (stopped announces). */
  async close(): Promise<void> {
    this.#timer?.cancel();
    this.#abort.abort();
    this.#saveCounters(this.#o.wallClock());
    const { cumulative } = this.sessionTotals();
    this.#o.store.saveValue("totals", JSON.stringify(cumulative));
    await this.#o.session.close();
  }

  // ---- internals ----------------------------------------------------------------

  async #load(record: StoredTorrent): Promise<LibraryEntry> {
    const session = this.#o.session;
    const p = record.prefs;
    const options = {
      dir: record.dir,
      seed: true,
      paused: true,
      sequential: p.sequential,
      ...(p.filePriorities ? { filePriorities: p.filePriorities } : {}),
      maxDownloadBytesPerSecond: p.downloadLimited ? p.downloadLimit : 0,
      maxUploadBytesPerSecond: p.uploadLimited ? p.uploadLimit : 0,
    };
    const torrent = record.torrent
      ? await session.add(parseTorrent(record.torrent), options)
      : session.addMagnet(parseMagnet(record.magnet!), options);
    const entry: LibraryEntry = {
      id: this.#nextId++,
      torrent,
      record,
      lastActiveAt: 0,
      runningSince: 0,
    };
    this.#entries.set(entry.id, entry);
    this.#byHash.set(record.infoHash, entry);
    return entry;
  }

  /** Re-adds a torrent pointed at another save path (paused; the queue restarts it). */
  async #reload(e: LibraryEntry, dir: string): Promise<void> {
    await this.#o.session.remove(e.record.infoHash);
    this.#update(e, { dir });
    const fresh = await this.#load(e.record);
    this.#entries.delete(fresh.id);
    this.#nextId--;
    (e as { torrent: Torrent }).torrent = fresh.torrent;
    this.#byHash.set(e.record.infoHash, e);
  }

  async #run(e: LibraryEntry): Promise<void> {
    if (e.runningSince > 0) return;
    e.runningSince = e.lastActiveAt = this.#o.wallClock();
    await e.torrent.resume();
  }

  async #halt(e: LibraryEntry): Promise<void> {
    if (e.runningSince === 0 && e.torrent.stats().state === "paused") return;
    this.#account(e, this.#o.wallClock());
    e.runningSince = 0;
    e.forced = false;
    await e.torrent.pause();
  }

  /** Activity, seconds downloading or seeding, errors and seeding limits. */
  #observe(e: LibraryEntry, now: number): void {
    const s = e.torrent.stats();
    if (s.downloadBps > 0 || s.uploadBps > 0) e.lastActiveAt = now;
    if (s.state === "error" && e.record.error !== e.torrent.error) {
      this.#update(e, { error: e.torrent.error ?? "error" });
    }
    if (e.runningSince === 0 || s.state !== "seeding") return;
    const { uploaded, downloaded } = this.totals(e);
    const idleMinutes = (now - e.lastActiveAt) / 60_000;
    const sample = { uploaded, downloaded, size: s.bytesWanted, idleMinutes };
    if (seedingLimitReached(sample, e.record.prefs, this.#settings)) {
      this.#update(e, { paused: true, finished: true });
      void this.#halt(e);
    }
  }

  /** Adds the running time since the last count to the downloading or seeding seconds. */
  #account(e: LibraryEntry, now: number): void {
    if (e.runningSince === 0) return;
    const seconds = Math.floor((now - e.runningSince) / 1000);
    if (seconds <= 0) return;
    e.runningSince += seconds * 1000;
    const key = isComplete(e) ? "secondsSeeding" : "secondsDownloading";
    e.record = { ...e.record, [key]: e.record[key] + seconds };
  }

  /** Saves the counters that changed, in one transaction. */
  #saveCounters(now: number): void {
    this.#savedAt = now;
    const save = () => {
      for (const e of this.#entries.values()) {
        this.#account(e, now);
        const { uploaded, downloaded } = this.totals(e);
        const key =
          `${uploaded}/${downloaded}/${e.record.secondsDownloading}/${e.record.secondsSeeding}`;
        if (this.#saved.get(e) === key) continue;
        this.#saved.set(e, key);
        this.#o.store.saveTorrent({ ...e.record, uploaded, downloaded });
      }
    };
    if (this.#o.store.batch) this.#o.store.batch(save);
    else save();
  }

  #update(e: LibraryEntry, changes: Partial<StoredTorrent>): void {
    e.record = { ...e.record, ...changes };
    const { uploaded, downloaded } = this.totals(e);
    this.#o.store.saveTorrent({ ...e.record, uploaded, downloaded });
  }

  #applySpeedLimits(): void {
    const s = this.#settings;
    this.#o.session.setRateLimits({
      maxDownloadBytesPerSecond: s.speedLimitDownEnabled ? s.speedLimitDown * 1000 : 0,
      maxUploadBytesPerSecond: s.speedLimitUpEnabled ? s.speedLimitUp * 1000 : 0,
    });
  }

  /** Completion dates and the hook; a magnet's metadata is stored as a `.torrent`. */
  async #watchEvents(): Promise<void> {
    const events = this.#o.session.events({ categories: ["torrent"], signal: this.#abort.signal });
    for await (const ev of events) this.#onEvent(ev);
  }

  #onEvent(ev: EngineEvent): void {
    if (!("infoHash" in ev)) return;
    const e = this.#byHash.get(ev.infoHash);
    if (!e) return;
    if (ev.type === "metadata-received") {
      const meta = e.torrent.metainfo;
      if (!meta) return;
      const { magnet: _, ...rest } = e.record;
      e.record = { ...rest, name: meta.name, torrent: torrentFile(meta) };
      this.#update(e, {});
    } else if (ev.type === "torrent-completed") {
      this.#update(e, { doneAt: Math.floor(this.#o.wallClock() / 1000) });
      this.#o.onComplete?.({
        id: e.id,
        infoHash: e.record.infoHash,
        name: e.record.name,
        dir: e.record.dir,
      });
      this.tick(); // a seed may now wait in the seed queue, and a download may start
    } else if (ev.type === "torrent-error") {
      this.#update(e, { error: ev.message });
    }
  }
}
