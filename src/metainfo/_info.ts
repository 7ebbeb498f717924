/**
 * Validation of a v1 info dictionary (BEP 3, BEP 47 attributes, BEP 52 hybrids through
 * their v1 part): piece length, piece hashes, the file list and its lengths
 * (RELIABILITY B7–B9, P8). Names are decoded but not yet sanitised.
 *
 * Layer: core (pure). Private to `src/metainfo/`.
 * @module
 */
import { type BencodeDict, type BencodeValue, isBytes, isDict, isList } from "../bencode/mod.ts";
import { MetainfoError } from "../errors.ts";
import { fromUtf8, fromUtf8Strict } from "../util/bytes.ts";
import { MAX_PATH_DEPTH } from "./sanitize.ts";

/** Most pieces one torrent may have (libtorrent `max_piece_count`, RELIABILITY B8). */
export const MAX_PIECE_COUNT = 2 ** 21;
/** Largest piece length accepted, in bytes (256 MiB; BEP 52 hybrids use at most 16 MiB). */
export const MAX_PIECE_LENGTH = 256 * 1024 * 1024;

/** One file of the v1 layout, before path sanitising. */
export interface RawFile {
  /** Path components as decoded text; for a single-file torrent, empty. */
  readonly components: string[];
  /** Length in bytes. */
  readonly length: number;
  /** BEP 47 `attr` has "p": a padding file (zeros, never written). */
  readonly isPadding: boolean;
  /** BEP 47 `attr` has "l": a symlink, which we never create (P7). */
  readonly isSymlink: boolean;
  /** BEP 47 `attr` has "x". */
  readonly isExecutable: boolean;
}

/** The validated content of an info dictionary. */
export interface RawInfo {
  /** `name.utf-8` or `name`, decoded. */
  readonly name: string;
  /** Bytes per piece. */
  readonly pieceLength: number;
  /** Concatenated 20-byte SHA-1 piece hashes. */
  readonly pieceHashes: Uint8Array;
  /** Number of pieces. */
  readonly pieceCount: number;
  /** Sum of file lengths (padding included). */
  readonly totalLength: number;
  /** Files in torrent order. */
  readonly files: RawFile[];
  /** True when the dictionary has `files`. */
  readonly isMultiFile: boolean;
  /** BEP 27 `private` = 1. */
  readonly isPrivate: boolean;
  /** True for a BEP 52 hybrid (`meta version` 2 with v1 `pieces`). */
  readonly isHybrid: boolean;
}

/** Strict UTF-8 decode with a fast path for ASCII (most path components). */
function decodeStrict(bytes: Uint8Array): string | undefined {
  if (bytes.length > 256 || bytes.some((b) => b >= 0x80)) return fromUtf8Strict(bytes);
  return String.fromCharCode.apply(null, bytes as unknown as number[]);
}

function fail(field: string, detail: string): never {
  throw new MetainfoError(field, `Cannot load torrent: field "${field}" ${detail}`);
}

/**
 * Text of `key` preferring `key.utf-8` (P8): the first candidate that is valid UTF-8,
 * else the first present one with invalid sequences replaced by U+FFFD.
 * @param dict the dictionary
 * @param key the plain key
 * @returns the text, or `undefined` when neither key holds a byte string
 */
export function preferUtf8(dict: BencodeDict, key: string): string | undefined {
  const candidates = [dict.get(`${key}.utf-8`), dict.get(key)].filter(isBytes);
  for (const c of candidates) {
    const text = decodeStrict(c);
    if (text !== undefined) return text;
  }
  return candidates[0] === undefined ? undefined : fromUtf8(candidates[0]);
}

function safeLength(value: BencodeValue | undefined, field: string): number {
  if (typeof value !== "number") {
    fail(field, value === undefined ? "is missing" : "is not an integer");
  }
  if (value < 0) fail(field, `is negative (${value})`);
  return value;
}

function attributes(dict: BencodeDict): Pick<RawFile, "isPadding" | "isSymlink" | "isExecutable"> {
  const attr = dict.get("attr");
  const text = isBytes(attr) ? fromUtf8(attr) : "";
  return {
    isPadding: text.includes("p"),
    isSymlink: text.includes("l"),
    isExecutable: text.includes("x"),
  };
}

