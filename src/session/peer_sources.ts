/**
 * Where a session's torrents find peers besides `--peer` and incoming connections: the
 * session's DHT node (BEP 5; its routing table saved across runs), its Local Service
 * Discovery node (BEP 14) and the shared tracker transports (HTTP, and one UDP socket for
 * BEP 15), and per torrent a tracker source, a DHT source and an LSD announce that feed the
 * torrent's one door. Private torrents (BEP 27) use their trackers only.
 *
 * Layer: driver.
 * @module
 */
import type { Clock, Logger, Network, Random, UdpSocketLike } from "../runtime/types.ts";
import { DhtNode } from "../dht/mod.ts";
import { LSD_GROUP_V4, LsdNode } from "../lsd/mod.ts";
import { type HttpFetcher, HttpTrackerClient } from "../tracker/http_client.ts";
import { UdpTrackerClient } from "../tracker/udp_client.ts";
import { parseHostPort } from "../util/address.ts";
import { parseIpv4 } from "../util/ip.ts";
import { toHex } from "../util/bytes.ts";
import type { StateStore, TorrentContext } from "./context.ts";
import type { EventHub } from "./events.ts";
import type { Settings } from "./settings.ts";
import { DhtPeerSource } from "./dht_source.ts";
import { TrackerPeerSource, type TrackerTransports } from "./tracker_source.ts";
import type { TorrentRuntime } from "./torrent.ts";

/** Platform services the peer sources use. */
export interface PeerSourceServices {
  /** Engine settings. */
  readonly settings: Settings;
  /** Sockets. */
  readonly network: Network;
  /** Timers. */
  readonly clock: Clock;
  /** Randomness. */
  readonly random: Random;
  /** Log sink. */
  readonly logger: Logger;
  /** Events (DHT warnings). */
  readonly hub: EventHub;
  /** Resolves host names (DHT routers, UDP trackers). */
  readonly resolveHost?: ((host: string) => Promise<string[]>) | undefined;
  /** HTTP transport for trackers; without one, HTTP trackers are not used. */
  readonly httpFetcher?: HttpFetcher | undefined;
  /** Where the DHT routing table is kept across runs. */
  readonly dhtStateStore?: StateStore | undefined;
  /** The session's torrent with this hex info-hash (peers that announce to our DHT node). */
  find(infoHashHex: string): TorrentRuntime | undefined;
}

/** The session-wide peer sources: the DHT node and the tracker transports. */
export class PeerSources {
  readonly #s: PeerSourceServices;
  #dht: DhtNode | undefined;
  #lsd: LsdNode | undefined;
  #transports: Promise<TrackerTransports> | undefined;
  readonly #closers: (() => void)[] = [];

  /** Nothing runs until {@linkcode startDht} or the first torrent. */
  constructor(services: PeerSourceServices) {
    this.#s = services;
  }

  /** The LSD node, when it runs. */
  get lsd(): LsdNode | undefined {
    return this.#lsd;
  }

  /** The DHT node, when it runs. */
  get dht(): DhtNode | undefined {
    return this.#dht;
  }

