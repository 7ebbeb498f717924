/**
 * Counters of a DHT node and the default bootstrap routers.
 *
 * Layer: core (data only). Private to `src/dht/`.
 * @module
 */
import type { PeerAddress } from "../runtime/types.ts";

/**
 * The public bootstrap routers (PARAMETERS.md §2.4: libtorrent, Transmission, WebTorrent).
 */
export const DEFAULT_BOOTSTRAP_NODES: readonly PeerAddress[] = Object.freeze([
  { host: "router.bittorrent.com", port: 6881 },
  { host: "dht.transmissionbt.com", port: 6881 },
  { host: "router.utorrent.com", port: 6881 },
  { host: "dht.libtorrent.org", port: 25401 },
]);

/** Counters of a {@linkcode DhtNode}. */
export interface DhtStats {
  /** Queries we sent. */
  queriesSent: number;
  /** Queries we received. */
  queriesReceived: number;
  /** Replies to our queries that matched a transaction. */
  repliesReceived: number;
  /** Error replies to our queries. */
  errorsReceived: number;
  /** Our queries that went unanswered. */
  timeouts: number;
  /** Replies we sent. */
  repliesSent: number;
  /** Error replies we sent. */
  errorsSent: number;
  /** Announces stored in our peer store. */
  announcesStored: number;
  /** Datagrams that failed to decode (D1). */
  malformed: number;
  /** Replies we never asked for, or from the wrong source (D6). */
  droppedUnexpected: number;
  /** Datagrams dropped by the per-IP limiter (D2). */
  droppedRateLimited: number;
  /** Unsolicited datagrams (queries) dropped over the node's query budget. */
  droppedOverQueryBudget: number;
  /** Replies not sent because of the output budget (D2). */
  droppedOverBudget: number;
  /** UDP payload bytes sent. */
  bytesSent: number;
  /** UDP payload bytes received. */
  bytesReceived: number;
  /** Lookups finished. */
  lookups: number;
  /** Queries sent by finished lookups (÷ `lookups` = queries per lookup). */
  lookupQueries: number;
  /** Nodes in the routing table. */
  tableSize: number;
  /** Info-hashes in the peer store. */
  storedInfoHashes: number;
}

/**
 * All-zero counters.
 * @returns a fresh stats object
 */
export function emptyStats(): DhtStats {
  return {
    queriesSent: 0,
    queriesReceived: 0,
    repliesReceived: 0,
    errorsReceived: 0,
    timeouts: 0,
    repliesSent: 0,
    errorsSent: 0,
    announcesStored: 0,
    malformed: 0,
    droppedUnexpected: 0,
    droppedRateLimited: 0,
    droppedOverBudget: 0,
    droppedOverQueryBudget: 0,
    bytesSent: 0,
    bytesReceived: 0,
    lookups: 0,
    lookupQueries: 0,
    tableSize: 0,
    storedInfoHashes: 0,
  };
}
