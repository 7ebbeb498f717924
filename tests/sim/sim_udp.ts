/**
 * An in-memory UDP network on a {@linkcode VirtualClock}: each datagram is copied and
 * delivered after a latency drawn from a seeded PRNG, or lost with a configured
 * probability; datagrams to an unbound address vanish, as UDP's do.
 * @module
 */
import type { Datagram, PeerAddress, Random, UdpSocketLike } from "../../src/runtime/types.ts";
import type { VirtualClock } from "./virtual_clock.ts";

/** Tunables of {@linkcode SimUdpNetwork}. */
export interface SimUdpOptions {
  /** Shortest one-way latency in ms. Default 10. */
  readonly minLatencyMs?: number;
  /** Longest one-way latency in ms. Default 50. */
  readonly maxLatencyMs?: number;
  /** Probability in [0, 1) that a datagram is lost. Default 0. */
  readonly lossRate?: number;
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
}

const key = (a: PeerAddress) => `${a.host}:${a.port}`;

class SimUdpSocket implements UdpSocketLike {
  readonly addr: PeerAddress;
  #net: SimUdpNetwork;
  #queue: Datagram[] = [];
  #waiter: ((d: Datagram | null) => void) | undefined;
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
    const w = this.#waiter;
    if (w) {
      this.#waiter = undefined;
      w(d);
    } else if (this.#queue.length < 10_000) this.#queue.push(d);
  }

  receive(): Promise<Datagram | null> {
    if (this.closed) return Promise.resolve(null);
    const next = this.#queue.shift();
    if (next) return Promise.resolve(next);
    return new Promise((resolve) => (this.#waiter = resolve));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.#net.unbind(this.addr);
    this.#queue = [];
    this.#waiter?.(null);
    this.#waiter = undefined;
  }
}

/** The in-memory network. */
export class SimUdpNetwork {
  /** Counters. */
  readonly stats: SimUdpStats = { sent: 0, delivered: 0, dropped: 0, bytes: 0 };
  #clock: VirtualClock;
  #random: Random;
  #sockets = new Map<string, SimUdpSocket>();
  #min: number;
  #max: number;
  #loss: number;
  #nextPort = 40000;

  /**
   * Creates a network.
   * @param clock the virtual clock deliveries are scheduled on
   * @param random seeded source for latency and loss
   * @param options latency and loss
   */
  constructor(clock: VirtualClock, random: Random, options: SimUdpOptions = {}) {
    this.#clock = clock;
    this.#random = random;
    this.#min = options.minLatencyMs ?? 10;
    this.#max = options.maxLatencyMs ?? 50;
    this.#loss = options.lossRate ?? 0;
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
    const latency = this.#min + this.#random.next() * (this.#max - this.#min);
    this.#clock.schedule(latency, () => {
      const target = this.#sockets.get(key(to));
      if (!target || target.closed) {
        this.stats.dropped++;
        return;
      }
      this.stats.delivered++;
      target.deliver({ data, from });
    });
  }
}
