/**
 * The uTP socket manager (BEP 29): every uTP connection over one datagram port. It
 * demultiplexes packets by connection id and sender, answers SYNs (a bounded number of
 * half-open connections, one STATE per SYN: no amplification), dials, hands confirmed
 * incoming connections to `accept`, runs one timer for all connections, and flushes
 * deferred ACKs and queued packets once per batch of datagrams (a microtask after the
 * batch), never per packet.
 *
 * Bad input: a datagram that does not parse, a packet for no connection, a RESET with
 * the wrong connection id or sender, and an ACK of unsent data change nothing.
 *
 * Layer: driver.
 * @module
 */
import type {
  Clock,
  Conn,
  DialOptions,
  Logger,
  PeerAddress,
  Random,
  Timer,
  UdpSocketLike,
} from "../../runtime/types.ts";
import { SILENT_LOGGER } from "../../runtime/types.ts";
import { BufferPool } from "./buffer_pool.ts";
import { EV_CONFIRMED, UtpConnection } from "./connection.ts";
import { DatagramMux, type DatagramPort } from "./datagram_mux.ts";
import { newHeader, parsePacket, ST_RESET, ST_SYN, type UtpHeader } from "./packet.ts";
import { resolveUtpSettings, type UtpSettings } from "./settings.ts";
import { UtpConnectionError, UtpStream } from "./utp_stream.ts";

export { UtpConnectionError };

/** Options for {@linkcode UtpSocket}. */
export interface UtpSocketOptions {
  /** A shared port (a {@linkcode DatagramMux}'s `utp`), or give `socket` instead. */
  readonly port?: DatagramPort;
  /** A UDP socket uTP has to itself (wrapped in a mux whose KRPC side is unused). */
  readonly socket?: UdpSocketLike;
  /** Time and the timer. */
  readonly clock: Clock;
  /** Connection ids and initial sequence numbers. */
  readonly random: Random;
  /** Diagnostics. */
  readonly logger?: Logger;
  /** Overrides of {@linkcode DEFAULT_UTP_SETTINGS}. */
  readonly settings?: Partial<UtpSettings>;
}

/** Counters of a {@linkcode UtpSocket}. */
export interface UtpSocketStats {
  /** Live connections (all states). */
  connections: number;
  /** Accepted connections waiting for their first DATA. */
  halfOpen: number;
  /** Datagrams that did not parse. */
  invalidPackets: number;
  /** Packets for no known connection. */
  unknownPackets: number;
  /** SYNs dropped by the half-open, connection or backlog limits. */
  refusedSyns: number;
}

/**
 * uTP over one datagram port: dial, accept, and the connections in between.
 *
 * @example
 * ```ts
 * import { UtpSocket } from "./utp_socket.ts";
 * import { SeededRandom } from "../../util/prng.ts";
 * import { deepStrictEqual } from "node:assert";
 * const port = { addr: { host: "10.0.0.1", port: 6881 }, send() {}, attach() {}, close() {} };
 * const clock = { now: () => 0, wallNow: () => 0, schedule: () => ({ cancel() {} }) };
 * const utp = new UtpSocket({ port, clock, random: new SeededRandom(1) });
 * deepStrictEqual(utp.stats.connections, 0);
 * utp.close();
 * ```
 */
