/**
 * Small views of library torrents: which ones a request's `ids` name, whether one is
 * complete, its `.torrent` bytes when its metadata came from peers, and its magnet link.
 *
 * Layer: core (pure).
 * @module
 */
import { encode } from "../bencode/mod.ts";
import { formatMagnet, type Metainfo } from "../metainfo/mod.ts";
import { concatBytes, utf8 } from "../util/bytes.ts";
import type { TorrentStats } from "../session/events.ts";

/** Every wanted byte verified (a torrent whose metadata is unknown is not complete). */
export function isComplete(e: { readonly torrent: { stats(): TorrentStats } }): boolean {
  const s = e.torrent.stats();
  return s.bytesWanted > 0 && s.bytesVerified === s.bytesWanted;
}

/**
 * A `.torrent` for metadata that came from peers: the verified info dictionary, byte for
 * byte, and the trackers.
 * @param meta the metainfo
 * @returns bencoded torrent file bytes
 */
export function torrentFile(meta: Metainfo): Uint8Array {
  const head = meta.announceList.length > 0
    ? encode({ "announce-list": meta.announceList })
    : encode({});
  // splice the raw info dictionary in before the closing "e" (keys stay sorted: "info" last)
  return concatBytes([
    head.subarray(0, head.length - 1),
    utf8("4:info"),
    meta.infoBytes,
    utf8("e"),
  ]);
}

/** The magnet link of a torrent (for `magnetLink`). */
export function magnetOf(meta: Metainfo): string {
  return formatMagnet({
    infoHash: meta.infoHash,
    infoHashHex: meta.infoHashHex,
    displayName: meta.name,
    trackers: meta.announceList.flat(),
    peers: [],
    webSeeds: [],
    warnings: [],
  });
}

/** What {@linkcode selectEntries} reads of an entry. */
export interface Selectable {
  /** Transmission id. */
  readonly id: number;
  /** The record's hex info-hash. */
  readonly record: { readonly infoHash: string };
  /** Wall ms of the last transfer. */
  readonly lastActiveAt: number;
  /** Wall ms it started running, 0 when paused. */
  readonly runningSince: number;
}

/**
 * The entries Transmission `ids` name: omitted = all; a number; an array of numbers and hash
 * strings; or `"recently-active"` (active since `recentSince`). Unknown ids are skipped, as
 * Transmission does.
 * @param ids the request's `ids`
 * @param entries every entry
 * @param recentSince wall ms
 * @returns the named entries, each once
 */
export function selectEntries<E extends Selectable>(
  ids: unknown,
  entries: readonly E[],
  recentSince: number,
): E[] {
  if (ids === undefined || ids === null) return [...entries];
  if (ids === "recently-active") {
    return entries.filter((e) => e.lastActiveAt >= recentSince || e.runningSince >= recentSince);
  }
  const byId = new Map(entries.map((e) => [e.id, e]));
  const byHash = new Map(entries.map((e) => [e.record.infoHash, e]));
  const out = new Set<E>();
  for (const id of Array.isArray(ids) ? ids : [ids]) {
    const e = typeof id === "number"
      ? byId.get(id)
      : typeof id === "string"
      ? (/^\d+$/.test(id) ? byId.get(Number(id)) : byHash.get(id.toLowerCase()))
      : undefined;
    if (e) out.add(e);
  }
  return [...out];
}
