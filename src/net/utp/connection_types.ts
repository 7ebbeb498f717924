/**
 * The vocabulary shared by the uTP connection core and its drivers: states, close
 * reasons, event bits, the packet sink, options and counters.
 *
 * Layer: core (types and constants).
 * @module
 */
import type { BufferPool } from "./buffer_pool.ts";
import type { UtpSettings } from "./settings.ts";

/** Where a connection is in its life. */
export type UtpState = "idle" | "syn-sent" | "syn-recv" | "connected" | "fin-sent" | "closed";

/**
 * Why a connection closed: `closed` (both FINs, or ours acknowledged), `reset` (the peer
 * sent RESET), `refused` (RESET or silence answered our SYN), `timeout` (no ACK after the
 * resends, or nothing heard for the idle timeout), `aborted` (closed locally at once).
 */
export type UtpCloseReason = "closed" | "reset" | "refused" | "timeout" | "aborted";

/** `UtpConnection.events` bit: the dial completed. */
export const EV_CONNECTED = 1;
/** Bit: bytes (or end of stream) are ready for the reader. */
export const EV_READABLE = 2;
/** Bit: the connection closed (see `closeReason`). */
export const EV_CLOSED = 4;
/** Bit: an accepted connection got its first DATA (it may be handed to the application). */
export const EV_CONFIRMED = 8;

/** Where packets go: `buf[0, length)` is one datagram for the peer. */
export type PacketSink = (buf: Uint8Array, length: number) => void;

/** What a connection needs. */
export interface UtpConnectionOptions {
  /** Our send id (the id on packets we send). */
  readonly sendId: number;
  /** Our receive id (the id on packets we accept). */
  readonly recvId: number;
  /** Resolved settings. */
  readonly settings: Readonly<UtpSettings>;
  /** Largest datagram for this peer (settings, less 20 for IPv6). */
  readonly packetBytes: number;
  /** Packet buffers of `packetBytes`. */
  readonly pool: BufferPool;
  /** The transmit function. */
  readonly sink: PacketSink;
}

/** Counters of one connection. */
export interface UtpConnectionStats {
  /** Datagrams sent (all types). */
  packetsSent: number;
  /** Datagrams received and accepted for processing. */
  packetsReceived: number;
  /** Payload bytes acknowledged by the peer. */
  bytesAcked: number;
  /** Payload bytes delivered in order. */
  bytesReceived: number;
  /** Fast resends (duplicate or selective ACKs). */
  fastResends: number;
  /** Retransmission timeouts. */
  timeouts: number;
  /** Tail-loss probes sent. */
  probes: number;
}
