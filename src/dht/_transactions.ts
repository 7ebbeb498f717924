/**
 * Outstanding KRPC queries keyed by transaction id (RELIABILITY D6): ids are short
 * (4 bytes) and drawn from the injected {@linkcode Random}, so an off-path sender
 * cannot guess them; a reply is matched only when both its `t` and its source
 * address match, and a mismatch never cancels the real query.
 *
 * Layer: core (pure). Private to `src/dht/`.
 * @module
 */
import type { PeerAddress, Random } from "../runtime/types.ts";
import { toLatin1 } from "../util/bytes.ts";
import { addressKey } from "./_address.ts";

/** Transaction id length in bytes. */
export const TRANSACTION_ID_LENGTH = 4;

/** One outstanding query. */
export interface Pending<T> {
  /** The transaction id sent. */
  readonly transactionId: Uint8Array;
  /** Where the query went. */
  readonly address: PeerAddress;
  /** Clock ms when it was sent. */
  readonly sentAt: number;
  /** Caller data (handlers, timer). */
  readonly context: T;
}

/** Outstanding queries, bounded. */
export class TransactionTable<T> {
  #random: Random;
  #max: number;
  #pending = new Map<string, Pending<T> & { key: string }>();
  /** Outstanding queries per destination address key. */
  #perAddress = new Map<string, number>();

  /**
   * Creates an empty table.
   * @param random source of transaction ids
   * @param maxPending queries outstanding at most
   */
  constructor(random: Random, maxPending = 2048) {
    this.#random = random;
    this.#max = maxPending;
  }

  /** Number of outstanding queries. */
  get size(): number {
    return this.#pending.size;
  }

  /**
   * Whether a query to `address` is outstanding (a datagram from it is likely an answer).
   * @param address a datagram's source
   * @returns true when we await an answer from it
   */
  awaits(address: PeerAddress): boolean {
    return this.#perAddress.has(addressKey(address));
  }

  /**
   * Registers a query about to be sent.
   * @param address its destination
   * @param now current clock ms
   * @param context caller data
   * @returns the fresh transaction id, or `undefined` when too many are outstanding
   */
  open(address: PeerAddress, now: number, context: T): Uint8Array | undefined {
    if (this.#pending.size >= this.#max) return undefined;
    for (let attempt = 0; attempt < 8; attempt++) {
      const transactionId = this.#random.bytes(TRANSACTION_ID_LENGTH);
      const id = toLatin1(transactionId);
      if (this.#pending.has(id)) continue;
      const key = addressKey(address);
      this.#pending.set(id, { transactionId, address, sentAt: now, context, key });
      this.#perAddress.set(key, (this.#perAddress.get(key) ?? 0) + 1);
      return transactionId;
    }
    return undefined;
  }

  /**
   * Claims the query a reply answers.
   * @param transactionId the reply's `t`
   * @param from the reply's source
   * @returns the query (now removed), or `undefined` for an unknown id or a wrong source
   */
  take(transactionId: Uint8Array, from: PeerAddress): Pending<T> | undefined {
    const id = toLatin1(transactionId);
    const p = this.#pending.get(id);
    if (!p || p.key !== addressKey(from)) return undefined;
    this.#remove(id, p.key);
    return p;
  }

  /**
   * Removes a query whatever its source (timeout, shutdown).
   * @param transactionId its id
   * @returns the query, or `undefined` when it was no longer outstanding
   */
  cancel(transactionId: Uint8Array): Pending<T> | undefined {
    const id = toLatin1(transactionId);
    const p = this.#pending.get(id);
    if (p) this.#remove(id, p.key);
    return p;
  }

  /**
   * Removes and returns every outstanding query.
   * @returns the queries
   */
  drain(): Pending<T>[] {
    const all = [...this.#pending.values()];
    this.#pending.clear();
    this.#perAddress.clear();
    return all;
  }

  #remove(id: string, key: string): void {
    this.#pending.delete(id);
    const n = this.#perAddress.get(key)! - 1;
    if (n > 0) this.#perAddress.set(key, n);
    else this.#perAddress.delete(key);
  }
}
