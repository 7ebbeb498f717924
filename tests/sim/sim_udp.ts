/**
 * An in-memory UDP network on a {@linkcode VirtualClock}: each datagram is copied and
 * delivered after a latency drawn from a seeded PRNG, or lost with a configured
 * probability; datagrams to an unbound address vanish, as UDP's do.
 *
 * For transports (uTP) it also models what a path does to datagrams: duplication,
 * reordering (a datagram held back so later ones overtake it) and a bottleneck link with
 * a drop-tail queue: datagrams leave it at `bytesPerSecond`, so a flow that sends faster
 * fills the queue, its delay grows, and once `queueBytes` are queued new datagrams are
 * dropped. Flows that share the bottleneck share its queue.
 * @module
 */
import type {
  Datagram,
  DatagramInfo,
  PeerAddress,
  Random,
  UdpSocketLike,
} from "../../src/runtime/types.ts";
import type { VirtualClock } from "./virtual_clock.ts";

/** A bottleneck link with a drop-tail queue. */
export interface SimBottleneck {
  /** Link rate, bytes per second. */
  readonly bytesPerSecond: number;
  /** Queue capacity, bytes; a datagram that does not fit is dropped. */
  readonly queueBytes: number;
  /** Which datagrams cross the link (default: all). */
  readonly applies?: (from: PeerAddress, to: PeerAddress) => boolean;
}

/** Tunables of {@linkcode SimUdpNetwork}. */
export interface SimUdpOptions {
  /** Shortest one-way latency in ms. Default 10. */
  readonly minLatencyMs?: number;
  /** Longest one-way latency in ms. Default 50. */
  readonly maxLatencyMs?: number;
  /** Probability in [0, 1) that a datagram is lost. Default 0. */
  readonly lossRate?: number;
  /** Probability that a datagram is delivered twice. Default 0. */
  readonly duplicateRate?: number;
  /** Probability that a datagram is held back by `reorderDelayMs`. Default 0. */
  readonly reorderRate?: number;
  /** Extra delay of a held-back datagram, ms. Default 20. */
  readonly reorderDelayMs?: number;
  /** A shared bottleneck link (none by default). */
  readonly bottleneck?: SimBottleneck;
}

/** Traffic counters. */
export interface SimUdpStats {
  /** Datagrams sent. */
  sent: number;
  /** Datagrams delivered to a bound socket. */
  delivered: number;
  /** Datagrams lost or sent to nobody. */
  dropped: number;
  /** Payload bytes sent. */
  bytes: number;
  /** Datagrams dropped because the bottleneck queue was full (counted in `dropped` too). */
  queueDrops: number;
  /** Datagrams delivered twice. */
  duplicated: number;
  /** Datagrams held back. */
  reordered: number;
}

const key = (a: PeerAddress) => `${a.host}:${a.port}`;

type Waiter = {
  into: Uint8Array | undefined;
  resolve: (d: Datagram | DatagramInfo | null) => void;
};

class SimUdpSocket implements UdpSocketLike {
  readonly addr: PeerAddress;
  #net: SimUdpNetwork;
  #queue: Datagram[] = [];
  #waiters: Waiter[] = [];
  closed = false;

  constructor(net: SimUdpNetwork, addr: PeerAddress) {
    this.#net = net;
    this.addr = addr;
  }

  send(data: Uint8Array, to: PeerAddress): Promise<void> {
    if (!this.closed) this.#net.transmit(data.slice(), this.addr, to);
    return Promise.resolve();
  }

