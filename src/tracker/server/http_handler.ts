/**
 * The HTTP tracker server's request handler: `/announce` (BEP 3; compact BEP 23 with
 * `peers6` BEP 7, or dictionary peers for `compact=0`), `/scrape` (BEP 48), and `/stats`
 * (HTML, or JSON with `?format=json`). Malformed requests get a bencoded `failure reason`
 * with HTTP 200, per convention; `ip=`/`ipv4=`/`ipv6=` are ignored (TS3); the request line
 * is capped at 8 KiB (TS5).
 *
 * Layer: core (web-standard `Request`/`Response` only; time comes from an injected `now`).
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
  /** Longest request URL accepted, bytes (default 8 KiB). */
  readonly maxUrlLength?: number;
  /** Most info-hashes in one scrape (default 100). */
  readonly maxScrapeHashes?: number;
  /** Extra counters shown on `/stats` (e.g. the UDP handler's). */
  readonly extraStats?: () => Record<string, number>;
}

/** A tracker request handler, e.g. for `Deno.serve`. */
export type TrackerHttpHandler = (request: Request, remote: PeerAddress) => Response;

const TEXT_HEADERS = { "content-type": "text/plain; charset=utf-8" } as const;
const EVENTS = new Set(["started", "completed", "stopped"]);

/**
 * Builds the tracker's HTTP handler. It never throws: every bad request gets an answer.
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
  const maxUrl = options.maxUrlLength ?? 8192;
  return (request, remote) => {
    if (request.method !== "GET" && request.method !== "HEAD") {
      return new Response("Method not allowed\n", { status: 405, headers: TEXT_HEADERS });
    }
    if (request.url.length > maxUrl) return failure("Request too long");
    const url = request.url;
    const schemeEnd = url.indexOf("://");
    const pathStart = url.indexOf("/", schemeEnd < 0 ? 0 : schemeEnd + 3);
    const q = url.indexOf("?", pathStart);
    const path = pathStart < 0 ? "/" : url.slice(pathStart, q < 0 ? undefined : q);
    const query = q < 0 ? "" : url.slice(q + 1).split("#")[0]!;
    try {
      if (path === "/announce") return announce(options, parseQuery(query), remote);
      if (path === "/scrape") return scrape(options, parseQuery(query));
      if (path === "/stats") return stats(options, parseQuery(query));
    } catch (e) {
      if (e instanceof TrackerFailureError || e instanceof TrackerSyntaxError) {
        return failure(e.message);
      }
      return failure("Internal error"); // never let a request take the server down (rule 3)
    }
    return new Response("Not found\n", { status: 404, headers: TEXT_HEADERS });
  };
}

function failure(reason: string): Response {
  return bencoded({ "failure reason": reason });
}

function bencoded(value: Encodable): Response {
  return new Response(encode(value) as Uint8Array<ArrayBuffer>, { headers: TEXT_HEADERS });
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
): Response {
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

function scrape(options: HttpHandlerOptions, query: Query): Response {
  const hashes = query.get("info_hash") ?? [];
  if (hashes.length === 0) return failure("Full scrape is disabled");
  if (hashes.length > (options.maxScrapeHashes ?? 100)) return failure("Too many info_hash values");
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

function stats(options: HttpHandlerOptions, query: Query): Response {
  const totals = { ...options.store.stats(), ...options.extraStats?.() };
  const top = options.store.topSwarms(20);
  if (text(query, "format") === "json") {
    return new Response(JSON.stringify({ ...totals, top }), {
      headers: { "content-type": "application/json" },
    });
  }
  const rows = Object.entries(totals).map(([k, v]) => `<tr><th>${k}</th><td>${v}</td></tr>`).join(
    "",
  );
  const swarms = top.map((s) =>
    `<tr><td><code>${s.infoHash}</code></td><td>${s.complete}</td><td>${s.incomplete}</td><td>${s.downloaded}</td></tr>`
  ).join("");
  const html =
    `<!doctype html><html><head><meta charset="utf-8"><title>Tracker stats</title></head><body>` +
    `<h1>Tracker stats</h1><table>${rows}</table><h2>Busiest swarms</h2><table>` +
    `<tr><th>info-hash</th><th>seeders</th><th>leechers</th><th>completed</th></tr>${swarms}</table></body></html>\n`;
  return new Response(html, { headers: { "content-type": "text/html; charset=utf-8" } });
}
