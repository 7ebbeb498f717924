/**
 * What a uTP connection measures about its path (BEP 29, RFC 6817, RFC 6298): one-way
 * delay and its base, clock drift, round-trip time and the retransmission timeout.
 *
 * One-way delay: every packet carries the sender's clock (µs) and the last difference
 * the sender measured (`timestamp_difference`). {@linkcode DelayHistory} keeps the base
 * delay (the lowest difference in the last 13 one-minute buckets, as libutp does), so a
 * sample minus the base is queuing delay; the last three are filtered by their minimum.
 * Clock drift: when the base of the other direction falls, ours is raised as much (at
 * most 10 ms at a time), as libutp and libtorrent do. uTorrent's INT_MAX difference means
 * "no sample".
 *
 * Layer: core (no I/O).
 * @module
 */
import type { UtpHeader } from "./packet.ts";
import { microStamp, stampLess } from "./seq.ts";

/** Minutes of base-delay history (libutp `DELAY_BASE_HISTORY`; libtorrent keeps 20). */
export const DELAY_HISTORY_MINUTES = 13;
/** A bucket advances only after this many samples in it (libtorrent: idle links mislead). */
const MIN_SAMPLES_PER_STEP = 120;
const MINUTE_MS = 60_000;

/** The lowest one-way delay sample seen recently: the base that queuing delay sits on. */
export class DelayHistory {
  readonly #buckets = new Uint32Array(DELAY_HISTORY_MINUTES);
  #index = 0;
  #base = 0;
  #samples = -1;
  #stepAt = 0;

  /** Whether any sample has arrived. */
  get initialized(): boolean {
    return this.#samples >= 0;
  }

  /** The base delay (µs, wrapping); 0 before the first sample. */
  get base(): number {
    return this.#base;
  }