  deliver(d: Datagram): void {
    if (this.closed) return;
    const w = this.#waiters.shift();
    if (w) w.resolve(w.into ? copyInto(d, w.into) : d);
    else if (this.#queue.length < 10_000) this.#queue.push(d);
  }

  receive(): Promise<Datagram | null> {
    return this.#take(undefined) as Promise<Datagram | null>;
  }

  receiveInto(buffer: Uint8Array): Promise<DatagramInfo | null> {
    return this.#take(buffer) as Promise<DatagramInfo | null>;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.#net.unbind(this.addr);
    this.#queue = [];
    for (const w of this.#waiters.splice(0)) w.resolve(null);
  }

  #take(into: Uint8Array | undefined): Promise<Datagram | DatagramInfo | null> {
    if (this.closed) return Promise.resolve(null);
    const next = this.#queue.shift();
    if (next) return Promise.resolve(into ? copyInto(next, into) : next);
    return new Promise((resolve) => this.#waiters.push({ into, resolve }));
  }
}

function copyInto(d: Datagram, into: Uint8Array): DatagramInfo {
  const length = Math.min(d.data.length, into.length);
  into.set(d.data.subarray(0, length));
  return { length, from: d.from };
}

/** The in-memory network. */
export class SimUdpNetwork {
  /** Counters. */
  readonly stats: SimUdpStats = {
    sent: 0,
    delivered: 0,
    dropped: 0,
    bytes: 0,
    queueDrops: 0,
    duplicated: 0,
    reordered: 0,
  };
  #clock: VirtualClock;
  #random: Random;
  #sockets = new Map<string, SimUdpSocket>();
  #min: number;
  #max: number;
  #loss: number;
  #duplicate: number;
  #reorder: number;
  #reorderDelay: number;
  #bottleneck: SimBottleneck | undefined;
  #linkFreeAt = 0;
  #nextPort = 40000;

  /**
   * Creates a network.
   * @param clock the virtual clock deliveries are scheduled on
   * @param random seeded source for latency, loss, duplication and reordering
   * @param options latency, loss, duplication, reordering and the bottleneck
   */
  constructor(clock: VirtualClock, random: Random, options: SimUdpOptions = {}) {
    this.#clock = clock;
    this.#random = random;
    this.#min = options.minLatencyMs ?? 10;
    this.#max = options.maxLatencyMs ?? 50;
    this.#loss = options.lossRate ?? 0;
    this.#duplicate = options.duplicateRate ?? 0;
    this.#reorder = options.reorderRate ?? 0;
    this.#reorderDelay = options.reorderDelayMs ?? 20;
    this.#bottleneck = options.bottleneck;
  }

  /**
   * Bytes waiting in the bottleneck queue now (0 without a bottleneck).
   * @returns queued bytes
   */
  get queuedBytes(): number {
    const b = this.#bottleneck;
    if (!b) return 0;
    return Math.max(0, this.#linkFreeAt - this.#clock.now()) * b.bytesPerSecond / 1000;
  }

  /**
   * Binds a socket synchronously.
   * @param addr local address; port 0 picks a free one
   * @returns the socket
   * @throws {Error} when the address is taken
   */
  bindSync(addr: PeerAddress): UdpSocketLike {
    const bound = { host: addr.host, port: addr.port === 0 ? this.#nextPort++ : addr.port };
    if (this.#sockets.has(key(bound))) throw new Error(`Address in use: ${key(bound)}`);
    const socket = new SimUdpSocket(this, bound);
    this.#sockets.set(key(bound), socket);
    return socket;
  }

  /**
   * Binds a socket ({@linkcode Network.bindUdp} shape).
   * @param addr local address
   * @returns the socket
   */
  bindUdp(addr: PeerAddress): Promise<UdpSocketLike> {
    return Promise.resolve(this.bindSync(addr));
  }

  /** @internal */
  unbind(addr: PeerAddress): void {
    this.#sockets.delete(key(addr));
  }

  /** @internal */
  transmit(data: Uint8Array, from: PeerAddress, to: PeerAddress): void {
    this.stats.sent++;
    this.stats.bytes += data.length;
    if (this.#loss > 0 && this.#random.next() < this.#loss) {
      this.stats.dropped++;
      return;
    }
    let delay = this.#min + this.#random.next() * (this.#max - this.#min);
    const b = this.#bottleneck;
    if (b && (!b.applies || b.applies(from, to))) {
      const now = this.#clock.now();
      if (this.queuedBytes + data.length > b.queueBytes) {
        this.stats.dropped++;
        this.stats.queueDrops++;
        return;
      }
      this.#linkFreeAt = Math.max(now, this.#linkFreeAt) + data.length * 1000 / b.bytesPerSecond;
      delay += this.#linkFreeAt - now;
    }
    if (this.#reorder > 0 && this.#random.next() < this.#reorder) {
      this.stats.reordered++;
      delay += this.#reorderDelay;
    }
    this.#clock.schedule(delay, () => this.#deliver(data, from, to));
    if (this.#duplicate > 0 && this.#random.next() < this.#duplicate) {
      this.stats.duplicated++;
      this.#clock.schedule(delay + 1, () => this.#deliver(data.slice(), from, to));
    }
  }

  #deliver(data: Uint8Array, from: PeerAddress, to: PeerAddress): void {
    const target = this.#sockets.get(key(to));
    if (!target || target.closed) {
      this.stats.dropped++;
      return;
    }
    this.stats.delivered++;
    target.deliver({ data, from });
  }
}
