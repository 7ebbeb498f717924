/**
 * The Mainline DHT's settings (BEP 5): whether it runs, where it starts, how often each
 * torrent announces, and what a query flood may cost. Part of `Settings`.
 *
 * Layer: core (data only).
 * @module
 */

/** DHT settings (fields of `Settings`). */
export interface DhtSettings {
  /** Enable the Mainline DHT. Default true. */
  readonly enableDht: boolean;
  /**
   * DHT bootstrap nodes, `host:port`. Default: the public routers of PARAMETERS.md §2.4
   * (router.bittorrent.com:6881, dht.transmissionbt.com:6881, router.utorrent.com:6881,
   * dht.libtorrent.org:25401). Where none answers, the DHT says so once and retries.
   */
  readonly dhtBootstrapNodes: readonly string[];
  /** How often each torrent looks itself up and announces on the DHT. Default 15 min (BEP 5 practice). */
  readonly dhtAnnounceIntervalMs: number;
  /**
   * While a torrent has no peer, the DHT is asked again after this long, doubling up to
   * `dhtAnnounceIntervalMs` (a swarm that is just forming is found in seconds, not in 15
   * minutes). Default 10,000 ms.
   */
  readonly dhtStarvedRetryMs: number;
  /**
   * DHT queries handled per second, across all senders, beyond a burst of twice that;
   * the rest are dropped before decoding (replies to our own queries always pass).
   * The per-IP limit (5/s, libtorrent's dos_blocker) cannot stop a flood from many
   * addresses, and our replies are capped at 8 kB/s anyway (a few dozen per second), so
   * more queries only cost CPU and garbage: a flood of 10,000/s from 2,000 addresses grew
   * the node by 140 MiB before this cap. Default 500.
   */
  readonly dhtMaxQueriesPerSecond: number;
  /**
   * Peers other nodes announced to us (BEP 5 `announce_peer`) kept in total, across at
   * most 2,000 info-hashes × 500 peers (libtorrent's limits); the least recently
   * announced info-hash loses its oldest peer first. Default 100,000 (about 15 MiB at
   * ~150 bytes each; the full 2,000 × 500 would take ~140 MiB).
   */
  readonly dhtMaxStoredPeers: number;
}

/** The defaults of {@linkcode DhtSettings}. */
export const DEFAULT_DHT_SETTINGS: Readonly<DhtSettings> = Object.freeze({
  enableDht: true,
  dhtBootstrapNodes: Object.freeze([
    "router.bittorrent.com:6881",
    "dht.transmissionbt.com:6881",
    "router.utorrent.com:6881",
    "dht.libtorrent.org:25401",
  ]),
  dhtAnnounceIntervalMs: 15 * 60_000,
  dhtStarvedRetryMs: 10_000,
  dhtMaxQueriesPerSecond: 500,
  dhtMaxStoredPeers: 100_000,
});

/** Fields that must be positive integers. */
export const DHT_INTEGER_FIELDS: readonly (keyof DhtSettings)[] = [
  "dhtAnnounceIntervalMs",
  "dhtStarvedRetryMs",
  "dhtMaxQueriesPerSecond",
  "dhtMaxStoredPeers",
];
