/**
 * `torrent-get` fields (Transmission RPC 16, as Transmission 3.00 answers them): one
 * function per field over a lazily computed view of a library entry. Figures swarmd does
 * not have are answered honestly as zero or empty (see `NOT_TRACKED`), never invented.
 *
 * Layer: core (reads snapshots only).
 * @module
 */
import type { TorrentStats } from "../session/events.ts";
import type { PeerInfo } from "../session/peer_info.ts";
import type { Metainfo } from "../metainfo/mod.ts";
import { parseHostPort } from "../util/address.ts";
import { isComplete, type LibraryEntry, magnetOf } from "./library.ts";
import type { DaemonSettings } from "./library_types.ts";

/** Transmission's `status` values. */
export const STATUS = Object.freeze({
  stopped: 0,
  checkWait: 1,
  check: 2,
  downloadWait: 3,
  download: 4,
  seedWait: 5,
  seed: 6,
});

/** Bytes in Transmission's "kB" of speed limits (3.00 uses 1000). */
export const SPEED_UNIT = 1000;

/** What a field reads, computed once per torrent per request. */
export class TorrentView {
  readonly entry: LibraryEntry;
  readonly settings: DaemonSettings;
  readonly nowSeconds: number;
  readonly peerLimit: number;
  #stats: TorrentStats | undefined;
  #peers: PeerInfo[] | undefined;
  #files: number[] | undefined;

  /** A view of `entry`. */
  constructor(
    entry: LibraryEntry,
    settings: DaemonSettings,
    nowSeconds: number,
    peerLimit: number,
  ) {
    this.peerLimit = peerLimit;
    this.entry = entry;
    this.settings = settings;
    this.nowSeconds = nowSeconds;
  }

  /** Engine statistics. */
  get stats(): TorrentStats {
    return this.#stats ??= this.entry.torrent.stats();
  }

  /** Connected peers. */
  get peers(): PeerInfo[] {
    return this.#peers ??= this.entry.torrent.peers();
  }

  /** Verified bytes per file. */
  get fileBytes(): number[] {
    return this.#files ??= this.entry.torrent.fileProgress();
  }

  /** Metainfo, once known. */
  get meta(): Metainfo | undefined {
    return this.entry.torrent.metainfo;
  }

  /** Wanted bytes not yet verified. */
  get left(): number {
    return Math.max(0, this.stats.bytesWanted - this.stats.bytesVerified);
  }

  /** Per-file priority 0..7 (4 when none is set). */
  priority(i: number): number {
    return this.entry.torrent.filePriorities?.[i] ?? 4;
  }
}

/** Our 0..7 priority as Transmission's -1 (low), 0 (normal), 1 (high). */
function trPriority(p: number): number {
  return p === 0 || p === 4 ? 0 : p < 4 ? -1 : 1;
}

/** Transmission status of an entry. */
export function statusOf(v: TorrentView): number {
  const state = v.stats.state;
  if (state === "checking") return STATUS.check;
  if (state === "downloading" || state === "metadata") return STATUS.download;
  if (state === "seeding") return STATUS.seed;
  if (state === "paused" && !v.entry.record.paused && !v.entry.record.finished) {
    return isComplete(v.entry) ? STATUS.seedWait : STATUS.downloadWait;
  }
  return STATUS.stopped;
}

/** The error that stopped a torrent, until it is started again. */
function errorText(v: TorrentView): string {
  if (v.entry.record.error) return v.entry.record.error;
  return v.stats.state === "error" ? v.entry.torrent.error ?? "error" : "";
}

function ratio(up: number, down: number, size: number): number {
  const base = down > 0 ? down : size;
  return base > 0 ? up / base : -1; // TR_RATIO_NA
}

function peerAddress(p: PeerInfo): { address: string; port: number } {
  const a = parseHostPort(p.id);
  return a ? { address: a.host, port: a.port } : { address: p.id, port: 0 };
}

function peerRow(p: PeerInfo, pieceCount: number): Record<string, unknown> {
  const downloading = !p.peerChoking && p.amInterested;
  const uploading = !p.amChoking && p.peerInterested;
  // Transmission's flag letters: D/d downloading, U/u uploading, E encrypted, I incoming,
  // T uTP.
  const flags = (downloading ? (p.downloadBps > 0 ? "D" : "d") : "") +
    (uploading ? (p.uploadBps > 0 ? "U" : "u") : "") + (p.encrypted ? "E" : "") +
    (p.outgoing ? "" : "I") + (p.transport === "utp" ? "T" : "");
  return {
    ...peerAddress(p),
    clientName: p.client,
    clientIsChoked: p.peerChoking,
    clientIsInterested: p.amInterested,
    flagStr: flags,
    isDownloadingFrom: downloading && p.downloadBps > 0,
    isEncrypted: p.encrypted,
    isIncoming: !p.outgoing,
    isUploadingTo: uploading && p.uploadBps > 0,
    isUTP: p.transport === "utp",
    peerIsChoked: p.amChoking,
    peerIsInterested: p.peerInterested,
    progress: p.isSeed ? 1 : pieceCount > 0 ? p.piecesHave / pieceCount : 0,
    rateToClient: p.downloadBps,
    rateToPeer: p.uploadBps,
  };
}

