/**
 * .torrent parsing (BEP 3; BEP 12 announce-list; BEP 19 url-list; BEP 27 private;
 * BEP 47 attributes; BEP 52 hybrids loaded through their v1 part).
 *
 * The info-hash is SHA-1 of the `info` bytes exactly as received, never re-encoded
 * (RELIABILITY B5), so an unsorted dictionary hashes as every other client hashes it.
 * Every check of the info dictionary raises one {@linkcode MetainfoError} naming the
 * field; malformed bencode raises one with field `"(bencode)"` and the
 * `BencodeSyntaxError` as `cause`. Fields outside `info` (trackers, comment, …) never
 * fail a load: a value of the wrong type is ignored, as libtorrent does.
 *
 * File paths are sanitised (see `sanitize.ts`): `TorrentFile.path` is relative to the
 * download directory and, for a multi-file torrent, starts with the torrent's
 * directory name. BEP 47 padding files stay in `files` (they shape the piece layout)
 * with `isPadding` set: the session never writes them. BEP 47 symlinks are never
 * created (P7): such an entry is kept as a regular file of its declared length (0 per
 * BEP 47) with `isSymlink` set, and its `symlink path` is ignored.
 *
 * Layer: core (pure; SHA-1 of the info bytes is computed in-process).
 * @module
 */
import {
  type BencodeDict,
  BencodeSyntaxError,
  type BencodeValue,
  decodeWithSpans,
  FILE_LIMITS,
  isBytes,
  isDict,
  isList,
} from "../bencode/mod.ts";
import { MetainfoError } from "../errors.ts";
import { fromUtf8, toHex } from "../util/bytes.ts";
import { sha1 } from "../util/sha1.ts";
import { preferUtf8, type RawInfo, readInfo } from "./_info.ts";
import { cleanTiers, cleanWebSeeds, usableTrackerUrl } from "./_urls.ts";
import { type PathRename, sanitizeComponent, sanitizePath, sanitizePaths } from "./sanitize.ts";

/** Largest info dictionary accepted from peers (BEP 9 metadata), in bytes. */
export const MAX_INFO_BYTES = 16 * 1024 * 1024;

/** One file of a torrent, in torrent order. */
export interface TorrentFile {
  /** Sanitised path components relative to the download directory. */
  readonly path: readonly string[];
  /** Length in bytes. */
  readonly length: number;
  /** Byte offset of the file's first byte in the torrent's content. */
  readonly offset: number;
  /** The path as the torrent spelled it, joined with "/": for humans only. */
  readonly displayPath: string;
  /**
   * The path as the torrent spells it, unsanitised: the torrent's name, then (multi-file)
   * each component. Only for building BEP 19 web-seed URLs, never a file-system path.
   */
  readonly rawPath: readonly string[];
  /** BEP 47 padding file: part of the piece layout, never written to disk. */
  readonly isPadding: boolean;
  /** BEP 47 symlink entry: informational only; no link is ever created. */
  readonly isSymlink: boolean;
}

/** A parsed torrent. */
export interface Metainfo {
  /** SHA-1 of the raw info dictionary (20 bytes). */
  readonly infoHash: Uint8Array;
  /** Lower-case hex of `infoHash`. */
  readonly infoHashHex: string;
  /** The info dictionary exactly as received (served to peers by ut_metadata). */
  readonly infoBytes: Uint8Array;
  /** The sanitised torrent name: file name (single-file) or directory name (multi-file). */
  readonly name: string;
  /** The name as the torrent spelled it, for display only. */
  readonly displayName: string;
  /** Bytes per piece (the last piece may be shorter). */
  readonly pieceLength: number;
  /** Number of pieces. */
  readonly pieceCount: number;
  /** Concatenated 20-byte SHA-1 piece hashes. */
  readonly pieceHashes: Uint8Array;
  /** Content length in bytes, padding files included. */
  readonly totalLength: number;
  /** Files in torrent order, with sanitised unique paths. */
  readonly files: readonly TorrentFile[];
  /** True when the info dictionary has a `files` list. */
  readonly isMultiFile: boolean;
  /** BEP 27: no DHT, PEX or LSD for this torrent. */
  readonly isPrivate: boolean;
  /** BEP 52 hybrid (v1 + v2), loaded through its v1 part. */
  readonly isHybrid: boolean;
  /** The `announce` URL, when usable. */
  readonly announce?: string;
  /** BEP 12 tiers: `announce-list` when it has a usable URL, else `[[announce]]`; ≤100 URLs. */
  readonly announceList: string[][];
  /** BEP 19 web seeds (http and https only). */
  readonly urlList: string[];
  /** `comment.utf-8` or `comment`. */
  readonly comment?: string;
  /** `created by`. */
  readonly createdBy?: string;
  /** `creation date`, seconds since the Unix epoch. */
  readonly creationDate?: number;
  /** Paths the sanitiser changed, so the user sees the mapping. */
  readonly renamed: readonly PathRename[];
}

