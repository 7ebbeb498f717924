/**
 * The DHT as a peer source for one torrent (BEP 5): look the info-hash up and announce
 * our port on start and then every `dhtAnnounceIntervalMs`; peers found go to the
 * torrent's peer list. Never blocks other sources: lookups run in the background and
 * are bounded by the node's query and time budgets.
 *
 * Layer: driver.
 * @module
 */
import type { Timer } from "../runtime/types.ts";
import type { TorrentContext } from "./context.ts";
import type { TorrentRuntime } from "./torrent.ts";

/** Periodic DHT lookups and announces for one torrent. */
export class DhtPeerSource {
  readonly #ctx: TorrentContext;
  readonly #torrent: TorrentRuntime;
  #timer: Timer | undefined;
  #abort = new AbortController();
  #running = false;
  #emptyRounds = 0;

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
      const announce = port > 0
        ? dht.announce(this.#torrent.infoHash, port, { signal: this.#abort.signal })
        : dht.lookup(this.#torrent.infoHash, { kind: "get_peers", signal: this.#abort.signal });
      announce.then(
        (r) => {
          this.#emptyRounds = r.peers.length > 0 ? 0 : this.#emptyRounds + 1;
          if (r.peers.length > 0 && !this.#torrent.isStopped) {
            this.#torrent.addPeers(r.peers, "dht");
          }
        },
        (e) => this.#ctx.logger.debug("DHT announce failed", { error: String(e) }),
      ).finally(() => this.#running = false);
    }
    this.#timer = this.#ctx.clock.schedule(
      this.#ctx.settings.dhtAnnounceIntervalMs,
      () => this.#round(),
    );
  }
}
