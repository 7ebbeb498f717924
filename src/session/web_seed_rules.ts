/**
 * The rules of BEP 19 web seeds (GetRight style), apart from any I/O:
 *
 * - URLs: a single-file torrent's URL names the file (a URL ending in `/` gets the
 *   torrent's name appended); a multi-file torrent's URL names a directory, below which
 *   come the torrent's name and the file's path, each component percent-encoded. A
 *   component that is empty, `.` or `..` cannot be named safely (URL parsers fold dot
 *   segments, even encoded ones), so such a file is left to peers.
 * - The local-address rule of trackers (RELIABILITY M4, TC6): no request to a loopback
 *   or private host because a torrent says so, unless the user allows local addresses; no
 *   redirect from a global host to a local one; http and https only; no credentials; no
 *   IDNA host names (look-alikes).
 * - Responses: a 206 must carry exactly the range asked for; a 200 is accepted only when
 *   the whole file was asked for (a server that ignores Range would send more); a declared
 *   length other than asked is refused before the body is read.
 * - Spans: a span of the torrent's bytes maps onto file ranges, padding files (BEP 47)
 *   are zeros that are never fetched.
 * - When: web seeds help while few peers unchoke us, the swarm is slow, or a reader waits.
 *
 * Layer: core (pure).
 * @module
 */
import { classifyHost, isLocalHost } from "../util/ip.ts";
import { parseContentRange } from "../util/http_range.ts";

/** A file as the web-seed rules need it. */
export interface WebSeedFile {
  /** The path as the torrent spells it, name first (`TorrentFile.rawPath`). */
  readonly rawPath: readonly string[];
  /** Length in bytes. */
  readonly length: number;
  /** Offset of the file's first byte in the torrent. */
  readonly offset: number;
  /** BEP 47 padding: zeros, never fetched. */
  readonly isPadding: boolean;
}

/**
 * The URL of one file on a web seed.
 * @param base the web seed's URL (checked by {@linkcode checkWebSeedUrl})
 * @param file the file
 * @param isMultiFile whether the torrent has a `files` list
 * @returns the URL, or undefined when a path component cannot be put in a URL safely
 */
export function webSeedFileUrl(
  base: URL,
  file: Pick<WebSeedFile, "rawPath">,
  isMultiFile: boolean,
): string | undefined {
  const url = new URL(base.href);
  const dir = url.pathname.endsWith("/");
  if (!isMultiFile && !dir) return url.href;
  const components = isMultiFile ? file.rawPath : file.rawPath.slice(0, 1);
  if (components.some((c) => c === "" || c === "." || c === "..")) return undefined;
  url.pathname = (dir ? url.pathname : `${url.pathname}/`) +
    components.map((c) => encodeURIComponent(c)).join("/");
  return url.href;
}

/** The result of a URL check: the URL, or why it is refused. */
export type UrlVerdict = { readonly url: URL } | { readonly refused: string };

function hostOf(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, "");
}

/**
 * Checks a web seed's URL before any request.
 * @param text the URL from a torrent or magnet link
 * @param allowLocal whether loopback and private hosts may be asked
 * @returns the URL, or the reason it is refused
 */
export function checkWebSeedUrl(text: string, allowLocal: boolean): UrlVerdict {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { refused: "malformed URL" };
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return { refused: `scheme "${url.protocol}"` };
  }
  if (url.username || url.password) return { refused: "credentials in URL" };
  const host = hostOf(url);
  if (/(^|\.)xn--/i.test(host)) return { refused: "IDNA host name" };
  if (!allowLocal && isLocalHost(host)) {
    return { refused: `local address (${classifyHost(host)}); --allow-local-peers allows it` };
  }
  return { url };
}

/**
 * Checks a redirect target: the rules of a first URL, and never from a global (or named)
 * host to a local one.
 * @param from the URL that answered with the redirect
 * @param location its `Location` header
 * @param allowLocal whether loopback and private hosts may be asked at all
 * @returns the absolute target, or the reason it is refused
 */
