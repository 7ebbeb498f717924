/**
 * A torrent's connections in either phase (metadata or data): candidate addresses in, dials
 * of due addresses within the per-torrent connection cap and the half-open cap (skipping
 * ones we are already connected to), dial failures and closes fed back as back-off, and
 * the peer-connected / peer-closed events.
 *
 * Layer: driver.
 * @module
 */
import type { CloseReason } from "../net/peer_connection.ts";
import type { PeerAddress } from "../runtime/types.ts";
import { bytesEqual, compareBytes } from "../util/bytes.ts";
import { describePeerId } from "../wire/mod.ts";
import type { TorrentContext } from "./context.ts";
import { formatAddress } from "../util/address.ts";
import type { PeerList, PeerSource } from "./peer_list.ts";
import type { Peer } from "./peer.ts";

/** Dials a torrent's candidate peers. */
export class PeerDialer {
  readonly #ctx: TorrentContext;
  readonly #list: PeerList;
  readonly #peers: Map<string, Peer>;
  readonly #infoHashHex: string;
  #dialing = 0;

  /** Binds to a torrent's peer list and connections. */
  constructor(
    ctx: TorrentContext,
    list: PeerList,
    peers: Map<string, Peer>,
    infoHashHex: string,
  ) {
    this.#ctx = ctx;
    this.#list = list;
    this.#peers = peers;
    this.#infoHashHex = infoHashHex;
  }

  /**
   * Adds candidate addresses to the peer list (the caller dials when any was new);
   * `via` is the host of the source that gave them (the scope rule).
   * @returns how many addresses were new
   */
  addCandidates(addrs: Iterable<PeerAddress>, source: PeerSource, via?: string): number {
    let added = 0;
    const now = this.#ctx.clock.now();
    for (const a of addrs) if (this.#list.add(a, source, now, via)) added++;
    return added;
  }

  /**
   * PW1: one connection per peer id. When both sides dialled each other at once, both ends
   * keep the connection initiated by the higher peer id, so they agree on the survivor.
   * @param remotePeerId the new connection's peer id
   * @param outgoing whether we dialled the new connection
   * @returns false when the new connection must be dropped; true when it may stay (an
   *   older duplicate it replaces is closed here)
   */
  keepNewConnection(remotePeerId: Uint8Array, outgoing: boolean): boolean {
    for (const p of this.#peers.values()) {
      if (!bytesEqual(p.remote.peerId, remotePeerId)) continue;
      const weAreHigher = compareBytes(this.#ctx.peerId, remotePeerId) > 0;
      if (p.outgoing === outgoing || outgoing !== weAreHigher) return false;
      p.conn.close("duplicate", "simultaneous connection; keeping the other one");
      return true;
    }
    return true;
  }

  /** A connection passed the handshake: list it, name its client, tell listeners. */
  admitted(peer: Peer): void {
    peer.clientName = describePeerId(peer.remote.peerId);
    this.#peers.set(peer.id, peer);
    if (peer.outgoing) this.#list.connected(peer.addr, this.#ctx.clock.now());
    this.#ctx.hub.emit({
      type: "peer-connected",
      category: "peer",
      infoHash: this.#infoHashHex,
      peer: peer.id,
      client: peer.clientName,
      outgoing: peer.outgoing,
      encryption: peer.encrypted ? "rc4" : peer.mse ? "mse-plaintext" : "none",
      transport: peer.transport,
    });
  }

  /** Bans the peer's addresses (listen and source) for good and closes it. */
  ban(peer: Peer, reason: string): void {
    this.#list.ban(peer.listenAddr ?? peer.addr);
    this.#list.ban(peer.addr);
    this.#ctx.hub.emit({
      type: "peer-banned",
      category: "peer",
      infoHash: this.#infoHashHex,
      peer: peer.id,
      reason,
    });
    peer.conn.close("hash-fail-ban", reason);
  }

  /** A connection closed: unlist it, back off its address after an I/O error, tell listeners. */
  closed(peer: Peer, reason: CloseReason, detail: string): void {
    this.#peers.delete(peer.id);
    const addr = peer.listenAddr;
    if (addr) this.#list.disconnected(addr, this.#ctx.clock.now(), reason === "io-error");
    this.#ctx.hub.emit({
      type: "peer-closed",
      category: "peer",
      infoHash: this.#infoHashHex,
      peer: peer.id,
      reason: detail ? `${reason}: ${detail}` : reason,
    });
  }

  /** Dials due addresses up to the caps; does nothing while `wanted` is false. */
  connectMore(wanted = true): void {
    const s = this.#ctx.settings;
    const now = this.#ctx.clock.now();
    while (
      this.#peers.size + this.#dialing < s.maxConnectionsPerTorrent && this.#dialing < s.maxHalfOpen
    ) {
      const addr = this.#list.nextToDial(now);
      if (!addr) return;
      if (this.#isConnectedTo(addr)) {
        this.#list.connected(addr, now);
        continue;
      }
      if (!wanted) {
        this.#list.disconnected(addr, now, false);
        return;
      }
      this.#dialing++;
      const { logger } = this.#ctx;
      logger.debug(`dialing ${formatAddress(addr)}`, { infoHash: this.#infoHashHex });
      this.#ctx.dial(addr, this.#infoHashHex).then((ok) => {
        this.#dialing--;
        if (ok) return;
        logger.debug(`dial ${formatAddress(addr)} failed (no connection or no handshake)`);
        this.#list.disconnected(addr, this.#ctx.clock.now(), true);
      });
    }
  }

  #isConnectedTo(addr: PeerAddress): boolean {
    const key = formatAddress(addr);
    for (const p of this.#peers.values()) {
      if (p.id === key || (p.listenAddr && formatAddress(p.listenAddr) === key)) return true;
    }
    return false;
  }
}
