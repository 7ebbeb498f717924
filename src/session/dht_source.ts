/**
 * The DHT as a peer source for one torrent (BEP 5): look the info-hash up and announce
 * our port on start and then every `dhtAnnounceIntervalMs`, and while the torrent has no
 * peer on a back-off from `dhtStarvedRetryMs`; peers go to the torrent's door as each
 * reply brings them. Never blocks other sources: lookups run in the background and
 * are bounded by the node's query and time budgets.
 *
 * Layer: driver.
 * @module
 */
import type { PeerAddress, Timer } from "../runtime/types.ts";
import type { TorrentContext } from "./context.ts";
import type { TorrentRuntime } from "./torrent.ts";

/** How often a lookup due while the routing table is empty checks it again, ms. */
const NODE_POLL_MS = 250;
/** How long a lookup waits for the routing table's first node before it runs anyway, ms. */
const NODE_WAIT_MS = 30_000;

/** Periodic DHT lookups and announces for one torrent. */
export class DhtPeerSource {
  readonly #ctx: TorrentContext;
  readonly #torrent: TorrentRuntime;
  #timer: Timer | undefined;
  #abort = new AbortController();
  #running = false;
  #unstarve: (() => void) | undefined;
  /** While starved: the next lookup is due at, and the back-off after it. */
  #starvedDueAt = 0;
  #starvedBackoffMs = 0;
  #lastStarvedAt = -Infinity;
  /** A lookup waits for the routing table's first node (a fresh node still bootstrapping). */
  #waitingForNodes = false;

  /** Binds to a torrent. */
  constructor(ctx: TorrentContext, torrent: TorrentRuntime) {
    this.#ctx = ctx;
    this.#torrent = torrent;
  }

  /** Runs a lookup now, then periodically, and sooner while the torrent has no peer. */
  start(): void {
    this.#unstarve = this.#torrent.whenStarved(() => this.#starved());
    this.#round();
  }

  /** Stops scheduling and aborts a lookup in progress. */
  stop(): void {
    this.#unstarve?.();
    this.#timer?.cancel();
    this.#abort.abort();
  }

  /**
   * Once a tick while the torrent has no peer: look again after `dhtStarvedRetryMs`
   * (10 s), doubling up to the announce interval; a torrent that had peers in between
   * starts over at 10 s.
   */
  #starved(): void {
    const now = this.#ctx.clock.now();
    const s = this.#ctx.settings;
    if (now - this.#lastStarvedAt > 2 * s.tickIntervalMs) {
      this.#starvedBackoffMs = s.dhtStarvedRetryMs;
      this.#starvedDueAt = now + this.#starvedBackoffMs;
    }
    this.#lastStarvedAt = now;
    if (now < this.#starvedDueAt || this.#running) return;
    this.#starvedBackoffMs = Math.min(2 * this.#starvedBackoffMs, s.dhtAnnounceIntervalMs);
    this.#starvedDueAt = now + this.#starvedBackoffMs;
    this.#lookup();
  }

  #round(): void {
    this.#lookup();
    if (this.#torrent.isStopped || this.#abort.signal.aborted) return;
    this.#timer = this.#ctx.clock.schedule(
      this.#ctx.settings.dhtAnnounceIntervalMs,
      () => this.#round(),
    );
  }

  /**
   * Looks the info-hash up (announcing when we listen). While the routing table is empty (a
   * fresh node still bootstrapping) the lookup waits for its first node, polling every
   * {@linkcode NODE_POLL_MS} for at most {@linkcode NODE_WAIT_MS}: started at once, it would
   * end at once with nothing asked, and the next one is due only after the starved back-off.
   */
  #lookup(waitedMs = 0): void {
    const dht = this.#ctx.dht();
    if (!dht || this.#torrent.isStopped || this.#abort.signal.aborted || this.#running) return;
    if (this.#torrent.isPrivate()) return; // a magnet that turned out private (BEP 27)
    if (dht.stats.tableSize === 0 && waitedMs < NODE_WAIT_MS) {
      if (this.#waitingForNodes && waitedMs === 0) return; // a wait is already on
      this.#waitingForNodes = true;
      this.#ctx.clock.schedule(NODE_POLL_MS, () => this.#lookup(waitedMs + NODE_POLL_MS));
      return;
    }
    this.#waitingForNodes = false;
    this.#running = true;
    const port = this.#ctx.listenPort();
    // Peers reach the torrent per reply, not when the whole lookup ends (as libtorrent),
    // with the node that gave them as their source (the scope rule).
    const options = {
      signal: this.#abort.signal,
      onPeers: (peers: PeerAddress[], from: PeerAddress) =>
        void this.#torrent.addPeers(peers, "dht", from),
    };
    const { logger } = this.#ctx;
    const what = port > 0 ? "announce" : "lookup";
    logger.debug(`DHT ${what} started`, {
      infoHash: this.#torrent.infoHashHex,
      nodes: dht.stats.tableSize,
    });
    const announce = port > 0
      ? dht.announce(this.#torrent.infoHash, port, options).then((r) => r.lookup)
      : dht.lookup(this.#torrent.infoHash, { kind: "get_peers", ...options });
    announce.then(
      (r) =>
        logger.debug(`DHT ${what} ended (${r.end})`, {
          peers: r.peers.length,
          queries: r.queries,
          replies: r.replies,
          failures: r.failures,
        }),
      (e) => logger.debug(`DHT ${what} failed`, { error: String(e) }),
    ).finally(() => this.#running = false);
  }
}
