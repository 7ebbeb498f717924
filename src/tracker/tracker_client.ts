/**
 * One torrent's tracker client: BEP 12 tiers + HTTP and UDP transports + the announce
 * schedule. Announces `started` on `start()`, then every interval, `completed` on
 * `completed()`, and `stopped` on `stop()` (waiting briefly). Failures back off per
 * tracker and never throw out: a torrent keeps downloading from other peer sources
 * (RELIABILITY F7). Peers go to `onPeers`; `status()` is a snapshot per tracker.
 *
 * Failures are reported once per change of state, not once per retry: the logger gets a
 * `warn` when a tracker starts failing or fails for another reason, `debug` when it fails
 * again for the same reason, and `info` when it answers again. The message names the URL
 * (query redacted) and the reason; the session shows it as a `tracker-warning`:
 *
 *     Cannot announce to "http://t.example/announce": connection refused
 *     Cannot announce to "http://t.example/announce": tracker answered HTTP 500
 *     Cannot announce to "http://t.example/announce": tracker refused: "unregistered torrent"
 *     Cannot announce to "http://t.example/announce": timed out after 30 s
 *     Cannot announce to "udp://t.example:6969": cannot resolve "t.example"
 *     Cannot announce to "udp://t.example:6969": timed out after 45 s (2 tries)
 *     Announced to "udp://t.example:6969" again after 3 failures
 *
 * Fields: `url`, `event`, `error` (the reason alone, as in `TrackerStatus.lastError`) and
 * `fails`.
 *
 * Layer: driver (timers via the injected `Clock`; I/O via the transport clients).
 * @module
 */
import type { Clock, Logger, PeerAddress, Random, Timer } from "../runtime/types.ts";
import { SILENT_LOGGER } from "../runtime/types.ts";
import { AnnounceSchedule } from "./announce_schedule.ts";
import type { HttpTrackerClient } from "./http_client.ts";
import { redact } from "./http_client.ts";
import { parseIp } from "../util/ip.ts";
import { TrackerTiers } from "./tiers.ts";
import { TrackerFailureError } from "./tracker_errors.ts";
import type { AnnounceEvent, AnnounceParams, AnnounceResponse, ScrapeEntry } from "./types.ts";
import type { UdpTrackerClient } from "./udp_client.ts";

/** Transfer counters reported in announces. */
export interface TransferStats {
  /** Payload bytes uploaded this session. */
  readonly uploaded: number;
  /** Payload bytes downloaded this session. */
  readonly downloaded: number;
  /** Bytes still missing. */
  readonly left: number;
}

/** Status of one tracker, for `info --json` and progress events. Times are wall-clock ms. */
export interface TrackerStatus {
  /** Announce URL (query redacted). */
  readonly url: string;
  /** BEP 12 tier, 0 first. */
  readonly tier: number;
  /** Wall-clock time of the last successful announce. */
  readonly lastAnnounceAt: number | undefined;
  /** Peers in the last response. */
  readonly peersReturned: number;
  /** Seeders from the last announce or scrape. */
  readonly seeders: number | undefined;
  /** Leechers from the last announce or scrape. */
  readonly leechers: number | undefined;
  /** Last error message (the reason, without the URL), cleared by a success. */
  readonly lastError: string | undefined;
  /** Wall-clock time of the last failure, kept after a success. */
  readonly lastErrorAt: number | undefined;
  /** Last `warning message`. */
  readonly warning: string | undefined;
  /** Wall-clock time this tracker will next be contacted, when planned. */
  readonly nextAnnounceAt: number | undefined;
  /** Consecutive failures. */
  readonly fails: number;
  /** True once the tracker is dropped for good (410, `retry in: never`, refused URL). */
  readonly isDead: boolean;
}

/** Options of a {@linkcode TrackerClient}. */
export interface TrackerClientOptions {
  /** 20-byte info-hash. */
  readonly infoHash: Uint8Array;
  /** Our 20-byte peer id. */
  readonly peerId: Uint8Array;
  /** Our listening port. */
  readonly port: number;
  /** Announce-list tiers (BEP 12). */
  readonly trackers: readonly (readonly string[])[];
  /** Timers and time. */
  readonly clock: Clock;
  /** Tier shuffle and the announce key. */
  readonly random: Random;
  /** HTTP(S) transport; without it HTTP trackers fail. */
  readonly http?: HttpTrackerClient;
  /** IPv4 UDP transport. */
  readonly udp?: UdpTrackerClient;
  /** IPv6 UDP transport (IPv6 literal hosts). */
  readonly udp6?: UdpTrackerClient;
  /** Transfer counters, read at each announce. */
  readonly stats: () => TransferStats;
  /**
   * Receives the peers of each answered announce (but `stopped`'s), also when there are
   * none: an answer with no peer is news too (the first seed of a swarm gets only those).
   */
  readonly onPeers: (peers: PeerAddress[], source: string) => void;
  /** Peers asked for per announce (default 200, libtorrent). */
  readonly numwant?: number;
  /** Diagnostics. */
  readonly logger?: Logger;
}

