/**
 * HTTP routes that stream a session's torrents while they download, as a request handler
 * `(req: Request) => Promise<Response>` any server can mount (`get --stream` serves it
 * with `Deno.serve`; the daemon mounts it beside its RPC):
 *
 * - `GET|HEAD /stream/<info-hash hex>/<file index>[/<any name>]`: the file, with range
 *   requests (RFC 9110 §14): one `bytes` range → 206 with `Content-Range`, a range past
 *   the end or malformed → 416, `If-Range` with our strong ETag (anything else sends the
 *   whole file), `Accept-Ranges: bytes`, a `Content-Type` from the file's extension.
 * - `GET|HEAD /stream/<info-hash hex>.m3u`: an M3U playlist of the torrent's files.
 *
 * Bad requests end in 4xx, never a throw: unknown paths, hashes and file indices 404,
 * other methods 405, a `Host` outside `allowedHosts` 403 (DNS rebinding, RELIABILITY C1),
 * a skipped file's unfetched bytes 409; a magnet still fetching its metadata, a stopped
 * torrent or a torrent at its reader cap 503. Responses carry `nosniff` and a sandbox
 * CSP, since a torrent's files are untrusted.
 *
 * Layer: driver (web-standard Request/Response only; reads go through the torrent handle).
 * @module
 */
import { contentTypeOf } from "../util/media_types.ts";
import { formatContentRange, ifRangeAllows, parseRangeHeader } from "../util/http_range.ts";
import type { ReadStreamOptions, TorrentFileInfo } from "./torrent_handle.ts";

/** A torrent as the stream routes use it (the session's `Torrent` handle). */
export interface StreamableTorrent {
  /** Hex info-hash. */
  readonly infoHash: string;
  /** Files, once the metadata is known. */
  files(): TorrentFileInfo[] | undefined;
  /** A stream of one file's bytes. */
  createReadStream(fileIndex: number, options?: ReadStreamOptions): ReadableStream<Uint8Array>;
}

/** Where the routes find torrents (a `Session`). */
export interface StreamSource {
  /** The torrent with this lower-case hex info-hash. */
  torrent(infoHashHex: string): StreamableTorrent | undefined;
}

/** Options of {@linkcode createStreamHandler}. */
export interface StreamHandlerOptions {
  /** Path prefix of the routes. Default `"/stream"`. */
  readonly prefix?: string;
  /**
   * Host names (without port) the `Host` header may name; any when omitted. A server bound
   * to loopback passes its loopback names, so a web page cannot reach it by DNS rebinding.
   */
  readonly allowedHosts?: readonly string[];
  /** Ends every open stream (a server closing: paused players would keep it open). */
  readonly signal?: AbortSignal;
}

const HEX40 = /^[0-9a-fA-F]{40}$/;
const INDEX = /^\d{1,9}$/;
const SAFETY = {
  "x-content-type-options": "nosniff",
  "content-security-policy": "sandbox",
  "cache-control": "no-cache",
};

/**
 * The stream routes as a request handler.
 * @param source where torrents are found by info-hash (a `Session`)
 * @param options path prefix and allowed `Host` names
 * @returns a handler that always resolves to a response
 * @example
 * ```ts
 * import { createStreamHandler } from "./stream_http.ts";
 * import { strictEqual } from "node:assert";
 * const handler = createStreamHandler({ torrent: () => undefined });
 * const res = await handler(new Request(`http://127.0.0.1/stream/${"ab".repeat(20)}/0`));
 * strictEqual(res.status, 404);
 * ```
 */
export function createStreamHandler(
  source: StreamSource,
  options: StreamHandlerOptions = {},
): (req: Request) => Promise<Response> {
  const prefix = (options.prefix ?? "/stream").replace(/\/+$/, "");
  const hosts = options.allowedHosts?.map((h) => h.toLowerCase());
  const signal = options.signal;
  return (req) => {
    try {
      return Promise.resolve(route(req, source, { prefix, hosts, signal }));
    } catch (e) {
      // a bug must not take the server down: answer, and say what broke
      return Promise.resolve(text(500, `Internal error: ${(e as Error).message}`));
    }
  };
}

interface Routing {
  readonly prefix: string;
  readonly hosts: readonly string[] | undefined;
  readonly signal: AbortSignal | undefined;
}

