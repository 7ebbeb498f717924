/**
 * DHT abuse limits (RELIABILITY D2, rule 5): a per-IP packet limiter modelled on
 * libtorrent's dos_blocker (5 packets/s sustained per IP; an IP that goes over is
 * ignored for 5 minutes), a global output byte budget (8 kB/s by default) and the
 * reply-size cap for unverified senders (reply bytes ≤ 10 × request bytes).
 *
 * Layer: core (pure; time is passed in).
 * @module
 */
import { canonicalHost } from "./_address.ts";

/** Tunables of {@linkcode IpRateLimiter}. */
export interface IpRateLimitOptions {
  /** Sustained packets per second per IP. Default 5. */
  readonly packetsPerSecond?: number;
  /** Packets an IP may send in a burst before the rate applies. Default 50 (libtorrent: 10 s worth). */
  readonly burstPackets?: number;
  /** How long an IP that went over is ignored. Default 5 min. */
  readonly blockMs?: number;
  /**
   * IPs tracked at once; those not seen for longest are forgotten first (in two
   * generations of half each: a packet costs no Map deletion, which under a flood from
   * many addresses churned more memory than the rest of the node). Default 1,000.
   */
  readonly maxTrackedIps?: number;
}

interface IpState {
  tokens: number;
  at: number;
  blockedUntil: number;
}

/** Per-IP packet limiter with a temporary block list. */
export class IpRateLimiter {
  #opts: Required<IpRateLimitOptions>;
  /** IPs seen in the current generation. */
  #recent = new Map<string, IpState>();
  /** IPs of the previous generation not seen since (a lookup copies one into `#recent`). */
  #older = new Map<string, IpState>();

  /**
   * Creates a limiter.
   * @param options tunables
   * @throws {RangeError} when a rate or size is not positive
   * @example
   * ```ts
   * import { IpRateLimiter } from "./rate_limit.ts";
   * import { ok } from "node:assert";
   * const limiter = new IpRateLimiter({ packetsPerSecond: 5, burstPackets: 5 });
   * for (let i = 0; i < 5; i++) ok(limiter.allow("1.2.3.4", 0));
   * ok(!limiter.allow("1.2.3.4", 0)); // over: blocked for 5 minutes
   * ok(!limiter.allow("1.2.3.4", 4 * 60_000));
   * ok(limiter.allow("1.2.3.4", 6 * 60_000));
   * ```
   */
  constructor(options: IpRateLimitOptions = {}) {
    this.#opts = {
      packetsPerSecond: 5,
      burstPackets: 50,
      blockMs: 5 * 60_000,
      maxTrackedIps: 1000,
      ...options,
    };
    const o = this.#opts;
    if (!(o.packetsPerSecond > 0 && o.burstPackets >= 1 && o.maxTrackedIps >= 1)) {
      throw new RangeError("Cannot build an IP rate limiter with non-positive limits");
    }
  }

  /**
   * Counts one packet from `host`.
   * @param host the sender IP
   * @param now current clock ms
   * @returns false when the packet must be dropped (over the rate, or blocked)
   */
  allow(host: string, now: number): boolean {
    const s = this.#state(canonicalHost(host), now);
    if (now < s.blockedUntil) return false;
    const elapsedMs = Math.max(0, now - s.at);
    s.tokens = Math.min(
      this.#opts.burstPackets,
      s.tokens + elapsedMs * this.#opts.packetsPerSecond / 1000,
    );
    s.at = now;
    if (s.tokens >= 1) {
      s.tokens -= 1;
      return true;
    }
    s.blockedUntil = now + this.#opts.blockMs;
    s.tokens = this.#opts.burstPackets; // a fresh allowance once the block ends
    return false;
  }

  /**
   * Whether `host` is currently blocked.
   * @param host the IP
   * @param now current clock ms
   * @returns true while the block lasts
   */
  isBlocked(host: string, now: number): boolean {
    const key = canonicalHost(host);
    const s = this.#recent.get(key) ?? this.#older.get(key);
    return s !== undefined && now < s.blockedUntil;
  }

  /** The state of `key`, now in the current generation (a fresh one when unknown). */
  #state(key: string, now: number): IpState {
    const seen = this.#recent.get(key);
    if (seen) return seen;
    const s = this.#older.get(key) ??
      { tokens: this.#opts.burstPackets, at: now, blockedUntil: -Infinity };
    if (this.#recent.size >= Math.max(1, Math.floor(this.#opts.maxTrackedIps / 2))) {
      this.#older = this.#recent; // the previous generation is forgotten
      this.#recent = new Map();
    }
    this.#recent.set(key, s);
    return s;
  }
}

/**
 * A token bucket: the global DHT output budget in bytes, and (counting one per datagram)
 * the node's budget of queries it handles.
 */
export class ByteBudget {
  #rate: number;
  #burst: number;
  #tokens: number;
  #at: number;

  /**
   * Creates a full budget.
   * @param bytesPerSecond refill rate (Infinity: unlimited)
   * @param burstBytes capacity; defaults to two seconds' worth
   * @param now current clock ms
   * @throws {RangeError} when the rate is not positive
   * @example
   * ```ts
   * import { ByteBudget } from "./rate_limit.ts";
   * import { ok } from "node:assert";
   * const budget = new ByteBudget(1000, 1000, 0);
   * ok(budget.tryTake(800, 0));
   * ok(!budget.tryTake(800, 0));
   * ok(budget.tryTake(800, 1000));
   * ```
   */
  constructor(bytesPerSecond: number, burstBytes = bytesPerSecond * 2, now = 0) {
    if (!(bytesPerSecond > 0) || !(burstBytes > 0)) {
      throw new RangeError(`Cannot budget ${bytesPerSecond} bytes per second`);
    }
    this.#rate = bytesPerSecond;
    this.#burst = burstBytes;
    this.#tokens = burstBytes;
    this.#at = now;
  }

  /**
   * What could be spent now, without spending it.
   * @param now current clock ms
   * @returns the balance (Infinity when unlimited)
   */
  available(now: number): number {
    if (this.#rate === Infinity) return Infinity;
    return Math.min(this.#burst, this.#tokens + Math.max(0, now - this.#at) * this.#rate / 1000);
  }

  /**
   * Spends `bytes` when the budget allows it.
   * @param bytes size of the datagram about to be sent
   * @param now current clock ms
   * @returns false when the datagram must not be sent
   */
  tryTake(bytes: number, now: number): boolean {
    if (this.#rate === Infinity) return true;
    this.#tokens = Math.min(
      this.#burst,
      this.#tokens + Math.max(0, now - this.#at) * this.#rate / 1000,
    );
    this.#at = now;
    if (this.#tokens < bytes) return false;
    this.#tokens -= bytes;
    return true;
  }
}

/**
 * The largest reply allowed for a request of `requestBytes` (no amplification, D2).
 * @param requestBytes size of the query datagram
 * @param ratio the allowed amplification; default 10
 * @returns the cap in bytes
 * @example
 * ```ts
 * import { maxReplyBytes } from "./rate_limit.ts";
 * import { deepStrictEqual } from "node:assert";
 * deepStrictEqual(maxReplyBytes(90), 900);
 * ```
 */
export function maxReplyBytes(requestBytes: number, ratio = 10): number {
  return Math.max(0, Math.floor(requestBytes * ratio));
}
