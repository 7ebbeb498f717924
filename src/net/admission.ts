/**
 * Who may hold one of the slots for incoming connections still in their handshake
 * (RELIABILITY PW11). Refusing new connections once the slots are full lets a burst of
 * connections that never finish their handshake keep every honest peer out for as long as
 * the burst goes on (1,000 such connections delayed an honest peer's first byte by a
 * minute). So room is made for a new connection:
 * - an address holds at most `maxPerAddress` slots: a new connection from an address
 *   that holds them all is refused (a reconnect throttle: evicting its oldest instead
 *   made a flooder that reconnects at once cost the seed 3.4 s of CPU per honest
 *   download, refusing it costs an accept and a close);
 * - when all `maxPending` slots are taken, the oldest pending handshake of the address
 *   holding the most is dropped (the first admitted address among equals), so a new
 *   address always gets in.
 * An honest peer finishes its handshake in milliseconds, long before a burst could push it
 * out; a flooder only ever displaces itself, or the heaviest of several flooders.
 *
 * Invariants (`assertInvariants()`): `size ≤ maxPending`; no address holds more than
 * `maxPerAddress`; every item is counted once, under its address, oldest first.
 *
 * Layer: core (pure: items are opaque, time is the order of admission).
 * @module
 */

/** Limits of {@linkcode HandshakeAdmission}. */
export interface HandshakeAdmissionOptions {
  /** Pending handshakes at most. */
  readonly maxPending: number;
  /** Pending handshakes from one address at most. */
  readonly maxPerAddress: number;
}

/**
 * The pending-handshake slots of a listener.
 *
 * @example
 * ```ts
 * import { HandshakeAdmission } from "./admission.ts";
 * import { deepStrictEqual } from "node:assert";
 * const slots = new HandshakeAdmission<string>({ maxPending: 3, maxPerAddress: 2 });
 * deepStrictEqual(slots.admit("10.0.0.1", "a1"), []);
 * deepStrictEqual(slots.admit("10.0.0.1", "a2"), []);
 * deepStrictEqual(slots.admit("10.0.0.1", "a3"), ["a3"]); // the address holds its share
 * deepStrictEqual(slots.admit("10.0.0.2", "b1"), []);
 * deepStrictEqual(slots.admit("10.0.0.3", "c1"), ["a1"]); // full: the heaviest address pays
 * slots.done("b1");
 * deepStrictEqual(slots.size, 2);
 * ```
 */
export class HandshakeAdmission<T> {
  readonly #o: HandshakeAdmissionOptions;
  /** Pending items per address, oldest first. */
  readonly #byAddress = new Map<string, T[]>();
  readonly #addressOf = new Map<T, string>();

  /**
   * Creates empty slots.
   * @param options the caps
   * @throws {RangeError} unless both caps are positive integers
   */
  constructor(options: HandshakeAdmissionOptions) {
    for (const key of ["maxPending", "maxPerAddress"] as const) {
      const v = options[key];
      if (!Number.isSafeInteger(v) || v < 1) {
        throw new RangeError(`Cannot create HandshakeAdmission: ${key} ${v} is not positive`);
      }
    }
    this.#o = options;
  }

  /** Pending handshakes. */
  get size(): number {
    return this.#addressOf.size;
  }

  /**
   * Admits a new connection from `address`, making room for it.
   * @param address the remote IP (the key of the per-address cap)
   * @param item the connection (unique)
   * @param maxPending a lower cap for this admission (the session's total connection
   *   room); default the configured one
   * @returns the items to close: pending ones dropped for it, or `item` itself when it is
   *   refused (its address holds its share, or there is no room at all)
   */
  admit(address: string, item: T, maxPending = this.#o.maxPending): T[] {
    const cap = Math.min(maxPending, this.#o.maxPending);
    const own = this.#byAddress.get(address);
    if (cap < 1 || (own && own.length >= this.#o.maxPerAddress)) return [item];
    const dropped: T[] = [];
    while (this.size >= cap) dropped.push(this.#dropOldest(this.#heaviest()));
    const list = this.#byAddress.get(address);
    if (list) list.push(item);
    else this.#byAddress.set(address, [item]);
    this.#addressOf.set(item, address);
    return dropped;
  }

  /**
   * The handshake of `item` ended (passed, failed or dropped); a no-op when not pending.
   * @param item the connection
   */
  done(item: T): void {
    const address = this.#addressOf.get(item);
    if (address === undefined) return;
    this.#addressOf.delete(item);
    const list = this.#byAddress.get(address)!;
    list.splice(list.indexOf(item), 1);
    if (list.length === 0) this.#byAddress.delete(address);
  }

  /**
   * Checks the invariants in the module doc.
   * @throws {Error} naming the broken one
   */
  assertInvariants(): void {
    let count = 0;
    for (const [address, list] of this.#byAddress) {
      if (list.length === 0 || list.length > this.#o.maxPerAddress) {
        throw new Error(`HandshakeAdmission: ${list.length} pending from ${address}`);
      }
      for (const item of list) {
        if (this.#addressOf.get(item) !== address) throw new Error("HandshakeAdmission: index");
      }
      count += list.length;
    }
    if (count !== this.size || count > this.#o.maxPending) {
      throw new Error(`HandshakeAdmission: ${count} pending, ${this.size} indexed`);
    }
  }

  /** The address holding the most slots (first admitted among equals: Map order). */
  #heaviest(): string {
    let best: string | undefined, most = 0;
    for (const [address, list] of this.#byAddress) {
      if (list.length > most) [best, most] = [address, list.length];
    }
    return best!;
  }

  #dropOldest(address: string): T {
    const item = this.#byAddress.get(address)![0]!;
    this.done(item);
    return item;
  }
}
