/**
 * Local Service Discovery (BEP 14): tells the LAN which torrents we are in, and hears which
 * ones its other clients are in. One node per session:
 * - each torrent added is announced at once and twice more, 2 s and 4 s later (multicast
 *   is lossy; libtorrent does the same), then with every torrent in one round every
 *   `intervalMs` (5 minutes, as libtorrent and Transmission), up to 24 info-hashes a
 *   datagram;
 * - an announce heard for a torrent of ours gives a peer: the sender's address and the
 *   port it announced. Our own announces, which multicast loops back to us, carry our
 *   random cookie and are dropped. At most `maxAnnouncesPerSecond` datagrams are read a
 *   second; the rest are dropped, so a flood on the LAN costs little.
 *
 * Sockets: `group` is bound to the LSD port and joined to the multicast group (it hears
 * every client on the LAN, us included); `sender` is bound to our listen address, so the
 * announces leave from the address peers should dial.
 *
 * Layer: core (sockets and time are injected).
 * @module
 */
import type { Clock, Logger, PeerAddress, Random, Timer, UdpSocketLike } from "../runtime/types.ts";
import {
  encodeLsdAnnounce,
  LSD_GROUP_V4,
  MAX_LSD_INFO_HASHES,
  parseLsdAnnounce,
} from "./lsd_message.ts";

/** Options of {@linkcode LsdNode}. */
export interface LsdNodeOptions {
  /** Bound to the LSD port and joined to the group: receives the LAN's announces. */
  readonly group: UdpSocketLike;
  /** Sends our announces (bound to the listen address). */
  readonly sender: UdpSocketLike;
  /** Our listen port for peer connections. */
  readonly port: number;
  readonly clock: Clock;
  readonly random: Random;
  readonly logger?: Logger;
  /** A peer announced itself for `infoHashHex`. */
  readonly onPeer: (infoHashHex: string, peer: PeerAddress) => void;
  /** Time between announce rounds, ms. Default 300,000. */
  readonly intervalMs?: number;
  /** Announces read per second at most. Default 50. */
  readonly maxAnnouncesPerSecond?: number;
}

/** Re-sends of a torrent's first announce, ms after it. */
const FIRST_RESENDS_MS = [2_000, 4_000];

/** Announces torrents to the LAN and hears the LAN's announces. */
export class LsdNode {
  readonly #o: LsdNodeOptions;
  readonly #cookie: string;
  /** Registered torrents: hex info-hash → whether it may be announced now (not private). */
  readonly #torrents = new Map<string, () => boolean>();
  readonly #timers = new Set<Timer>();
  #round: Timer | undefined;
  #closed = false;
  #windowStart = 0;
  #windowCount = 0;
  /** Counters, for logs and tests. */
  readonly stats = { sent: 0, received: 0, dropped: 0, peers: 0 };

  /** A node; nothing runs before {@linkcode start}. */
  constructor(options: LsdNodeOptions) {
    this.#o = options;
    this.#cookie = Array.from(options.random.bytes(4), (b) => b.toString(16).padStart(2, "0"))
      .join("");
  }

  /** Starts hearing announces and the announce rounds. */
  start(): void {
    void this.#receiveLoop();
    this.#scheduleRound();
  }

  /**
   * Announces `infoHashHex` from now on (at once, and in every round).
   * @param infoHashHex the torrent's info-hash, 40 hex digits
   * @param mayAnnounce checked before each announce and each peer heard: false keeps the
   *   torrent quiet (a magnet that turned out private, BEP 27)
   * @returns a function that stops announcing it
   */
  add(infoHashHex: string, mayAnnounce: () => boolean = () => true): () => void {
    const hash = infoHashHex.toLowerCase();
    this.#torrents.set(hash, mayAnnounce);
    this.#announce([hash]);
    for (const ms of FIRST_RESENDS_MS) {
      const timer = this.#o.clock.schedule(ms, () => {
        this.#timers.delete(timer);
        if (this.#torrents.get(hash) === mayAnnounce) this.#announce([hash]);
      });
      this.#timers.add(timer);
    }
    return () => {
      if (this.#torrents.get(hash) === mayAnnounce) this.#torrents.delete(hash);
    };
  }

  /** Stops everything; the sockets are the caller's to close. */
  close(): void {
    this.#closed = true;
    this.#round?.cancel();
    for (const timer of this.#timers) timer.cancel();
    this.#timers.clear();
    this.#torrents.clear();
  }

  #scheduleRound(): void {
    if (this.#closed) return;
    this.#round = this.#o.clock.schedule(this.#o.intervalMs ?? 300_000, () => {
      this.#announce([...this.#torrents.keys()]);
      this.#scheduleRound();
    });
  }

  /** Sends announces for the `hashes` that may be announced, 24 to a datagram. */
  #announce(hashes: readonly string[]): void {
    if (this.#closed) return;
    const due = hashes.filter((h) => this.#torrents.get(h)?.() === true);
    for (let at = 0; at < due.length; at += MAX_LSD_INFO_HASHES) {
      const batch = due.slice(at, at + MAX_LSD_INFO_HASHES);
      const bytes = encodeLsdAnnounce(this.#o.port, batch, this.#cookie);
      this.stats.sent++;
      void this.#o.sender.send(bytes, LSD_GROUP_V4);
      this.#o.logger?.debug("LSD: announced", { torrents: batch.length, port: this.#o.port });
    }
  }

  async #receiveLoop(): Promise<void> {
    for (;;) {
      const datagram = await this.#o.group.receive().catch(() => null);
      if (datagram === null || this.#closed) return;
      if (!this.#withinRate()) {
        this.stats.dropped++;
        continue;
      }
      this.stats.received++;
      this.#heard(datagram.data, datagram.from);
    }
  }

  #withinRate(): boolean {
    const now = this.#o.clock.now();
    if (now - this.#windowStart >= 1_000) {
      this.#windowStart = now;
      this.#windowCount = 0;
    }
    return ++this.#windowCount <= (this.#o.maxAnnouncesPerSecond ?? 50);
  }

  #heard(data: Uint8Array, from: PeerAddress): void {
    const announce = parseLsdAnnounce(data);
    if (!announce || announce.cookie === this.#cookie) return;
    const peer = { host: from.host, port: announce.port };
    for (const hash of announce.infoHashes) {
      if (this.#torrents.get(hash)?.() !== true) continue;
      this.stats.peers++;
      this.#o.logger?.debug("LSD: peer announced", { peer: `${peer.host}:${peer.port}`, hash });
      this.#o.onPeer(hash, peer);
    }
  }
}
