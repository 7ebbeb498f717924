/**
 * Applies the choker's decisions to a torrent's peers: the periodic rechoke (tit-for-tat,
 * optimistic unchoke, anti-snubbing — all decided by the pure Choker) and free slots handed
 * on between rechokes (also decided by the Choker). What a choke means for the peer's
 * queued requests is the uploader's business (`onChange`).
 *
 * Layer: driver.
 * @module
 */
import type { Choker, PeerSample } from "../choker/mod.ts";
import type { Peer } from "./peer.ts";
import type { Clock } from "../runtime/types.ts";

/** An unchoked peer that asked for nothing this long is idle (PeerSample.idle). */
const IDLE_MS = 1_000;

/** Choke state changes for one torrent's peers. */
export class ChokeScheduler {
  readonly #choker: Choker;
  readonly #peers: ReadonlyMap<string, Peer>;
  readonly #clock: Clock;
  readonly #onChange: ((peer: Peer, choked: boolean) => void) | undefined;

  /**
   * Binds a choker to a torrent's connections.
   * @param onChange told after each choke or unchoke (the uploader drops or suggests)
   */
  constructor(
    choker: Choker,
    peers: ReadonlyMap<string, Peer>,
    clock: Clock,
    onChange?: (peer: Peer, choked: boolean) => void,
  ) {
    this.#choker = choker;
    this.#peers = peers;
    this.#clock = clock;
    this.#onChange = onChange;
  }

  /** Samples every peer and carries out the choker's decision. */
  rechoke(now: number, isSeeding: boolean): void {
    const decision = this.#choker.rechoke(now, this.#samples(now), isSeeding);
    for (const id of decision.choke) {
      const p = this.#peers.get(id);
      if (p) this.setChoke(p, true);
    }
    this.#unchoke(decision.unchoke);
  }

  /**
   * Between rechokes: a peer became interested, or one holding a slot stopped needing it.
   * The choker hands free regular slots on at once (no wait for the next rechoke).
   */
  fillFreeSlots(now: number, isSeeding: boolean): void {
    this.#unchoke(this.#choker.fillFreeSlots(this.#samples(now), isSeeding));
  }

  #unchoke(ids: readonly string[]): void {
    for (const id of ids) {
      const p = this.#peers.get(id);
      if (p) this.setChoke(p, false);
    }
  }

  #samples(now: number): PeerSample[] {
    const samples: PeerSample[] = [];
    for (const p of this.#peers.values()) {
      samples.push({
        id: p.id,
        interested: p.peerInterested,
        amChoking: p.amChoking,
        downloadBps: p.downloadMeter.rate(now),
        uploadBps: p.uploadMeter.rate(now),
        isSeed: p.isSeed,
        snubbed: p.requests.isSnubbed,
        connectedAt: p.conn.connectedAt,
        idle: !p.amChoking && p.peerInterested && p.uploads.length === 0 &&
          p.conn.sendBufferBytes === 0 &&
          now - Math.max(p.uploads.lastRequestAt, p.unchokedAt) >= IDLE_MS,
      });
    }
    return samples;
  }

  /** Chokes or unchokes one peer. */
  setChoke(peer: Peer, choke: boolean): void {
    if (peer.amChoking === choke) return;
    peer.amChoking = choke;
    if (!choke) peer.unchokedAt = this.#clock.now();
    peer.send({ type: choke ? "choke" : "unchoke" });
    this.#onChange?.(peer, choke);
  }
}
