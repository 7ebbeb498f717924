/**
 * The public view of one connection (libtorrent's `get_peer_info`): a plain snapshot of a
 * peer's record, for `Torrent.peers()`.
 *
 * Layer: driver (a data snapshot).
 * @module
 */
import type { PiecePicker } from "../picker/mod.ts";
import type { Peer } from "./peer.ts";

/** State of one connection, from `Torrent.peers()`. */
export interface PeerInfo {
  /** `host:port` of the connection. */
  readonly id: string;
  /** Client name (BEP 10 `v`, else from the peer id). */
  readonly client: string;
  /** We dialled it. */
  readonly outgoing: boolean;
  /** It has every piece. */
  readonly isSeed: boolean;
  /** We choke it. */
  readonly amChoking: boolean;
  /** We want its pieces. */
  readonly amInterested: boolean;
  /** It chokes us. */
  readonly peerChoking: boolean;
  /** It wants our pieces. */
  readonly peerInterested: boolean;
  /** It stopped sending blocks we asked for. */
  readonly isSnubbed: boolean;
  /** Pieces it has. */
  readonly piecesHave: number;
  /** Its payload rate to us, bytes/s. */
  readonly downloadBps: number;
  /** Our payload rate to it, bytes/s. */
  readonly uploadBps: number;
  /** Our requests it has not answered. */
  readonly requestsOut: number;
  /** Its requests we have not served. */
  readonly requestsIn: number;
  /** The transport: `"tcp"` or `"utp"` (BEP 29). */
  readonly transport: "tcp" | "utp";
  /** The connection is RC4-encrypted (MSE/PE). */
  readonly encrypted: boolean;
}

/**
 * A snapshot of `peer` at `now`.
 * @param picker the torrent's picker, once the metadata is known (it holds our requests)
 */
export function peerInfo(peer: Peer, now: number, picker: PiecePicker | undefined): PeerInfo {
  return {
    id: peer.id,
    client: peer.clientName,
    outgoing: peer.outgoing,
    isSeed: peer.isSeed,
    amChoking: peer.amChoking,
    amInterested: peer.amInterested,
    peerChoking: peer.peerChoking,
    peerInterested: peer.peerInterested,
    isSnubbed: peer.requests.isSnubbed,
    piecesHave: peer.isSeed && picker ? picker.pieceCount : peer.has.count,
    downloadBps: Math.round(peer.downloadMeter.rate(now)),
    uploadBps: Math.round(peer.uploadMeter.rate(now)),
    requestsOut: picker?.requestCount(peer.id) ?? 0,
    requestsIn: peer.uploads.length,
    transport: peer.transport,
    encrypted: peer.encrypted,
  };
}
