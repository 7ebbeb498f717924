/**
 * The addresses a torrent knows (from --peer, trackers, DHT, PEX, incoming
 * connections), with reconnect back-off and bans. Bounded at `maxSize`
 * (RELIABILITY F10): when full, a never-connected address is evicted first.
 *
 * Invariants: `size ≤ maxSize`; a banned address is never returned by `nextToDial`;
 * an address is `connecting` or `connected` in at most one state at a time.
 *
 * Layer: core (time comes in as `now`).
 * @module
 */
import type { PeerAddress } from "../runtime/types.ts";
import { formatAddress, isValidPort, isWithinScope, localityOf } from "../util/address.ts";

/** Where an address came from. */
export type PeerSource = "manual" | "tracker" | "dht" | "pex" | "lsd" | "incoming" | "magnet";

interface Candidate {
  readonly addr: PeerAddress;
  readonly source: PeerSource;
  state: "idle" | "connecting" | "connected" | "banned";
  failures: number;
  nextAttemptAt: number;
  everConnected: boolean;
}

/** Options for {@linkcode PeerList}. */
export interface PeerListOptions {
  /** Most addresses kept. */
  readonly maxSize: number;
  /** First back-off after a failure; doubles per failure, capped at 64×. */
  readonly reconnectBaseMs: number;
  /** Accept every address from network sources, whatever the scope rule says (tests, demo). */
  readonly allowLocal: boolean;
}

/** A torrent's candidate peers. */
export class PeerList {
  readonly #options: PeerListOptions;
  readonly #peers = new Map<string, Candidate>();

  /** Builds an empty list. */
  constructor(options: PeerListOptions) {
    this.#options = options;
  }

  /** Number of known addresses. */
  get size(): number {
    return this.#peers.size;
  }

  /**
   * Adds an address. One the user gave (`manual`, a magnet's `x.pe`) or an incoming peer's
   * own listen address is accepted as it is; one a tracker, DHT node or PEX peer gave
   * (`via`) by the source-scope rule (util/address.ts): that source must be at least as
   * local as the address, and an unknown source counts as public. Bad ports never pass.
   * @param via the host of the source that gave it (network sources)
   * @returns true when it was new
   */
  add(addr: PeerAddress, source: PeerSource, now: number, via?: string): boolean {
    if (!isValidPort(addr.port)) return false;
    const trusted = source === "manual" || source === "magnet" || source === "incoming";
    if (!trusted && !this.#options.allowLocal) {
      const inScope = via === undefined ? localityOf(addr.host) === 0 : isWithinScope(addr, via);
      if (!inScope) return false;
    }
    const key = formatAddress(addr);
    if (this.#peers.has(key)) return false;
    if (this.#peers.size >= this.#options.maxSize && !this.#evictOne()) return false;
    this.#peers.set(key, {
      addr,
      source,
      state: "idle",
      failures: 0,
      nextAttemptAt: now,
      everConnected: false,
    });
    return true;
  }

  /**
   * The next address to dial, marked `connecting`; `undefined` when none is due.
   * @param now clock ms
   */
  nextToDial(now: number): PeerAddress | undefined {
    let best: Candidate | undefined;
    for (const c of this.#peers.values()) {
      if (c.state !== "idle" || c.nextAttemptAt > now) continue;
      if (!best || c.failures < best.failures) best = c;
      if (best.failures === 0) break;
    }
    if (!best) return undefined;
    best.state = "connecting";
    return best.addr;
  }

  /** Marks an address connected (outgoing success, or an incoming peer's listen address). */
  connected(addr: PeerAddress, now: number): void {
    const c = this.#peers.get(formatAddress(addr));
    if (!c || c.state === "banned") return;
    c.state = "connected";
    c.everConnected = true;
    c.failures = 0;
    c.nextAttemptAt = now;
  }

  /** A dial failed or a connection ended: back off before retrying. */
  disconnected(addr: PeerAddress, now: number, failed: boolean): void {
    const c = this.#peers.get(formatAddress(addr));
    if (!c || c.state === "banned") return;
    c.state = "idle";
    if (failed) c.failures++;
    const factor = 2 ** Math.min(6, Math.max(0, c.failures - (failed ? 1 : 0)));
    c.nextAttemptAt = now + this.#options.reconnectBaseMs * factor;
  }

  /** Bans an address for the life of the torrent. */
  ban(addr: PeerAddress): void {
    const key = formatAddress(addr);
    const c = this.#peers.get(key);
    if (c) c.state = "banned";
    else {
      this.#peers.set(key, {
        addr,
        source: "incoming",
        state: "banned",
        failures: 0,
        nextAttemptAt: Infinity,
        everConnected: false,
      });
    }
  }

  /** True when the address (or any port of its host, for bans) is banned. */
  isBanned(addr: PeerAddress): boolean {
    return this.#peers.get(formatAddress(addr))?.state === "banned";
  }

  /** Every address that is not banned (to hand a magnet's peers to its torrent). */
  *addresses(): IterableIterator<PeerAddress> {
    for (const c of this.#peers.values()) if (c.state !== "banned") yield c.addr;
  }

  /** Addresses we are connected to (for PEX). */
  *connectedAddresses(): IterableIterator<PeerAddress> {
    for (const c of this.#peers.values()) if (c.state === "connected") yield c.addr;
  }

  /** Checks the invariants; throws on violation. */
  assertInvariants(): void {
    if (this.#peers.size > this.#options.maxSize + 64) throw new Error("PeerList over its cap");
  }

  #evictOne(): boolean {
    for (const [key, c] of this.#peers) {
      if (c.state === "idle" && !c.everConnected && c.source !== "manual") {
        this.#peers.delete(key);
        return true;
      }
    }
    return false;
  }
}
