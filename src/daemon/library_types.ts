/**
 * The daemon's persistent records and settings: what survives a restart (and a `kill -9`)
 * in the state database, and the session-wide options an operator or the RPC changes
 * (Transmission's session arguments, in its units where the RPC shows them).
 *
 * Layer: core (data only).
 * @module
 */

/** Which seeding limit applies: 0 the session's, 1 the torrent's own, 2 none (Transmission). */
export type LimitMode = 0 | 1 | 2;

/** A torrent's own options, kept across restarts. */
export interface TorrentPrefs {
  /** Priority per file: 0 = don't download, 1..7 (Transmission low/normal/high = 1/4/7). */
  readonly filePriorities?: readonly number[];
  /** Own download limit in bytes/s, used when `downloadLimited`. */
  readonly downloadLimit: number;
  /** Whether `downloadLimit` applies. */
  readonly downloadLimited: boolean;
  /** Own upload limit in bytes/s, used when `uploadLimited`. */
  readonly uploadLimit: number;
  /** Whether `uploadLimit` applies. */
  readonly uploadLimited: boolean;
  /** Seeding ratio limit mode. */
  readonly seedRatioMode: LimitMode;
  /** Own ratio limit (mode 1). */
  readonly seedRatioLimit: number;
  /** Seeding idle limit mode. */
  readonly seedIdleMode: LimitMode;
  /** Own idle limit in minutes (mode 1). */
  readonly seedIdleLimit: number;
  /** Position in the queue, 0 first. */
  readonly queuePosition: number;
  /** Download pieces in order. */
  readonly sequential: boolean;
}

/** One torrent as stored. */
export interface StoredTorrent {
  /** Hex info-hash (lower case): the key. */
  readonly infoHash: string;
  /** Display name. */
  readonly name: string;
  /** The whole `.torrent` (for a magnet: built once the metadata arrived). */
  readonly torrent?: Uint8Array;
  /** The magnet link, while the metadata is unknown. */
  readonly magnet?: string;
  /** Save path. */
  readonly dir: string;
  /** Stopped by the user (or by a seeding limit): not started by the queue. */
  readonly paused: boolean;
  /** A seeding limit was reached (Transmission's `isFinished`). */
  readonly finished: boolean;
  /** When added, seconds since the epoch. */
  readonly addedAt: number;
  /** When it completed, seconds since the epoch (0 = not yet). */
  readonly doneAt: number;
  /** Payload bytes uploaded over its lifetime. */
  readonly uploaded: number;
  /** Payload bytes downloaded over its lifetime. */
  readonly downloaded: number;
  /** Seconds spent downloading over its lifetime. */
  readonly secondsDownloading: number;
  /** Seconds spent seeding over its lifetime. */
  readonly secondsSeeding: number;
  /** The last error (empty when none). */
  readonly error: string;
  /** Own options. */
  readonly prefs: TorrentPrefs;
}

/** The daemon's session-wide options (Transmission's session arguments). */
export interface DaemonSettings {
  /** Default save path of added torrents. */
  readonly downloadDir: string;
  /** Start torrents when added (unless `paused` says otherwise). */
  readonly startAddedTorrents: boolean;
  /** Limit how many torrents download at once. */
  readonly downloadQueueEnabled: boolean;
  /** At most this many downloading. */
  readonly downloadQueueSize: number;
  /** Limit how many torrents seed at once. */
  readonly seedQueueEnabled: boolean;
  /** At most this many seeding. */
  readonly seedQueueSize: number;
  /** The session's ratio limit applies to torrents in mode 0. */
  readonly seedRatioLimited: boolean;
  /** The session's ratio limit. */
  readonly seedRatioLimit: number;
  /** The session's idle limit applies to torrents in mode 0. */
  readonly idleSeedingLimitEnabled: boolean;
  /** The session's idle limit, minutes. */
  readonly idleSeedingLimit: number;
  /** The global download limit applies. */
  readonly speedLimitDownEnabled: boolean;
  /** Global download limit, kB/s (1000 bytes, as Transmission). */
  readonly speedLimitDown: number;
  /** The global upload limit applies. */
  readonly speedLimitUpEnabled: boolean;
  /** Global upload limit, kB/s. */
  readonly speedLimitUp: number;
}

