/**
 * Shares one UDP socket between the DHT and uTP (BEP 29 runs on the DHT's port): a
 * receive loop sorts datagrams by their first byte. KRPC messages are bencoded
 * dictionaries and start with `d`; uTP packets carry version 1 in the low nibble of byte
 * 0 and a type 0..4 in the high one (0x01, 0x11, ..., 0x41), so the two never collide.
 * Anything else is counted and dropped.
 *
 * The KRPC side is a plain {@linkcode UdpSocketLike} (give it to `DhtNode`); its
 * datagrams are owned copies in a bounded queue. The uTP side is a
 * {@linkcode DatagramPort}: datagrams are pushed to one receiver as views into a reused
 * buffer, valid only during the call (no allocation per packet on the hot path).
 *
 * When the socket has `receiveInto`, `receiveDepth` receives are kept pending, each with
 * its own buffer: datagrams that arrived together are then handled in one turn of the
 * event loop, so uTP can send one ACK per batch.
 *
 * Layer: driver.
 * @module
 */
import type { Datagram, Logger, PeerAddress, UdpSocketLike } from "../../runtime/types.ts";
import { SILENT_LOGGER } from "../../runtime/types.ts";
import { isUtpFirstByte } from "./packet.ts";

/** Receives uTP datagrams: `data` is a view valid only during the call. */
export type DatagramReceiver = (data: Uint8Array, from: PeerAddress) => void;

/** A datagram endpoint with push delivery, as uTP uses it. */
export interface DatagramPort {
  /** The bound address. */
  readonly addr: PeerAddress;
  /**
   * Sends one datagram without waiting; errors are dropped (UDP is lossy). `data` must
   * stay unchanged only until this returns.
   */
  send(data: Uint8Array, to: PeerAddress): void;
  /** Sets the one receiver (replacing any earlier one) and starts receiving. */
  attach(receiver: DatagramReceiver): void;
  /** Stops delivery to the receiver. Idempotent. */
  close(): void;
}

/** Options for {@linkcode DatagramMux}. */
export interface DatagramMuxOptions {
  /** Receives kept pending when the socket has `receiveInto`. Default 16. */
  readonly receiveDepth?: number;
  /** KRPC datagrams queued for the DHT, at most. Default 1,024. */
  readonly krpcQueueLength?: number;
  /** Where a failing socket is reported. */
  readonly logger?: Logger;
}

/** Counters of a {@linkcode DatagramMux}. */
export interface DatagramMuxStats {
  /** Datagrams handed to uTP. */
  utp: number;
  /** Datagrams queued for the DHT. */
  krpc: number;
  /** Datagrams that were neither, or found their side closed or full. */
  dropped: number;
}

/** Largest datagram the receive buffers hold (the UDP maximum). */
const RECEIVE_BUFFER_BYTES = 65_536;
const D = 0x64; // "d": a bencoded dictionary

/**
 * One UDP socket split into a KRPC view and a uTP port.
 *
 * @example
 * ```ts
 * import { DatagramMux } from "./datagram_mux.ts";
 * import { deepStrictEqual } from "node:assert";
 * const incoming = [{ data: new TextEncoder().encode("d1:y1:qe"), from: { host: "10.0.0.2", port: 7 } }];
 * let wake: (d: null) => void = () => {};
 * const socket = {
 *   addr: { host: "10.0.0.1", port: 6881 },
 *   send: () => Promise.resolve(),
 *   receive: () => Promise.resolve(incoming.shift() ?? new Promise<null>((r) => (wake = r))),
 *   close: () => wake(null),
 * };
 * const mux = new DatagramMux(socket);
 * const d = await mux.krpc.receive();
 * deepStrictEqual(d?.from.port, 7);
 * mux.close();
 * ```
 */
export class DatagramMux {
  /** The DHT's view: datagrams starting with `d`. */
  readonly krpc: UdpSocketLike;
  /** uTP's port. */
  readonly utp: DatagramPort;
  /** Counters. */
  readonly stats: DatagramMuxStats = { utp: 0, krpc: 0, dropped: 0 };
  readonly #socket: UdpSocketLike;
  readonly #depth: number;
  readonly #log: Logger;
  readonly #krpc: KrpcView;
  #receiver: DatagramReceiver | undefined;
  #utpClosed = false;
  #started = false;
  #closed = false;

