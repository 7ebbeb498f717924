/**
 * The receiving half of a test's fake UDP socket: datagrams wait for `receive`, or one
 * `receive` waits for the next datagram; after `close`, `receive` resolves `null`.
 * @module
 */
import type { Datagram } from "../src/runtime/types.ts";

/** Datagrams delivered to a fake socket, in order. */
export class DatagramInbox {
  readonly #queue: Datagram[] = [];
  #waiter: ((d: Datagram | null) => void) | undefined;
  #closed = false;

  /** Hands `d` to the waiting `receive`, or queues it. */
  deliver(d: Datagram): void {
    if (this.#closed) return;
    const waiter = this.#waiter;
    this.#waiter = undefined;
    if (waiter) waiter(d);
    else this.#queue.push(d);
  }

  /** The next datagram; `null` once closed. */
  receive(): Promise<Datagram | null> {
    const next = this.#queue.shift();
    if (next) return Promise.resolve(next);
    if (this.#closed) return Promise.resolve(null);
    return new Promise((resolve) => (this.#waiter = resolve));
  }

  /** Ends the inbox: a waiting `receive` resolves `null`. */
  close(): void {
    this.#closed = true;
    this.#waiter?.(null);
    this.#waiter = undefined;
  }
}