  /**
   * Starts the DHT node on `socket` (the KRPC side of the session's UDP socket), loads the
   * saved routing table and bootstraps in the background.
   */
  async startDht(socket: UdpSocketLike): Promise<void> {
    const { clock, random, logger, settings, hub } = this.#s;
    const bootstrapNodes = settings.dhtBootstrapNodes.flatMap((text) => {
      const addr = parseHostPort(text);
      return addr ? [addr] : [];
    });
    const dht = new DhtNode({
      socket,
      clock,
      random,
      bootstrapNodes,
      allowLocalAddresses: settings.allowLocalPeers,
      maxQueriesPerSecond: settings.dhtMaxQueriesPerSecond,
      store: { maxPeers: settings.dhtMaxStoredPeers },
      logger,
      // A peer announcing itself to our node for a torrent we fetch: a candidate at once
      // (it is its own source).
      onAnnounce: (infoHash, peer) => this.#s.find(toHex(infoHash))?.addPeers([peer], "dht", peer),
      ...(this.#s.resolveHost ? { resolve: this.#s.resolveHost } : {}),
    });
    const saved = await this.#s.dhtStateStore?.load().catch(() => undefined);
    if (saved) {
      try {
        dht.loadState(saved);
      } catch { /* a damaged table is only a slower bootstrap */ }
    }
    this.#dht = dht;
    dht.start();
    // Never blocks the other peer sources: the answer only decides whether to warn.
    dht.bootstrap().then((ok) => {
      if (ok) return;
      hub.emit({
        type: "dht-warning",
        category: "dht",
        message: "DHT: no bootstrap node answered; retrying in the background with backoff",
      });
    });
  }

  /**
   * Starts Local Service Discovery (BEP 14) for peers listening on `port`: a socket on the
   * LSD port joined to its multicast group, and one on the listen address that sends our
   * announces, so that they leave from the address peers should dial. Resolves false (LSD
   * off, said in the log) when the network cannot join the group.
   */
  async startLsd(port: number): Promise<boolean> {
    const { network, clock, random, logger, settings } = this.#s;
    const host = lsdHost(settings.listenHost);
    if (!network.bindMulticast) return false;
    let group: UdpSocketLike | undefined;
    try {
      group = await network.bindMulticast(LSD_GROUP_V4, host);
      const sender = await network.bindUdp({ host, port: 0 });
      this.#closers.push(() => group!.close(), () => sender.close());
      const lsd = new LsdNode({
        group,
        sender,
        port,
        clock,
        random,
        ...(logger ? { logger } : {}),
        // the announcer is its own source: a LAN peer (util/address.ts scope rule)
        onPeer: (hash, peer) => this.#s.find(hash)?.addPeers([peer], "lsd", peer.host),
      });
      this.#lsd = lsd;
      this.#closers.push(() => lsd.close());
      lsd.start();
      return true;
    } catch (e) {
      group?.close();
      logger?.info("LSD off: cannot join its multicast group", { error: String(e) });
      return false;
    }
  }

  /**
   * Starts the trackers (the torrent's tiers and any extra ones), the DHT and LSD for
   * `torrent`; each stops when the torrent does.
   */
  async start(
    ctx: TorrentContext,
    torrent: TorrentRuntime,
    tiers: readonly (readonly string[])[],
  ): Promise<void> {
    if (tiers.some((t) => t.length > 0)) {
      const tracker = new TrackerPeerSource(ctx, torrent, await this.#trackerTransports(), tiers);
      torrent.onStop(() => tracker.stop());
      torrent.setTrackerStatus(() => tracker.status());
      tracker.start();
    }
    // BEP 27: private torrents use their trackers only (a magnet's flag is checked later)
    if (torrent.isPrivate()) return;
    if (this.#lsd) {
      const stop = this.#lsd.add(torrent.infoHashHex, () => !torrent.isPrivate());
      torrent.onStop(stop);
    }
    if (!this.#dht) return;
    const source = new DhtPeerSource(ctx, torrent);
    torrent.onStop(() => source.stop());
    source.start();
  }

  /** Saves the DHT table and closes the sockets. */
  async close(): Promise<void> {
    for (const close of this.#closers) close();
    if (this.#dht) {
      // The routing table is saved once, at close (not continuously).
      await this.#s.dhtStateStore?.save(this.#dht.saveState()).catch(() => {});
      this.#dht.close();
    }
  }

  /** The shared tracker transports, made on first use (a UDP socket for BEP 15). */
  #trackerTransports(): Promise<TrackerTransports> {
    this.#transports ??= (async () => {
      const { network, clock, random, httpFetcher, resolveHost, settings } = this.#s;
      const policy = settings.allowLocalPeers ? { allowLocalAnyPath: true } : {};
      const http = httpFetcher
        ? new HttpTrackerClient({ fetcher: httpFetcher, ...policy })
        : undefined;
      let udp: UdpTrackerClient | undefined;
      try {
        const socket = await network.bindUdp({ host: settings.listenHost, port: 0 });
        this.#closers.push(() => socket.close());
        udp = new UdpTrackerClient({
          socket,
          clock,
          random,
          ...(resolveHost ? { resolve: firstAddress(resolveHost) } : {}),
        });
      } catch {
        udp = undefined; // no UDP here: HTTP trackers still work
      }
      return {
        ...(http ? { http } : {}),
        ...(udp ? { udp } : {}),
        ...(resolveHost ? { resolveHost } : {}),
      };
    })();
    return this.#transports;
  }
}

/**
 * The IPv4 address LSD joins its group on and sends from: the listen address, `localhost`
 * as 127.0.0.1, any other name or IPv6 listen address as 0.0.0.0 (the system's choice).
 */
function lsdHost(listenHost: string): string {
  if (parseIpv4(listenHost)) return listenHost;
  return listenHost.toLowerCase() === "localhost" ? "127.0.0.1" : "0.0.0.0";
}

/** A resolver that answers one address or throws. */
function firstAddress(resolve: (host: string) => Promise<string[]>) {
  return async (host: string): Promise<string> => {
    const found = await resolve(host);
    if (found.length === 0) throw new Error(`Cannot resolve ${host}`);
    return found[0]!;
  };
}
