/**
 * The Mainline DHT: find peers for an info-hash without a tracker, and be a good
 * citizen of the network while doing it.
 *
 * - **BEP 5** (DHT protocol): KRPC codec, routing table with k = 8 splitting buckets
 *   and good/questionable/bad node states, iterative lookups (α = 3), tokens from a
 *   secret rotated every 5 minutes, `ping`/`find_node`/`get_peers`/`announce_peer` as
 *   client and server, bucket refresh, saved routing tables.
 * - **BEP 32** (IPv6): `nodes6` and `want` are read and written; the node answers in
 *   the requester's address family.
 * - **BEP 42** (DHT security extension): crc32c node ids, id checks, the `ip` field.
 * - **BEP 43** (read-only nodes): `ro` senders stay out of the routing table.
 *
 * Abuse limits follow RELIABILITY.md D1–D8: bounded decoding, per-IP rate limits with
 * a 5-minute block, an 8 kB/s reply budget, replies ≤ 10× the request, one routing
 * entry per IP, a bounded peer store, no local addresses outside test mode.
 *
 * This entry loads no Deno binding: a {@linkcode DhtNode} runs over any injected
 * `UdpSocketLike`, `Clock` and `Random`. The one-call `lookupPeers` with Deno's sockets
 * is exported by the package root.
 *
 * @example Codec alone
 * ```ts
 * import { decodeKrpc, encodeKrpc } from "./mod.ts";
 * import { deepStrictEqual } from "node:assert";
 * const ping = { kind: "query", method: "ping", transactionId: new Uint8Array([1]), id: new Uint8Array(20) } as const;
 * deepStrictEqual(decodeKrpc(encodeKrpc(ping)), ping);
 * ```
 * @module
 */
export {
  DEFAULT_BOOTSTRAP_NODES,
  type DhtAnnounceOptions,
  type DhtAnnounceResult,
  type DhtContact,
  type DhtLookupOptions,
  DhtNode,
  type DhtNodeOptions,
  type DhtStats,
} from "./dht_node.ts";
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
export {
  type AnnouncePeerQuery,
  decodeKrpc,
  encodeKrpc,
  type FindNodeQuery,
  type GetPeersQuery,
  KRPC_ERROR_CODES,
  type KrpcCommon,
  type KrpcErrorReply,
  type KrpcMessage,
  type KrpcQuery,
  type KrpcQueryCommon,
  type KrpcResponse,
  KrpcSyntaxError,
  type PingQuery,
  type UnknownQuery,
} from "./krpc.ts";
export {
  COMPACT_NODE_V4,
  COMPACT_NODE_V6,
  COMPACT_PEER_V4,
  COMPACT_PEER_V6,
  decodeCompactNodes,
  decodeCompactPeer,
  encodeCompactNodes,
  encodeCompactPeer,
} from "./compact.ts";
export {
  bep42NodeId,
  commonPrefixBits,
  compareDistance,
  crc32c,
  isBep42Valid,
  NODE_ID_LENGTH,
  randomIdInBucket,
  xorDistance,
} from "./node_id.ts";
export {
  type ContactEvent,
  type InsertResult,
  type NodeState,
  type RoutingEntry,
  RoutingTable,
  type RoutingTableOptions,
} from "./routing_table.ts";
export {
  Lookup,
  type LookupEnd,
  type LookupKind,
  type LookupNode,
  type LookupOptions,
  type LookupReply,
  type LookupResult,
  type LookupSeed,
} from "./lookup.ts";
export { type TokenOptions, TokenSecrets } from "./tokens.ts";
export { PeerStore, type PeerStoreOptions } from "./peer_store.ts";
export { ByteBudget, IpRateLimiter, type IpRateLimitOptions, maxReplyBytes } from "./rate_limit.ts";