export function checkWebSeedRedirect(from: URL, location: string, allowLocal: boolean): UrlVerdict {
  let target: URL;
  try {
    target = new URL(location, from);
  } catch {
    return { refused: "malformed redirect" };
  }
  const verdict = checkWebSeedUrl(target.href, allowLocal);
  if ("refused" in verdict) return verdict;
  if (!isLocalHost(hostOf(from)) && isLocalHost(hostOf(target))) {
    return { refused: `redirect from "${from.host}" to a local address` };
  }
  return verdict;
}

/** What an answer to a range request declared, before its body is read. */
export interface RangeAnswer {
  /** HTTP status. */
  readonly status: number;
  /** The `Content-Range` header. */
  readonly contentRange?: string | undefined;
  /** The `Content-Length` header, when present. */
  readonly contentLength?: number | undefined;
}

/**
 * Whether an answer to a request for bytes `start`..`end` (inclusive) of a file of
 * `fileLength` bytes may be read.
 * @returns undefined when it may, else what is wrong (the web seed backs off)
 */
export function checkRangeAnswer(
  answer: RangeAnswer,
  asked: { readonly start: number; readonly end: number; readonly fileLength: number },
): string | undefined {
  const length = asked.end - asked.start + 1;
  const { status, contentLength } = answer;
  if (status === 206) {
    const range = parseContentRange(answer.contentRange);
    if (!range) return "206 without a valid Content-Range";
    if (range.start !== asked.start || range.end !== asked.end) {
      return `sent bytes ${range.start}-${range.end}, asked ${asked.start}-${asked.end}`;
    }
  } else if (status === 200) {
    if (asked.start !== 0 || length !== asked.fileLength) {
      return "ignores Range (200 with the whole file)";
    }
  } else if (status === 404 || status === 410) return `file not found (HTTP ${status})`;
  else if (status >= 500) return `server error (HTTP ${status})`;
  else return `HTTP ${status}`;
  if (contentLength !== undefined && contentLength !== length) {
    return `declares ${contentLength} bytes, asked ${length}`;
  }
  return undefined;
}

/** One part of a span: a range of one file, or padding. */
export interface SpanPart {
  /** The file's index in torrent order. */
  readonly fileIndex: number;
  /** First byte in the file. */
  readonly fileOffset: number;
  /** Bytes. */
  readonly length: number;
  /** Padding: zeros, not fetched. */
  readonly isPadding: boolean;
}

/**
 * Maps the torrent's bytes `start` (inclusive) to `end` (exclusive) onto file ranges, in
 * order, skipping empty files.
 * @param files the torrent's files, in torrent order
 * @returns the parts, their lengths summing to `end - start`
 */
export function spanParts(
  files: readonly WebSeedFile[],
  start: number,
  end: number,
): SpanPart[] {
  const parts: SpanPart[] = [];
  for (const [fileIndex, f] of files.entries()) {
    const from = Math.max(start, f.offset), to = Math.min(end, f.offset + f.length);
    if (to <= from) continue;
    parts.push({
      fileIndex,
      fileOffset: from - f.offset,
      length: to - from,
      isPadding: f.isPadding,
    });
  }
  return parts;
}

/** What decides whether web seeds are asked for data now. */
export interface SwarmSample {
  /** Peers that unchoke us. */
  readonly unchokingPeers: number;
  /** The swarm's payload rate to us (web seeds excluded), bytes/s. */
  readonly swarmBps: number;
  /** A streaming reader waits for a piece whose deadline has passed. */
  readonly readerWaiting: boolean;
}

/**
 * Whether web seeds should be asked for more data: one more source when peers are few or
 * slow, or when a reader waits, never instead of the swarm.
 * @param sample the swarm now
 * @param limits `webSeedWhenPeersBelow` and `webSeedWhenRateBelowBps`
 * @returns true to start requests
 */
export function webSeedsWanted(
  sample: SwarmSample,
  limits: { readonly webSeedWhenPeersBelow: number; readonly webSeedWhenRateBelowBps: number },
): boolean {
  return sample.readerWaiting || sample.unchokingPeers < limits.webSeedWhenPeersBelow ||
    sample.swarmBps < limits.webSeedWhenRateBelowBps;
}

/**
 * The pause after the `failures`-th consecutive failure: `baseMs` doubling, at most 64×.
 * @returns ms to wait
 */
export function webSeedBackoffMs(failures: number, baseMs: number): number {
  return baseMs * 2 ** Math.min(6, Math.max(0, failures - 1));
}