  /**
   * Wraps a bound socket; receiving starts when either side is first used.
   * @param socket the UDP socket (closed when both sides are closed, or by `close()`)
   * @param options receive depth, KRPC queue length, logger
   */
  constructor(socket: UdpSocketLike, options: DatagramMuxOptions = {}) {
    this.#socket = socket;
    this.#depth = options.receiveDepth ?? 16;
    this.#log = options.logger ?? SILENT_LOGGER;
    this.#krpc = new KrpcView(socket, options.krpcQueueLength ?? 1024, () => this.#start(), () => {
      this.#maybeCloseSocket();
    });
    this.krpc = this.#krpc;
    this.utp = {
      addr: socket.addr,
      send: (data, to) => void socket.send(data, to),
      attach: (receiver) => {
        this.#receiver = receiver;
        this.#start();
      },
      close: () => {
        this.#utpClosed = true;
        this.#receiver = undefined;
        this.#maybeCloseSocket();
      },
    };
  }

  /** Closes both sides and the socket. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#receiver = undefined;
    this.#krpc.close();
    this.#socket.close();
  }

  #maybeCloseSocket(): void {
    if (this.#utpClosed && this.#krpc.closed) this.close();
  }

  #start(): void {
    if (this.#started || this.#closed) return;
    this.#started = true;
    const socket = this.#socket;
    if (socket.receiveInto) {
      for (let i = 0; i < this.#depth; i++) void this.#receiveIntoLoop(socket);
    } else void this.#receiveLoop(socket);
  }

  async #receiveIntoLoop(socket: UdpSocketLike): Promise<void> {
    const buffer = new Uint8Array(RECEIVE_BUFFER_BYTES);
    while (!this.#closed) {
      let got;
      try {
        got = await socket.receiveInto!(buffer);
      } catch (e) {
        return this.#fail(e);
      }
      if (got === null) return this.#end();
      this.#dispatch(buffer.subarray(0, got.length), got.from, true);
    }
  }

  async #receiveLoop(socket: UdpSocketLike): Promise<void> {
    while (!this.#closed) {
      let d: Datagram | null;
      try {
        d = await socket.receive();
      } catch (e) {
        return this.#fail(e);
      }
      if (d === null) return this.#end();
      this.#dispatch(d.data, d.from, false);
    }
  }

  #dispatch(data: Uint8Array, from: PeerAddress, borrowed: boolean): void {
    const first = data[0];
    if (first === D) {
      if (this.#krpc.push(borrowed ? data.slice() : data, from)) this.stats.krpc++;
      else this.stats.dropped++;
    } else if (first !== undefined && isUtpFirstByte(first) && this.#receiver) {
      this.stats.utp++;
      try {
        this.#receiver(data, from);
      } catch (e) {
        // RELIABILITY rule 3: one datagram (or a bug it triggers) must not stop the socket
        this.#log.warn("uTP datagram handling failed", { error: String(e), from });
      }
    } else this.stats.dropped++;
  }

  #fail(e: unknown): void {
    if (!this.#closed) this.#log.warn("UDP socket failed", { error: String(e) });
    this.#end();
  }

  #end(): void {
    this.#krpc.close();
    this.#receiver = undefined;
  }
}

/** The KRPC side: a bounded queue of owned datagrams behind the `UdpSocketLike` shape. */
class KrpcView implements UdpSocketLike {
  readonly addr: PeerAddress;
  closed = false;
  readonly #socket: UdpSocketLike;
  readonly #max: number;
  readonly #queue: Datagram[] = [];
  readonly #waiters: ((d: Datagram | null) => void)[] = [];
  readonly #start: () => void;
  readonly #onClose: () => void;

  constructor(socket: UdpSocketLike, max: number, start: () => void, onClose: () => void) {
    this.#socket = socket;
    this.addr = socket.addr;
    this.#max = max;
    this.#start = start;
    this.#onClose = onClose;
  }

  push(data: Uint8Array, from: PeerAddress): boolean {
    if (this.closed) return false;
    const waiter = this.#waiters.shift();
    if (waiter) waiter({ data, from });
    else if (this.#queue.length < this.#max) this.#queue.push({ data, from });
    else return false;
    return true;
  }

  send(data: Uint8Array, to: PeerAddress): Promise<void> {
    return this.closed ? Promise.resolve() : this.#socket.send(data, to);
  }

  receive(): Promise<Datagram | null> {
    const next = this.#queue.shift();
    if (next) return Promise.resolve(next);
    if (this.closed) return Promise.resolve(null);
    this.#start();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.#queue.length = 0;
    for (const w of this.#waiters.splice(0)) w(null);
    this.#onClose();
  }
}
