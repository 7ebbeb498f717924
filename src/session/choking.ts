/**
 * Applies the choker's decisions to live connections: the periodic rechoke (tit-for-tat,
 * optimistic unchoke, anti-snubbing — all decided by the pure Choker), an immediate
 * unchoke when a regular slot is free, and BEP 6 rejects for requests dropped by a choke.
 *
 * Layer: driver.
 * @module
 */
import type { Choker, PeerSample } from "../choker/mod.ts";
import type { PeerConnection } from "../net/peer_connection.ts";

/** Choke state changes for one torrent's peers. */
export class ChokeScheduler {
  readonly #choker: Choker;
  readonly #peers: ReadonlyMap<string, PeerConnection>;
  readonly #slots: number;
  readonly #onChange: ((peer: PeerConnection, choked: boolean) => void) | undefined;

  /**
   * Binds a choker to a torrent's connections.
   * @param onChange told after each choke or unchoke (seed suggestions)
   */
  constructor(
    choker: Choker,
    peers: ReadonlyMap<string, PeerConnection>,
    unchokeSlots: number,
    onChange?: (peer: PeerConnection, choked: boolean) => void,
  ) {
    this.#choker = choker;
    this.#peers = peers;
    this.#slots = unchokeSlots;
    this.#onChange = onChange;
  }

  /** Samples every peer and carries out the choker's decision. */
  rechoke(now: number, isSeeding: boolean): void {
    const samples: PeerSample[] = [];
    for (const p of this.#peers.values()) {
      samples.push({
        id: p.id,
        interested: p.peerInterested,
        amChoking: p.amChoking,
        downloadBps: p.downloadMeter.rate(now),
        uploadBps: p.uploadMeter.rate(now),
        isSeed: p.isSeed,
        snubbed: p.isSnubbed,
        connectedAt: p.connectedAt,
      });
    }
    const decision = this.#choker.rechoke(now, samples, isSeeding);
    for (const id of decision.choke) {
      const p = this.#peers.get(id);
      if (p) this.setChoke(p, true);
    }
    for (const id of decision.unchoke) {
      const p = this.#peers.get(id);
      if (p) this.setChoke(p, false);
    }
  }

  /** Unchokes `peer` at once when a regular slot is free (no wait for the rechoke). */
  maybeUnchoke(peer: PeerConnection): void {
    if (!peer.amChoking || !peer.peerInterested || peer.isSeed) return;
    if (this.#slotsInUse() < this.#slots) this.setChoke(peer, false);
  }

  /**
   * Gives slots freed between rechokes (an unchoked peer lost interest, finished or left)
   * to interested peers at once: otherwise a peer that everyone else stopped needing can
   * wait up to a whole rechoke interval choked by all, which in the swarm simulator left
   * the last leecher idle for 8 s.
   */
  fillFreeSlots(): void {
    let free = this.#slots - this.#slotsInUse();
    for (const p of this.#peers.values()) {
      if (free <= 0) return;
      if (p.amChoking && p.peerInterested && !p.isSeed && !p.isClosed) {
        this.setChoke(p, false);
        free--;
      }
    }
  }

  /** Unchoked peers that use a slot: interested and still downloading. */
  #slotsInUse(): number {
    let used = 0;
    for (const p of this.#peers.values()) if (!p.amChoking && p.peerInterested && !p.isSeed) used++;
    return used;
  }

  /** Chokes or unchokes one peer. */
  setChoke(peer: PeerConnection, choke: boolean): void {
    if (peer.amChoking === choke) return;
    peer.amChoking = choke;
    peer.send({ type: choke ? "choke" : "unchoke" });
    this.#onChange?.(peer, choke);
    if (!choke) return;
    // BEP 6: with the fast extension every dropped request is rejected explicitly.
    if (peer.remote.fastExtension) {
      for (const r of peer.incoming) peer.send({ type: "reject", ...r });
    }
    peer.incoming.length = 0;
  }
}
