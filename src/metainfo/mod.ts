/**
 * Metainfo: .torrent parsing and building, magnet links and path sanitising.
 *
 * BEPs:
 * - BEP 3: the metainfo file; the info-hash is SHA-1 of the raw `info` bytes.
 * - BEP 9: magnet links (`xt`, `dn`, `tr`, `x.pe`); info dictionaries fetched from peers
 *   load through {@linkcode parseInfoDictionary}.
 * - BEP 12: `announce-list` tiers. BEP 19: `url-list` web seeds. BEP 27: `private`.
 * - BEP 47: padding files are kept in the layout and marked `isPadding`; symlinks are
 *   never created (unsupported: kept as regular files, marked `isSymlink`); the
 *   `executable`/`hidden` attributes and per-file `sha1` are ignored.
 * - BEP 52: hybrid v1/v2 torrents load through their v1 part; v2-only torrents and
 *   `btmh`-only magnet links are refused with a clear error.
 * - BEP 53: magnet `so` (select-only) and `x.pe`.
 *
 * @example
 * ```ts
 * import { buildTorrent, formatMagnet, parseTorrent } from "./mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const meta = parseTorrent(buildTorrent({
 *   name: "a.txt",
 *   files: [{ path: [], length: 1 }],
 *   pieceLength: 16384,
 *   pieceHashes: new Uint8Array(20),
 * }));
 * const uri = formatMagnet({
 *   infoHash: meta.infoHash,
 *   infoHashHex: meta.infoHashHex,
 *   displayName: meta.name,
 *   trackers: [],
 *   peers: [],
 *   webSeeds: [],
 *   warnings: [],
 * });
 * assertEquals(uri, `magnet:?xt=urn:btih:${meta.infoHashHex}&dn=a.txt`);
 * ```
 * @module
 */
export {
  type InfoExtras,
  MAX_INFO_BYTES,
  type Metainfo,
  parseInfoDictionary,
  parseTorrent,
  type TorrentFile,
} from "./parse.ts";
export { MAX_PIECE_COUNT, MAX_PIECE_LENGTH } from "./_info.ts";
export { MAX_TRACKERS, MAX_WEB_SEEDS } from "./_urls.ts";
export {
  MAX_COMPONENT_BYTES,
  MAX_PATH_BYTES,
  MAX_PATH_DEPTH,
  MAX_RENAMES,
  type PathRename,
  sanitizeComponent,
  type SanitizedPaths,
  type SanitizeOptions,
  sanitizePath,
  sanitizePaths,
} from "./sanitize.ts";
export {
  formatMagnet,
  type MagnetLink,
  MAX_MAGNET_LENGTH,
  MAX_MAGNET_PEERS,
  parseMagnet,
} from "./magnet.ts";
export { MAX_SELECT_COUNT, MAX_SELECT_INDEX } from "./_magnet_params.ts";
export type { PeerAddress } from "../runtime/types.ts";
export {
  buildTorrent,
  choosePieceLength,
  type CreateFile,
  type CreateOptions,
  MAX_AUTO_PIECE_LENGTH,
  MIN_AUTO_PIECE_LENGTH,
} from "./create.ts";
