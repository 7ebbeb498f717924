/**
 * Every uTP limit and constant in one place, with units in the names and the reason for
 * each default (DESIGN principle 5). libtorrent's `settings_pack` (utp_*) and libutp's
 * constants are the references; where we differ, the field says why.
 *
 * Layer: core (no I/O).
 * @module
 */

/** uTP tunables. */
export interface UtpSettings {
  /**
   * Largest datagram sent to an IPv4 peer, bytes. Default 1,472: a 1,500-byte IP packet
   * (Ethernet MTU − 20 IP − 8 UDP), so a DATA packet carries 1,452 payload bytes. IPv6
   * peers get 20 bytes less. No path-MTU probing: libtorrent starts at 1,404 and probes up
   * to this; we start at the top and never exceed a 1,500-byte IP packet, even on loopback.
   */
  readonly packetBytes: number;
  /** LEDBAT target queuing delay, ms. Default 100 (libtorrent `utp_target_delay`, uTorrent). */
  readonly targetDelayMs: number;
  /**
   * Most the window grows per RTT at zero queuing delay, bytes. Default 3,000 (libtorrent
   * `utp_gain_factor`, libutp `MAX_CWND_INCREASE_BYTES_PER_RTT`).
   */
  readonly gainBytesPerRtt: number;
  /** Window kept after a loss, percent. Default 50 (libtorrent `utp_loss_multiplier`). */
  readonly lossFactorPercent: number;
  /** The window is cut at most once per this interval, ms. Default 100 (libtorrent). */
  readonly cwndReduceIntervalMs: number;
  /** Congestion window at start, packets. Default 2 (RFC 5681 allows 2-4; libtorrent 1). */
  readonly initialWindowPackets: number;
  /** Congestion window cap, bytes. Default 4 MiB (bounds memory; peers advertise ≤1 MiB). */
  readonly maxWindowBytes: number;
  /**
   * Largest receive window we advertise, bytes (long paths get it all; see
   * `receiveRateBytesPerSecond`): unread plus reordered data never exceeds it. Default
   * 1 MiB (libtorrent's `m_receive_buffer_capacity`).
   */
  readonly receiveWindowBytes: number;
  /**
   * The receive window is sized for this rate at the path's least RTT (its bandwidth-delay
   * product), bytes/s. Default 128 MB/s (about 1 Gbit/s per connection).
   */
  readonly receiveRateBytesPerSecond: number;
  /**
   * The smallest receive window offered on a short path, bytes. Default 128 KiB: about
   * what the kernel's default UDP receive buffer holds (92 full datagrams, 135 KB of
   * payload, measured here), so a sender bursting at memory speed cannot overflow it.
   */
  readonly minReceiveWindowBytes: number;
  /**
   * Bytes accepted from `write()` beyond what the window lets us send; a write resolves
   * once its bytes fit under this bound. Default 256 KiB (one peer-connection batch).
   */
  readonly sendBufferBytes: number;
  /** Out-of-order packets held, at most. Default 1,024 (libtorrent: window ÷ 1,100 ≈ 953). */
  readonly maxReorderPackets: number;
  /** Retransmission timeout floor, ms. Default 500 (libtorrent `utp_min_timeout`). */
  readonly minTimeoutMs: number;
  /** Retransmission timeout ceiling after backoff, ms. Default 60,000 (libtorrent). */
  readonly maxTimeoutMs: number;
  /** First SYN timeout, ms, doubled per resend. Default 1,000 (RFC 6298 initial RTO). */
  readonly synTimeoutMs: number;
  /** SYN resends before a dial fails. Default 2 (libtorrent `utp_syn_resends`): 7 s in all. */
  readonly synResends: number;
  /** Consecutive timeouts before a connection is dropped. Default 4 (libutp). */
  readonly dataResends: number;
  /** FIN resends before we stop waiting for its ACK. Default 2 (libtorrent). */
  readonly finResends: number;
  /** A STATE is sent after this long without sending anything, ms. Default 29,000 (libutp). */
  readonly keepAliveIntervalMs: number;
  /** A connection that hears nothing for this long is dropped, ms. Default 180,000. */
  readonly idleTimeoutMs: number;
  /** After our FIN is acknowledged, wait this long for the peer's FIN, ms. Default 5,000. */
  readonly lingerMs: number;
  /** Connections (all states) per socket. Default 512 (libtorrent: 2 × connections_limit). */
  readonly maxConnections: number;
  /** Accepted connections not yet confirmed by the peer's first DATA. Default 64. */
  readonly maxHalfOpen: number;
  /** A half-open connection is dropped after this long, ms. Default 10,000 (handshake). */
  readonly halfOpenTimeoutMs: number;
  /** Confirmed incoming connections waiting for `accept`. Default 64. */
  readonly acceptBacklog: number;
  /** Whether incoming SYNs are answered. Default true. */
  readonly acceptIncoming: boolean;
  /** Period of the one per-socket timer (timeouts, keep-alives), ms. Default 50. */
  readonly tickIntervalMs: number;
  /**
   * In-order DATA packets acknowledged together: the ACK goes at the end of the batch
   * that brings the count here. Default 2 (TCP's delayed ACK; libtorrent acknowledges
   * every batch the socket drains).
   */
  readonly ackEveryPackets: number;
  /** An owed ACK below that count waits at most this long, ms. Default 2. */
  readonly delayedAckMs: number;
}

