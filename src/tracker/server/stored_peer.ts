/**
 * How the tracker server stores one peer, and the writers that turn stored peers into
 * compact entries (BEP 23 for IPv4, BEP 7 for IPv6) or addresses.
 *
 * Layer: core (pure).
 * @module
 */
import type { PeerAddress } from "../../runtime/types.ts";
import { fromLatin1 } from "../../util/bytes.ts";
import { formatIp } from "../../util/ip.ts";

/**
 * A peer as stored. An IPv4 peer packs its 6-byte compact entry into two 24-bit numbers
 * (`hi` = address bytes 0..2, `lo` = byte 3 then the port), which V8 keeps unboxed; an IPv6
 * peer keeps its 18-byte entry as a latin1 string in `addr6`.
 */
export interface StoredPeer {
  /** IPv4: the first three address bytes, big-endian; IPv6: 0. */
  readonly hi: number;
  /** IPv4: the last address byte then the 16-bit port; IPv6: 0. */
  readonly lo: number;
  /** IPv6: compact entry as latin1 (18 chars); IPv4: `undefined`. */
  readonly addr6: string | undefined;
  /** Peer id bytes as a latin1 string. */
  readonly peerId: string;
  /** True when the peer said `left=0`. */
  readonly isSeed: boolean;
}

/** The store's mutable record of a peer (private to `server/`). */
export class PeerRecord implements StoredPeer {
  /** See {@linkcode StoredPeer.hi}. */
  hi = 0;
  /** See {@linkcode StoredPeer.lo}. */
  lo = 0;
  /** See {@linkcode StoredPeer.addr6}. */
  addr6: string | undefined = undefined;
  /**
   * Builds a record.
   * @param ipKey address bytes as latin1
   * @param port 1..65535
   * @param peerId peer id bytes as latin1
   * @param isSeed whether `left` was 0
   * @param lastSeenS time of the last announce, whole seconds
   * @param index slot in its swarm's family list
   */
  constructor(
    ipKey: string,
    port: number,
    public peerId: string,
    public isSeed: boolean,
    public lastSeenS: number,
    public index: number,
  ) {
    this.setAddress(ipKey, port);
  }

  /**
   * Sets the address from a latin1 IP key (4 or 16 chars) and a port.
   * @param ipKey the address bytes as latin1
   * @param port 1..65535
   */
  setAddress(ipKey: string, port: number): void {
    if (ipKey.length === 4) {
      this.hi = (ipKey.charCodeAt(0) << 16) | (ipKey.charCodeAt(1) << 8) | ipKey.charCodeAt(2);
      this.lo = (ipKey.charCodeAt(3) << 16) | port;
      this.addr6 = undefined;
    } else {
      [this.hi, this.lo] = [0, 0];
      this.addr6 = ipKey + String.fromCharCode(port >> 8, port & 0xff);
    }
  }
}

/**
 * Counts the peers of one family.
 * @param peers stored peers
 * @param family 4 or 6
 * @returns how many peers have that family
 */
export function countFamily(peers: readonly StoredPeer[], family: 4 | 6): number {
  let n = 0;
  for (let i = 0; i < peers.length; i++) {
    if ((peers[i]!.addr6 === undefined) === (family === 4)) n++;
  }
  return n;
}

/**
 * Writes the peers of one family as compact entries (BEP 23 / BEP 7) into `out` at `at`.
 * @param peers stored peers
 * @param family 4 (6-byte entries) or 6 (18-byte entries)
 * @param out the destination, with room for {@linkcode countFamily} entries
 * @param at where to start writing
 * @returns the offset after the last entry
 */
export function writeCompactPeers(
  peers: readonly StoredPeer[],
  family: 4 | 6,
  out: Uint8Array,
  at: number,
): number {
  for (let p = 0; p < peers.length; p++) {
    const peer = peers[p]!;
    const addr6 = peer.addr6;
    if (family === 4 && addr6 === undefined) {
      const { hi, lo } = peer;
      out[at] = hi >> 16;
      out[at + 1] = hi >> 8;
      out[at + 2] = hi;
      out[at + 3] = lo >> 16;
      out[at + 4] = lo >> 8;
      out[at + 5] = lo;
      at += 6;
    } else if (family === 6 && addr6 !== undefined) {
      for (let i = 0; i < 18; i++) out[at++] = addr6.charCodeAt(i);
    }
  }
  return at;
}

/**
 * The peers of one family as a compact list (BEP 23 / BEP 7).
 * @param peers stored peers
 * @param family 4 (6-byte entries) or 6 (18-byte entries)
 * @returns the concatenated entries
 * @example
 * ```ts
 * import { compactPeersOf, SwarmStore } from "./mod.ts";
 * import { SeededRandom } from "../../util/prng.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const store = new SwarmStore({ random: new SeededRandom(1) });
 * const hash = new Uint8Array(20);
 * store.announce(0, hash, { ip: "10.0.0.1", port: 258, peerId: new Uint8Array(20).fill(1), left: 1 });
 * const { peers } = store.announce(0, hash, { ip: "10.0.0.2", port: 1, peerId: new Uint8Array(20), left: 1 });
 * assertEquals(compactPeersOf(peers, 4), new Uint8Array([10, 0, 0, 1, 1, 2]));
 * ```
 */
export function compactPeersOf(peers: readonly StoredPeer[], family: 4 | 6): Uint8Array {
  const out = new Uint8Array(countFamily(peers, family) * (family === 4 ? 6 : 18));
  writeCompactPeers(peers, family, out, 0);
  return out;
}

/**
 * A stored peer's address.
 * @param peer the peer
 * @returns host and port
 */
export function addressOf(peer: StoredPeer): PeerAddress {
  if (peer.addr6 === undefined) {
    const ip = new Uint8Array([peer.hi >> 16, peer.hi >> 8, peer.hi, peer.lo >> 16]);
    return { host: formatIp(ip), port: peer.lo & 0xffff };
  }
  const bytes = fromLatin1(peer.addr6);
  return { host: formatIp(bytes.subarray(0, 16)), port: (bytes[16]! << 8) | bytes[17]! };
}