function trackerTiers(v: TorrentView): string[][] {
  return v.meta?.announceList ?? [];
}

function trackers(v: TorrentView): Record<string, unknown>[] {
  let id = 0;
  return trackerTiers(v).flatMap((tier, t) =>
    tier.map((announce) => ({ announce, id: id++, scrape: scrapeOf(announce), tier: t }))
  );
}

function scrapeOf(announce: string): string {
  return /\/announce([^/]*)$/.test(announce)
    ? announce.replace(/\/announce([^/]*)$/, "/scrape$1")
    : "";
}

function trackerStats(v: TorrentView): Record<string, unknown>[] {
  const live = v.stats.trackers ?? [];
  return trackers(v).map((t) => {
    const s = live.find((l) =>
      l.url === t.announce || l.url.split("?")[0] === String(t.announce).split("?")[0]
    );
    const host = hostOf(String(t.announce));
    return {
      ...t,
      announceState: s ? (s.nextAnnounceAt !== undefined ? 1 : 0) : 0,
      downloadCount: -1,
      hasAnnounced: s?.lastAnnounceAt !== undefined,
      hasScraped: false,
      host,
      isBackup: false,
      lastAnnouncePeerCount: s?.peersReturned ?? 0,
      lastAnnounceResult: s?.lastError ?? (s?.lastAnnounceAt ? "Success" : ""),
      lastAnnounceStartTime: 0,
      lastAnnounceSucceeded: s !== undefined && s.lastError === undefined &&
        s.lastAnnounceAt !== undefined,
      lastAnnounceTime: s?.lastAnnounceAt ? Math.floor(s.lastAnnounceAt / 1000) : 0,
      lastAnnounceTimedOut: false,
      lastScrapeResult: "",
      lastScrapeStartTime: 0,
      lastScrapeSucceeded: false,
      lastScrapeTime: 0,
      lastScrapeTimedOut: false,
      leecherCount: s?.leechers ?? -1,
      nextAnnounceTime: s?.nextAnnounceAt ? Math.floor(s.nextAnnounceAt / 1000) : 0,
      nextScrapeTime: 0,
      scrapeState: 0,
      seederCount: s?.seeders ?? -1,
      sitename: host.split(".").slice(-2, -1)[0] ?? host,
    };
  });
}

function hostOf(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return "";
  }
}

function base64(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(text);
}

function eta(v: TorrentView): number {
  const s = v.stats;
  if (s.state !== "downloading") return -1; // TR_ETA_NOT_AVAIL
  return s.downloadBps > 0 ? Math.round(v.left / s.downloadBps) : -2; // TR_ETA_UNKNOWN
}

type Field = (v: TorrentView) => unknown;