  /**
   * Adds a sample.
   * @param sample a timestamp difference, µs, wrapped to 32 bits
   * @param nowMs the clock, for the one-minute buckets
   * @returns the sample minus the base: the queuing delay in µs
   */
  add(sample: number, nowMs: number): number {
    if (this.#samples < 0) {
      this.#buckets.fill(sample);
      this.#base = sample;
      this.#samples = 0;
      this.#stepAt = nowMs + MINUTE_MS;
    }
    if (this.#samples < 0xfffe) this.#samples++;
    if (stampLess(sample, this.#base)) {
      this.#base = sample;
      this.#buckets[this.#index] = sample;
    } else if (stampLess(sample, this.#buckets[this.#index]!)) {
      this.#buckets[this.#index] = sample;
    }
    const delay = (sample - this.#base) >>> 0;
    if (nowMs >= this.#stepAt) {
      this.#stepAt = nowMs + MINUTE_MS;
      if (this.#samples > MIN_SAMPLES_PER_STEP) this.#step(sample);
    }
    return delay;
  }

  /**
   * Raises the base by `micros` (clock drift: the other side's base went down by as much).
   * @param micros the shift, µs
   */
  shift(micros: number): void {
    this.#base = (this.#base + micros) >>> 0;
    for (let i = 0; i < this.#buckets.length; i++) {
      if (stampLess(this.#buckets[i]!, this.#base)) this.#buckets[i] = this.#base;
    }
  }

  #step(sample: number): void {
    this.#samples = 0;
    this.#index = (this.#index + 1) % DELAY_HISTORY_MINUTES;
    this.#buckets[this.#index] = sample;
    let base = sample;
    for (const b of this.#buckets) if (stampLess(b, base)) base = b;
    this.#base = base;
  }
}

/** Smoothed RTT and its variation (RFC 6298; libutp's estimator). */
export class RttEstimator {
  /** Smoothed RTT, ms (0 before the first sample). */
  srttMs = 0;
  /** RTT variation, ms. */
  rttVarMs = 0;
  /** Whether a sample has arrived. */
  hasSample = false;
  /** Least RTT seen, ms (Infinity before a sample): the path's delay without queues. */
  minRttMs: number = Infinity;

  /**
   * Adds a round-trip sample.
   * @param rttMs measured from the first transmission (Karn: never from a resent packet)
   */
  sample(rttMs: number): void {
    if (rttMs < this.minRttMs) this.minRttMs = rttMs;
    if (!this.hasSample) {
      this.hasSample = true;
      this.srttMs = rttMs;
      this.rttVarMs = rttMs / 2;
      return;
    }
    this.rttVarMs += (Math.abs(rttMs - this.srttMs) - this.rttVarMs) / 4;
    this.srttMs += (rttMs - this.srttMs) / 8;
  }

  /**
   * The retransmission timeout before backoff.
   * @param minMs floor
   * @param fallbackMs value before any sample
   * @returns max(floor, srtt + 4·rttvar)
   */
  timeoutMs(minMs: number, fallbackMs: number): number {
    if (!this.hasSample) return Math.max(minMs, fallbackMs);
    return Math.max(minMs, this.srttMs + 4 * this.rttVarMs);
  }
}

/** uTorrent sends INT_MAX when it has no sample. */
const INT_MAX = 0x7fffffff;
/** Largest clock-drift correction applied at once, µs (libutp, libtorrent). */
const MAX_DRIFT_SHIFT_MICROS = 10_000;

/** Delay, drift and RTT state of one connection. */
export class PathMetrics {
  /** Our last one-way delay sample of the peer's packets, µs (sent back in every packet). */
  replyMicro = 0;
  /** Round-trip estimator. */
  readonly rtt: RttEstimator = new RttEstimator();
  readonly #ours = new DelayHistory();
  readonly #theirs = new DelayHistory();
  readonly #recent = [INT_MAX, INT_MAX, INT_MAX];
  #index = 0;

  /**
   * Takes the timestamps of a received packet.
   * @param h its header
   * @param nowMs the clock
   */
  onPacket(h: UtpHeader, nowMs: number): void {
    if (h.timestampMicros !== 0) {
      this.replyMicro = (microStamp(nowMs) - h.timestampMicros) >>> 0;
      const before = this.#theirs.initialized ? this.#theirs.base : -1;
      this.#theirs.add(this.replyMicro, nowMs);
      const drop = before < 0 ? 0 : (before - this.#theirs.base) >>> 0;
      if (drop > 0 && drop <= MAX_DRIFT_SHIFT_MICROS && this.#ours.initialized) {
        this.#ours.shift(drop);
      }
    }
    const sample = h.timestampDifferenceMicros;
    if (sample !== 0 && sample !== INT_MAX) {
      this.#recent[this.#index] = this.#ours.add(sample, nowMs);
      this.#index = (this.#index + 1) % this.#recent.length;
    }
  }

  /**
   * The queuing delay LEDBAT should use: the least of the last three samples, never more
   * than the round trip just measured.
   * @param rttMs an RTT sample from this ACK, or Infinity
   * @returns µs, or -1 before any sample
   */
  queuingDelayMicros(rttMs: number): number {
    const r = this.#recent, d = Math.min(r[0]!, r[1]!, r[2]!);
    if (d === INT_MAX) return -1;
    return rttMs === Infinity ? d : Math.min(d, rttMs * 1000);
  }

  /**
   * The retransmission timeout after `timeouts` consecutive timeouts: max(floor, srtt +
   * 4·rttvar) (the SYN timeout before any sample), doubled per timeout, capped.
   * @param timeouts consecutive timeouts so far
   * @param s the floor, the SYN timeout and the cap
   * @returns ms
   */
  timeoutMs(
    timeouts: number,
    s: {
      readonly minTimeoutMs: number;
      readonly synTimeoutMs: number;
      readonly maxTimeoutMs: number;
    },
  ): number {
    return Math.min(
      s.maxTimeoutMs,
      this.rtt.timeoutMs(s.minTimeoutMs, s.synTimeoutMs) * 2 ** timeouts,
    );
  }

  /** Our delay base, µs (0 before a sample): tests and diagnostics. */
  get baseDelayMicros(): number {
    return this.#ours.base;
  }
}
