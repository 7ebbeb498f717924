/**
 * Options and results of `DhtNode`, with the defaults (PARAMETERS.md §2.4).
 *
 * Layer: driver (types and defaults only).
 * @module
 */
import type { Clock, Logger, PeerAddress, Random, UdpSocketLike } from "../runtime/types.ts";
import { DEFAULT_BOOTSTRAP_NODES } from "./_stats.ts";
import type { LookupKind, LookupResult, LookupSeed } from "./lookup.ts";
import type { PeerStoreOptions } from "./peer_store.ts";
import type { IpRateLimitOptions } from "./rate_limit.ts";
import type { RoutingTableOptions } from "./routing_table.ts";

/** Everything a `DhtNode` needs; all but the first three have defaults. */
export interface DhtNodeOptions {
  /** The bound UDP socket (the node closes it on `close()`). */
  readonly socket: UdpSocketLike;
  /** Time and timers. */
  readonly clock: Clock;
  /** Randomness for ids, transaction ids, secrets and sampling (secure outside tests). */
  readonly random: Random;
  /** Log sink. Default: silent. */
  readonly logger?: Logger;
  /** Our node id; default random, or BEP 42 when `externalHost` is given. */
  readonly nodeId?: Uint8Array;
  /** Our public IP, when known: the default node id is then a BEP 42 one for it. */
  readonly externalHost?: string;
  /** Resolves a hostname to IP literals (bootstrap routers). Default: names are unresolvable. */
  readonly resolve?: (host: string) => Promise<string[]>;
  /** Bootstrap routers. Default {@linkcode DEFAULT_BOOTSTRAP_NODES}. */
  readonly bootstrapNodes?: readonly PeerAddress[];
  /** Accept loopback/private addresses everywhere (test mode, D7). Default false. */
  readonly allowLocalAddresses?: boolean;
  /**
   * Told of every `announce_peer` this node stores (a peer announcing itself for an
   * info-hash): the session makes it a candidate at once for a torrent it is fetching.
   */
  readonly onAnnounce?: (infoHash: Uint8Array, peer: PeerAddress) => void;
  /** Bucket size and lookup width. Default 8. */
  readonly k?: number;
  /** Lookup parallelism. Default 3. */
  readonly alpha?: number;
  /** Per-query timeout. Default 2,000 ms. */
  readonly rpcTimeoutMs?: number;
  /** Queries per lookup at most (D8). Default 64. */
  readonly maxQueriesPerLookup?: number;
  /** Time budget per lookup (D8). Default 30 s. */
  readonly lookupTimeBudgetMs?: number;
  /** Maintenance tick (token rotation, pings, refresh). Default 5,000 ms. */
  readonly tickIntervalMs?: number;
  /** First bootstrap retry delay; doubles up to `maxBootstrapRetryMs`. Default 10 s. */
  readonly bootstrapRetryMs?: number;
  /** Longest bootstrap retry delay. Default 5 min. */
  readonly maxBootstrapRetryMs?: number;
  /** Global reply budget in bytes per second (D2). Default 8,000. */
  readonly maxReplyBytesPerSecond?: number;
  /**
   * Queries handled per second from all senders, beyond a burst of twice that; the rest
   * are dropped undecoded (answers to our queries always pass). Default 500: the reply
   * budget sends a few dozen answers a second, and the per-IP limit alone cannot stop a
   * flood from many addresses.
   */
  readonly maxQueriesPerSecond?: number;
  /** Client version sent as `v`. Default `"SW" 0 1`. */
  readonly version?: Uint8Array;
  /** Routing table tunables (`allowLocalAddresses` and `k` are taken from here when unset). */
  readonly table?: RoutingTableOptions;
  /** Peer store tunables. */
  readonly store?: PeerStoreOptions;
  /** Per-IP packet limits. */
  readonly rateLimit?: IpRateLimitOptions;
}

/** Options of `DhtNode.lookup`. */
export interface DhtLookupOptions {
  /** `"find_node"` (default) or `"get_peers"`. */
  readonly kind?: LookupKind;
  /** Ends the lookup early; it then resolves with what it has. */
  readonly signal?: AbortSignal | undefined;
  /** Called with each batch of new peers (`get_peers`) and the node that gave them. */
  readonly onPeers?: ((peers: PeerAddress[], from: PeerAddress) => void) | undefined;
  /** Extra starting nodes (e.g. bootstrap routers, ids unknown). */
  readonly seeds?: readonly LookupSeed[];
}

/** Options of `DhtNode.announce`. */
export interface DhtAnnounceOptions {
  /** Ask nodes to use our UDP source port instead of `port` (BEP 5 `implied_port`). */
  readonly impliedPort?: boolean;
  /** Ends the announce early. */
  readonly signal?: AbortSignal | undefined;
  /** Called with the new peers of each reply of the `get_peers` lookup, as they arrive. */
  readonly onPeers?: ((peers: PeerAddress[], from: PeerAddress) => void) | undefined;
}

/** Outcome of `DhtNode.announce`. */
export interface DhtAnnounceResult {
  /** Nodes that accepted our `announce_peer`. */
  readonly announcedTo: number;
  /** Peers the `get_peers` lookup found on the way. */
  readonly peers: PeerAddress[];
  /** The lookup itself. */
  readonly lookup: LookupResult;
}

/** Resolved tunables of a node (defaults filled in). */
export type NodeSettings = Required<
  Omit<
    DhtNodeOptions,
    | "socket"
    | "clock"
    | "random"
    | "nodeId"
    | "resolve"
    | "logger"
    | "onAnnounce"
    | "table"
    | "store"
    | "rateLimit"
  >
>;

/**
 * Fills in the defaults.
 * @param o the options as given
 * @returns every tunable
 */
export function settingsOf(o: DhtNodeOptions): NodeSettings {
  const defined = Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
  return {
    bootstrapNodes: DEFAULT_BOOTSTRAP_NODES,
    allowLocalAddresses: false,
    k: 8,
    alpha: 3,
    rpcTimeoutMs: 2000,
    maxQueriesPerLookup: 64,
    lookupTimeBudgetMs: 30_000,
    tickIntervalMs: 5000,
    bootstrapRetryMs: 10_000,
    maxBootstrapRetryMs: 5 * 60_000,
    maxReplyBytesPerSecond: 8000,
    maxQueriesPerSecond: 500,
    version: new Uint8Array([0x53, 0x57, 0, 1]), // "SW" 0.1
    ...defined,
  } as NodeSettings;
}
