/**
 * The public handle of a torrent (libtorrent's handle/impl split): an info-hash plus
 * its session; all state stays in the session's runtime.
 *
 * Layer: driver.
 * @module
 */
import type { PeerAddress } from "../runtime/types.ts";
import type { EngineEvent, EventHub, EventOptions, TorrentStats } from "./events.ts";
import type { TorrentSlot } from "./torrent_slot.ts";

/** State of one connection, from {@linkcode Torrent.peers}. */
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
}

/** A torrent in a session. */
export class Torrent {
  readonly #slot: TorrentSlot;
  readonly #hub: EventHub;

  /** Internal: sessions make handles. */
  constructor(slot: TorrentSlot, hub: EventHub) {
    this.#slot = slot;
    this.#hub = hub;
  }

  /** Hex info-hash. */
  get infoHash(): string {
    return this.#slot.infoHashHex;
  }

  /** Torrent name. */
  get name(): string {
    return this.#slot.name;
  }

  /** Resolves once every wanted piece is verified on disk; rejects if the torrent stops first. */
  get done(): Promise<void> {
    return this.#slot.done;
  }

  /** A statistics snapshot. */
  stats(): TorrentStats {
    return this.#slot.stats();
  }

  /** One line of state per connected peer (libtorrent's `get_peer_info`). */
  peers(): PeerInfo[] {
    const runtime = this.#slot.runtime;
    const now = this.#slot.phase.ctx.clock.now();
    return [...this.#slot.peers.values()].map((p) => ({
      id: p.id,
      client: p.clientName,
      outgoing: p.outgoing,
      isSeed: p.isSeed,
      amChoking: p.amChoking,
      amInterested: p.amInterested,
      peerChoking: p.peerChoking,
      peerInterested: p.peerInterested,
      isSnubbed: p.isSnubbed,
      piecesHave: p.isSeed && runtime ? runtime.meta.pieceCount : p.has.count,
      downloadBps: Math.round(p.downloadMeter.rate(now)),
      uploadBps: Math.round(p.uploadMeter.rate(now)),
      requestsOut: p.requested.size,
      requestsIn: p.incoming.length,
    }));
  }

  /**
   * Checks the engine's invariants for this torrent (piece picker, peer list); throws on
   * a violation. For tests and simulations, which call it after every step.
   */
  assertInvariants(): void {
    const runtime = this.#slot.runtime;
    runtime?.picker.assertInvariants();
    runtime?.peerList.assertInvariants();
  }

  /** Adds peer addresses to connect to. */
  addPeers(peers: readonly PeerAddress[]): void {
    this.#slot.addPeers(peers, "manual");
  }

  /** This torrent's events, as an async iterable. */
  async *events(options: EventOptions = {}): AsyncIterable<EngineEvent> {
    const hex = this.#slot.infoHashHex;
    for await (const e of this.#hub.subscribe(options)) {
      const own = "infoHash" in e
        ? e.infoHash === hex
        : e.type === "progress" && e.stats.infoHash === hex;
      if (own || e.category === "dht") yield e;
    }
  }
}
