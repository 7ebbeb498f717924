/**
 * The DHT as a peer source for one torrent (BEP 5): look the info-hash up and announce
 * our port on start and then every `dhtAnnounceIntervalMs`; peers go to the torrent's
 * door as each reply brings them. Never blocks other sources: lookups run in the background and
 * are bounded by the node's query and time budgets.
 *
 * Layer: driver.
 * @module
 */
import type { PeerAddress, Timer } from "../runtime/types.ts";
import type { TorrentContext } from "./context.ts";
import type { TorrentRuntime } from "./torrent.ts";

/** Periodic DHT lookups and announces for one torrent. */
export class DhtPeerSource {
  readonly #ctx: TorrentContext;
  readonly #torrent: TorrentRuntime;
  #timer: Timer | undefined;
  #abort = new AbortController();
  #running = false;

  /** Binds to a torrent. */
  constructor(ctx: TorrentContext, torrent: TorrentRuntime) {
    this.#ctx = ctx;
    this.#torrent = torrent;
  }

  /** Runs a lookup now, then periodically. */
  start(): void {
    this.#round();
  }

  /** Stops scheduling and aborts a lookup in progress. */
  stop(): void {
    this.#timer?.cancel();
    this.#abort.abort();
  }

  #round(): void {
    const dht = this.#ctx.dht();
    if (!dht || this.#torrent.isStopped || this.#abort.signal.aborted) return;
    if (this.#torrent.isPrivate()) return; // a magnet that turned out private (BEP 27)
    if (!this.#running) {
      this.#running = true;
      const port = this.#ctx.listenPort();
      // Peers reach the torrent per reply, not when the whole lookup ends (as libtorrent).
      const options = {
        signal: this.#abort.signal,
        onPeers: (peers: PeerAddress[]) => void this.#torrent.addPeers(peers, "dht"),
      };
      const announce = port > 0
        ? dht.announce(this.#torrent.infoHash, port, options)
        : dht.lookup(this.#torrent.infoHash, { kind: "get_peers", ...options });
      announce.then(
        () => {},
        (e) => this.#ctx.logger.debug("DHT announce failed", { error: String(e) }),
      ).finally(() => this.#running = false);
    }
    this.#timer = this.#ctx.clock.schedule(
      this.#ctx.settings.dhtAnnounceIntervalMs,
      () => this.#round(),
    );
  }
}
