/**
 * Small views of a library torrent: whether it is complete, its `.torrent` bytes when its
 * metadata came from peers, and its magnet link.
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
