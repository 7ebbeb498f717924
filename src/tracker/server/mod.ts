/**
 * The tracker server's pure core: in-memory swarms (`SwarmStore`), stateless UDP
 * connection ids (`ConnectionIds`), the BEP 15 packet handler (`UdpTrackerHandler`),
 * the HTTP request handler (`createTrackerRequestHandler`: `/announce`, `/scrape`, `/stats`),
 * the HTTP/1.1 request-head reader and connection table its server uses, and every limit in
 * one `TrackerSettings`. The sockets live in `src/deno/tracker_server.ts` (`TrackerServer`).
 *
 * BEPs: 3 (announce), 7 (IPv6 peers), 15 (UDP tracker), 23 (compact peers), 48 (scrape).
 *
 * @example
 * ```ts
 * import { SwarmStore } from "./mod.ts";
 * import { SeededRandom } from "../../util/prng.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const store = new SwarmStore({ random: new SeededRandom(1) });
 * const r = store.announce(0, new Uint8Array(20), { ip: "192.0.2.1", port: 1, peerId: new Uint8Array(20), left: 0 });
 * assertEquals([r.complete, r.incomplete, r.peers.length], [1, 0, 0]);
 * ```
 * @module
 */
export { type ConnectionIdOptions, ConnectionIds } from "./connection_ids.ts";
export {
  createHttpTrackerHandler,
  createTrackerRequestHandler,
  type HttpHandlerOptions,
  type TrackerHttpHandler,
  type TrackerHttpResponse,
  type TrackerRequestHandler,
} from "./http_handler.ts";
export { type HttpConnectionLimits, HttpConnectionTable } from "./http_connections.ts";
export {
  formatResponseHead,
  type HttpHeadLimits,
  type HttpRequestHead,
  HttpRequestSyntaxError,
  parseRequestHead,
} from "./http_request_head.ts";
export {
  DEFAULT_TRACKER_SETTINGS,
  MAX_ANNOUNCE_INTERVAL_S,
  MIN_ANNOUNCE_INTERVAL_S,
  MIN_PEER_TTL_S,
  type TrackerSettings,
  validateTrackerSettings,
} from "./settings.ts";
export { MAX_QUERY_PARAMS, parseQuery, percentDecodeLatin1 } from "./query.ts";
export {
  type PeerAnnounce,
  type PeerFamily,
  type StoreStats,
  type SwarmAnnounceResult,
  type SwarmCounts,
  SwarmStore,
  type SwarmStoreOptions,
} from "./swarm_store.ts";
export {
  addressOf,
  compactPeersOf,
  countFamily,
  type StoredPeer,
  writeCompactPeers,
} from "./stored_peer.ts";
export { type UdpHandlerOptions, type UdpHandlerStats, UdpTrackerHandler } from "./udp_handler.ts";
