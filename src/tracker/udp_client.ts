/**
 * UDP tracker client (BEP 15) over an injected {@linkcode UdpSocketLike}, `Clock` and
 * `Random`: random transaction ids; connection ids reused for at most 60 s; each attempt
 * n waits base·2^n and retransmits; replies with the wrong transaction id, source or
 * length are ignored (RELIABILITY TC5); an error action rejects with `TrackerFailureError`.
 *
 * By default an exchange gives up after two attempts, 15 s + 30 s (BEP 15's base, n ≤ 1),
 * like Transmission's 45 s announce timeout (libtorrent: 30 s, aria2: 15 s; PARAMETERS
 * §2.5), and the caller's back-off takes over (`TrackerTiers`: 5 s + 12.5 s·fails², up to
 * 60 min). BEP 15's full schedule (n ≤ 8) waits 2 h 8 min before a failure can be reported,
 * and the tracker client holds one announce in flight per torrent, so a dead UDP tracker
 * first in its tier kept every other tracker of the torrent waiting for that long.
 *
 * Failure messages are reasons without the URL: `Timed out after 45 s (2 tries)`,
 * `Cannot resolve "host"`, `Tracker refused: "…"` (the tracker's text escaped).
 *
 * One client owns one socket (one address family) and serves every UDP tracker of the
 * process; replies are matched to requests by transaction id and source address.
 *
 * Layer: driver.
 * @module
 */
import { TrackerError } from "../errors.ts";
import type { Clock, PeerAddress, Random, Timer, UdpSocketLike } from "../runtime/types.ts";
import { clampIntervalS } from "./announce_schedule.ts";
import type { IpFamily } from "./compact_peers.ts";
import { normalizeHost, parseIp } from "../util/ip.ts";
import { formatWait, quoteTrackerText, TrackerFailureError } from "./tracker_errors.ts";
import type { AnnounceParams, AnnounceResponse, ScrapeEntry } from "./types.ts";
import {
  decodeUdpResponse,
  encodeUdpRequest,
  MAX_UDP_SCRAPE_HASHES,
  type UdpAnnounceResponse,
  type UdpResponse,
  type UdpScrapeResponse,
} from "./udp_codec.ts";

/** Options of a {@linkcode UdpTrackerClient}. */
export interface UdpTrackerClientOptions {
  /** The socket; the client owns it from now on. */
  readonly socket: UdpSocketLike;
  /** Timers and `now`. */
  readonly clock: Clock;
  /** Transaction ids and keys. */
  readonly random: Random;
  /** First retransmission timeout in ms (BEP 15: 15 s). */
  readonly retransmitBaseMs?: number;
  /** Highest n in base·2^n: retransmissions before giving up (default 1; BEP 15 allows 8). */
  readonly maxRetransmits?: number;
  /** How long a connection id is reused, ms (BEP 15: at most 60 s). */
  readonly connectionIdTtlMs?: number;
  /** Cap on peers kept from one response. */
  readonly maxPeers?: number;
  /** Resolves a host name to an IP literal; without it, names are sent as they are. */
  readonly resolve?: (host: string) => Promise<string>;
}

interface Pending {
  readonly from: PeerAddress;
  readonly expect: UdpResponse["action"];
  readonly resolve: (response: UdpResponse | undefined) => void;
}

/** Parses `udp://host:port/...` into an address. */
function targetOf(url: string): PeerAddress {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TrackerFailureError(`Refused tracker URL "${url}": malformed`, { permanent: true });
  }
  const port = Number(parsed.port);
  if (parsed.protocol !== "udp:" || !parsed.hostname || !(port > 0)) {
    throw new TrackerFailureError(`Refused tracker URL "${url}": not udp://host:port`, {
      permanent: true,
    });
  }
  const host = parsed.hostname.replace(/^\[(.*)\]$/, "$1");
  return { host, port };
}

/** Announces and scrapes over UDP. */
export class UdpTrackerClient {
  readonly #socket: UdpSocketLike;
  readonly #clock: Clock;
  readonly #random: Random;
  readonly #baseMs: number;
  readonly #maxN: number;
  readonly #ttlMs: number;
  readonly #maxPeers: number;
  readonly #resolve: ((host: string) => Promise<string>) | undefined;
  readonly #family: IpFamily;
  readonly #pending = new Map<number, Pending>();
  readonly #connections = new Map<string, { id: Uint8Array; at: number }>();
  #closed = false;

