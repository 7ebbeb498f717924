/**
 * The HTTP tracker server's request handler: `/announce` (BEP 3; compact BEP 23 with
 * `peers6` BEP 7, or dictionary peers for `compact=0`), `/scrape` (BEP 48), and `/stats`
 * (HTML, or JSON with `?format=json`). Malformed requests get a bencoded `failure reason`
 * with HTTP 200, per convention; `ip=`/`ipv4=`/`ipv6=` are ignored (TS3); the request line
 * is capped at 8 KiB (TS5). `/stats` is built from counters the store keeps and one bounded
 * pass for the busiest swarms, at most once per `statsRefreshMs`, so a flood of `/stats`
 * requests neither allocates per swarm nor scans the store per request.
 *
 * Two shapes: {@linkcode createTrackerRequestHandler} takes a method and a request target
 * and returns status, type and body bytes (what the Deno binding's own HTTP/1.1 server
 * uses); {@linkcode createHttpTrackerHandler} wraps it for web-standard `Request`/`Response`.
 *
 * Layer: core (time comes from an injected `now`).
 * @module
 */
import { encode } from "../../bencode/mod.ts";
import type { Encodable } from "../../bencode/mod.ts";
import type { PeerAddress } from "../../runtime/types.ts";
import { fromLatin1 } from "../../util/bytes.ts";
import { TrackerFailureError, TrackerSyntaxError } from "../tracker_errors.ts";
import type { AnnounceEvent } from "../types.ts";
import { parseQuery } from "./query.ts";
import { addressOf, compactPeersOf } from "./stored_peer.ts";
import type { SwarmStore } from "./swarm_store.ts";

/** Options of {@linkcode createHttpTrackerHandler}. */
export interface HttpHandlerOptions {
  /** The swarms. */
  readonly store: SwarmStore;
  /** Current time, ms (monotonic). */
  readonly now: () => number;
  /** Longest request URL accepted, bytes (default: the store's `maxHttpRequestLineBytes`). */
  readonly maxUrlLength?: number;
  /** Extra counters shown on `/stats` (e.g. the UDP handler's and the HTTP server's). */
  readonly extraStats?: () => Record<string, number>;
}

/** A tracker request handler on web-standard `Request`/`Response` (e.g. for `Deno.serve`). */
export type TrackerHttpHandler = (request: Request, remote: PeerAddress) => Response;

/** One response of {@linkcode TrackerRequestHandler}. */
export interface TrackerHttpResponse {
  /** HTTP status code. */
  readonly status: number;
  /** `Content-Type` value. */
  readonly contentType: string;
  /** The body. */
  readonly body: Uint8Array;
}

/**
 * Answers one request: `method` as sent, `target` the request target (`/announce?…`, or an
 * absolute URL). Never throws.
 */
export type TrackerRequestHandler = (
  method: string,
  target: string,
  remote: PeerAddress,
) => TrackerHttpResponse;

const TEXT = "text/plain; charset=utf-8";
const EVENTS = new Set(["started", "completed", "stopped"]);
const UTF8 = new TextEncoder();

/**
 * Builds the tracker's HTTP handler for web-standard requests. It never throws: every bad
 * request gets an answer.
 * @param options store, clock and caps
 * @returns the handler
 * @example
 * ```ts
 * import { createHttpTrackerHandler, SwarmStore } from "./mod.ts";
 * import { SeededRandom } from "../../util/prng.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const handler = createHttpTrackerHandler({ store: new SwarmStore({ random: new SeededRandom(1) }), now: () => 0 });
 * const response = handler(new Request("http://t/announce?port=0"), { host: "192.0.2.1", port: 1 });
 * assertEquals(await response.text(), "d14:failure reason17:Invalid info_hashe");
 * ```
 */
export function createHttpTrackerHandler(options: HttpHandlerOptions): TrackerHttpHandler {
  const handle = createTrackerRequestHandler(options);
  return (request, remote) => {
    const r = handle(request.method, request.url, remote);
    const body = request.method === "HEAD" ? null : r.body as Uint8Array<ArrayBuffer>;
    return new Response(body, { status: r.status, headers: { "content-type": r.contentType } });
  };
}

/**
 * Builds the tracker's request handler on plain strings and bytes. It never throws.
 * @param options store, clock and caps
 * @returns the handler
 * @example
 * ```ts
 * import { createTrackerRequestHandler, SwarmStore } from "./mod.ts";
 * import { SeededRandom } from "../../util/prng.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const handle = createTrackerRequestHandler({ store: new SwarmStore({ random: new SeededRandom(1) }), now: () => 0 });
 * const r = handle("GET", "/scrape", { host: "192.0.2.1", port: 1 });
 * assertEquals([r.status, new TextDecoder().decode(r.body)], [200, "d14:failure reason23:Full scrape is disablede"]);
 * ```
 */
export function createTrackerRequestHandler(options: HttpHandlerOptions): TrackerRequestHandler {
  const maxUrl = options.maxUrlLength ?? options.store.settings.maxHttpRequestLineBytes;
  const stats = new StatsPage(options);
  return (method, target, remote) => {
    if (method !== "GET" && method !== "HEAD") return plain(405, "Method not allowed\n");
    if (target.length > maxUrl) return failure("Request too long");
    const schemeEnd = target.startsWith("/") ? -1 : target.indexOf("://");
    const pathStart = target.indexOf("/", schemeEnd < 0 ? 0 : schemeEnd + 3);
    const q = target.indexOf("?", pathStart);
    const path = pathStart < 0 ? "/" : target.slice(pathStart, q < 0 ? undefined : q);
    const query = q < 0 ? "" : target.slice(q + 1).split("#")[0]!;
    try {
      if (path === "/announce") return announce(options, parseQuery(query), remote);
      if (path === "/scrape") return scrape(options, parseQuery(query));
      if (path === "/stats") return stats.render(text(parseQuery(query), "format") === "json");
    } catch (e) {
      if (e instanceof TrackerFailureError || e instanceof TrackerSyntaxError) {
        return failure(e.message);
      }
      return failure("Internal error"); // never let a request take the server down (rule 3)
    }
    return plain(404, "Not found\n");
  };
}

