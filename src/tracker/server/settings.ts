/**
 * Every limit, timeout and interval of the tracker server in one flat object, like the
 * engine's `Settings` (STYLE §2): names carry units, each field gives its default and why.
 * Defaults follow /shared/reference/PARAMETERS.md §2.5 (what clients do) and RELIABILITY.md
 * TS1–TS6 (what a hostile client may do); heap figures are the store alone (100,000
 * announces into a fresh `SwarmStore`, after a full GC) on Deno 2.9.6.
 *
 * Layer: core (data only).
 * @module
 */

/** Tracker server settings. */
export interface TrackerSettings {
  /**
   * Announce interval told to clients, seconds. Default 1,800 (libtorrent's and opentracker's
   * 30 min). At least {@linkcode MIN_ANNOUNCE_INTERVAL_S}: clients never announce more often
   * (ours clamps to 60 s, Transmission 120 s, libtorrent 300 s), so a shorter interval only
   * shortens how long peers stay listed.
   */
  readonly intervalS: number;
  /** `min interval` told to clients, seconds; at most `intervalS`. Default 60 (libtorrent's UDP floor). */
  readonly minIntervalS: number;
  /**
   * A peer is dropped after this long without an announce, seconds. Default
   * max(2 × `intervalS`, {@linkcode MIN_PEER_TTL_S}) (opentracker 1.5 ×, Torrust 900 s);
   * never below {@linkcode MIN_PEER_TTL_S} nor `intervalS`.
   */
  readonly peerTtlS: number;
  /** Peers returned when the client does not say. Default 50 (WebTorrent's client, bttrack). */
  readonly defaultNumwant: number;
  /** Most peers returned per announce. Default 100 (RELIABILITY TS4). */
  readonly maxNumwant: number;
  /**
   * Most swarms (info-hashes) held; beyond it the least recently announced swarm is
   * evicted with its peers. Default 100,000: 53 MiB of heap as one-peer swarms (551 B
   * each), the shape of a fake-info-hash flood (TS4); the tracker process then holds about
   * 100–150 MiB more than idle (bench/tracker_hostile.ts, `swarms`).
   */
  readonly maxSwarms: number;
  /** Most peers per swarm; beyond it the stalest peer is evicted. Default 50,000. */
  readonly maxPeersPerSwarm: number;
  /**
   * Most peers across swarms; beyond it the stalest peer of the least recently announced
   * swarm is evicted. Default 500,000: 95 MiB of heap in swarms of 500 (199 B a peer), so
   * at both caps the store holds at most about 150 MiB of heap (was 2,000,000, ≈ 400 MiB).
   */
  readonly maxPeers: number;
  /** Most info-hashes in one HTTP scrape. Default 100 (UDP: 74 by BEP 15's packet size). */
  readonly maxScrapeHashes: number;
  /**
   * How long `/stats` reuses a rendered page, ms: the page scans every swarm for the busiest
   * ones, so a flood of `/stats` requests costs one scan per period. Default 1,000.
   */
  readonly statsRefreshMs: number;
  /** Swarms listed on `/stats` (the busiest). Default 20. */
  readonly statsTopSwarms: number;
  /** UDP connects answered per second per /24 (IPv6: /48); 0 = unlimited. Default 1,000 (TS2). */
  readonly connectsPerSecondPerPrefix: number;
  /** Concurrent receive loops per UDP socket. Default 8. */
  readonly udpReceivers: number;
  /**
   * Open HTTP connections at once; at the cap the connection idle the longest is closed to
   * make room (so idle sockets cannot lock honest clients out). Default 1,024: an announce
   * holds a connection for well under a millisecond on loopback.
   */
  readonly maxHttpConnections: number;
  /**
   * A request head must arrive whole within this, ms, counted from the connection (or the
   * previous response on a kept-alive one); slower connections are closed. Default 10,000 (TS5).
   */
  readonly httpHeaderTimeoutMs: number;
  /** A response must be taken by the client within this, ms, or the connection is closed. Default 10,000. */
  readonly httpWriteTimeoutMs: number;
  /** Longest request line (method, URL, version), bytes; longer gets HTTP 414. Default 8,192 (TS5). */
  readonly maxHttpRequestLineBytes: number;
  /** Longest request head (request line and headers), bytes; longer gets HTTP 431. Default 16,384. */
  readonly maxHttpRequestHeadBytes: number;
}

/** Shortest announce interval accepted, seconds: no client announces more often (PARAMETERS §2.5). */
export const MIN_ANNOUNCE_INTERVAL_S = 60;
/** Longest announce interval accepted, seconds (one day). */
export const MAX_ANNOUNCE_INTERVAL_S = 86_400;
/**
 * Shortest peer lifetime, seconds: 3 × libtorrent's `min_announce_interval` of 300 s, the
 * longest any common client waits between announces however short our interval, so a live
 * libtorrent peer survives one lost announce, its retry back-off and a sweep period.
 */