/** Extra fields for {@linkcode parseInfoDictionary}, typically from a magnet link. */
export interface InfoExtras {
  /** BEP 12 tracker tiers. */
  readonly trackers?: readonly (readonly string[])[];
  /** BEP 19 web seeds. */
  readonly webSeeds?: readonly string[];
}

/**
 * Parses a .torrent file.
 *
 * @param bytes the file's bytes
 * @returns the validated torrent, with the info-hash of its raw info bytes
 * @throws {MetainfoError} naming the invalid field (`"(bencode)"` for malformed bencode)
 * @example
 * ```ts
 * import { buildTorrent, parseTorrent } from "./mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const bytes = buildTorrent({
 *   name: "hello.txt",
 *   files: [{ path: [], length: 5 }],
 *   pieceLength: 16384,
 *   pieceHashes: new Uint8Array(20),
 *   trackers: [["udp://tracker.example:6969/announce"]],
 * });
 * const meta = parseTorrent(bytes);
 * assertEquals(meta.name, "hello.txt");
 * assertEquals(meta.pieceCount, 1);
 * assertEquals(meta.announceList, [["udp://tracker.example:6969/announce"]]);
 * assertEquals(meta.infoHashHex.length, 40);
 * ```
 */
export function parseTorrent(bytes: Uint8Array): Metainfo {
  const decoded = decodeOrFail(bytes, FILE_LIMITS.maxBytes);
  const root = decoded.value;
  if (!isDict(root)) {
    throw new MetainfoError("(root)", "Cannot load torrent: the file is not a dictionary");
  }
  const info = root.get("info");
  const raw = readInfo(info);
  const span = decoded.spanOf(info!)!;
  const infoBytes = bytes.slice(span[0], span[1]);
  return assemble(raw, infoBytes, readOuter(root));
}

/**
 * Parses an info dictionary on its own, as fetched from peers for a magnet link (BEP 9).
 * The info-hash is SHA-1 of `infoBytes`.
 *
 * @param infoBytes the bencoded info dictionary
 * @param extras trackers and web seeds to attach (e.g. from the magnet link)
 * @returns the validated torrent
 * @throws {MetainfoError} naming the invalid field (`"(bencode)"` for malformed bencode)
 * @example
 * ```ts
 * import { parseInfoDictionary } from "./mod.ts";
 * import { encode } from "../bencode/mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const info = encode({ name: "a", length: 3, "piece length": 16384, pieces: new Uint8Array(20) });
 * const meta = parseInfoDictionary(info, { trackers: [["http://t.example/announce"]] });
 * assertEquals(meta.totalLength, 3);
 * assertEquals(meta.announceList, [["http://t.example/announce"]]);
 * ```
 */
export function parseInfoDictionary(infoBytes: Uint8Array, extras: InfoExtras = {}): Metainfo {
  const decoded = decodeOrFail(infoBytes, MAX_INFO_BYTES);
  const raw = readInfo(decoded.value);
  const { tiers } = cleanTiers(extras.trackers ?? []);
  return assemble(raw, infoBytes.slice(), {
    announceList: tiers,
    urlList: cleanWebSeeds(extras.webSeeds ?? []),
  });
}

function decodeOrFail(bytes: Uint8Array, maxBytes: number): ReturnType<typeof decodeWithSpans> {
  try {
    return decodeWithSpans(bytes, { ...FILE_LIMITS, maxBytes, maxStringLength: maxBytes });
  } catch (e) {
    if (e instanceof BencodeSyntaxError) {
      throw new MetainfoError("(bencode)", `Cannot load torrent: ${e.message}`, { cause: e });
    }
    throw e;
  }
}

