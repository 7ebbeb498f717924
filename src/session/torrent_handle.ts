/**
 * The public handle of a torrent (libtorrent's handle/impl split): an info-hash plus
 * its session; all state stays in the session's runtime.
 *
 * Layer: driver.
 * @module
 */
import type { PeerAddress } from "../runtime/types.ts";
import type { EngineEvent, EventHub, EventOptions, TorrentStats } from "./events.ts";
import type { TorrentRuntime } from "./torrent.ts";
import type { PeerInfo } from "./peer_info.ts";

export type { PeerInfo } from "./peer_info.ts";

/** A torrent in a session. */
export class Torrent {
  readonly #runtime: TorrentRuntime;
  readonly #hub: EventHub;

  /** Internal: sessions make handles. */
  constructor(runtime: TorrentRuntime, hub: EventHub) {
    this.#runtime = runtime;
    this.#hub = hub;
  }

  /** Hex info-hash. */
  get infoHash(): string {
    return this.#runtime.infoHashHex;
  }

  /** Torrent name (a magnet's display name until its metadata arrives). */
  get name(): string {
    return this.#runtime.name;
  }

  /** Resolves once every wanted piece is verified on disk; rejects if the torrent stops first. */
  get done(): Promise<void> {
    return this.#runtime.done;
  }

  /** A statistics snapshot. */
  stats(): TorrentStats {
    return this.#runtime.stats();
  }

  /** One line of state per connected peer (libtorrent's `get_peer_info`). */
  peers(): PeerInfo[] {
    return this.#runtime.peerInfos();
  }

  /**
   * Checks the engine's invariants for this torrent (piece picker, peer list, every peer's
   * request queues); throws on a violation. For tests and simulations, which call it after
   * every step.
   */
  assertInvariants(): void {
    this.#runtime.assertInvariants();
  }

  /** Adds peer addresses to connect to. */
  addPeers(peers: readonly PeerAddress[]): void {
    this.#runtime.addPeers(peers, "manual");
  }

  /** This torrent's events, as an async iterable. */
  async *events(options: EventOptions = {}): AsyncIterable<EngineEvent> {
    const hex = this.#runtime.infoHashHex;
    for await (const e of this.#hub.subscribe(options)) {
      const own = "infoHash" in e
        ? e.infoHash === hex
        : e.type === "progress" && e.stats.infoHash === hex;
      if (own || e.category === "dht") yield e;
    }
  }
}
