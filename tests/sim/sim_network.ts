/**
 * An in-memory stream network for simulations: every host is an IP on one switch;
 * each direction of a connection delivers bytes after `latencyMs`, serialised at the
 * sender's `uploadBytesPerSecond` (a per-host shared uplink), on an injected clock.
 * Deterministic: delivery order depends only on the clock and the call order.
 * @module
 */
import type {
  Clock,
  Conn,
  DialOptions,
  Listener,
  Network,
  PeerAddress,
  UdpSocketLike,
} from "../../src/runtime/types.ts";

/** Link parameters. */
export interface SimLinkOptions {
  /** One-way latency in ms. */
  readonly latencyMs?: number;
  /** Each host's uplink in bytes/s (0 = infinite). */
  readonly uploadBytesPerSecond?: number;
}

class Pipe {
  readonly chunks: Uint8Array[] = [];
  closed = false;
  waiter: (() => void) | undefined;

  deliver(data: Uint8Array): void {
    if (this.closed) return;
    this.chunks.push(data);
    this.wake();
  }

  end(): void {
    this.closed = true;
    this.wake();
  }

  wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }
}

class SimConn implements Conn {
  #closed = false;
  peer: SimConn | undefined;

  constructor(
    readonly localAddr: PeerAddress,
    readonly remoteAddr: PeerAddress,
    readonly inbound: Pipe,
    readonly net: SimNetwork,
  ) {}

  async read(buffer: Uint8Array): Promise<number | null> {
    for (;;) {
      const head = this.inbound.chunks[0];
      if (head) {
        const n = Math.min(head.length, buffer.length);
        buffer.set(head.subarray(0, n));
        if (n === head.length) this.inbound.chunks.shift();
        else this.inbound.chunks[0] = head.subarray(n);
        return n;
      }
      if (this.inbound.closed || this.#closed) return null;
      await new Promise<void>((r) => this.inbound.waiter = r);
    }
  }

  write(data: Uint8Array): Promise<void> {
    if (this.#closed || !this.peer) return Promise.reject(new Error("connection closed"));
    const target = this.peer.inbound;
    const copy = data.slice();
    return this.net.transmit(this.localAddr.host, copy.length, () => target.deliver(copy));
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.inbound.end();
    const peer = this.peer;
    if (peer) this.net.transmit(this.localAddr.host, 0, () => peer.inbound.end());
  }
}

class SimListener implements Listener {
  readonly queue: Conn[] = [];
  waiter: (() => void) | undefined;
  closed = false;

  constructor(readonly addr: PeerAddress, readonly onClose: () => void) {}

  push(conn: Conn): void {
    this.queue.push(conn);
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Conn> {
    for (;;) {
      while (this.queue.length > 0) yield this.queue.shift()!;
      if (this.closed) return;
      await new Promise<void>((r) => this.waiter = r);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.onClose();
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }
}

/** The shared switch; `host(ip)` gives one host's {@linkcode Network}. */
export class SimNetwork {
  readonly #clock: Clock;
  readonly #latency: number;
  readonly #uplink: number;
  readonly #listeners = new Map<string, SimListener>();
  readonly #uplinkFreeAt = new Map<string, number>();
  #nextPort = 40000;
  /** Bytes carried, for reports. */
  bytesCarried = 0;

  /** Builds an empty network. */
  constructor(clock: Clock, options: SimLinkOptions = {}) {
    this.#clock = clock;
    this.#latency = options.latencyMs ?? 5;
    this.#uplink = options.uploadBytesPerSecond ?? 0;
  }

  /** Delivers after serialisation on `fromHost`'s uplink plus latency. */
  transmit(fromHost: string, bytes: number, deliver: () => void): Promise<void> {
    const now = this.#clock.now();
    let sendDone = now;
    if (this.#uplink > 0 && bytes > 0) {
      const start = Math.max(now, this.#uplinkFreeAt.get(fromHost) ?? now);
      sendDone = start + (bytes / this.#uplink) * 1000;
      this.#uplinkFreeAt.set(fromHost, sendDone);
    }
    this.bytesCarried += bytes;
    this.#clock.schedule(sendDone - now + this.#latency, deliver);
    // The writer is released once its bytes left the uplink (a kernel send buffer).
    if (sendDone <= now) return Promise.resolve();
    return new Promise((r) => this.#clock.schedule(sendDone - now, r));
  }

  /** A host's view of the network. */
  host(ip: string): Network {
    return {
      dial: (addr, options) => this.#dial(ip, addr, options),
      listen: (addr) => this.#listen(ip, addr),
      bindUdp: (_addr): Promise<UdpSocketLike> =>
        Promise.reject(new Error("SimNetwork has no UDP; use tests/sim UDP helpers")),
    };
  }

  #listen(ip: string, addr: PeerAddress): Promise<Listener> {
    const port = addr.port === 0 ? this.#nextPort++ : addr.port;
    const key = `${ip}:${port}`;
    if (this.#listeners.has(key)) return Promise.reject(new Error(`address in use: ${key}`));
    const l = new SimListener({ host: ip, port }, () => this.#listeners.delete(key));
    this.#listeners.set(key, l);
    return Promise.resolve(l);
  }

  #dial(ip: string, addr: PeerAddress, _options?: DialOptions): Promise<Conn> {
    const listener = this.#listeners.get(`${addr.host}:${addr.port}`);
    return new Promise((resolve, reject) => {
      this.#clock.schedule(this.#latency * 2, () => {
        if (!listener || listener.closed) {
          reject(new Error(`connection refused: ${addr.host}:${addr.port}`));
          return;
        }
        const local = { host: ip, port: this.#nextPort++ };
        const a = new SimConn(local, addr, new Pipe(), this);
        const b = new SimConn(addr, local, new Pipe(), this);
        a.peer = b;
        b.peer = a;
        listener.push(b);
        resolve(a);
      });
    });
  }
}
