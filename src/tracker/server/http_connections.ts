/**
 * Which HTTP connections the tracker keeps (RELIABILITY TS5): at most `maxConnections`
 * open; one waiting for a request head for longer than `headerTimeoutMs` (slowloris, idle
 * keep-alive), or whose response the client has not taken within `writeTimeoutMs`, is due
 * to be closed; at the cap, or when the process is out of descriptors, the connection that
 * has waited longest for a head makes room, so idle sockets cannot lock honest clients out.
 *
 * Each phase has one timeout, so insertion order into its map is deadline order: expiry
 * and eviction read from the front, O(1) per connection.
 *
 * Invariants: a connection is in at most one phase map; deadlines in each map never
 * decrease from front to back; the size never exceeds `maxConnections`.
 *
 * Layer: core (pure; `now` in ms passed in, generic over the connection handle).
 * @module
 */

/** Caps and timeouts of an {@linkcode HttpConnectionTable}. */
export interface HttpConnectionLimits {
  /** Connections open at once. */
  readonly maxConnections: number;
  /** Time to receive a whole request head, ms. */
  readonly headerTimeoutMs: number;
  /** Time for the client to take a response, ms. */
  readonly writeTimeoutMs: number;
}

/**
 * Open HTTP connections, by phase, with their deadlines.
 * @example
 * ```ts
 * import { HttpConnectionTable } from "./mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const table = new HttpConnectionTable<string>({ maxConnections: 2, headerTimeoutMs: 10_000, writeTimeoutMs: 5_000 });
 * assertEquals([table.admit("a", 0), table.admit("b", 1)], [undefined, undefined]);
 * assertEquals(table.admit("c", 2), "a"); // full: the longest waiting makes room
 * table.remove("a");
 * assertEquals(table.expired(10_001), ["b"]); // no head within 10 s
 * ```
 */
export class HttpConnectionTable<T> {
  readonly #limits: HttpConnectionLimits;
  /** Waiting for a request head, by deadline. */
  readonly #waiting = new Map<T, number>();
  /** Handling or writing a response, by deadline. */
  readonly #busy = new Map<T, number>();

  /**
   * Builds an empty table.
   * @param limits cap and timeouts
   * @throws {RangeError} when a limit is not a positive integer
   */
  constructor(limits: HttpConnectionLimits) {
    for (const [key, value] of Object.entries(limits)) {
      if (!Number.isSafeInteger(value) || value < 1) {
        throw new RangeError(`Invalid HTTP limit ${key}: ${value}`);
      }
    }
    this.#limits = limits;
  }

  /** Connections open. */
  get size(): number {
    return this.#waiting.size + this.#busy.size;
  }

  /**
   * Takes a new connection, waiting for its first request head.
   * @param conn the connection
   * @param now current time, ms
   * @returns a connection to close to make room (the one waiting longest for a head), or
   *   `undefined`; when the table is full of busy connections, `conn` itself
   */
  admit(conn: T, now: number): T | undefined {
    let victim: T | undefined;
    if (this.size >= this.#limits.maxConnections) {
      victim = this.longestWaiting() ?? conn;
      this.remove(victim);
      if (victim === conn) return conn;
    }
    this.#waiting.set(conn, now + this.#limits.headerTimeoutMs);
    return victim;
  }

  /**
   * The connection starts waiting for a request head (again, on a kept-alive connection).
   * @param conn the connection
   * @param now current time, ms
   */
  waiting(conn: T, now: number): void {
    if (!this.#busy.delete(conn)) return;
    this.#waiting.set(conn, now + this.#limits.headerTimeoutMs);
  }

  /**
   * The connection got a whole head and is being answered.
   * @param conn the connection
   * @param now current time, ms
   */
  busy(conn: T, now: number): void {
    if (!this.#waiting.delete(conn)) return;
    this.#busy.set(conn, now + this.#limits.writeTimeoutMs);
  }

  /**
   * Forgets a closed connection. Idempotent.
   * @param conn the connection
   */
  remove(conn: T): void {
    if (!this.#waiting.delete(conn)) this.#busy.delete(conn);
  }

  /**
   * The connection that has waited longest for a head, if any: the one to close when a
   * descriptor or a slot is needed.
   * @returns the connection, or `undefined` when none is waiting
   */
  longestWaiting(): T | undefined {
    for (const conn of this.#waiting.keys()) return conn;
    return undefined;
  }

  /**
   * Connections past their deadline, removed from the table (the caller closes them).
   * @param now current time, ms
   * @returns the expired connections, oldest first
   */
  expired(now: number): T[] {
    const out: T[] = [];
    for (const map of [this.#waiting, this.#busy]) {
      for (const [conn, deadline] of map) {
        if (deadline > now) break;
        out.push(conn);
      }
    }
    for (const conn of out) this.remove(conn);
    return out;
  }

  /**
   * Checks the invariants (for tests).
   * @throws {Error} when one is broken
   */
  assertInvariants(): void {
    if (this.size > this.#limits.maxConnections) throw new Error("Over the connection cap");
    for (const map of [this.#waiting, this.#busy]) {
      let last = -Infinity;
      for (const [conn, deadline] of map) {
        if (deadline < last) throw new Error("Deadlines out of order");
        if (map === this.#waiting && this.#busy.has(conn)) throw new Error("In two phases");
        last = deadline;
      }
    }
  }
}