function plain(status: number, body: string): TrackerHttpResponse {
  return { status, contentType: TEXT, body: UTF8.encode(body) };
}

function failure(reason: string): TrackerHttpResponse {
  return bencoded({ "failure reason": reason });
}

function bencoded(value: Encodable): TrackerHttpResponse {
  return { status: 200, contentType: TEXT, body: encode(value) };
}

type Query = Map<string, string[]>;

/** The first value of `key`, as latin1 (one char per byte). */
function text(query: Query, key: string): string | undefined {
  return query.get(key)?.[0];
}

/** The first value of `key` as bytes. */
function bytes(query: Query, key: string): Uint8Array | undefined {
  const v = text(query, key);
  return v === undefined ? undefined : fromLatin1(v);
}

function integer(query: Query, key: string): number | undefined {
  const v = text(query, key);
  if (v === undefined) return undefined;
  if (!/^-?\d{1,20}$/.test(v)) throw new TrackerFailureError(`Invalid ${key}`);
  return Math.min(Number(v), Number.MAX_SAFE_INTEGER);
}

function announce(
  options: HttpHandlerOptions,
  query: Query,
  remote: PeerAddress,
): TrackerHttpResponse {
  const infoHash = bytes(query, "info_hash");
  const peerId = bytes(query, "peer_id");
  const port = integer(query, "port");
  if (infoHash?.length !== 20) return failure("Invalid info_hash");
  if (peerId?.length !== 20) return failure("Invalid peer_id");
  if (port === undefined) return failure("Missing port");
  const event = text(query, "event");
  if (event !== undefined && event !== "" && !EVENTS.has(event)) return failure("Invalid event");
  const key = text(query, "key");
  const result = options.store.announce(options.now(), infoHash, {
    ip: remote.host,
    port,
    peerId,
    key: key === undefined || key === "" ? undefined : key.slice(0, 64),
    left: integer(query, "left") ?? 1,
    event: event === "" ? undefined : event as AnnounceEvent | undefined,
    numwant: integer(query, "numwant"),
  });
  const body: Record<string, Encodable | undefined> = {
    complete: result.complete,
    incomplete: result.incomplete,
    downloaded: result.downloaded,
    interval: result.intervalS,
    "min interval": result.minIntervalS,
  };
  if (text(query, "compact") === "0") {
    const withId = text(query, "no_peer_id") !== "1";
    body.peers = result.peers.map((p) => {
      const a = addressOf(p);
      return { ip: a.host, port: a.port, "peer id": withId ? fromLatin1(p.peerId) : undefined };
    });
  } else {
    body.peers = compactPeersOf(result.peers, 4);
    const v6 = compactPeersOf(result.peers, 6);
    if (v6.length > 0) body.peers6 = v6;
  }
  return bencoded(body);
}

function scrape(options: HttpHandlerOptions, query: Query): TrackerHttpResponse {
  const hashes = query.get("info_hash") ?? [];
  if (hashes.length === 0) return failure("Full scrape is disabled");
  if (hashes.length > options.store.settings.maxScrapeHashes) {
    return failure("Too many info_hash values");
  }
  const files = new Map<string, Encodable>();
  for (const h of hashes) {
    if (h.length !== 20) return failure("Invalid info_hash");
    const hash = fromLatin1(h);
    if (!options.store.isAllowed(hash)) continue;
    const c = options.store.scrape(hash);
    files.set(h, {
      complete: c.complete,
      incomplete: c.incomplete,
      downloaded: c.downloaded,
    });
  }
  return bencoded({ files });
}

type StatsData = { totals: Record<string, number>; top: ReturnType<SwarmStore["topSwarms"]> };

/** `/stats`, recomputed at most once per `statsRefreshMs` (a bounded pass, see the header). */
class StatsPage {
  readonly #options: HttpHandlerOptions;
  #data: StatsData | undefined;
  #at = -Infinity;

  constructor(options: HttpHandlerOptions) {
    this.#options = options;
  }

  render(json: boolean): TrackerHttpResponse {
    const { store, now, extraStats } = this.#options;
    const t = now();
    if (!this.#data || t - this.#at >= store.settings.statsRefreshMs || t < this.#at) {
      this.#data = {
        totals: { ...store.stats(), ...extraStats?.() },
        top: store.topSwarms(store.settings.statsTopSwarms),
      };
      this.#at = t;
    }
    const { totals, top } = this.#data;
    if (json) {
      const body = UTF8.encode(JSON.stringify({ ...totals, top }));
      return { status: 200, contentType: "application/json", body };
    }
    const rows = Object.entries(totals).map(([k, v]) => `<tr><th>${k}</th><td>${v}</td></tr>`)
      .join("");
    const swarms = top.map((s) =>
      `<tr><td><code>${s.infoHash}</code></td><td>${s.complete}</td><td>${s.incomplete}</td><td>${s.downloaded}</td></tr>`
    ).join("");
    const html =
      `<!doctype html><html><head><meta charset="utf-8"><title>Tracker stats</title></head><body>` +
      `<h1>Tracker stats</h1><table>${rows}</table><h2>Busiest swarms</h2><table>` +
      `<tr><th>info-hash</th><th>seeders</th><th>leechers</th><th>completed</th></tr>${swarms}</table></body></html>\n`;
    return { status: 200, contentType: "text/html; charset=utf-8", body: UTF8.encode(html) };
  }
}
