/**
 * The small interfaces every driver talks through (the platform contract, ground floor):
 * time, randomness, stream and datagram sockets, logging. The disk seam (`DiskIo`) lives
 * beside the storage code in `src/storage/disk_io.ts`.
 *
 * Only the roof (`src/deno/`, `src/cli/`) and `workers/` bind these to `Deno.*`;
 * everything else receives them by injection, so a whole swarm can run on a
 * virtual clock, an in-memory network and an in-memory disk.
 *
 * Layer: platform contract (types only).
 * @module
 */

/** A cancellable scheduled callback. */
export interface Timer {
  /** Cancels the callback; calling it twice, or after the callback ran, does nothing. */
  cancel(): void;
}

/** Monotonic time and timers. All engine timeouts use this clock (RELIABILITY rule 6). */
export interface Clock {
  /** Monotonic milliseconds; only differences are meaningful. */
  now(): number;
  /** Wall-clock milliseconds since the Unix epoch, for display and persisted timestamps only. */
  wallNow(): number;
  /** Runs `fn` once after `delayMs` milliseconds. */
  schedule(delayMs: number, fn: () => void): Timer;
}

/** A seedable or secure source of randomness. */
export interface Random {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, maxExclusive). */
  int(maxExclusive: number): number;
  /** `length` random bytes. */
  bytes(length: number): Uint8Array;
}

/** A network endpoint. `host` is an IPv4 dotted quad, an IPv6 literal without brackets, or a name. */
export interface PeerAddress {
  /** Host address. */
  readonly host: string;
  /** Port, 1..65535. */
  readonly port: number;
}

/** A reliable byte stream (TCP or an in-memory pipe). */
export interface Conn {
  /** The other end of the connection. */
  readonly remoteAddr: PeerAddress;
  /** The local end of the connection. */
  readonly localAddr: PeerAddress;
  /** Reads into `buffer`; resolves to the byte count, or `null` at end of stream. */
  read(buffer: Uint8Array): Promise<number | null>;
  /** Writes every byte of `data`; resolves once the bytes are handed to the transport. */
  write(data: Uint8Array): Promise<void>;
  /** Closes both directions; pending reads resolve `null`. Idempotent. */
  close(): void;
}

/** Options for {@linkcode Dialer.dial}. */
export interface DialOptions {
  /** Local address to bind before connecting, when the platform supports it. */
  readonly localHost?: string;
  /** Aborts the connection attempt. */
  readonly signal?: AbortSignal;
}

/** Opens outgoing stream connections. */
export interface Dialer {
  /** Connects to `addr`; rejects on refusal, abort or failure. */
  dial(addr: PeerAddress, options?: DialOptions): Promise<Conn>;
}

/** A listening stream socket. */
export interface Listener extends AsyncIterable<Conn> {
  /** The bound address (port resolved when 0 was asked for). */
  readonly addr: PeerAddress;
  /** Stops accepting; the async iterator ends. Idempotent. */
  close(): void;
}

/** Dials and listens: what a session needs from the network. */
export interface Network extends Dialer {
  /** Listens on `addr`; rejects when the address is in use. */
  listen(addr: PeerAddress): Promise<Listener>;
  /** Binds a datagram socket on `addr`. */
  bindUdp(addr: PeerAddress): Promise<UdpSocketLike>;
  /**
   * Optional: a datagram socket on `group.port` (shared with other programs on the same
   * port) that has joined the IPv4 multicast group `group.host` on the interface whose
   * address is `iface` ("0.0.0.0": the system's choice), for Local Service Discovery
   * (BEP 14). Without it, or when it rejects, LSD is off.
   */
  bindMulticast?(group: PeerAddress, iface: string): Promise<UdpSocketLike>;
}

/** One received datagram. */
export interface Datagram {
  /** Payload bytes (owned by the receiver). */
  readonly data: Uint8Array;
  /** Sender address. */
  readonly from: PeerAddress;
}

/** Length and sender of a datagram received by {@linkcode UdpSocketLike.receiveInto}. */
export interface DatagramInfo {
  /** Bytes written into the caller's buffer. */
  readonly length: number;
  /** Sender address. */
  readonly from: PeerAddress;
}

/** A datagram socket (UDP or in-memory). */
export interface UdpSocketLike {
  /** The bound address. */
  readonly addr: PeerAddress;
  /** Sends one datagram; errors for unreachable hosts are swallowed by the platform binding. */
  send(data: Uint8Array, to: PeerAddress): Promise<void>;
  /** Resolves with the next datagram, or `null` once closed. */
  receive(): Promise<Datagram | null>;
  /**
   * Optional fast path for busy sockets (uTP): receives the next datagram into `buffer`,
   * which the caller reuses, so nothing is allocated for the payload; a longer datagram is
   * truncated. Several calls may be pending at once, each with its own buffer: which call
   * gets which datagram is unspecified, but they settle in arrival order, so datagrams
   * that arrived together are handled in order, in one turn. Resolves `null` once closed.
   */
  receiveInto?(buffer: Uint8Array): Promise<DatagramInfo | null>;
  /** Closes the socket; a pending `receive` resolves `null`. Idempotent. */
  close(): void;
}

/** Structured log sink. Library code never calls `console` directly. */
export interface Logger {
  /** Diagnostic detail. */
  debug(message: string, fields?: Record<string, unknown>): void;
  /** Normal operation. */
  info(message: string, fields?: Record<string, unknown>): void;
  /** Recovered problem. */
  warn(message: string, fields?: Record<string, unknown>): void;
  /** Unrecovered problem. */
  error(message: string, fields?: Record<string, unknown>): void;
}

/** A logger that drops everything. */
export const SILENT_LOGGER: Logger = Object.freeze({
  debug() {},
  info() {},
  warn() {},
  error() {},
});