type Outer = Pick<
  Metainfo,
  "announce" | "announceList" | "urlList" | "comment" | "createdBy" | "creationDate"
>;

/** Fields outside `info`: a wrong type is ignored, never fatal. */
function readOuter(root: BencodeDict): Outer {
  const announceRaw = root.get("announce");
  const announce = isBytes(announceRaw) ? usableTrackerUrl(fromUtf8(announceRaw)) : undefined;
  let { tiers } = cleanTiers(textTiers(root.get("announce-list")));
  if (tiers.length === 0 && announce !== undefined) tiers = [[announce]];
  const date = root.get("creation date");
  const createdBy = root.get("created by");
  const out: { -readonly [K in keyof Outer]: Outer[K] } = {
    announceList: tiers,
    urlList: cleanWebSeeds(textList(root.get("url-list"))),
  };
  if (announce !== undefined) out.announce = announce;
  const comment = preferUtf8(root, "comment");
  if (comment !== undefined) out.comment = comment;
  if (isBytes(createdBy)) out.createdBy = fromUtf8(createdBy);
  if (typeof date === "number") out.creationDate = date;
  return out;
}

/** `announce-list` as text tiers; a bare string where a tier belongs is a one-URL tier. */
function textTiers(value: BencodeValue | undefined): string[][] {
  if (!isList(value)) return [];
  return value.map((tier) => isBytes(tier) ? [fromUtf8(tier)] : textList(tier));
}

/** A list of strings (non-strings skipped), or a single string as a one-item list. */
function textList(value: BencodeValue | undefined): string[] {
  if (isBytes(value)) return [fromUtf8(value)];
  if (!isList(value)) return [];
  return value.filter(isBytes).map(fromUtf8);
}

function assemble(raw: RawInfo, infoBytes: Uint8Array, outer: Outer): Metainfo {
  const infoHash = sha1(infoBytes);
  const name = sanitizeComponent(raw.name) || "_";
  const { files, renamed } = layoutFiles(raw, name);
  return {
    infoHash,
    infoHashHex: toHex(infoHash),
    infoBytes,
    name,
    displayName: raw.name,
    pieceLength: raw.pieceLength,
    pieceCount: raw.pieceCount,
    pieceHashes: raw.pieceHashes,
    totalLength: raw.totalLength,
    files,
    isMultiFile: raw.isMultiFile,
    isPrivate: raw.isPrivate,
    isHybrid: raw.isHybrid,
    ...outer,
    renamed,
  };
}

/** Sanitised paths and offsets; padding files are sanitised but not de-duplicated. */
function layoutFiles(raw: RawInfo, name: string): { files: TorrentFile[]; renamed: PathRename[] } {
  const renamed: PathRename[] = [];
  if (!raw.isMultiFile) {
    if (name !== raw.name) renamed.push({ from: raw.name, to: name });
    const [only] = raw.files;
    return { files: [fileEntry(only!, [name], [raw.name], 0)], renamed };
  }
  const realIndex = raw.files.flatMap((f, i) => f.isPadding ? [] : [i]);
  const safe = sanitizePaths(realIndex.map((i) => raw.files[i]!.components), {
    field: "info.files",
    fieldOf: (i) => `info.files[${realIndex[i]}].path`,
  });
  let next = 0;
  let offset = 0;
  const files = raw.files.map((f, i) => {
    const rawPath = [raw.name, ...f.components];
    const display = rawPath.join("/");
    const path = f.isPadding
      ? [name, ...sanitizePath(f.components, `info.files[${i}].path`)]
      : [name, ...safe.paths[next++]!];
    const to = path.join("/");
    if (!f.isPadding && to !== display) renamed.push({ from: display, to });
    const entry = fileEntry(f, path, rawPath, offset);
    offset += f.length;
    return entry;
  });
  return { files, renamed };
}

function fileEntry(
  raw: RawInfo["files"][number],
  path: string[],
  rawPath: string[],
  offset: number,
): TorrentFile {
  return {
    path,
    length: raw.length,
    offset,
    displayPath: rawPath.join("/"),
    rawPath,
    isPadding: raw.isPadding,
    isSymlink: raw.isSymlink,
  };
}
