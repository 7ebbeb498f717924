/**
 * The server half of BEP 5: answers `ping`, `find_node`, `get_peers` and
 * `announce_peer` from the routing table, token secrets and peer store. Replies
 * carry the BEP 42 `ip` field and are trimmed to at most 10× the request's size
 * (RELIABILITY D2); `announce_peer` needs a valid token for the sender's IP and the
 * info-hash and a non-zero port (D3); unknown methods get error 204.
 *
 * Layer: core (pure; time and randomness are passed in). Private to `src/dht/`.
 * @module
 */
import type { PeerAddress, Random } from "../runtime/types.ts";
import { isUsableAddress } from "./_address.ts";
import type { DhtContact } from "./compact.ts";
import { encodeKrpc, KRPC_ERROR_CODES, type KrpcQuery, type KrpcResponse } from "./krpc.ts";
import type { PeerStore } from "./peer_store.ts";
import { maxReplyBytes } from "./rate_limit.ts";
import type { RoutingTable } from "./routing_table.ts";
import type { TokenSecrets } from "./tokens.ts";

/** What the server needs to answer. */
export interface ServerState {
  /** Our node id. */
  readonly id: Uint8Array;
  /** Our routing table. */
  readonly table: RoutingTable;
  /** Announce token secrets. */
  readonly tokens: TokenSecrets;
  /** Announced peers. */
  readonly peers: PeerStore;
  /** Sampling source for peer replies. */
  readonly random: Random;
  /** Nodes per `nodes` reply (K). */
  readonly k: number;
  /** Accept loopback/private announcers (test mode). */
  readonly allowLocalAddresses: boolean;
  /** Our client version (`v`), if any. */
  readonly version: Uint8Array | undefined;
}

/** The encoded answer and what it was. */
export interface ServerAnswer {
  /** The datagram to send back. */
  readonly bytes: Uint8Array;
  /** Whether it is an error reply. */
  readonly isError: boolean;
  /** Whether an announce was stored. */
  readonly stored: boolean;
  /** The peer stored by an announce, for the node's `onAnnounce`. */
  readonly announced?: { readonly infoHash: Uint8Array; readonly peer: PeerAddress };
}

function errorReply(q: KrpcQuery, code: number, message: string, state: ServerState): ServerAnswer {
  const v = state.version;
  const msg = { kind: "error", transactionId: q.transactionId, code, message } as const;
  return { bytes: encodeKrpc(v ? { ...msg, version: v } : msg), isError: true, stored: false };
}

function nodesFor(target: Uint8Array, from: PeerAddress, state: ServerState): DhtContact[] {
  const v6 = from.host.includes(":");
  return state.table.closest(target, state.k * 2)
    .filter((n) =>
      n.address.host.includes(":") === v6 &&
      isUsableAddress(n.address, from.host, state.allowLocalAddresses)
    )
    .slice(0, state.k);
}

/** Encodes `r`, dropping values and then nodes until it fits `cap` bytes. */
function fitted(r: KrpcResponse, cap: number): Uint8Array {
  let values = r.values ? [...r.values] : undefined;
  let nodes = r.nodes ? [...r.nodes] : undefined;
  let nodes6 = r.nodes6 ? [...r.nodes6] : undefined;
  for (;;) {
    const msg: KrpcResponse = {
      ...r,
      ...(values ? { values } : {}),
      ...(nodes ? { nodes } : {}),
      ...(nodes6 ? { nodes6 } : {}),
    };
    const bytes = encodeKrpc(msg);
    if (bytes.length <= cap) return bytes;
    if (values && values.length > 0) values = values.slice(0, Math.floor(values.length * 0.9));
    else if (nodes && nodes.length > 0) nodes = nodes.slice(0, nodes.length - 1);
    else if (nodes6 && nodes6.length > 0) nodes6 = nodes6.slice(0, nodes6.length - 1);
    else return bytes; // the bare reply: id, t, token; never bigger than ~10× a valid query
  }
}

/**
 * Answers one query.
 * @param q the decoded query
 * @param from its source address
 * @param requestBytes the query's datagram size (for the amplification cap)
 * @param state server state
 * @param now current clock ms
 * @returns the encoded reply
 */
export function answerQuery(
  q: KrpcQuery,
  from: PeerAddress,
  requestBytes: number,
  state: ServerState,
  now: number,
): ServerAnswer {
  const base: KrpcResponse = {
    kind: "response",
    transactionId: q.transactionId,
    id: state.id,
    requesterAddress: from,
    ...(state.version ? { version: state.version } : {}),
  };
  const cap = maxReplyBytes(requestBytes);
  const v6 = from.host.includes(":");
  switch (q.method) {
    case "ping":
      return { bytes: fitted(base, cap), isError: false, stored: false };
    case "find_node": {
      const nodes = nodesFor(q.target, from, state);
      const r = v6 ? { ...base, nodes6: nodes } : { ...base, nodes };
      return { bytes: fitted(r, cap), isError: false, stored: false };
    }
    case "get_peers": {
      const token = state.tokens.issue(from.host, q.infoHash, now);
      // Never hand a requester an address more local than itself (D7).
      const values = state.peers.peers(q.infoHash, now, state.random)
        .filter((p) => p.host.includes(":") === v6)
        .filter((p) => isUsableAddress(p, from.host, state.allowLocalAddresses));
      const nodes = nodesFor(q.infoHash, from, state);
      const r: KrpcResponse = {
        ...base,
        token,
        ...(values.length > 0 ? { values } : {}),
        ...(v6 ? { nodes6: nodes } : { nodes }),
      };
      return { bytes: fitted(r, cap), isError: false, stored: false };
    }
    case "announce_peer": {
      if (!state.tokens.verify(q.token, from.host, q.infoHash, now)) {
        return errorReply(q, KRPC_ERROR_CODES.protocol, "Bad token", state);
      }
      const peer = { host: from.host, port: q.impliedPort ? from.port : q.port };
      if (!isUsableAddress(peer, from.host, state.allowLocalAddresses)) {
        return errorReply(q, KRPC_ERROR_CODES.protocol, "Invalid port or address", state);
      }
      state.peers.announce(q.infoHash, peer, now);
      return {
        bytes: fitted(base, cap),
        isError: false,
        stored: true,
        announced: { infoHash: q.infoHash, peer },
      };
    }
    case "unknown":
      return errorReply(q, KRPC_ERROR_CODES.methodUnknown, "Method Unknown", state);
  }
}