interface Row {
  lastAnnounceAt: number | undefined;
  peersReturned: number;
  seeders: number | undefined;
  leechers: number | undefined;
  lastError: string | undefined;
  lastErrorAt: number | undefined;
  warning: string | undefined;
  trackerId: Uint8Array | undefined;
}

/** Announces one torrent to its trackers. */
export class TrackerClient {
  readonly #o: TrackerClientOptions;
  readonly #tiers: TrackerTiers;
  readonly #schedule = new AnnounceSchedule();
  readonly #rows = new Map<string, Row>();
  readonly #key: number;
  readonly #log: Logger;
  #timer: Timer | undefined;
  #inFlight: Promise<void> | undefined;
  #abort = new AbortController();
  #current: string | undefined;

  /**
   * Builds the client; nothing is sent before {@linkcode TrackerClient.start}.
   * @param options identity, trackers, transports and callbacks
   */
  constructor(options: TrackerClientOptions) {
    this.#o = options;
    this.#tiers = new TrackerTiers(options.trackers, options.random);
    this.#key = options.random.int(0x100000000);
    this.#log = options.logger ?? SILENT_LOGGER;
    for (const e of this.#tiers.entries()) {
      this.#rows.set(e.url, {
        lastAnnounceAt: undefined,
        peersReturned: 0,
        seeders: undefined,
        leechers: undefined,
        lastError: undefined,
        lastErrorAt: undefined,
        warning: undefined,
        trackerId: undefined,
      });
    }
  }

  /** Starts announcing (`started` now). Idempotent. */
  start(): void {
    this.#schedule.start(this.#o.clock.now());
    this.#arm();
  }

  /** The download finished: announce `completed` now. */
  completed(): void {
    this.#schedule.completed(this.#o.clock.now());
    this.#arm();
  }

  /** Asks for an early announce (no earlier than the tracker's min interval). */
  reannounce(): void {
    this.#schedule.reannounce(this.#o.clock.now());
    this.#arm();
  }

  /**
   * Sends `stopped` to every tracker that got `started`, waiting at most `timeoutMs`.
   * Never rejects.
   * @param timeoutMs how long to wait for the trackers (default 5 s, libtorrent's `stop_tracker_timeout`)
   * @returns resolves once every tracker answered or the time is up
   */
  async stop(timeoutMs = 5_000): Promise<void> {
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#abort.abort();
    await this.#inFlight;
    this.#schedule.stop(this.#o.clock.now());
    const urls = this.#schedule.startedUrls();
    if (urls.length === 0) return;
    const abort = new AbortController();
    this.#abort = abort;
    let timer: Timer | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = this.#o.clock.schedule(timeoutMs, () => {
        abort.abort();
        resolve();
      });
    });
    await Promise.race([
      Promise.allSettled(urls.map((u) => this.#announce(u, "stopped", abort.signal))),
      timeout,
    ]);
    timer?.cancel();
  }

  /**
   * Scrapes the tracker in use (or the first one) and records seeders and leechers.
   * Never rejects; a failure is recorded in the status.
   * @returns resolves when done
   */
  async scrape(): Promise<void> {
    const url = this.#current ?? this.#tiers.entries().find((e) => !e.isDead)?.url;
    if (url === undefined) return;
    try {
      const transport = this.#transport(url);
      const [entry]: ScrapeEntry[] = await transport.scrape(
        url,
        [this.#o.infoHash],
        this.#abort.signal,
      );
      const row = this.#rows.get(url)!;
      if (entry) [row.seeders, row.leechers] = [entry.complete, entry.incomplete];
    } catch (e) {
      this.#rows.get(url)!.lastError = (e as Error).message;
    }
  }

  /**
   * A snapshot of every tracker, in tier order.
   * @returns one status per tracker
   */
  status(): TrackerStatus[] {
    const now = this.#o.clock.now();
    const wall = this.#o.clock.wallNow();
    const next = this.#schedule.nextAnnounceAt();
    return this.#tiers.entries().map((e) => {
      const row = this.#rows.get(e.url)!;
      let at = e.retryAt > now ? e.retryAt : undefined;
      if (e.url === this.#current && next !== undefined) at = next;
      return {
        url: redact(e.url),
        tier: e.tier,
        lastAnnounceAt: row.lastAnnounceAt,
        peersReturned: row.peersReturned,
        seeders: row.seeders,
        leechers: row.leechers,
        lastError: row.lastError,
        lastErrorAt: row.lastErrorAt,
        warning: row.warning,
        nextAnnounceAt: at === undefined || e.isDead ? undefined : wall + (at - now),
        fails: e.fails,
        isDead: e.isDead,
      };
    });
  }

  #arm(): void {
    if (this.#inFlight || this.#schedule.phase !== "running") return;
    this.#timer?.cancel();
    const at = this.#schedule.nextAnnounceAt();
    if (at === undefined) return;
    this.#timer = this.#o.clock.schedule(Math.max(0, at - this.#o.clock.now()), () => this.#tick());
  }

  #tick(): void {
    this.#timer = undefined;
    const now = this.#o.clock.now();
    if (!this.#schedule.isDue(now)) return this.#arm();
    const next = this.#tiers.next(now);
    if (!next || next.at > now) {
      this.#schedule.onFailure(next?.at);
      return this.#arm();
    }
    const event = this.#schedule.eventFor(next.url);
    this.#inFlight = this.#announce(next.url, event, this.#abort.signal).finally(() => {
      this.#inFlight = undefined;
      this.#arm();
    });
  }

  #params(url: string, event: AnnounceEvent | undefined): AnnounceParams {
    const s = this.#o.stats();
    return {
      infoHash: this.#o.infoHash,
      peerId: this.#o.peerId,
      port: this.#o.port,
      uploaded: s.uploaded,
      downloaded: s.downloaded,
      left: s.left,
      event,
      numwant: event === "stopped" ? 0 : this.#o.numwant ?? 200,
      key: this.#key,
      trackerId: this.#rows.get(url)?.trackerId,
    };
  }

  #transport(url: string): HttpTrackerClient | UdpTrackerClient {
    const scheme = url.slice(0, url.indexOf(":")).toLowerCase();
    if (scheme === "http" || scheme === "https") {
      if (this.#o.http) return this.#o.http;
    } else {
      const host = url.replace(/^udp:\/\/\[?([^\]/]*?)\]?(:\d+)?(\/.*)?$/i, "$1");
      const client = parseIp(host)?.length === 16 ? this.#o.udp6 : this.#o.udp ?? this.#o.udp6;
      if (client) return client;
    }
    throw new TrackerFailureError(`No transport for "${redact(url)}"`, { permanent: true });
  }

  async #announce(
    url: string,
    event: AnnounceEvent | undefined,
    signal: AbortSignal,
  ): Promise<void> {
    const row = this.#rows.get(url)!;
    try {
      const response = await this.#transport(url).announce(url, this.#params(url, event), signal);
      this.#onResponse(url, event, response);
    } catch (e) {
      if (signal.aborted && event !== "stopped") return;
      const now = this.#o.clock.now();
      const reason = String((e as Error)?.message ?? e);
      const isNewState = this.#failsOf(url) === 0 || reason !== row.lastError;
      row.lastError = reason;
      row.lastErrorAt = this.#o.clock.wallNow();
      const failure = e instanceof TrackerFailureError ? e : undefined;
      this.#tiers.onFailure(url, now, {
        permanent: failure?.permanent ?? false,
        retryInS: failure?.retryInS,
      });
      if (failure?.permanent) this.#schedule.forget(url);
      if (this.#current === url) this.#current = undefined;
      this.#schedule.onFailure(this.#tiers.next(now)?.at);
      const shown = redact(url);
      const fields = { url: shown, event, error: reason, fails: this.#failsOf(url) };
      const message = `Cannot announce to "${shown}": ${asDetail(reason)}`;
      if (isNewState) this.#log.warn(message, fields);
      else this.#log.debug(message, fields);
    }
  }

  /** Consecutive announce failures of `url`. */
  #failsOf(url: string): number {
    return this.#tiers.entries().find((t) => t.url === url)?.fails ?? 0;
  }

  #onResponse(url: string, event: AnnounceEvent | undefined, response: AnnounceResponse): void {
    const now = this.#o.clock.now();
    const row = this.#rows.get(url)!;
    const fails = this.#failsOf(url);
    if (fails > 0) {
      const after = `${fails} failure${fails === 1 ? "" : "s"}`;
      this.#log.info(`Announced to "${redact(url)}" again after ${after}`, {
        url: redact(url),
        event,
        fails,
      });
    }
    this.#tiers.onSuccess(url, now);
    this.#schedule.onSuccess(url, event, now, response);
    this.#current = url;
    Object.assign(row, {
      lastAnnounceAt: this.#o.clock.wallNow(),
      peersReturned: response.peers.length,
      seeders: response.complete ?? row.seeders,
      leechers: response.incomplete ?? row.leechers,
      lastError: undefined,
      warning: response.warning,
      trackerId: response.trackerId ?? row.trackerId,
    });
    if (event === "stopped") return;
    try {
      this.#o.onPeers(response.peers, url);
    } catch (e) {
      this.#log.error("onPeers callback threw", { error: String(e) });
    }
  }
}

/** An error message as the detail after a colon: `Connection refused` → `connection refused`. */
function asDetail(reason: string): string {
  return /^[A-Z][a-z]/.test(reason) ? reason[0]!.toLowerCase() + reason.slice(1) : reason;
}
