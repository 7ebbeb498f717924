/**
 * A connected pair of in-memory {@linkcode Conn}s for driver tests: what one side
 * writes, the other reads (copied at write time), optionally cut into small reads.
 * No clock, no latency: delivery is immediate, so tests run on promise turns alone.
 * @module
 */
import type { Conn, PeerAddress } from "../src/runtime/types.ts";

/** Options for {@linkcode memoryConnPair}. */
export interface MemoryConnOptions {
  /** Largest byte count one `read` returns (default: unlimited). */
  readonly maxReadBytes?: number;
}

class Queue {
  readonly chunks: Uint8Array[] = [];
  ended = false;
  #waiter: (() => void) | undefined;

  push(data: Uint8Array): void {
    if (this.ended) return;
    this.chunks.push(data);
    this.wake();
  }

  end(): void {
    this.ended = true;
    this.wake();
  }

  wake(): void {
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.();
  }

  wait(): Promise<void> {
    return new Promise((resolve) => this.#waiter = resolve);
  }
}

/** One end of a {@linkcode memoryConnPair}. */
export class MemoryConn implements Conn {
  readonly remoteAddr: PeerAddress;
  readonly localAddr: PeerAddress;
  /** Every byte this end wrote, in order (for assertions). */
  readonly written: Uint8Array[] = [];
  #closed = false;
  peer: MemoryConn | undefined;

  constructor(
    local: PeerAddress,
    remote: PeerAddress,
    readonly inbound: Queue,
    readonly maxReadBytes: number,
  ) {
    this.localAddr = local;
    this.remoteAddr = remote;
  }

  /** True once `close()` was called on this end. */
  get closed(): boolean {
    return this.#closed;
  }

  async read(buffer: Uint8Array): Promise<number | null> {
    for (let turns = 0; turns < 1_000_000; turns++) {
      if (this.#closed) return null;
      const head = this.inbound.chunks[0];
      if (head !== undefined) {
        const n = Math.min(head.length, buffer.length, this.maxReadBytes);
        buffer.set(head.subarray(0, n));
        if (n === head.length) this.inbound.chunks.shift();
        else this.inbound.chunks[0] = head.subarray(n);
        return n;
      }
      if (this.inbound.ended) return null;
      await this.inbound.wait();
    }
    throw new Error("MemoryConn.read: too many wake-ups");
  }

  write(data: Uint8Array): Promise<void> {
    if (this.#closed) return Promise.reject(new Error("MemoryConn closed"));
    const copy = data.slice();
    this.written.push(copy);
    this.peer?.inbound.push(copy);
    return Promise.resolve();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.inbound.end();
    this.peer?.inbound.end();
  }
}

/**
 * Two connected in-memory conns.
 * @param options read cut size
 * @returns `[a, b]`: what `a` writes, `b` reads, and the other way round
 */
export function memoryConnPair(options: MemoryConnOptions = {}): [MemoryConn, MemoryConn] {
  const max = options.maxReadBytes ?? Number.MAX_SAFE_INTEGER;
  const addrA = { host: "127.0.0.1", port: 50001 };
  const addrB = { host: "127.0.0.2", port: 6881 };
  const a = new MemoryConn(addrA, addrB, new Queue(), max);
  const b = new MemoryConn(addrB, addrA, new Queue(), max);
  a.peer = b;
  b.peer = a;
  return [a, b];
}