/** Path components of a multi-file entry, preferring a valid `path.utf-8`. */
function pathOf(entry: BencodeDict, field: string): string[] {
  const candidates = [entry.get("path.utf-8"), entry.get("path")];
  let fallback: Uint8Array[] | undefined;
  for (const c of candidates) {
    if (!isList(c) || !c.every(isBytes)) continue;
    const strict = c.map(decodeStrict);
    if (strict.every((s) => s !== undefined)) return checkPath(strict as string[], field);
    fallback ??= c;
  }
  if (fallback) return checkPath(fallback.map(fromUtf8), field);
  if (isList(entry.get("path"))) fail(field, "holds a component that is not a string");
  return fail(field, entry.has("path") ? "is not a list" : "is missing");
}

function checkPath(components: string[], field: string): string[] {
  if (components.length === 0) fail(field, "is an empty list");
  if (components.length > MAX_PATH_DEPTH) {
    fail(field, `has ${components.length} components, more than ${MAX_PATH_DEPTH}`);
  }
  if (components.every((c) => c === "")) fail(field, "has only empty components");
  return components;
}

function readFiles(info: BencodeDict): { files: RawFile[]; total: number; multi: boolean } {
  const list = info.get("files");
  if (list === undefined) {
    const length = safeLength(info.get("length"), "info.length");
    return {
      files: [{ components: [], length, ...attributes(info) }],
      total: length,
      multi: false,
    };
  }
  if (!isList(list)) fail("info.files", "is not a list");
  if (list.length === 0) fail("info.files", "is an empty list (no files)");
  const files: RawFile[] = [];
  let total = 0;
  list.forEach((entry, i) => {
    const field = `info.files[${i}]`;
    if (!isDict(entry)) fail(field, "is not a dictionary");
    const length = safeLength(entry.get("length"), `${field}.length`);
    total += length;
    if (total > Number.MAX_SAFE_INTEGER) {
      fail("info.files", `lengths add up to more than 2^53-1 bytes`);
    }
    files.push({ components: pathOf(entry, `${field}.path`), length, ...attributes(entry) });
  });
  return { files, total, multi: true };
}

function readPieces(info: BencodeDict, total: number, pieceLength: number): Uint8Array {
  const pieces = info.get("pieces");
  if (!isBytes(pieces)) {
    fail("info.pieces", pieces === undefined ? "is missing" : "is not a string");
  }
  if (pieces.length % 20 !== 0) {
    fail("info.pieces", `has ${pieces.length} bytes, not a multiple of 20`);
  }
  const count = pieces.length / 20;
  if (count > MAX_PIECE_COUNT) {
    fail("info.pieces", `has ${count} pieces, more than the limit of ${MAX_PIECE_COUNT}`);
  }
  const expected = Math.ceil(total / pieceLength);
  if (count !== expected) {
    fail(
      "info.pieces",
      `has ${count} piece hashes, but ${total} bytes in pieces of ${pieceLength} need ${expected}`,
    );
  }
  return pieces;
}

/**
 * Validates a decoded info dictionary.
 * @param info the decoded `info` value
 * @returns its validated content
 * @throws {MetainfoError} naming the first invalid field
 */
export function readInfo(info: BencodeValue | undefined): RawInfo {
  if (!isDict(info)) fail("info", info === undefined ? "is missing" : "is not a dictionary");
  const hasPieces = info.has("pieces");
  const metaVersion = info.get("meta version");
  if (metaVersion === 2 && !hasPieces) {
    throw new MetainfoError(
      "info.meta version",
      'Cannot load torrent: v2-only torrents are not supported (no v1 "pieces")',
    );
  }
  const pieceLength = info.get("piece length");
  if (typeof pieceLength !== "number") {
    fail("info.piece length", pieceLength === undefined ? "is missing" : "is not an integer");
  }
  if (pieceLength <= 0) fail("info.piece length", `must be positive, got ${pieceLength}`);
  if (pieceLength > MAX_PIECE_LENGTH) {
    fail("info.piece length", `is ${pieceLength}, more than the limit of ${MAX_PIECE_LENGTH}`);
  }
  const name = preferUtf8(info, "name");
  if (name === undefined) fail("info.name", info.has("name") ? "is not a string" : "is missing");
  const { files, total, multi } = readFiles(info);
  if (total === 0) fail(multi ? "info.files" : "info.length", "describes 0 bytes of content");
  const pieceHashes = readPieces(info, total, pieceLength);
  return {
    name,
    pieceLength,
    pieceHashes,
    pieceCount: pieceHashes.length / 20,
    totalLength: total,
    files,
    isMultiFile: multi,
    isPrivate: info.get("private") === 1,
    isHybrid: metaVersion === 2,
  };
}
