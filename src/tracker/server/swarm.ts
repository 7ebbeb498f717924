/**
 * One info-hash's peers in the tracker server's `SwarmStore`: the peer map in
 * least-recently-announced order and one list per address family for random selection.
 *
 * Invariant: `list4`/`list6` hold exactly the map's peers, each `index` matching its slot.
 *
 * Layer: core (pure).
 * @module
 */
import type { PeerRecord } from "./stored_peer.ts";

/**
 * One info-hash's peers. The family lists start as one-element literals and `list6` only
 * exists once an IPv6 peer came: a pushed-to empty array reserves 17 slots, which made up a
 * quarter of a one-peer swarm (the shape of a fake-info-hash flood).
 */
export class Swarm {
  /** Peers by key, least recently announced first. */
  readonly peers = new Map<string, PeerRecord>();
  /** IPv4 peers, for selection. */
  list4: PeerRecord[] | undefined = undefined;
  /** IPv6 peers, for selection. */
  list6: PeerRecord[] | undefined = undefined;
  /** Peers with nothing left to download. */
  seeders = 0;
  /** Completed downloads reported. */
  downloaded = 0;

  /**
   * Adds a peer to its family's list.
   * @param peer the peer, not yet listed
   */
  list(peer: PeerRecord): void {
    const isV4 = peer.addr6 === undefined;
    const list = isV4 ? this.list4 : this.list6;
    if (list) {
      peer.index = list.length;
      list.push(peer);
      return;
    }
    peer.index = 0;
    if (isV4) this.list4 = [peer];
    else this.list6 = [peer];
  }

  /**
   * Removes a listed peer from its family's list (the last one takes its slot).
   * @param peer a listed peer
   */
  unlist(peer: PeerRecord): void {
    const list = (peer.addr6 === undefined ? this.list4 : this.list6)!;
    const last = list.pop()!;
    if (last !== peer) {
      list[peer.index] = last;
      last.index = peer.index;
    }
  }
}