/** Defaults of {@linkcode DaemonSettings} (Transmission's, but a download directory). */
export function defaultDaemonSettings(downloadDir: string): DaemonSettings {
  return {
    downloadDir,
    startAddedTorrents: true,
    downloadQueueEnabled: true,
    downloadQueueSize: 5,
    seedQueueEnabled: false,
    seedQueueSize: 10,
    seedRatioLimited: false,
    seedRatioLimit: 2,
    idleSeedingLimitEnabled: false,
    idleSeedingLimit: 30,
    speedLimitDownEnabled: false,
    speedLimitDown: 100,
    speedLimitUpEnabled: false,
    speedLimitUp: 100,
  };
}

/** Defaults of {@linkcode TorrentPrefs}. */
export const DEFAULT_PREFS: TorrentPrefs = Object.freeze({
  downloadLimit: 100_000,
  downloadLimited: false,
  uploadLimit: 100_000,
  uploadLimited: false,
  seedRatioMode: 0,
  seedRatioLimit: 2,
  seedIdleMode: 0,
  seedIdleLimit: 30,
  queuePosition: 0,
  sequential: false,
});

/** Cumulative session statistics (Transmission's `cumulative-stats`). */
export interface SessionTotals {
  /** Payload bytes uploaded. */
  readonly uploadedBytes: number;
  /** Payload bytes downloaded. */
  readonly downloadedBytes: number;
  /** Torrents added. */
  readonly filesAdded: number;
  /** Daemon starts. */
  readonly sessionCount: number;
  /** Seconds the daemon ran. */
  readonly secondsActive: number;
}

/** Where the daemon's state lives (node:sqlite in the Deno binding; a Map in tests). */
export interface LibraryStore {
  /** Every stored torrent. */
  loadTorrents(): StoredTorrent[];
  /** Inserts or replaces one torrent. */
  saveTorrent(torrent: StoredTorrent): void;
  /** Forgets one torrent. */
  deleteTorrent(infoHash: string): void;
  /** A saved JSON value (settings, totals), or `undefined`. */
  loadValue(key: string): string | undefined;
  /** Saves a JSON value. */
  saveValue(key: string, value: string): void;
  /** Runs `fn`'s writes as one transaction (one sync), when the store can. */
  batch?(fn: () => void): void;
}

/** What a new record is made from. */
export interface NewRecord {
  /** Hex info-hash. */
  readonly infoHash: string;
  /** Display name. */
  readonly name: string;
  /** The `.torrent` bytes or the magnet link. */
  readonly source: { readonly torrent: Uint8Array } | { readonly magnet: string };
  /** Save path. */
  readonly dir: string;
  /** Added stopped. */
  readonly paused: boolean;
  /** Seconds since the epoch. */
  readonly addedAt: number;
  /** Options that differ from {@linkcode DEFAULT_PREFS}. */
  readonly prefs: Partial<TorrentPrefs>;
}

/**
 * A fresh record: nothing transferred, not done, default options.
 * @param r what it is made from
 * @returns the record
 */
export function newRecord(r: NewRecord): StoredTorrent {
  return {
    infoHash: r.infoHash,
    name: r.name,
    ...("torrent" in r.source ? { torrent: r.source.torrent } : { magnet: r.source.magnet }),
    dir: r.dir,
    paused: r.paused,
    finished: false,
    addedAt: r.addedAt,
    doneAt: 0,
    uploaded: 0,
    downloaded: 0,
    secondsDownloading: 0,
    secondsSeeding: 0,
    error: "",
    prefs: { ...DEFAULT_PREFS, ...r.prefs },
  };
}

/**
 * Cumulative totals plus this run, and this run's own (Transmission's `cumulative-stats` and
 * `current-stats`).
 * @param base totals saved before this run (its session counted)
 * @param run this run's bytes and seconds
 * @returns both
 */
export function sessionTotals(
  base: SessionTotals,
  run: { uploaded: number; downloaded: number; seconds: number },
): { cumulative: SessionTotals; current: SessionTotals } {
  return {
    current: {
      uploadedBytes: run.uploaded,
      downloadedBytes: run.downloaded,
      filesAdded: 0,
      sessionCount: 1,
      secondsActive: run.seconds,
    },
    cumulative: {
      ...base,
      uploadedBytes: base.uploadedBytes + run.uploaded,
      downloadedBytes: base.downloadedBytes + run.downloaded,
      secondsActive: base.secondsActive + run.seconds,
    },
  };
}
