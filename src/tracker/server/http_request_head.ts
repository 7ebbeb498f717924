/**
 * A sans-I/O reader of HTTP/1.x request heads (RFC 9112 §2–3) for the tracker server, and
 * the writer of its response heads. It reads only what a tracker needs: method, request
 * target, version and whether the connection may be kept open. Caps are checked before
 * more bytes are awaited: a request line over `maxLineBytes` is refused with 414 as soon as
 * that many bytes arrived without a line end, a head over `maxHeadBytes` with 431
 * (RELIABILITY TS5). A request with a body (`Content-Length` > 0 or `Transfer-Encoding`) is
 * answered and the connection closed, since trackers take none and its bytes would
 * otherwise be read as the next request.
 *
 * Layer: core (pure).
 * @module
 */

/** A request head read whole. */
export interface HttpRequestHead {
  /** Method token as sent (`GET`, `HEAD`, …). */
  readonly method: string;
  /** Request target as latin1 (`/announce?…`, or an absolute URL). */
  readonly target: string;
  /** True when the connection may carry another request after the response. */
  readonly keepAlive: boolean;
  /** Bytes of the head, blank line included: where the next request starts. */
  readonly length: number;
}

/** Caps of {@linkcode parseRequestHead}. */
export interface HttpHeadLimits {
  /** Longest request line, bytes (line end excluded). */
  readonly maxLineBytes: number;
  /** Longest head, bytes (blank line included). */
  readonly maxHeadBytes: number;
}

/** A malformed or oversized request head; `status` is the HTTP status to answer with. */
export class HttpRequestSyntaxError extends SyntaxError {
  /** Byte offset of the failure in the input. */
  readonly offset: number;
  /** 400, 414 (request line too long), 431 (head too long) or 505 (version). */
  readonly status: 400 | 414 | 431 | 505;
  /**
   * Builds the error.
   * @param message what was wrong
   * @param offset byte offset in the input
   * @param status the HTTP status to answer with
   */
  constructor(message: string, offset: number, status: 400 | 414 | 431 | 505) {
    super(`Cannot read HTTP request at offset ${offset}: ${message}`);
    this.name = "HttpRequestSyntaxError";
    this.offset = offset;
    this.status = status;
  }
}

const LF = 0x0a;
const CR = 0x0d;

/**
 * Reads a request head from `bytes[0..end)`.
 * @param bytes the buffer
 * @param end how many bytes of it hold data
 * @param limits line and head caps
 * @returns the head, or `undefined` when more bytes are needed
 * @throws {HttpRequestSyntaxError} on a malformed head or one over the caps
 * @example
 * ```ts
 * import { parseRequestHead } from "./mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const bytes = new TextEncoder().encode("GET /announce?a=1 HTTP/1.1\r\nHost: t\r\n\r\nGET");
 * const limits = { maxLineBytes: 8192, maxHeadBytes: 16384 };
 * assertEquals(parseRequestHead(bytes, bytes.length, limits), {
 *   method: "GET", target: "/announce?a=1", keepAlive: true, length: 39,
 * });
 * assertEquals(parseRequestHead(bytes, 20, limits), undefined); // needs more bytes
 * ```
 */
export function parseRequestHead(
  bytes: Uint8Array,
  end: number,
  limits: HttpHeadLimits,
): HttpRequestHead | undefined {
  let start = 0;
  while (start < end && (bytes[start] === CR || bytes[start] === LF)) start++; // RFC 9112 §2.2
  const lineEnd = bytes.subarray(start, end).indexOf(LF);
  if (lineEnd < 0) {
    if (end - start > limits.maxLineBytes + 1) throw tooLong(start, limits.maxLineBytes, 414);
    if (end > limits.maxHeadBytes) throw tooLong(0, limits.maxHeadBytes, 431);
    return undefined;
  }
  const line = latin1(bytes, start, trimCr(bytes, start, start + lineEnd));
  if (line.length > limits.maxLineBytes) throw tooLong(start, limits.maxLineBytes, 414);
  const headEnd = findBlankLine(bytes, start + lineEnd, end);
  if (headEnd < 0) {
    if (end > limits.maxHeadBytes) throw tooLong(0, limits.maxHeadBytes, 431);
    return undefined;
  }
  if (headEnd > limits.maxHeadBytes) throw tooLong(0, limits.maxHeadBytes, 431);
  const [method, target, version, extra] = line.split(" ");
  if (!method || !/^[A-Z]{1,16}$/.test(method) || !target || !version || extra !== undefined) {
    throw new HttpRequestSyntaxError("bad request line", start, 400);
  }
  if (version !== "HTTP/1.1" && version !== "HTTP/1.0") {
    throw new HttpRequestSyntaxError(`unsupported version "${version.slice(0, 16)}"`, start, 505);
  }
  const fields = readFields(bytes, start + lineEnd + 1, headEnd);
  const connection = fields.connection?.toLowerCase() ?? "";
  const hasBody = fields.transferEncoding !== undefined ||
    (fields.contentLength !== undefined && fields.contentLength !== "0");
  const keepAlive = !hasBody &&
    (version === "HTTP/1.1" ? !/\bclose\b/.test(connection) : /\bkeep-alive\b/.test(connection));
  return { method, target, keepAlive, length: headEnd };
}