  /**
   * Builds the client and starts reading its socket.
   * @param options socket, clock, randomness and timing
   */
  constructor(options: UdpTrackerClientOptions) {
    this.#socket = options.socket;
    this.#clock = options.clock;
    this.#random = options.random;
    this.#baseMs = options.retransmitBaseMs ?? 15_000;
    this.#maxN = Math.min(8, options.maxRetransmits ?? 1);
    this.#ttlMs = Math.min(60_000, options.connectionIdTtlMs ?? 60_000);
    this.#maxPeers = options.maxPeers ?? 2000;
    this.#resolve = options.resolve;
    this.#family = options.socket.addr.host.includes(":") ? 6 : 4;
    void this.#readLoop();
  }

  /** Address family of the socket: 4 or 6. */
  get family(): IpFamily {
    return this.#family;
  }

  /**
   * Announces to a UDP tracker.
   * @param url `udp://host:port[/...]`
   * @param params what to announce
   * @param signal aborts the exchange
   * @returns the normalised response (intervals clamped)
   * @throws {TrackerFailureError} on an error action, or a malformed URL (permanent)
   * @throws {TrackerError} on timeout, abort or a closed client
   */
  async announce(
    url: string,
    params: AnnounceParams,
    signal?: AbortSignal,
  ): Promise<AnnounceResponse> {
    const to = await this.#target(url);
    const reply = await this.#transact(
      to,
      "announce",
      signal,
      (connectionId, transactionId) =>
        encodeUdpRequest({
          action: "announce",
          connectionId,
          transactionId,
          infoHash: params.infoHash,
          peerId: params.peerId,
          downloaded: params.downloaded,
          left: params.left,
          uploaded: params.uploaded,
          event: params.event,
          ip: 0,
          key: params.key ?? 0,
          numwant: params.numwant ?? -1,
          port: params.port,
        }),
    ) as UdpAnnounceResponse;
    return {
      intervalS: clampIntervalS(reply.intervalS),
      minIntervalS: undefined,
      complete: reply.seeders,
      incomplete: reply.leechers,
      peers: [...reply.peers],
      warning: undefined,
      trackerId: undefined,
    };
  }

  /**
   * Scrapes a UDP tracker.
   * @param url `udp://host:port`
   * @param infoHashes 1..74 info-hashes
   * @param signal aborts the exchange
   * @returns one entry per info-hash, in order
   * @throws {RangeError} for 0 or more than 74 info-hashes
   * @throws {TrackerFailureError} on an error action
   * @throws {TrackerError} on timeout, abort or a closed client
   */
  async scrape(
    url: string,
    infoHashes: readonly Uint8Array[],
    signal?: AbortSignal,
  ): Promise<ScrapeEntry[]> {
    if (infoHashes.length < 1 || infoHashes.length > MAX_UDP_SCRAPE_HASHES) {
      throw new RangeError(`Cannot scrape ${infoHashes.length} info-hashes over UDP`);
    }
    const to = await this.#target(url);
    const reply = await this.#transact(
      to,
      "scrape",
      signal,
      (connectionId, transactionId) =>
        encodeUdpRequest({ action: "scrape", connectionId, transactionId, infoHashes }),
    ) as UdpScrapeResponse;
    return infoHashes.map((infoHash, i) => {
      const e = reply.entries[i] ?? { seeders: 0, leechers: 0, completed: 0 };
      return { infoHash, complete: e.seeders, incomplete: e.leechers, downloaded: e.completed };
    });
  }

  /** Closes the socket; pending requests reject. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#socket.close();
    for (const p of this.#pending.values()) p.resolve(undefined);
    this.#pending.clear();
  }

  async #target(url: string): Promise<PeerAddress> {
    const to = targetOf(url);
    const ip = parseIp(to.host);
    if (ip) {
      if ((ip.length === 4 ? 4 : 6) !== this.#family) {
        throw new TrackerError(
          `Cannot reach an IPv${ip.length === 4 ? 4 : 6} tracker from an IPv${this.#family} socket`,
        );
      }
      return { host: normalizeHost(to.host), port: to.port };
    }
    if (!this.#resolve) return to;
    try {
      return { host: normalizeHost(await this.#resolve(to.host)), port: to.port };
    } catch (e) {
      throw new TrackerError(`Cannot resolve "${to.host}"`, { cause: e });
    }
  }

  async #transact(
    to: PeerAddress,
    expect: "announce" | "scrape",
    signal: AbortSignal | undefined,
    build: (connectionId: Uint8Array, transactionId: number) => Uint8Array,
  ): Promise<UdpResponse> {
    for (let n = 0; n <= this.#maxN; n++) {
      const deadline = this.#clock.now() + this.#baseMs * 2 ** n;
      const connectionId = await this.#connectionId(to, deadline, signal);
      if (!connectionId) continue;
      const reply = await this.#exchange(
        to,
        expect,
        deadline,
        signal,
        (tid) => build(connectionId, tid),
      );
      if (!reply) continue;
      if (reply.action === "error") {
        this.#connections.delete(keyOf(to));
        throw new TrackerFailureError(`Tracker refused: ${quoteTrackerText(reply.message)}`);
      }
      return reply;
    }
    const waited = formatWait(this.#baseMs * (2 ** (this.#maxN + 1) - 1));
    throw new TrackerError(`Timed out after ${waited} (${this.#maxN + 1} tries)`);
  }

  async #connectionId(
    to: PeerAddress,
    deadline: number,
    signal: AbortSignal | undefined,
  ): Promise<Uint8Array | undefined> {
    const cached = this.#connections.get(keyOf(to));
    if (cached && this.#clock.now() - cached.at < this.#ttlMs) return cached.id;
    const sentAt = this.#clock.now();
    const reply = await this.#exchange(
      to,
      "connect",
      deadline,
      signal,
      (tid) => encodeUdpRequest({ action: "connect", transactionId: tid }),
    );
    if (!reply) return undefined;
    if (reply.action === "error") {
      throw new TrackerFailureError(`Tracker refused: ${quoteTrackerText(reply.message)}`);
    }
    if (reply.action !== "connect") return undefined;
    this.#connections.set(keyOf(to), { id: reply.connectionId, at: sentAt });
    return reply.connectionId;
  }

  /** Sends one request and waits until `deadline`; `undefined` on timeout. */
  #exchange(
    to: PeerAddress,
    expect: UdpResponse["action"],
    deadline: number,
    signal: AbortSignal | undefined,
    build: (transactionId: number) => Uint8Array,
  ): Promise<UdpResponse | undefined> {
    if (this.#closed) return Promise.reject(new TrackerError("UDP tracker client is closed"));
    if (signal?.aborted) return Promise.reject(new TrackerError("Announce aborted"));
    let tid = this.#random.int(0x100000000);
    while (this.#pending.has(tid)) tid = this.#random.int(0x100000000);
    return new Promise((resolve, reject) => {
      const state: { timer?: Timer; done: boolean } = { done: false };
      const onAbort = () => finish(undefined, new TrackerError("Announce aborted"));
      const finish = (reply: UdpResponse | undefined, error?: Error) => {
        if (state.done) return;
        state.done = true;
        state.timer?.cancel();
        signal?.removeEventListener("abort", onAbort);
        this.#pending.delete(tid);
        if (error) reject(error);
        else if (this.#closed) reject(new TrackerError("UDP tracker client is closed"));
        else resolve(reply);
      };
      this.#pending.set(tid, { from: to, expect, resolve: (r) => finish(r) });
      signal?.addEventListener("abort", onAbort, { once: true });
      state.timer = this.#clock.schedule(
        Math.max(0, deadline - this.#clock.now()),
        () => finish(undefined),
      );
      this.#socket.send(build(tid), to).catch(() => {/* loss: the timer retransmits */});
    });
  }

  async #readLoop(): Promise<void> {
    try {
      for (;;) {
        const datagram = await this.#socket.receive();
        if (!datagram) break;
        this.#onDatagram(datagram.data, datagram.from);
      }
    } catch {
      // the socket failed: treat it as closed, below
    }
    this.close();
  }

  #onDatagram(data: Uint8Array, from: PeerAddress): void {
    let reply: UdpResponse;
    try {
      reply = decodeUdpResponse(data, this.#family, this.#maxPeers);
    } catch {
      return; // TC5: short or unknown packets are ignored
    }
    const pending = this.#pending.get(reply.transactionId);
    if (!pending || pending.from.port !== from.port) return;
    if (parseIp(pending.from.host) && normalizeHost(from.host) !== pending.from.host) return;
    if (reply.action !== pending.expect && reply.action !== "error") return;
    pending.resolve(reply);
  }
}

function keyOf(to: PeerAddress): string {
  return `${to.host}|${to.port}`;
}