export class UtpSocket implements AsyncIterable<Conn> {
  readonly #port: DatagramPort;
  readonly #mux: DatagramMux | undefined;
  readonly #clock: Clock;
  readonly #random: Random;
  readonly #log: Logger;
  readonly #s: Readonly<UtpSettings>;
  readonly #pool: BufferPool;
  readonly #byRecvId = new Map<number, UtpStream[]>();
  readonly #all = new Set<UtpStream>();
  readonly #header: UtpHeader = newHeader();
  readonly #accepted: UtpStream[] = [];
  readonly #acceptWaiters: ((r: IteratorResult<Conn>) => void)[] = [];
  #dirty: UtpStream[] = [];
  #flushQueued = false;
  #timer: Timer | undefined;
  #owed: UtpStream[] = []; // ACKs waiting for the delayed-ACK timer
  #ackTimer: Timer | undefined;
  #halfOpen = 0;
  #closed = false;
  readonly #counters = { invalidPackets: 0, unknownPackets: 0, refusedSyns: 0 };
  readonly #streamHost = {
    now: () => this.#clock.now(),
    markDirty: (stream: UtpStream) => this.#markDirty(stream),
  };

  /**
   * Starts uTP on a port.
   * @param options the port (or a socket), clock, randomness and settings
   * @throws {TypeError} when neither `port` nor `socket` is given
   * @throws {RangeError} for an out-of-range setting
   */
  constructor(options: UtpSocketOptions) {
    if (options.port) this.#port = options.port;
    else if (options.socket) {
      this.#mux = new DatagramMux(options.socket, { logger: options.logger ?? SILENT_LOGGER });
      this.#port = this.#mux.utp;
    } else throw new TypeError("UtpSocket needs a port or a socket");
    this.#clock = options.clock;
    this.#random = options.random;
    this.#log = options.logger ?? SILENT_LOGGER;
    this.#s = resolveUtpSettings(options.settings);
    this.#pool = new BufferPool(this.#s.packetBytes, 4096);
    this.#port.attach((data, from) => this.#onDatagram(data, from));
  }

  /** The bound address. */
  get addr(): PeerAddress {
    return this.#port.addr;
  }

  /** The resolved settings. */
  get settings(): Readonly<UtpSettings> {
    return this.#s;
  }

  /** A snapshot of the counters. */
  get stats(): UtpSocketStats {
    return { connections: this.#all.size, halfOpen: this.#halfOpen, ...this.#counters };
  }

  /**
   * Opens a connection.
   * @param addr the peer's uTP (UDP) address
   * @param options an abort signal (`localHost` does not apply: the port is bound)
   * @returns the connected stream
   * @throws {UtpConnectionError} `refused` when the SYN goes unanswered, `aborted` on abort
   *   or close, `reset` when the peer refuses
   * @throws {RangeError} at the connection limit
   */
  dial(addr: PeerAddress, options: DialOptions = {}): Promise<Conn> {
    if (this.#closed) return Promise.reject(new UtpConnectionError("aborted"));
    if (options.signal?.aborted) return Promise.reject(new UtpConnectionError("aborted"));
    if (this.#all.size >= this.#s.maxConnections) {
      return Promise.reject(new RangeError(`Cannot dial: ${this.#all.size} uTP connections open`));
    }
    let recvId = this.#random.int(0x10000);
    while (this.#byRecvId.has(recvId) || this.#byRecvId.has((recvId + 1) & 0xffff)) {
      recvId = (recvId + 1) & 0xffff; // ≤ 65,536 steps; the limit keeps most ids free
    }
    const stream = this.#newStream(addr, (recvId + 1) & 0xffff, recvId, false);
    const connected = stream.whenConnected();
    const signal = options.signal;
    const onAbort = () => {
      stream.abort(this.#clock.now());
      this.#forget(stream);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    stream.core.connect(this.#random.int(0x10000), this.#clock.now());
    this.#ensureTimer();
    return connected.finally(() => signal?.removeEventListener("abort", onAbort));
  }

  /**
   * The next confirmed incoming connection.
   * @returns the stream, or `null` once the socket is closed
   */
  async accept(): Promise<Conn | null> {
    const r = await this.#nextAccepted();
    return r.done ? null : r.value;
  }

  /**
   * Incoming connections, as they are confirmed; ends when the socket closes.
   * @returns an async iterator of streams
   */
  [Symbol.asyncIterator](): AsyncIterator<Conn> {
    return { next: () => this.#nextAccepted() };
  }

  /** Aborts every connection (RESET to each peer), ends `accept`, and closes the port. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const now = this.#clock.now();
    for (const stream of [...this.#all]) {
      stream.abort(now);
      this.#forget(stream);
    }
    for (const w of this.#acceptWaiters.splice(0)) w({ done: true, value: undefined });
    for (const s of this.#accepted.splice(0)) s.abort(now);
    this.#timer?.cancel();
    this.#ackTimer?.cancel();
    this.#timer = this.#ackTimer = undefined;
    this.#port.close();
    this.#mux?.close();
  }

  /**
   * Checks every connection's invariants.
   * @throws {Error} naming the broken invariant
   */
  assertInvariants(): void {
    let half = 0;
    for (const s of this.#all) {
      s.core.assertInvariants();
      if (s.core.state === "syn-recv") half++;
    }
    if (half !== this.#halfOpen) {
      throw new Error(`UtpSocket: half-open ${this.#halfOpen} != ${half}`);
    }
  }

  #nextAccepted(): Promise<IteratorResult<Conn>> {
    const s = this.#accepted.shift();
    if (s) return Promise.resolve({ done: false, value: s });
    if (this.#closed) return Promise.resolve({ done: true, value: undefined });
    return new Promise((resolve) => this.#acceptWaiters.push(resolve));
  }

  #onDatagram(data: Uint8Array, from: PeerAddress): void {
    if (this.#closed) return;
    const h = this.#header;
    try {
      parsePacket(data, h);
    } catch {
      this.#counters.invalidPackets++; // malformed: dropped, as libtorrent does
      return;
    }
    const now = this.#clock.now();
    if (h.type === ST_SYN) return this.#onSyn(h, data, from, now);
    const stream = h.type === ST_RESET
      ? this.#findReset(h.connectionId, from)
      : this.#find(h.connectionId, from);
    if (!stream) {
      this.#counters.unknownPackets++; // no RESET back: nothing to amplify
      return;
    }
    stream.core.onPacket(h, data, now);
    this.#markDirty(stream);
  }

  #onSyn(h: UtpHeader, data: Uint8Array, from: PeerAddress, now: number): void {
    const recvId = (h.connectionId + 1) & 0xffff;
    const existing = this.#find(recvId, from);
    if (existing) {
      existing.core.onPacket(h, data, now); // a resent SYN gets its STATE again
      this.#markDirty(existing);
      return;
    }
    if (
      !this.#s.acceptIncoming || this.#halfOpen >= this.#s.maxHalfOpen ||
      this.#all.size >= this.#s.maxConnections
    ) {
      this.#counters.refusedSyns++;
      return;
    }
    const stream = this.#newStream(from, h.connectionId, recvId, true);
    this.#halfOpen++;
    stream.core.acceptSyn(h, this.#random.int(0x10000), now);
    this.#markDirty(stream);
    this.#ensureTimer();
  }

  #newStream(remote: PeerAddress, sendId: number, recvId: number, incoming: boolean): UtpStream {
    const to = { host: remote.host, port: remote.port };
    const port = this.#port;
    const core = new UtpConnection({
      sendId,
      recvId,
      settings: this.#s,
      packetBytes: this.#s.packetBytes - (to.host.includes(":") ? 20 : 0),
      pool: this.#pool,
      sink: (buf, length) => port.send(buf.subarray(0, length), to),
    });
    const stream = new UtpStream(
      core,
      { remote: to, local: this.#port.addr },
      this.#streamHost,
      incoming,
    );
    const list = this.#byRecvId.get(recvId);
    if (list) list.push(stream);
    else this.#byRecvId.set(recvId, [stream]);
    this.#all.add(stream);
    return stream;
  }

  #find(recvId: number, from: PeerAddress): UtpStream | undefined {
    const list = this.#byRecvId.get(recvId);
    if (!list) return undefined;
    for (const s of list) {
      if (s.remoteAddr.port === from.port && s.remoteAddr.host === from.host) return s;
    }
    return undefined;
  }

  /** A RESET carries our receive id (libtorrent) or, from libutp, our send id. */
  #findReset(id: number, from: PeerAddress): UtpStream | undefined {
    const byRecv = this.#find(id, from);
    if (byRecv) return byRecv;
    for (const recvId of [(id - 1) & 0xffff, (id + 1) & 0xffff]) {
      const s = this.#find(recvId, from);
      if (s && s.core.sendId === id) return s;
    }
    return undefined;
  }

  #forget(stream: UtpStream): void {
    if (!this.#all.delete(stream)) return;
    const list = this.#byRecvId.get(stream.core.recvId);
    if (list) {
      const i = list.indexOf(stream);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0) this.#byRecvId.delete(stream.core.recvId);
    }
    if (stream.incoming && !stream.confirmed) this.#halfOpen--;
  }

  #markDirty(stream: UtpStream): void {
    if (!stream.dirty) {
      stream.dirty = true;
      this.#dirty.push(stream);
    }
    if (!this.#flushQueued) {
      this.#flushQueued = true;
      queueMicrotask(() => this.#flush());
    }
  }

  #flush(): void {
    this.#flushQueued = false;
    const now = this.#clock.now();
    const batch = this.#dirty;
    this.#dirty = [];
    for (const stream of batch) {
      stream.dirty = false;
      if (stream.core.flush(now)) this.#oweAck(stream);
      this.#afterEvents(stream, now);
    }
  }

  #oweAck(stream: UtpStream): void {
    if (!stream.owesAck) {
      stream.owesAck = true;
      this.#owed.push(stream);
    }
    this.#ackTimer ??= this.#clock.schedule(this.#s.delayedAckMs, () => this.#sendOwedAcks());
  }

  #sendOwedAcks(): void {
    this.#ackTimer = undefined;
    const now = this.#clock.now();
    const owed = this.#owed;
    this.#owed = [];
    for (const stream of owed) {
      stream.owesAck = false;
      stream.core.flushAck(now);
    }
  }

  #afterEvents(stream: UtpStream, now: number): void {
    if (stream.core.events & EV_CONFIRMED) this.#confirm(stream, now);
    if (!stream.pump()) return;
    this.#forget(stream);
    const reason = stream.core.closeReason;
    if (reason !== "closed" && reason !== "aborted") {
      this.#log.debug("uTP connection ended", {
        reason,
        peer: stream.remoteAddr,
        ...stream.core.stats,
      });
    }
  }

  #confirm(stream: UtpStream, now: number): void {
    stream.confirmed = true;
    this.#halfOpen--;
    if (this.#closed || this.#accepted.length >= this.#s.acceptBacklog) {
      this.#counters.refusedSyns++;
      stream.core.abort("aborted", now);
      return;
    }
    const waiter = this.#acceptWaiters.shift();
    if (waiter) waiter({ done: false, value: stream });
    else this.#accepted.push(stream);
  }

  #ensureTimer(): void {
    if (this.#timer || this.#closed) return;
    this.#timer = this.#clock.schedule(this.#s.tickIntervalMs, () => this.#tick());
  }

  #tick(): void {
    this.#timer = undefined;
    const now = this.#clock.now();
    for (const stream of this.#all) {
      stream.core.onTick(now);
      if (stream.core.events !== 0) this.#afterEvents(stream, now);
    }
    if (this.#all.size > 0) this.#ensureTimer();
  }
}
