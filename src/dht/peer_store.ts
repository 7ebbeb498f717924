/**
 * The peers other nodes announced to us (BEP 5 `announce_peer`), bounded as
 * RELIABILITY D4 asks: at most 2,000 info-hashes (least recently announced evicted
 * first) × 500 peers each (oldest announce evicted first), and at most `maxPeers` in all
 * (the least recently announced info-hash loses its oldest peer first): a full 2,000 ×
 * 500 would hold ~140 MiB at ~150 bytes an entry. Entries expire after 30 minutes, and a
 * `get_peers` reply carries at most 100 of them, picked at random.
 *
 * Invariants: no info-hash holds zero or more than `maxPeersPerInfoHash` peers; at most
 * `maxInfoHashes` info-hashes and `maxPeers` peers, counted exactly; within an
 * info-hash, peers are ordered by announce time.
 *
 * Layer: core (pure; time and randomness are injected).
 * @module
 */
import type { PeerAddress, Random } from "../runtime/types.ts";
import { toLatin1 } from "../util/bytes.ts";
import { addressKey } from "./_address.ts";

/** Tunables of {@linkcode PeerStore}. */
export interface PeerStoreOptions {
  /** Info-hashes tracked. Default 2,000. */
  readonly maxInfoHashes?: number;
  /** Peers kept per info-hash. Default 500. */
  readonly maxPeersPerInfoHash?: number;
  /** Peers kept in all. Default 100,000. */
  readonly maxPeers?: number;
  /** An announce is forgotten after this long. Default 30 min. */
  readonly peerTtlMs?: number;
  /** Peers returned per reply. Default 100. */
  readonly maxReplyPeers?: number;
}

interface Stored {
  readonly address: PeerAddress;
  readonly at: number;
}

/** Announced peers by info-hash. */
export class PeerStore {
  #opts: Required<PeerStoreOptions>;
  #swarms = new Map<string, Map<string, Stored>>();
  #total = 0;

  /**
   * Creates an empty store.
   * @param options tunables
   * @example
   * ```ts
   * import { PeerStore } from "./peer_store.ts";
   * import { SeededRandom } from "../util/prng.ts";
   * import { deepStrictEqual } from "node:assert";
   * const store = new PeerStore();
   * const hash = new Uint8Array(20);
   * store.announce(hash, { host: "1.2.3.4", port: 6881 }, 0);
   * deepStrictEqual(store.peers(hash, 1000, new SeededRandom(1)), [{ host: "1.2.3.4", port: 6881 }]);
   * deepStrictEqual(store.peers(hash, 31 * 60_000, new SeededRandom(1)), []);
   * ```
   */
  constructor(options: PeerStoreOptions = {}) {
    this.#opts = {
      maxInfoHashes: 2000,
      maxPeersPerInfoHash: 500,
      maxPeers: 100_000,
      peerTtlMs: 30 * 60_000,
      maxReplyPeers: 100,
      ...options,
    };
  }

  /** Number of info-hashes held. */
  get infoHashCount(): number {
    return this.#swarms.size;
  }

  /** Number of peers held, across all info-hashes. */
  get peerCount(): number {
    return this.#total;
  }

  /**
   * Records (or refreshes) an announce.
   * @param infoHash the info-hash
   * @param peer the announcing peer's address
   * @param now current clock ms
   */
  announce(infoHash: Uint8Array, peer: PeerAddress, now: number): void {
    const key = toLatin1(infoHash);
    let swarm = this.#swarms.get(key);
    if (swarm) this.#swarms.delete(key); // re-insert: most recently used last
    else swarm = new Map();
    this.#swarms.set(key, swarm);
    const peerKey = addressKey(peer);
    if (!swarm.delete(peerKey)) this.#total++;
    swarm.set(peerKey, { address: { host: peer.host, port: peer.port }, at: now });
    if (swarm.size > this.#opts.maxPeersPerInfoHash) {
      swarm.delete(swarm.keys().next().value!);
      this.#total--;
    }
    if (this.#swarms.size > this.#opts.maxInfoHashes) {
      this.#dropSwarm(this.#swarms.keys().next().value!);
    }
    while (this.#total > this.#opts.maxPeers) {
      const [oldestKey, oldest] = this.#swarms.entries().next().value!;
      oldest.delete(oldest.keys().next().value!);
      this.#total--;
      if (oldest.size === 0) this.#swarms.delete(oldestKey);
    }
  }

  #dropSwarm(key: string): void {
    this.#total -= this.#swarms.get(key)?.size ?? 0;
    this.#swarms.delete(key);
  }

  /**
   * Up to `maxReplyPeers` live peers for an info-hash, a random sample when there are more.
   * @param infoHash the info-hash
   * @param now current clock ms
   * @param random sampling source
   * @returns the peers (empty when none)
   */
  peers(infoHash: Uint8Array, now: number, random: Random): PeerAddress[] {
    const swarm = this.#swarms.get(toLatin1(infoHash));
    if (!swarm) return [];
    this.#expireSwarm(toLatin1(infoHash), swarm, now);
    const all = [...swarm.values()];
    const max = this.#opts.maxReplyPeers;
    for (let i = 0; i < Math.min(max, all.length - 1); i++) {
      const j = i + random.int(all.length - i);
      [all[i], all[j]] = [all[j]!, all[i]!];
    }
    return all.slice(0, max).map((s) => s.address);
  }

  #expireSwarm(key: string, swarm: Map<string, Stored>, now: number): void {
    for (const [peerKey, stored] of swarm) {
      if (now - stored.at < this.#opts.peerTtlMs) break; // ordered by announce time
      swarm.delete(peerKey);
      this.#total--;
    }
    if (swarm.size === 0) this.#swarms.delete(key);
  }

  /**
   * Drops every expired announce.
   * @param now current clock ms
   */
  expire(now: number): void {
    for (const [key, swarm] of [...this.#swarms]) this.#expireSwarm(key, swarm, now);
  }

  /**
   * Checks the invariants in the file header.
   * @throws {Error} naming the broken invariant
   */
  assertInvariants(): void {
    if (this.#swarms.size > this.#opts.maxInfoHashes) throw new Error("PeerStore: too many hashes");
    let total = 0;
    for (const swarm of this.#swarms.values()) total += swarm.size;
    if (total !== this.#total || total > this.#opts.maxPeers) {
      throw new Error(`PeerStore: ${total} peers held, ${this.#total} counted`);
    }
    for (const swarm of this.#swarms.values()) {
      if (swarm.size === 0 || swarm.size > this.#opts.maxPeersPerInfoHash) {
        throw new Error(`PeerStore: a swarm holds ${swarm.size} peers`);
      }
      let last = -Infinity;
      for (const s of swarm.values()) {
        if (s.at < last) throw new Error("PeerStore: announces out of order");
        last = s.at;
      }
    }
  }
}