export const MIN_PEER_TTL_S = 900;

/** The defaults (frozen). */
export const DEFAULT_TRACKER_SETTINGS: TrackerSettings = Object.freeze({
  intervalS: 1800,
  minIntervalS: 60,
  peerTtlS: 3600,
  defaultNumwant: 50,
  maxNumwant: 100,
  maxSwarms: 100_000,
  maxPeersPerSwarm: 50_000,
  maxPeers: 500_000,
  maxScrapeHashes: 100,
  statsRefreshMs: 1000,
  statsTopSwarms: 20,
  connectsPerSecondPerPrefix: 1000,
  udpReceivers: 8,
  maxHttpConnections: 1024,
  httpHeaderTimeoutMs: 10_000,
  httpWriteTimeoutMs: 10_000,
  maxHttpRequestLineBytes: 8192,
  maxHttpRequestHeadBytes: 16_384,
});

const POSITIVE: readonly (keyof TrackerSettings)[] = [
  "intervalS",
  "minIntervalS",
  "peerTtlS",
  "defaultNumwant",
  "maxSwarms",
  "maxPeersPerSwarm",
  "maxPeers",
  "maxScrapeHashes",
  "statsRefreshMs",
  "statsTopSwarms",
  "udpReceivers",
  "maxHttpConnections",
  "httpHeaderTimeoutMs",
  "httpWriteTimeoutMs",
  "maxHttpRequestLineBytes",
  "maxHttpRequestHeadBytes",
];

/**
 * Fills in defaults and checks a batch of settings. `peerTtlS`, when not given, is
 * max(2 × `intervalS`, {@linkcode MIN_PEER_TTL_S}); `minIntervalS` is lowered to `intervalS`.
 * @param partial the settings to change; the rest keep their defaults
 * @returns the complete, frozen settings
 * @throws {RangeError} when a value is not a positive integer (`maxNumwant` and
 *   `connectsPerSecondPerPrefix` may be 0), `intervalS` is outside 60..86,400 s, `peerTtlS`
 *   is below 900 s or below `intervalS`, or the request line cap exceeds the head cap
 * @example
 * ```ts
 * import { validateTrackerSettings } from "./mod.ts";
 * import { deepStrictEqual as assertEquals, throws as assertThrows } from "node:assert";
 * assertEquals(validateTrackerSettings({ intervalS: 60 }).peerTtlS, 900);
 * assertEquals(validateTrackerSettings({ intervalS: 3600 }).peerTtlS, 7200);
 * assertThrows(() => validateTrackerSettings({ intervalS: 10 }), RangeError);
 * ```
 */
export function validateTrackerSettings(partial: Partial<TrackerSettings> = {}): TrackerSettings {
  const intervalS = partial.intervalS ?? DEFAULT_TRACKER_SETTINGS.intervalS;
  const s: TrackerSettings = {
    ...DEFAULT_TRACKER_SETTINGS,
    ...partial,
    peerTtlS: partial.peerTtlS ?? Math.max(2 * intervalS, MIN_PEER_TTL_S),
  };
  for (const key of POSITIVE) check(key, s[key], 1);
  for (const key of ["maxNumwant", "connectsPerSecondPerPrefix"] as const) check(key, s[key], 0);
  if (s.intervalS < MIN_ANNOUNCE_INTERVAL_S || s.intervalS > MAX_ANNOUNCE_INTERVAL_S) {
    throw new RangeError(
      `Invalid setting intervalS: ${s.intervalS} is outside ${MIN_ANNOUNCE_INTERVAL_S}..${MAX_ANNOUNCE_INTERVAL_S} s`,
    );
  }
  if (s.peerTtlS < Math.max(MIN_PEER_TTL_S, s.intervalS)) {
    throw new RangeError(
      `Invalid setting peerTtlS: ${s.peerTtlS} s would drop live peers (need ≥ ${MIN_PEER_TTL_S} s and ≥ intervalS)`,
    );
  }
  if (s.maxHttpRequestLineBytes > s.maxHttpRequestHeadBytes) {
    throw new RangeError(
      "Invalid settings: maxHttpRequestLineBytes is above maxHttpRequestHeadBytes",
    );
  }
  return Object.freeze({ ...s, minIntervalS: Math.min(s.minIntervalS, s.intervalS) });
}

function check(key: string, value: unknown, min: number): void {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min) {
    throw new RangeError(`Invalid setting ${key}: ${value} is not an integer ≥ ${min}`);
  }
}
