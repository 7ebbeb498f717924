/**
 * swarmd: a BitTorrent engine for Deno.
 *
 * A session downloads and seeds many torrents over TCP with rarest-first piece
 * picking, endgame, tit-for-tat choking with optimistic unchoke, and a pool of Web
 * Workers doing SHA-1 verification and disk I/O. Codecs are usable alone through the
 * `./bencode`, `./metainfo`, `./wire`, `./tracker` and `./dht` entry points.
 *
 * BEPs: 3 (protocol, metainfo), 6 (fast extension), 9 (magnet links, parsing),
 * 10 (extension handshake), 12 (multitracker tiers, parsing), 19 (web seeds),
 * 27 (private torrents), 53 (magnet select-only). Torrents stream while they download:
 * `Torrent.createReadStream()`, and over HTTP with range requests through
 * `createStreamHandler()` / `serveStreams()`.
 *
 * Run as a CLI: `deno run -A mod.ts --help`.
 *
 * @example
 * ```ts ignore
 * import { Client } from "./mod.ts";
 * const client = new Client({ port: 6881 });
 * const torrent = await client.add("x.torrent", { dir: "downloads" });
 * for await (const event of torrent.events()) {
 *   if (event.type === "torrent-completed") break;
 * }
 * await torrent.done;
 * await client.close();
 * ```
 * @module
 */
export { Client, type ClientOptions } from "./src/deno/client.ts";
export {
  type AddOptions,
  type RateLimits,
  type RemoveOptions,
  Session,
  type SessionOptions,
} from "./src/session/session.ts";
export {
  type PeerInfo,
  type ReadStreamOptions,
  Torrent,
  type TorrentFileInfo,
} from "./src/session/torrent_handle.ts";
export {
  createStreamHandler,
  type StreamableTorrent,
  type StreamHandlerOptions,
  type StreamSource,
} from "./src/session/stream_http.ts";
export {
  serveStreams,
  type StreamServer,
  type StreamServerOptions,
} from "./src/deno/stream_server.ts";
export {
  type CreatedTorrent,
  createTorrent,
  type CreateTorrentOptions,
} from "./src/deno/create.ts";
export type { SkippedEntry, WalkedFile, WalkResult } from "./src/deno/walk.ts";
export {
  DEFAULT_SETTINGS,
  type DhtSettings,
  type EncryptionMode,
  type HttpSourceSettings,
  type Settings,
  testSettings,
  validateSettings,
} from "./src/session/settings.ts";
export type {
  EngineEvent,
  EventCategory,
  EventOptions,
  TorrentState,
  TorrentStats,
  TrackerSummary,
} from "./src/session/events.ts";
export type { HttpFetcher, HttpFetchOptions, HttpFetchResult } from "./src/tracker/http_client.ts";
export type {
  RangeFetcher,
  RangeFetchOptions,
  RangeResponse,
} from "./src/session/web_seed_transport.ts";
export type { ResumeStore, StateStore, StorageFiles } from "./src/session/context.ts";
export * from "./src/runtime/types.ts";
export type {
  DiskIo,
  FileStat,
  StorageFile,
  StorageId,
  StorageSpec,
} from "./src/storage/disk_io.ts";
export { lookupPeers, type LookupPeersOptions } from "./src/deno/dht_lookup.ts";
export { MetainfoError, ProtocolError, StorageError, TrackerError } from "./src/errors.ts";
export {
  buildTorrent,
  choosePieceLength,
  type CreateFile,
  type CreateOptions,
  formatMagnet,
  type MagnetLink,
  type Metainfo,
  parseMagnet,
  parseTorrent,
  type PathRename,
  type TorrentFile,
} from "./src/metainfo/mod.ts";

if (import.meta.main) {
  const { main } = await import("./src/cli/main.ts");
  Deno.exit(await main(Deno.args));
}
