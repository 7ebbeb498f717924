/**
 * Trackers as a peer source for one torrent (BEP 3, 12, 15): the tracker client
 * announces `started`, then periodically, `completed` when the download finishes and
 * `stopped` on a clean stop; peers it returns go to the torrent's peer list. Tracker
 * failures back off inside the client and never stop the download.
 *
 * Layer: driver.
 * @module
 */
import { TrackerClient, type TrackerStatus } from "../tracker/tracker_client.ts";
import type { HttpTrackerClient } from "../tracker/http_client.ts";
import type { UdpTrackerClient } from "../tracker/udp_client.ts";
import type { Logger } from "../runtime/types.ts";
import { localityOf } from "../util/address.ts";
import { parseIp } from "../util/ip.ts";
import type { TorrentContext } from "./context.ts";
import type { TorrentRuntime } from "./torrent.ts";

/** The session's shared tracker transports. */
export interface TrackerTransports {
  /** HTTP(S) announces and scrapes. */
  readonly http?: HttpTrackerClient;
  /** UDP (BEP 15) over IPv4. */
  readonly udp?: UdpTrackerClient;
  /** Resolves a tracker's host name, to judge how local it is (the scope rule). */
  readonly resolveHost?: (host: string) => Promise<string[]>;
}

/** Unknown size in the metadata phase: announce a small `left` so we are not taken for a seed. */
const LEFT_UNKNOWN = 16 * 1024;

/** Announces one torrent to its trackers and feeds their peers to it. */
export class TrackerPeerSource {
  readonly #client: TrackerClient;
  #unstarve: (() => void) | undefined;
  readonly #torrent: TorrentRuntime;

  /** Builds the source; `tiers` are BEP 12 tiers (the torrent's plus any extra ones). */
  constructor(
    ctx: TorrentContext,
    torrent: TorrentRuntime,
    transports: TrackerTransports,
    tiers: readonly (readonly string[])[],
  ) {
    this.#torrent = torrent;
    const hub = ctx.hub;
    const infoHash = torrent.infoHashHex;
    const logger: Logger = {
      debug: (m, f) => ctx.logger.debug(m, f),
      info: (m, f) => ctx.logger.info(m, f),
      warn: (message, f) => {
        ctx.logger.warn(message, f);
        const url = typeof f?.url === "string" ? f.url : "";
        hub.emit({ type: "tracker-warning", category: "tracker", infoHash, url, message });
      },
      error: (m, f) => ctx.logger.error(m, f),
    };
    this.#client = new TrackerClient({
      infoHash: torrent.infoHash,
      peerId: ctx.peerId,
      port: ctx.listenPort(),
      trackers: tiers,
      clock: ctx.clock,
      random: ctx.random,
      ...(transports.http ? { http: transports.http } : {}),
      ...(transports.udp ? { udp: transports.udp } : {}),
      logger,
      stats: () => {
        const s = torrent.stats();
        return {
          uploaded: s.bytesUploaded,
          downloaded: s.bytesDownloaded,
          left: s.state === "metadata"
            ? LEFT_UNKNOWN
            : Math.max(0, s.bytesWanted - s.bytesVerified),
        };
      },
      onPeers: async (peers, url) => {
        if (torrent.isStopped) return;
        // The tracker is the source of its peers: a tracker on loopback or the LAN may
        // hand out local addresses, a public one may not (util/address.ts).
        if (peers.length > 0) {
          torrent.addPeers(peers, "tracker", await trackerHost(url, transports.resolveHost));
        }
        hub.emit({
          type: "tracker-announced",
          category: "tracker",
          infoHash,
          url,
          peers: peers.length,
        });
      },
    });
  }

  /** Announces `started` and keeps announcing; `completed` once the download finishes. */
  start(): void {
    const wasComplete = this.#torrent.stats().state === "seeding";
    // No peer yet: ask again as soon as the trackers' min interval allows.
    this.#unstarve = this.#torrent.whenStarved(() => this.#client.reannounce());
    this.#client.start();
    this.#torrent.done.then(() => {
      if (!wasComplete && !this.#torrent.isStopped) this.#client.completed();
    }, () => {});
  }

  /** Announces `stopped` (waiting at most `timeoutMs`). */
  stop(timeoutMs = 3_000): Promise<void> {
    this.#unstarve?.();
    return this.#client.stop(timeoutMs);
  }

  /** Per-tracker status. */
  status(): TrackerStatus[] {
    return this.#client.status();
  }
}

/**
 * The address a tracker URL names: an IP literal as it is, `localhost` as loopback, a host
 * name resolved (its first address); undefined (a public source) when it cannot be told.
 */
async function trackerHost(
  url: string,
  resolve: ((host: string) => Promise<string[]>) | undefined,
): Promise<string | undefined> {
  let host: string;
  try {
    host = new URL(url).hostname.replace(/^\[|\]$/g, "");
  } catch {
    return undefined;
  }
  if (parseIp(host) || localityOf(host) === 2 || !resolve) return host;
  try {
    return (await resolve(host))[0];
  } catch {
    return undefined; // unresolvable now: judged as a public source
  }
}
