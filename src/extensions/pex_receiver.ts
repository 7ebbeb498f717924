/**
 * The receiving half of BEP 11 `ut_pex` for one peer connection: decodes each
 * message, enforces the receive-side limits and returns the peers worth dialling.
 *
 * Limits (RELIABILITY EX6, EX7; PARAMETERS §2.3):
 * - Rate: a token bucket of `burst` messages (default 3) that regains one message
 *   every `minIntervalMs` (default 45 s, anacrolix's floor). Honest clients send one
 *   message per 60–90 s, so only a flooder runs dry; the message that finds the
 *   bucket empty disconnects (a peer sending every second is cut off at its 4th
 *   message). This is stricter than libtorrent (≤ 6 per 60 s) and lets through the
 *   first message plus jitter.
 * - Size: payloads over 64 KiB, or malformed ones, disconnect.
 * - Per message: the first 50 added and 50 dropped peers are used (the codec caps).
 * - Per source: at most `maxPeersPerSource` (default 200) distinct peers are taken
 *   from one connection over its lifetime; later ones are ignored, and a peer
 *   already taken is not returned again.
 * - Addresses: port 0 and loopback, private, link-local, CGNAT, multicast or
 *   unspecified hosts are dropped unless `allowLocal` (test mode).
 *
 * Invariant: the taken set never exceeds `maxPeersPerSource`; bucket tokens stay in
 * 0..burst.
 *
 * Layer: core (no I/O; time comes in as `now`).
 * @module
 */
import type { PeerAddress } from "../runtime/types.ts";
import { isLocalAddress, isValidPort } from "../util/address.ts";
import { ExtensionSyntaxError } from "./errors.ts";
import { decodePex } from "./ut_pex.ts";

/** Options for {@linkcode PexReceiver}. */
export interface PexReceiverOptions {
  /** Keep loopback/private addresses (test swarms on one machine); default false. */
  readonly allowLocal?: boolean;
  /** Distinct peers taken from one source over its lifetime; default 200. */
  readonly maxPeersPerSource?: number;
  /** One message of allowance is regained this often, in ms; default 45 s. */
  readonly minIntervalMs?: number;
  /** Messages allowed back to back; default 3. */
  readonly burst?: number;
}

/** What {@linkcode PexReceiver.accept} made of one message. */
export type PexReceiveResult =
  | {
    /** New peers to hand to the peer pool, with this connection as their source. */
    readonly added: PeerAddress[];
    /** The `added.f` byte of each `added` peer, same order. */
    readonly addedFlags: number[];
    /** Peers taken from this source earlier that it says are gone. */
    readonly dropped: PeerAddress[];
  }
  | {
    /** Why the connection should be closed (flooding or a malformed message). */
    readonly disconnect: string;
  };

/**
 * Applies the ut_pex receive limits for one connection.
 *
 * @example
 * ```ts
 * import { encodePex, PexReceiver } from "./mod.ts";
 * import { deepStrictEqual, ok } from "node:assert";
 * const rx = new PexReceiver();
 * const payload = encodePex({
 *   added: [{ host: "198.51.100.7", port: 6881 }, { host: "127.0.0.1", port: 6881 }],
 * });
 * deepStrictEqual(rx.accept(0, payload), {
 *   added: [{ host: "198.51.100.7", port: 6881 }], // loopback dropped (EX7)
 *   addedFlags: [0],
 *   dropped: [],
 * });
 * rx.accept(1_000, payload);
 * rx.accept(2_000, payload);
 * ok("disconnect" in rx.accept(3_000, payload)); // a flooder (EX6)
 * ```
 */
export class PexReceiver {
  readonly #allowLocal: boolean;
  readonly #maxPerSource: number;
  readonly #intervalMs: number;
  readonly #burst: number;
  readonly #taken = new Set<string>();
  #tokens: number;
  #lastAt: number | undefined;
  #closed: string | undefined;

  /**
   * Creates the receiver for one connection.
   * @param options the limits
   * @throws {RangeError} when a limit is not a positive integer
   */
  constructor(options: PexReceiverOptions = {}) {
    this.#allowLocal = options.allowLocal ?? false;
    this.#maxPerSource = positive("maxPeersPerSource", options.maxPeersPerSource ?? 200);
    this.#intervalMs = positive("minIntervalMs", options.minIntervalMs ?? 45_000);
    this.#burst = positive("burst", options.burst ?? 3);
    this.#tokens = this.#burst;
  }

  /** How many distinct peers were taken from this source so far. */
  get takenCount(): number {
    return this.#taken.size;
  }

  /**
   * Takes one ut_pex payload. Never throws on peer input.
   * @param now the current time in ms on the injected clock
   * @param payload the extended message body
   * @returns the filtered peers, or a reason to disconnect (sticky: once a source
   *   is cut off, every later call returns the same reason)
   */
  accept(now: number, payload: Uint8Array): PexReceiveResult {
    if (this.#closed !== undefined) return { disconnect: this.#closed };
    if (!this.#spend(now)) {
      return this.#close(
        `ut_pex flood: faster than one message per ${this.#intervalMs} ms beyond a burst of ${this.#burst}`,
      );
    }
    let message;
    try {
      message = decodePex(payload);
    } catch (e) {
      if (e instanceof ExtensionSyntaxError) return this.#close(e.message);
      throw e;
    }
    const added: PeerAddress[] = [], addedFlags: number[] = [], dropped: PeerAddress[] = [];
    for (const { addr, flags } of message.added) {
      if (this.#taken.size >= this.#maxPerSource) break;
      const key = keyOf(addr);
      if (!this.#usable(addr) || this.#taken.has(key)) continue;
      this.#taken.add(key);
      added.push(addr);
      addedFlags.push(flags);
    }
    for (const addr of message.dropped) {
      if (this.#taken.has(keyOf(addr))) dropped.push(addr);
    }
    return { added, addedFlags, dropped };
  }

  /**
   * Checks the invariants in the module doc.
   * @throws {Error} on a violation
   */
  assertInvariants(): void {
    if (this.#taken.size > this.#maxPerSource || this.#tokens < 0 || this.#tokens > this.#burst) {
      throw new Error("PexReceiver invariant violated: taken set or token bucket out of range");
    }
  }

  #usable(addr: PeerAddress): boolean {
    return isValidPort(addr.port) && (this.#allowLocal || !isLocalAddress(addr.host));
  }

  #spend(now: number): boolean {
    if (this.#lastAt !== undefined) {
      const regained = Math.max(0, now - this.#lastAt) / this.#intervalMs;
      this.#tokens = Math.min(this.#burst, this.#tokens + regained);
    }
    this.#lastAt = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  #close(reason: string): PexReceiveResult {
    this.#closed = reason;
    return { disconnect: reason };
  }
}

/** Decoded hosts are already canonical (RFC 5952, IPv4-mapped folded), so no re-parse. */
function keyOf(addr: PeerAddress): string {
  return `${addr.host}|${addr.port}`;
}

function positive(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new RangeError(`Cannot create PexReceiver: ${name} ${value} is not a positive integer`);
  }
  return value;
}
