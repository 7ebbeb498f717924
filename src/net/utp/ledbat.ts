/**
 * LEDBAT congestion control for uTP (BEP 29, RFC 6817), as libtorrent's `do_ledbat`
 * applies it: the window grows by at most `gain` bytes per RTT, scaled by how far the
 * measured queuing delay is below the target, and shrinks as fast when it is above;
 * slow start doubles it per RTT until the delay reaches the target, a loss, or the
 * slow-start threshold; a loss halves it (once per window and per 100 ms); a timeout
 * resets it to one packet. The delay it reacts to comes from `path_metrics.ts`.
 *
 * Invariants (checked by {@linkcode Ledbat.assertInvariants}): `minWindow ≤ cwnd ≤
 * max(minWindow, maxWindow)`.
 *
 * Layer: core (no I/O).
 * @module
 */
/** Constants of one {@linkcode Ledbat} instance. */
export interface LedbatConfig {
  /** Target queuing delay, µs. */
  readonly targetDelayMicros: number;
  /** Window growth per RTT at zero delay, bytes. */
  readonly gainBytesPerRtt: number;
  /** Fraction of the window kept after a loss, (0, 1). */
  readonly lossFactor: number;
  /** Minimum spacing of loss cuts, ms. */
  readonly cwndReduceIntervalMs: number;
  /** Initial window, bytes. */
  readonly initialWindowBytes: number;
  /** Window cap, bytes. */
  readonly maxWindowBytes: number;
}

/** The congestion window of one connection. */
export class Ledbat {
  readonly #c: LedbatConfig;
  /** Congestion window, bytes. */
  cwnd: number;
  /** Slow-start threshold, bytes; 0 = none yet. */
  ssthresh = 0;
  /** Whether the window still grows exponentially. */
  slowStart = true;
  /** Minimum window: one packet of payload, bytes. */
  minWindow: number;
  #nextCutAt = -Infinity;

  /**
   * Makes a controller.
   * @param config constants
   * @param packetPayloadBytes one full packet's payload (the minimum window)
   */
  constructor(config: LedbatConfig, packetPayloadBytes: number) {
    this.#c = config;
    this.minWindow = packetPayloadBytes;
    this.cwnd = Math.max(packetPayloadBytes, config.initialWindowBytes);
  }

  /**
   * Reacts to an ACK (libtorrent `do_ledbat`).
   * @param ackedBytes payload bytes this ACK newly acknowledged (> 0)
   * @param delayMicros queuing delay estimate, µs
   * @param inFlightBefore payload bytes in flight before the ACK (> 0)
   */
  onAck(ackedBytes: number, delayMicros: number, inFlightBefore: number): void {
    const target = this.#c.targetDelayMicros;
    if (delayMicros >= target && this.slowStart) {
      this.ssthresh = this.cwnd / 2;
      this.slowStart = false;
    }
    // grow only when the sender fills the window (else the sample says nothing about it)
    if (inFlightBefore + this.minWindow <= this.cwnd) return;
    const linear = (ackedBytes / inFlightBefore) * ((target - delayMicros) / target) *
      this.#c.gainBytesPerRtt;
    let gain = linear;
    if (this.slowStart) {
      if (this.ssthresh !== 0 && this.cwnd + ackedBytes > this.ssthresh) this.slowStart = false;
      else gain = Math.max(ackedBytes, linear);
    }
    this.cwnd = Math.min(this.#c.maxWindowBytes, Math.max(this.minWindow, this.cwnd + gain));
  }

  /**
   * Reacts to a detected loss: keeps `lossFactor` of the window, at most once per
   * `cwndReduceIntervalMs` (the caller also limits it to once per window of packets).
   * @param nowMs the clock
   * @returns whether the window was cut
   */
  onLoss(nowMs: number): boolean {
    if (nowMs < this.#nextCutAt) return false;
    this.#nextCutAt = nowMs + this.#c.cwndReduceIntervalMs;
    this.cwnd = Math.max(this.minWindow, this.cwnd * this.#c.lossFactor);
    if (this.slowStart) {
      this.ssthresh = this.cwnd;
      this.slowStart = false;
    }
    return true;
  }

  /**
   * Reacts to a retransmission timeout.
   * @param idle true when nothing was in flight (the window only decays by a third)
   */
  onTimeout(idle: boolean): void {
    if (idle) {
      this.cwnd = Math.max(this.minWindow, (this.cwnd * 2) / 3);
      return;
    }
    this.cwnd = this.minWindow;
    this.slowStart = true;
  }

  /**
   * Checks the invariants in the module header.
   * @throws {Error} naming the broken invariant
   */
  assertInvariants(): void {
    if (
      !(this.cwnd >= this.minWindow &&
        this.cwnd <= Math.max(this.minWindow, this.#c.maxWindowBytes))
    ) {
      throw new Error(
        `Ledbat invariant broken: cwnd ${this.cwnd} outside [${this.minWindow}, max]`,
      );
    }
  }
}
