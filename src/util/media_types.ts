/**
 * Content types by file extension, for the stream routes: what media players and
 * browsers need to pick a decoder. Types that a browser would run as a document (HTML,
 * SVG, XML, JavaScript) are served as plain text: a torrent's files are untrusted.
 *
 * Layer: core (pure).
 * @module
 */

const TYPES: Readonly<Record<string, string>> = {
  // video
  mp4: "video/mp4",
  m4v: "video/x-m4v",
  mkv: "video/x-matroska",
  webm: "video/webm",
  avi: "video/x-msvideo",
  mov: "video/quicktime",
  mpg: "video/mpeg",
  mpeg: "video/mpeg",
  ts: "video/mp2t",
  m2ts: "video/mp2t",
  ogv: "video/ogg",
  wmv: "video/x-ms-wmv",
  flv: "video/x-flv",
  "3gp": "video/3gpp",
  // audio
  mp3: "audio/mpeg",
  m4a: "audio/mp4",
  aac: "audio/aac",
  flac: "audio/flac",
  ogg: "audio/ogg",
  oga: "audio/ogg",
  opus: "audio/opus",
  wav: "audio/wav",
  wma: "audio/x-ms-wma",
  // subtitles and playlists
  srt: "application/x-subrip",
  vtt: "text/vtt; charset=utf-8",
  ass: "text/x-ssa; charset=utf-8",
  m3u: "audio/x-mpegurl; charset=utf-8",
  m3u8: "application/vnd.apple.mpegurl",
  // images and documents
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  png: "image/png",
  gif: "image/gif",
  webp: "image/webp",
  pdf: "application/pdf",
  epub: "application/epub+zip",
  txt: "text/plain; charset=utf-8",
  md: "text/plain; charset=utf-8",
  nfo: "text/plain; charset=utf-8",
  json: "application/json",
  // would run as documents in a browser: plain text instead
  html: "text/plain; charset=utf-8",
  htm: "text/plain; charset=utf-8",
  svg: "text/plain; charset=utf-8",
  xml: "text/plain; charset=utf-8",
  js: "text/plain; charset=utf-8",
  // archives
  zip: "application/zip",
  gz: "application/gzip",
  iso: "application/x-iso9660-image",
};

/**
 * The content type for a file name, by its extension (case-insensitive).
 * @param name a file name or path
 * @returns the type, `application/octet-stream` when unknown
 * @example
 * ```ts
 * import { contentTypeOf } from "./media_types.ts";
 * import { strictEqual } from "node:assert";
 * strictEqual(contentTypeOf("Show/S01E01.MKV"), "video/x-matroska");
 * strictEqual(contentTypeOf("index.html"), "text/plain; charset=utf-8");
 * strictEqual(contentTypeOf("README"), "application/octet-stream");
 * ```
 */
export function contentTypeOf(name: string): string {
  const base = name.slice(name.lastIndexOf("/") + 1);
  const dot = base.lastIndexOf(".");
  if (dot <= 0) return "application/octet-stream";
  return Object.hasOwn(TYPES, base.slice(dot + 1).toLowerCase())
    ? TYPES[base.slice(dot + 1).toLowerCase()]!
    : "application/octet-stream";
}
