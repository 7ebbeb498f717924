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
import type { TorrentSlot } from "./torrent_slot.ts";

/** Periodic DHT lookups and announces for one torrent. */
export class DhtPeerSource {
  readonly #ctx: TorrentContext;
  readonly #slot: TorrentSlot;
  #timer: Timer | undefined;
  #abort = new AbortController();
  #running = false;
  #emptyRounds = 0;

  /** Binds to a torrent slot. */
  constructor(ctx: TorrentContext, slot: TorrentSlot) {
    this.#ctx = ctx;
    this.#slot = slot;
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
    if (!dht || this.#slot.isStopped || this.#abort.signal.aborted) return;
    if (this.#slot.runtime?.meta.isPrivate) return; // a magnet that turned out private (BEP 27)
    if (!this.#running) {
      this.#running = true;
      const port = this.#ctx.listenPort();
      const announce = port > 0
        ? dht.announce(this.#slot.infoHash, port, { signal: this.#abort.signal })
        : dht.lookup(this.#slot.infoHash, { kind: "get_peers", signal: this.#abort.signal });
      announce.then(
        (r) => {
          this.#emptyRounds = r.peers.length > 0 ? 0 : this.#emptyRounds + 1;
          if (r.peers.length > 0 && !this.#slot.isStopped) this.#slot.addPeers(r.peers, "dht");
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