function route(req: Request, source: StreamSource, o: Routing): Response {
  const { prefix, hosts } = o;
  const url = new URL(req.url);
  if (hosts && !hosts.includes(url.hostname.replace(/^\[|\]$/g, "").toLowerCase())) {
    return text(403, "Forbidden host");
  }
  if (url.pathname !== prefix && !url.pathname.startsWith(`${prefix}/`)) {
    return text(404, "Not found");
  }
  const parts = url.pathname.slice(prefix.length + 1).split("/");
  if (req.method !== "GET" && req.method !== "HEAD") {
    return text(405, "Method not allowed", { allow: "GET, HEAD" });
  }
  if (parts.length === 1 && parts[0]!.endsWith(".m3u")) {
    const hex = parts[0]!.slice(0, -4);
    const torrent = HEX40.test(hex) ? source.torrent(hex.toLowerCase()) : undefined;
    if (!torrent) return text(404, "Unknown torrent");
    return playlist(req, torrent, `${url.origin}${prefix}`);
  }
  if (parts.length < 2 || parts.length > 3 || !HEX40.test(parts[0]!) || !INDEX.test(parts[1]!)) {
    return text(404, "Not found");
  }
  const torrent = source.torrent(parts[0]!.toLowerCase());
  if (!torrent) return text(404, "Unknown torrent");
  const files = torrent.files();
  if (!files) return text(503, "Metadata not known yet", { "retry-after": "1" });
  const file = files[Number(parts[1])];
  if (!file || file.isPadding) return text(404, "No such file");
  return serveFile(req, torrent, file, o.signal);
}

function serveFile(
  req: Request,
  torrent: StreamableTorrent,
  file: TorrentFileInfo,
  signal: AbortSignal | undefined,
): Response {
  const size = file.length;
  const etag = `"${torrent.infoHash}-${file.index}"`;
  const name = file.path.slice(file.path.lastIndexOf("/") + 1);
  const headers: Record<string, string> = {
    ...SAFETY,
    "accept-ranges": "bytes",
    "content-type": contentTypeOf(name),
    "content-disposition": `inline; filename*=UTF-8''${rfc5987(name)}`,
    etag,
  };
  let range = parseRangeHeader(req.headers.get("range"), size);
  if (range.kind !== "whole" && !ifRangeAllows(req.headers.get("if-range"), etag)) {
    range = { kind: "whole" };
  }
  if (range.kind === "unsatisfiable") {
    return text(416, "Range not satisfiable", {
      ...headers,
      "content-range": formatContentRange(undefined, size),
    });
  }
  const start = range.kind === "range" ? range.start : 0;
  const end = range.kind === "range" ? range.end : size - 1;
  headers["content-length"] = String(end - start + 1);
  if (range.kind === "range") headers["content-range"] = formatContentRange(range, size);
  const status = range.kind === "range" ? 206 : 200;
  if (req.method === "HEAD" || end < start) return new Response(null, { status, headers });
  let body: ReadableStream<Uint8Array>;
  try {
    body = torrent.createReadStream(file.index, { start, end, ...(signal ? { signal } : {}) });
  } catch (e) {
    const message = (e as Error).message;
    if (message.includes("not selected")) return text(409, message);
    return text(503, message, { "retry-after": "1" });
  }
  return new Response(body, { status, headers });
}

function playlist(req: Request, torrent: StreamableTorrent, base: string): Response {
  const files = torrent.files();
  if (!files) return text(503, "Metadata not known yet", { "retry-after": "1" });
  const lines = ["#EXTM3U"];
  for (const f of files) {
    if (f.isPadding || f.length === 0 || !f.isSelected) continue;
    lines.push(`#EXTINF:-1,${f.path.replace(/[\r\n]/g, " ")}`);
    lines.push(`${base}/${torrent.infoHash}/${f.index}`);
  }
  const body = new TextEncoder().encode(lines.join("\n") + "\n");
  const headers = {
    ...SAFETY,
    "content-type": "audio/x-mpegurl; charset=utf-8",
    "content-length": String(body.length),
  };
  return new Response(req.method === "HEAD" ? null : body, { status: 200, headers });
}

function text(status: number, message: string, headers: Record<string, string> = {}): Response {
  const body = new TextEncoder().encode(message + "\n");
  return new Response(body, {
    status,
    headers: {
      ...SAFETY,
      ...headers,
      "content-type": "text/plain; charset=utf-8",
      "content-length": String(body.length),
    },
  });
}

/** A file name as an RFC 5987 ext-value (percent-encoded UTF-8; `'()*` too). */
function rfc5987(name: string): string {
  return encodeURIComponent(name).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}
