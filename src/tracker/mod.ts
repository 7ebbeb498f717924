/**
 * Trackers: HTTP and UDP announce and scrape codecs, their clients, BEP 12 multitracker
 * tiers, the announce schedule, and the tracker server's pure core.
 *
 * - BEP 3: HTTP announce with every parameter; responses with dictionary peers.
 * - BEP 7: IPv6 peers (`peers6`, 18-byte UDP entries).
 * - BEP 12: tiers shuffled once, tried in order, the answering tracker moved to the front.
 * - BEP 15: UDP tracker protocol, client (retransmission 15·2^n s, n ≤ 1 by default) and
 *   server (stateless HMAC connection ids).
 * - BEP 23: compact peer lists.
 * - BEP 48: scrape URL convention and raw 20-byte `files` keys.
 *
 * Pure cores (codecs, `TrackerTiers`, `AnnounceSchedule`, `SwarmStore`) take bytes and
 * `now`; the clients (`HttpTrackerClient`, `UdpTrackerClient`, `TrackerClient`) talk
 * through injected `HttpFetcher`, `UdpSocketLike`, `Clock` and `Random`. Deno bindings:
 * `DenoHttpFetcher` (`src/deno/http.ts`) and `TrackerServer` (`src/deno/tracker_server.ts`,
 * with its own HTTP/1.1 server in `src/deno/tracker_http.ts`).
 *
 * @example
 * ```ts
 * import { buildAnnounceUrl, parseAnnounceResponse } from "./mod.ts";
 * import { encode } from "../bencode/mod.ts";
 * import { deepStrictEqual as assertEquals, ok as assert } from "node:assert";
 * const url = buildAnnounceUrl("http://t.example/announce", {
 *   infoHash: new Uint8Array(20),
 *   peerId: new Uint8Array(20),
 *   port: 6881,
 *   uploaded: 0,
 *   downloaded: 0,
 *   left: 1,
 * });
 * assert(url.includes("&compact=1"));
 * const result = parseAnnounceResponse(encode({ interval: 1800, peers: new Uint8Array(0) }));
 * assertEquals(result.kind === "ok" && result.response.intervalS, 1800);
 * ```
 * @module
 */
export {
  AnnounceSchedule,
  clampIntervalS,
  DEFAULT_INTERVAL_S,
  MAX_INTERVAL_S,
  MIN_INTERVAL_S,
  type SchedulePhase,
  type ScheduleTiming,
} from "./announce_schedule.ts";
export {
  decodeCompactPeers,
  encodeCompactPeer,
  encodeCompactPeers,
  type IpFamily,
} from "./compact_peers.ts";
export {
  type HttpFetcher,
  type HttpFetchOptions,
  type HttpFetchResult,
  HttpTrackerClient,
  type HttpTrackerClientOptions,
  redact,
} from "./http_client.ts";
export {
  buildAnnounceUrl,
  buildScrapeUrl,
  DEFAULT_MAX_PEERS_PER_RESPONSE,
  type HttpAnnounceResult,
  type HttpParseOptions,
  type HttpScrapeResult,
  type HttpTrackerFailure,
  parseAnnounceResponse,
  parseScrapeResponse,
  percentEncodeBytes,
  scrapeUrlFor,
} from "./http_codec.ts";
export {
  isTrackerUrl,
  MAX_TRACKERS,
  type NextTracker,
  RETRY_DELAY_MAX_MS,
  RETRY_DELAY_MIN_MS,
  retryDelayMs,
  type TierEntry,
  TRACKER_BACKOFF_PERCENT,
  TrackerTiers,
} from "./tiers.ts";
export {
  TrackerClient,
  type TrackerClientOptions,
  type TrackerStatus,
  type TransferStats,
} from "./tracker_client.ts";
export { quoteTrackerText, TrackerFailureError, TrackerSyntaxError } from "./tracker_errors.ts";
export type { AnnounceEvent, AnnounceParams, AnnounceResponse, ScrapeEntry } from "./types.ts";
export { UdpTrackerClient, type UdpTrackerClientOptions } from "./udp_client.ts";
export {
  decodeUdpRequest,
  decodeUdpResponse,
  encodeUdpRequest,
  encodeUdpResponse,
  MAX_UDP_SCRAPE_HASHES,
  UDP_PROTOCOL_ID,
  type UdpAnnounceCounts,
  type UdpAnnounceRequest,
  type UdpAnnounceResponse,
  type UdpConnectRequest,
  type UdpConnectResponse,
  type UdpErrorResponse,
  type UdpRequest,
  type UdpResponse,
  type UdpScrapeCounts,
  type UdpScrapeRequest,
  type UdpScrapeResponse,
  writeUdpAnnounceHeader,
} from "./udp_codec.ts";
export { checkHttpTrackerUrl, checkRedirect, type UrlPolicyOptions } from "./url_policy.ts";
export * from "./server/mod.ts";
export type {
  Clock,
  Datagram,
  DatagramInfo,
  Logger,
  PeerAddress,
  Random,
  Timer,
  UdpSocketLike,
} from "../runtime/types.ts";
export { TrackerError } from "../errors.ts";