/**
 * The bytes of a response head.
 * @param status the status code
 * @param contentType the `Content-Type` value
 * @param contentLength body bytes
 * @param keepAlive whether the connection stays open
 * @returns the head, blank line included
 * @example
 * ```ts
 * import { formatResponseHead } from "./mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * assertEquals(
 *   new TextDecoder().decode(formatResponseHead(404, "text/plain", 3, false)),
 *   "HTTP/1.1 404 Not Found\r\ncontent-type: text/plain\r\ncontent-length: 3\r\nconnection: close\r\n\r\n",
 * );
 * ```
 */
export function formatResponseHead(
  status: number,
  contentType: string,
  contentLength: number,
  keepAlive: boolean,
): Uint8Array {
  const head =
    `HTTP/1.1 ${status} ${REASONS[status] ?? "Unknown"}\r\ncontent-type: ${contentType}` +
    `\r\ncontent-length: ${contentLength}\r\nconnection: ${
      keepAlive ? "keep-alive" : "close"
    }\r\n\r\n`;
  const out = new Uint8Array(head.length);
  for (let i = 0; i < head.length; i++) out[i] = head.charCodeAt(i);
  return out;
}

const REASONS: Record<number, string> = {
  200: "OK",
  400: "Bad Request",
  404: "Not Found",
  405: "Method Not Allowed",
  414: "URI Too Long",
  431: "Request Header Fields Too Large",
  505: "HTTP Version Not Supported",
};

function tooLong(offset: number, cap: number, status: 414 | 431): HttpRequestSyntaxError {
  const what = status === 414 ? "request line" : "request head";
  return new HttpRequestSyntaxError(`${what} over ${cap} bytes`, offset, status);
}

function trimCr(bytes: Uint8Array, start: number, end: number): number {
  return end > start && bytes[end - 1] === CR ? end - 1 : end;
}

/** Offset just past the blank line that ends the head, searching from the first LF; -1 if none yet. */
function findBlankLine(bytes: Uint8Array, from: number, end: number): number {
  for (let i = from; i < end; i++) {
    if (bytes[i] !== LF) continue;
    if (i + 1 < end && bytes[i + 1] === LF) return i + 2;
    if (i + 2 < end && bytes[i + 1] === CR && bytes[i + 2] === LF) return i + 3;
  }
  return -1;
}

interface Fields {
  connection?: string;
  contentLength?: string;
  transferEncoding?: string;
}

function readFields(bytes: Uint8Array, from: number, headEnd: number): Fields {
  const fields: Fields = {};
  let at = from;
  while (at < headEnd) {
    let lf = bytes.indexOf(LF, at);
    if (lf < 0 || lf >= headEnd) lf = headEnd;
    const line = latin1(bytes, at, trimCr(bytes, at, lf));
    if (line.length > 0) {
      const colon = line.indexOf(":");
      if (colon <= 0) throw new HttpRequestSyntaxError("header line without a name", at, 400);
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === "connection") fields.connection = value;
      else if (name === "content-length") fields.contentLength = value;
      else if (name === "transfer-encoding") fields.transferEncoding = value;
    }
    at = lf + 1;
  }
  return fields;
}

function latin1(bytes: Uint8Array, start: number, end: number): string {
  let out = "";
  for (let i = start; i < end; i += 4096) {
    out += String.fromCharCode.apply(
      null,
      bytes.subarray(i, Math.min(end, i + 4096)) as unknown as number[],
    );
  }
  return out;
}
