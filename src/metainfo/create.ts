/**
 * Building .torrent files (BEP 3; BEP 12 announce-list; BEP 19 url-list; BEP 27 private)
 * from a file list and piece hashes computed elsewhere (the CLI walks the files with
 * `runtime/deno_walk.ts` and hashes in the worker pool), plus the automatic piece size.
 *
 * Layer: core (pure).
 * @module
 */
import { type Encodable, encode } from "../bencode/mod.ts";

/** One file for {@linkcode buildTorrent}. */
export interface CreateFile {
  /** Components below the torrent's directory; `[]` for a single-file torrent. */
  readonly path: readonly string[];
  /** Length in bytes. */
  readonly length: number;
}

/** Options for {@linkcode buildTorrent}. */
export interface CreateOptions {
  /** The file name (single-file) or directory name (multi-file). */
  readonly name: string;
  /** Files in torrent order: one entry with path `[]` for a single-file torrent. */
  readonly files: readonly CreateFile[];
  /** Bytes per piece. */
  readonly pieceLength: number;
  /** Concatenated 20-byte SHA-1 piece hashes, one per piece. */
  readonly pieceHashes: Uint8Array;
  /** BEP 12 tiers; the first URL becomes `announce`. */
  readonly trackers?: readonly (readonly string[])[];
  /** BEP 27 private flag. */
  readonly isPrivate?: boolean;
  /** BEP 19 web seeds. */
  readonly webSeeds?: readonly string[];
  /** Free text. */
  readonly comment?: string;
  /** The creating program, e.g. `"swarmd/0.1.0"`. */
  readonly createdBy?: string;
  /** Seconds since the Unix epoch. */
  readonly creationDate?: number;
}

/** Smallest automatic piece length: 16 KiB. */
export const MIN_AUTO_PIECE_LENGTH = 16 * 1024;
/** Largest automatic piece length: 16 MiB. */
export const MAX_AUTO_PIECE_LENGTH = 16 * 1024 * 1024;

/**
 * libtorrent's `create_torrent` size table (src/create_torrent.cpp, 1.2 and 2.0): a torrent
 * of up to `AUTO_PIECE_THRESHOLDS[i]` bytes gets pieces of 16 KiB << i. Each threshold is
 * round((2 × piece / 20)²), so the piece-hash list stays near 2·√total bytes.
 */
const AUTO_PIECE_THRESHOLDS = [
  2_684_355,
  10_737_418,
  42_949_673,
  171_798_692,
  687_194_767,
  2_748_779_069,
  10_995_116_278,
  43_980_465_111,
  175_921_860_444,
  703_687_441_777,
];

/**
 * The piece length libtorrent picks automatically for `totalBytes` of content (verified
 * against python3-libtorrent 2.0.8 in the interop test): a power of two from 16 KiB to
 * 16 MiB that keeps the piece-hash list near 2·√total bytes.
 *
 * @param totalBytes the content size
 * @returns the piece length in bytes
 * @throws {RangeError} when `totalBytes` is not a non-negative safe integer
 * @example
 * ```ts
 * import { choosePieceLength } from "./mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * assertEquals(choosePieceLength(1000), 16384);
 * assertEquals(choosePieceLength(100 * 2 ** 20), 131072);
 * assertEquals(choosePieceLength(2 ** 30), 524288);
 * ```
 */
export function choosePieceLength(totalBytes: number): number {
  if (!Number.isSafeInteger(totalBytes) || totalBytes < 0) {
    throw new RangeError(`Cannot choose a piece length for ${totalBytes} bytes`);
  }
  let i = 0;
  while (i < AUTO_PIECE_THRESHOLDS.length && AUTO_PIECE_THRESHOLDS[i]! < totalBytes) i++;
  return MIN_AUTO_PIECE_LENGTH * 2 ** i;
}

function checkComponent(component: string, where: string): void {
  if (component === "" || component === "." || component === ".." || /[/\\\0]/.test(component)) {
    throw new RangeError(`Cannot build torrent: bad path component "${component}" in ${where}`);
  }
}

function checkOptions(options: CreateOptions): number {
  const { files, pieceLength, pieceHashes } = options;
  checkComponent(options.name, "name");
  if (files.length === 0) throw new RangeError("Cannot build torrent: no files");
  const single = files.length === 1 && files[0]!.path.length === 0;
  let total = 0;
  files.forEach((f, i) => {
    if (!Number.isSafeInteger(f.length) || f.length < 0) {
      throw new RangeError(`Cannot build torrent: file ${i} has bad length ${f.length}`);
    }
    if (!single && f.path.length === 0) {
      throw new RangeError(`Cannot build torrent: file ${i} has an empty path`);
    }
    for (const c of f.path) checkComponent(c, `file ${i}`);
    total += f.length;
  });
  if (!Number.isSafeInteger(total) || total === 0) {
    throw new RangeError(`Cannot build torrent: total length ${total} is not usable`);
  }
  if (!Number.isSafeInteger(pieceLength) || pieceLength <= 0) {
    throw new RangeError(`Cannot build torrent: bad piece length ${pieceLength}`);
  }
  const count = Math.ceil(total / pieceLength);
  if (pieceHashes.length !== count * 20) {
    throw new RangeError(
      `Cannot build torrent: ${pieceHashes.length} bytes of piece hashes, ${count * 20} needed`,
    );
  }
  return total;
}

/**
 * Encodes a .torrent: single-file when `files` is one entry with path `[]`, else
 * multi-file; `announce` is the first tracker, `announce-list` is written when there is
 * more than one tracker; keys are sorted by the encoder.
 *
 * @param options name, files, piece length and hashes, and optional fields
 * @returns the .torrent bytes
 * @throws {RangeError} on an empty file list, a bad length or path component, or piece
 *   hashes that do not match the content size
 * @example
 * ```ts
 * import { buildTorrent, parseTorrent } from "./mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const bytes = buildTorrent({
 *   name: "album",
 *   files: [{ path: ["a.flac"], length: 20000 }, { path: ["cd2", "b.flac"], length: 30000 }],
 *   pieceLength: 32768,
 *   pieceHashes: new Uint8Array(40),
 *   trackers: [["http://a.example/announce"], ["http://b.example/announce"]],
 *   isPrivate: true,
 * });
 * const meta = parseTorrent(bytes);
 * assertEquals(meta.files.map((f) => f.path.join("/")), ["album/a.flac", "album/cd2/b.flac"]);
 * assertEquals(meta.announce, "http://a.example/announce");
 * assertEquals(meta.announceList.length, 2);
 * assertEquals(meta.isPrivate, true);
 * ```
 */
export function buildTorrent(options: CreateOptions): Uint8Array {
  checkOptions(options);
  const { files } = options;
  const single = files.length === 1 && files[0]!.path.length === 0;
  const info: Record<string, Encodable | undefined> = {
    name: options.name,
    "piece length": options.pieceLength,
    pieces: options.pieceHashes,
    private: options.isPrivate ? 1 : undefined,
  };
  if (single) info.length = files[0]!.length;
  else info.files = files.map((f) => ({ length: f.length, path: [...f.path] }));
  const tiers = (options.trackers ?? []).map((t) => [...t]).filter((t) => t.length > 0);
  const trackerCount = tiers.reduce((n, t) => n + t.length, 0);
  const webSeeds = options.webSeeds ?? [];
  return encode({
    announce: tiers[0]?.[0],
    "announce-list": trackerCount > 1 ? tiers : undefined,
    comment: options.comment,
    "created by": options.createdBy,
    "creation date": options.creationDate,
    info,
    "url-list": webSeeds.length > 0 ? [...webSeeds] : undefined,
  });
}