/** The defaults; see each field of {@linkcode UtpSettings}. */
export const DEFAULT_UTP_SETTINGS: Readonly<UtpSettings> = Object.freeze({
  packetBytes: 1472,
  targetDelayMs: 100,
  gainBytesPerRtt: 3000,
  lossFactorPercent: 50,
  cwndReduceIntervalMs: 100,
  initialWindowPackets: 2,
  maxWindowBytes: 4 * 1024 * 1024,
  receiveWindowBytes: 1024 * 1024,
  receiveRateBytesPerSecond: 128_000_000,
  minReceiveWindowBytes: 128 * 1024,
  sendBufferBytes: 256 * 1024,
  maxReorderPackets: 1024,
  minTimeoutMs: 500,
  maxTimeoutMs: 60_000,
  synTimeoutMs: 1000,
  synResends: 2,
  dataResends: 4,
  finResends: 2,
  keepAliveIntervalMs: 29_000,
  idleTimeoutMs: 180_000,
  lingerMs: 5000,
  maxConnections: 512,
  maxHalfOpen: 64,
  halfOpenTimeoutMs: 10_000,
  acceptBacklog: 64,
  acceptIncoming: true,
  tickIntervalMs: 50,
  ackEveryPackets: 2,
  delayedAckMs: 2,
});

const RANGES: { readonly [K in keyof UtpSettings]?: readonly [number, number] } = {
  packetBytes: [150, 1472],
  targetDelayMs: [1, 10_000],
  gainBytesPerRtt: [1, 1 << 20],
  lossFactorPercent: [1, 99],
  cwndReduceIntervalMs: [0, 10_000],
  initialWindowPackets: [1, 64],
  maxWindowBytes: [16 * 1024, 64 * 1024 * 1024],
  receiveWindowBytes: [4096, 64 * 1024 * 1024],
  receiveRateBytesPerSecond: [1000, 10_000_000_000],
  minReceiveWindowBytes: [4096, 64 * 1024 * 1024],
  sendBufferBytes: [1024, 64 * 1024 * 1024],
  maxReorderPackets: [16, 2048],
  minTimeoutMs: [10, 60_000],
  maxTimeoutMs: [100, 600_000],
  synTimeoutMs: [10, 60_000],
  synResends: [0, 10],
  dataResends: [1, 20],
  finResends: [0, 10],
  keepAliveIntervalMs: [1000, 3_600_000],
  idleTimeoutMs: [1000, 3_600_000],
  lingerMs: [0, 600_000],
  maxConnections: [1, 65_536],
  maxHalfOpen: [1, 65_536],
  halfOpenTimeoutMs: [100, 600_000],
  acceptBacklog: [1, 65_536],
  tickIntervalMs: [1, 1000],
  ackEveryPackets: [1, 64],
  delayedAckMs: [0, 500],
};

/**
 * Fills in defaults and checks ranges.
 * @param partial overrides
 * @returns the complete, frozen settings
 * @throws {RangeError} for a value outside its range (the message names the field)
 */
export function resolveUtpSettings(partial: Partial<UtpSettings> = {}): Readonly<UtpSettings> {
  const s: UtpSettings = { ...DEFAULT_UTP_SETTINGS, ...partial };
  for (const [name, range] of Object.entries(RANGES) as [keyof UtpSettings, [number, number]][]) {
    const v = s[name] as number;
    if (!Number.isFinite(v) || v < range[0] || v > range[1]) {
      throw new RangeError(`Invalid uTP setting ${name}: ${v} (allowed ${range[0]}..${range[1]})`);
    }
  }
  return Object.freeze(s);
}
