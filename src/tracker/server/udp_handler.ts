/**
 * The UDP tracker server's packet handler (BEP 15): one datagram in, at most one out.
 * Nothing but `connect` is answered without a valid connection id, and a connect reply
 * is 16 bytes for 16 bytes (no amplification, RELIABILITY TS1/TS2); connects are also
 * rate-limited per /24 (IPv6: /48). Malformed requests with a valid id get an error
 * action; announces use the packet's source address, never the `ip` field (TS3).
 *
 * Layer: core (pure; `now` passed in).
 * @module
 */
import type { PeerAddress } from "../../runtime/types.ts";
import { ipKeyOf } from "../../util/ip.ts";
import { TrackerFailureError, TrackerSyntaxError } from "../tracker_errors.ts";
import {
  decodeUdpRequest,
  encodeUdpResponse,
  type UdpRequest,
  writeUdpAnnounceHeader,
} from "../udp_codec.ts";
import type { ConnectionIds } from "./connection_ids.ts";
import { countFamily, writeCompactPeers } from "./stored_peer.ts";
import type { SwarmStore } from "./swarm_store.ts";

/** Options of a {@linkcode UdpTrackerHandler}. */
export interface UdpHandlerOptions {
  /** The swarms. */
  readonly store: SwarmStore;
  /** Connection id issuer. */
  readonly ids: ConnectionIds;
  /** Connect requests answered per second per /24 (/48 for IPv6); 0 = unlimited. Default: the store's setting (1,000). */
  readonly connectsPerSecondPerPrefix?: number;
}

/** Counters of a {@linkcode UdpTrackerHandler}. */
export interface UdpHandlerStats {
  /** Connects answered. */
  readonly connects: number;
  /** Announces answered. */
  readonly announces: number;
  /** Scrapes answered. */
  readonly scrapes: number;
  /** Error actions sent. */
  readonly errors: number;
  /** Packets dropped without a reply (bad id, malformed connect, rate limit). */
  readonly dropped: number;
}

const MAX_PREFIXES = 65_536;

/**
 * Turns request datagrams into response datagrams.
 * @example
 * ```ts
 * import { ConnectionIds, SwarmStore, UdpTrackerHandler } from "./mod.ts";
 * import { encodeUdpRequest } from "../mod.ts";
 * import { SeededRandom } from "../../util/prng.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const handler = new UdpTrackerHandler({
 *   store: new SwarmStore({ random: new SeededRandom(1) }),
 *   ids: new ConnectionIds(new Uint8Array(32).fill(3)),
 * });
 * const from = { host: "192.0.2.1", port: 40000 };
 * assertEquals(handler.handle(encodeUdpRequest({ action: "connect", transactionId: 1 }), from, 0)?.length, 16);
 * const forged = encodeUdpRequest({ action: "scrape", connectionId: new Uint8Array(8), transactionId: 2, infoHashes: [new Uint8Array(20)] });
 * assertEquals(handler.handle(forged, from, 0), undefined); // no reply without a valid id
 * ```
 */
export class UdpTrackerHandler {
  readonly #store: SwarmStore;
  readonly #ids: ConnectionIds;
  readonly #limit: number;
  #second = -1;
  readonly #prefixCounts = new Map<string, number>();
  #connects = 0;
  #announces = 0;
  #scrapes = 0;
  #errors = 0;
  #dropped = 0;

  /**
   * Builds the handler.
   * @param options store, connection ids and rate limit
   */
  constructor(options: UdpHandlerOptions) {
    this.#store = options.store;
    this.#ids = options.ids;
    this.#limit = options.connectsPerSecondPerPrefix ??
      options.store.settings.connectsPerSecondPerPrefix;
  }

  /**
   * Counters so far.
   * @returns a snapshot
   */
  stats(): UdpHandlerStats {
    return {
      connects: this.#connects,
      announces: this.#announces,
      scrapes: this.#scrapes,
      errors: this.#errors,
      dropped: this.#dropped,
    };
  }

  /**
   * Handles one datagram.
   * @param data the request bytes
   * @param from the sender (an IP literal)
   * @param now current time, ms
   * @returns the reply, or `undefined` when nothing must be sent
   */
  handle(data: Uint8Array, from: PeerAddress, now: number): Uint8Array | undefined {
    const ip = ipKeyOf(from.host);
    if (data.length < 16 || ip === undefined) return this.#drop();
    const isConnect = data[8] === 0 && data[9] === 0 && data[10] === 0 && data[11] === 0;
    if (!isConnect && !this.#ids.verify(data.subarray(0, 8), from, now)) return this.#drop();
    let request: UdpRequest;
    try {
      request = decodeUdpRequest(data);
    } catch (e) {
      if (isConnect || !(e instanceof TrackerSyntaxError)) return this.#drop();
      return this.#error(
        new DataView(data.buffer, data.byteOffset).getUint32(12),
        "Malformed request",
      );
    }
    if (request.action === "connect") {
      if (!this.#allowConnect(ip, now)) return this.#drop();
      this.#connects++;
      const connectionId = this.#ids.issue(from, now);
      return encodeUdpResponse({
        action: "connect",
        transactionId: request.transactionId,
        connectionId,
      });
    }
    try {
      return request.action === "announce"
        ? this.#announce(request, from, now, ip.length === 4 ? 4 : 6)
        : this.#scrape(request);
    } catch (e) {
      if (e instanceof TrackerFailureError) return this.#error(request.transactionId, e.message);
      throw e;
    }
  }

  #announce(
    r: UdpRequest & { action: "announce" },
    from: PeerAddress,
    now: number,
    family: 4 | 6,
  ): Uint8Array {
    const result = this.#store.announce(now, r.infoHash, {
      ip: from.host,
      port: r.port,
      peerId: r.peerId,
      key: r.key === 0 ? undefined : r.key.toString(16),
      left: r.left,
      event: r.event,
      numwant: r.numwant,
    }, family);
    this.#announces++;
    const counts = {
      intervalS: result.intervalS,
      leechers: result.incomplete,
      seeders: result.complete,
    };
    const out = new Uint8Array(20 + countFamily(result.peers, family) * (family === 4 ? 6 : 18));
    writeUdpAnnounceHeader(out, r.transactionId, counts);
    writeCompactPeers(result.peers, family, out, 20);
    return out;
  }

  #scrape(r: UdpRequest & { action: "scrape" }): Uint8Array {
    this.#scrapes++;
    const entries = r.infoHashes.map((h) => {
      const c = this.#store.scrape(h);
      return { seeders: c.complete, completed: c.downloaded, leechers: c.incomplete };
    });
    return encodeUdpResponse({ action: "scrape", transactionId: r.transactionId, entries });
  }

  #allowConnect(ip: string, now: number): boolean {
    if (this.#limit <= 0) return true;
    const second = Math.floor(now / 1000);
    if (second !== this.#second || this.#prefixCounts.size >= MAX_PREFIXES) {
      this.#second = second;
      this.#prefixCounts.clear();
    }
    const prefix = ip.slice(0, ip.length === 4 ? 3 : 6);
    const n = (this.#prefixCounts.get(prefix) ?? 0) + 1;
    this.#prefixCounts.set(prefix, n);
    return n <= this.#limit;
  }

  #error(transactionId: number, message: string): Uint8Array {
    this.#errors++;
    return encodeUdpResponse({ action: "error", transactionId, message });
  }

  #drop(): undefined {
    this.#dropped++;
    return undefined;
  }
}