/** Every field torrent-get answers. */
export const TORRENT_FIELDS: Readonly<Record<string, Field>> = {
  activityDate: (v) => Math.floor(v.entry.lastActiveAt / 1000),
  addedDate: (v) => v.entry.record.addedAt,
  bandwidthPriority: () => 0,
  comment: (v) => v.meta?.comment ?? "",
  corruptEver: () => 0,
  creator: (v) => v.meta?.createdBy ?? "",
  dateCreated: (v) => v.meta?.creationDate ?? 0,
  desiredAvailable: (v) => v.stats.seeds > 0 ? v.left : 0,
  doneDate: (v) => v.entry.record.doneAt,
  downloadDir: (v) => v.entry.record.dir,
  downloadedEver: (v) => v.entry.record.downloaded + v.stats.bytesDownloaded,
  downloadLimit: (v) => Math.round(v.entry.record.prefs.downloadLimit / SPEED_UNIT),
  downloadLimited: (v) => v.entry.record.prefs.downloadLimited,
  editDate: () => 0,
  error: (v) => errorText(v) ? 3 : 0, // TR_STAT_LOCAL_ERROR
  errorString: errorText,
  eta,
  etaIdle: () => -1,
  "file-count": (v) => v.meta?.files.length ?? 0,
  files: (v) =>
    (v.meta?.files ?? []).map((f, i) => ({
      bytesCompleted: v.fileBytes[i] ?? 0,
      length: f.length,
      name: f.path.join("/"),
    })),
  fileStats: (v) =>
    (v.meta?.files ?? []).map((_, i) => ({
      bytesCompleted: v.fileBytes[i] ?? 0,
      wanted: v.priority(i) > 0,
      priority: trPriority(v.priority(i)),
    })),
  hashString: (v) => v.entry.record.infoHash,
  haveUnchecked: () => 0,
  haveValid: (v) => v.stats.bytesVerified,
  honorsSessionLimits: () => true,
  id: (v) => v.entry.id,
  isFinished: (v) => v.entry.record.finished,
  isPrivate: (v) => v.meta?.isPrivate ?? false,
  isStalled: (v) =>
    v.stats.state === "downloading" && v.stats.downloadBps === 0 && v.stats.peers === 0,
  labels: () => [],
  leftUntilDone: (v) => v.left,
  magnetLink: (v) => v.meta ? magnetOf(v.meta) : v.entry.record.magnet ?? "",
  manualAnnounceTime: () => -1,
  maxConnectedPeers: (v) => v.peerLimit,
  metadataPercentComplete: (v) => v.meta ? 1 : 0,
  name: (v) => v.entry.torrent.name || v.entry.record.name,
  "peer-limit": (v) => v.peerLimit,
  peers: (v) => v.peers.map((p) => peerRow(p, v.stats.pieceCount)),
  peersConnected: (v) => v.stats.peers,
  peersFrom: (v) => ({
    fromCache: 0,
    fromDht: 0,
    fromIncoming: v.peers.filter((p) => !p.outgoing).length,
    fromLpd: 0,
    fromLtep: 0,
    fromPex: 0,
    fromTracker: 0, // the source of a peer we dialed is not kept per connection
  }),
  peersGettingFromUs: (v) => v.peers.filter((p) => p.uploadBps > 0).length,
  peersSendingToUs: (v) => v.peers.filter((p) => p.downloadBps > 0).length,
  percentComplete: (v) =>
    v.meta && v.meta.totalLength > 0 ? v.stats.piecesHave / v.stats.pieceCount : 0,
  percentDone: (v) => v.stats.bytesWanted > 0 ? v.stats.bytesVerified / v.stats.bytesWanted : 0,
  pieces: (v) => base64(v.entry.torrent.piecesBitfield()),
  pieceCount: (v) => v.meta?.pieceCount ?? 0,
  pieceSize: (v) => v.meta?.pieceLength ?? 0,
  priorities: (v) => (v.meta?.files ?? []).map((_, i) => trPriority(v.priority(i))),
  "primary-mime-type": () => "application/octet-stream",
  queuePosition: (v) => v.entry.record.prefs.queuePosition,
  rateDownload: (v) => v.stats.downloadBps,
  rateUpload: (v) => v.stats.uploadBps,
  recheckProgress: (v) =>
    v.stats.state === "checking" && v.meta ? v.entry.torrent.checkedPieces / v.meta.pieceCount : 0,
  secondsDownloading: (v) => v.entry.record.secondsDownloading,
  secondsSeeding: (v) => v.entry.record.secondsSeeding,
  seedIdleLimit: (v) => v.entry.record.prefs.seedIdleLimit,
  seedIdleMode: (v) => v.entry.record.prefs.seedIdleMode,
  seedRatioLimit: (v) => v.entry.record.prefs.seedRatioLimit,
  seedRatioMode: (v) => v.entry.record.prefs.seedRatioMode,
  sequentialDownload: (v) => v.entry.record.prefs.sequential,
  sizeWhenDone: (v) => v.stats.bytesWanted,
  startDate: (v) => Math.floor(v.entry.runningSince / 1000),
  status: statusOf,
  totalSize: (v) => v.meta?.totalLength ?? 0,
  torrentFile: () => "",
  trackers,
  trackerList: (v) => trackerTiers(v).map((t) => t.join("\n")).join("\n\n"),
  trackerStats,
  uploadedEver: (v) => v.entry.record.uploaded + v.stats.bytesUploaded,
  uploadLimit: (v) => Math.round(v.entry.record.prefs.uploadLimit / SPEED_UNIT),
  uploadLimited: (v) => v.entry.record.prefs.uploadLimited,
  uploadRatio: (v) =>
    ratio(
      v.entry.record.uploaded + v.stats.bytesUploaded,
      v.entry.record.downloaded + v.stats.bytesDownloaded,
      v.stats.bytesVerified,
    ),
  wanted: (v) => (v.meta?.files ?? []).map((_, i) => v.priority(i) > 0 ? 1 : 0),
  webseeds: (v) => v.meta?.urlList ?? [],
  webseedsSendingToUs: () => 0,
};

/**
 * Reads `fields` of each entry.
 * @param entries the torrents
 * @param fields field names (checked by the caller)
 * @param settings session settings
 * @param nowSeconds wall-clock seconds
 * @param options `table`: Transmission 3's `format: "table"` (a header row, then one row per
 *   torrent); `peerLimit`: connections per torrent
 * @returns objects, or rows
 */
export function torrentRows(
  entries: readonly LibraryEntry[],
  fields: readonly string[],
  settings: DaemonSettings,
  nowSeconds: number,
  options: { readonly table: boolean; readonly peerLimit: number },
): unknown[] {
  const table = options.table;
  const rows = entries.map((e) => {
    const v = new TorrentView(e, settings, nowSeconds, options.peerLimit);
    return fields.map((f) => TORRENT_FIELDS[f]!(v));
  });
  if (table) return [fields, ...rows];
  return rows.map((row) => Object.fromEntries(fields.map((f, i) => [f, row[i]])));
}
