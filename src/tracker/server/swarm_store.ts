/**
 * The tracker server's in-memory swarms: who announced which info-hash, counts, and a
 * random selection of peers for each announce (never the asker, numwant ≤ 100, TS4).
 *
 * Peers are keyed by source IP plus their `key` (or peer id when no key), so nobody can
 * stop or move another host's entry (TS6); a claimed `ip=` is never an input (TS3); port 0
 * is refused (TS6). Each swarm's peer map is kept in least-recently-announced order, so
 * expiry (`sweep`) pops from its front and the per-swarm cap evicts the stalest peer;
 * swarms are likewise in LRU order for the swarm cap and the global peer cap. A private
 * tracker refuses info-hashes outside its allowlist.
 *
 * Invariants: each swarm's `seeders` equals its seeding peers; `list4`/`list6` hold exactly
 * the map's peers with `index` matching their slot; the total equals the sum of swarms.
 *
 * Layer: core (pure; `now` in ms passed in, randomness injected).
 * @module
 */
import type { Random } from "../../runtime/types.ts";
import { fromHex } from "../../util/bytes.ts";
import { shortLatin1 } from "./_latin1.ts";
import { PeerRecord, type StoredPeer } from "./stored_peer.ts";
import { ipKeyOf } from "../../util/ip.ts";
import { TrackerFailureError } from "../tracker_errors.ts";
import type { AnnounceEvent } from "../types.ts";

/** Options of a {@linkcode SwarmStore}. */
export interface SwarmStoreOptions {
  /** Peer selection. */
  readonly random: Random;
  /** Announce interval told to clients, seconds (default 1800). */
  readonly intervalS?: number;
  /** Minimum interval told to clients, seconds (default 60). */
  readonly minIntervalS?: number;
  /** A peer is dropped after this long without announcing, seconds (default 2 × interval). */
  readonly peerTtlS?: number;
  /** Peers returned when the client does not say (default 50). */
  readonly defaultNumwant?: number;
  /** Most peers returned (default 100, TS4). */
  readonly maxNumwant?: number;
  /** Most swarms; the least recently announced is evicted (default 100,000). */
  readonly maxSwarms?: number;
  /** Most peers per swarm; the stalest is evicted (default 50,000). */
  readonly maxPeersPerSwarm?: number;
  /** Most peers in total (default 2,000,000). */
  readonly maxPeers?: number;
  /** Private tracker: only these info-hashes (20 bytes or 40 hex digits). */
  readonly allowlist?: Iterable<Uint8Array | string>;
}

/** One announce as the server saw it. */
export interface PeerAnnounce {
  /** The packet's source address (never a claimed `ip=`, TS3). */
  readonly ip: string;
  /** Listening port, 1..65535. */
  readonly port: number;
  /** 20-byte peer id. */
  readonly peerId: Uint8Array;
  /** The client's `key`, when sent. */
  readonly key?: string | undefined;
  /** Bytes left; 0 means a seeder. */
  readonly left: number;
  /** Event, if any. */
  readonly event?: AnnounceEvent | undefined;
  /** Peers wanted; negative or missing means the default. */
  readonly numwant?: number | undefined;
}

/** Swarm counts, as in a scrape. */
export interface SwarmCounts {
  /** Seeders. */
  readonly complete: number;
  /** Leechers. */
  readonly incomplete: number;
  /** `completed` events seen. */
  readonly downloaded: number;
}

/** The answer to one announce. */
export interface SwarmAnnounceResult extends SwarmCounts {
  /** Random other peers. */
  readonly peers: StoredPeer[];
  /** Interval to tell the client, seconds. */
  readonly intervalS: number;
  /** Minimum interval to tell the client, seconds. */
  readonly minIntervalS: number;
}

/** Totals for the stats page. */
export interface StoreStats {
  /** Swarms tracked. */
  readonly swarms: number;
  /** Peers tracked. */
  readonly peers: number;
  /** Seeders across swarms. */
  readonly seeders: number;
  /** Leechers across swarms. */
  readonly leechers: number;
  /** Announces handled. */
  readonly announces: number;
  /** Scrapes handled (per info-hash). */
  readonly scrapes: number;
  /** Peers dropped by expiry or caps. */
  readonly evicted: number;
}

/** Which peers an asker can use: UDP sockets answer one family, HTTP both. */
export type PeerFamily = 4 | 6 | "any";

class Swarm {
  readonly peers = new Map<string, PeerRecord>();
  readonly list4: PeerRecord[] = [];
  readonly list6: PeerRecord[] = [];
  seeders = 0;
  downloaded = 0;
}

/**
 * In-memory swarms of a tracker server.
 * @example
 * ```ts
 * import { addressOf, SwarmStore } from "./mod.ts";
 * import { SeededRandom } from "../../util/prng.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const store = new SwarmStore({ random: new SeededRandom(1), intervalS: 600 });
 * const hash = new Uint8Array(20).fill(7);
 * store.announce(0, hash, { ip: "192.0.2.1", port: 6881, peerId: new Uint8Array(20).fill(1), left: 0 });
 * const result = store.announce(0, hash, { ip: "192.0.2.2", port: 6882, peerId: new Uint8Array(20).fill(2), left: 9 });
 * assertEquals(result.peers.map(addressOf), [{ host: "192.0.2.1", port: 6881 }]);
 * assertEquals([result.complete, result.incomplete, result.intervalS], [1, 1, 600]);
 * assertEquals(store.sweep(1_200_001), 2); // both missed two intervals
 * ```
 */
export class SwarmStore {
  /** xorshift32 state, seeded from the injected `Random`: selection draws ~50 numbers per announce. */
  #rng: number;
  readonly #intervalS: number;
  readonly #minIntervalS: number;
  readonly #ttlMs: number;
  readonly #defaultNumwant: number;
  readonly #maxNumwant: number;
  readonly #maxSwarms: number;
  readonly #maxPerSwarm: number;
  readonly #maxPeers: number;
  readonly #allow: Set<string> | undefined;
  readonly #swarms = new Map<string, Swarm>();
  #peers = 0;
  #seeders = 0;
  #announces = 0;
  #scrapes = 0;
  #evicted = 0;

  /**
   * Builds an empty store.
   * @param options randomness, timing, caps and allowlist
   * @throws {SyntaxError} when an allowlist entry is not 20 bytes or 40 hex digits
   */
  constructor(options: SwarmStoreOptions) {
    this.#rng = (options.random.int(0xffffffff) | 0) || 0x9e3779b9;
    this.#intervalS = options.intervalS ?? 1800;
    this.#minIntervalS = Math.min(options.minIntervalS ?? 60, this.#intervalS);
    this.#ttlMs = (options.peerTtlS ?? 2 * this.#intervalS) * 1000;
    this.#defaultNumwant = options.defaultNumwant ?? 50;
    this.#maxNumwant = options.maxNumwant ?? 100;
    this.#maxSwarms = options.maxSwarms ?? 100_000;
    this.#maxPerSwarm = options.maxPeersPerSwarm ?? 50_000;
    this.#maxPeers = options.maxPeers ?? 2_000_000;
    if (options.allowlist) {
      this.#allow = new Set();
      for (const h of options.allowlist) {
        const bytes = typeof h === "string" ? fromHex(h) : h;
        if (bytes.length !== 20) {
          throw new SyntaxError(`Allowlist entry of ${bytes.length} bytes, need 20`);
        }
        this.#allow.add(shortLatin1(bytes));
      }
    }
  }

  /** Interval told to clients, seconds. */
  get intervalS(): number {
    return this.#intervalS;
  }

  /**
   * Whether this tracker serves an info-hash (always, unless an allowlist is set).
   * @param infoHash 20 bytes
   * @returns true when allowed
   */
  isAllowed(infoHash: Uint8Array): boolean {
    return !this.#allow || this.#allow.has(shortLatin1(infoHash));
  }

  /**
   * Records an announce and picks peers for the asker.
   * @param now current time, ms
   * @param infoHash 20 bytes
   * @param input the announce
   * @param family which peers the asker can use
   * @returns counts and a random selection of other peers (none for `stopped`)
   * @throws {TrackerFailureError} for an info-hash outside the allowlist, a bad info-hash or
   *   peer id length, port 0, or an IP that is not a literal
   */
  announce(
    now: number,
    infoHash: Uint8Array,
    input: PeerAnnounce,
    family: PeerFamily = "any",
  ): SwarmAnnounceResult {
    if (input.peerId.length !== 20) throw new TrackerFailureError("Invalid peer_id");
    if (!Number.isInteger(input.port) || input.port < 1 || input.port > 65535) {
      throw new TrackerFailureError(`Invalid port ${input.port}`);
    }
    const ipKey = ipKeyOf(input.ip);
    if (ipKey === undefined) throw new TrackerFailureError("Invalid source address");
    const hashKey = this.#checkedHash(infoHash);
    this.#announces++;
    const peerId = shortLatin1(input.peerId);
    const peerKey = `${ipKey}\u0000${input.key ?? peerId}`;
    let swarm = this.#swarms.get(hashKey);
    if (input.event === "stopped") {
      const peer = swarm?.peers.get(peerKey);
      if (swarm && peer) this.#remove(hashKey, swarm, peerKey, peer);
      return this.#result(swarm, []);
    }
    swarm = this.#touchSwarm(hashKey, swarm);
    const peer = this.#upsert(swarm, peerKey, ipKey, input.port, peerId, input.left === 0, now);
    if (input.event === "completed") swarm.downloaded++;
    const numwant = input.numwant === undefined || input.numwant < 0
      ? this.#defaultNumwant
      : input.numwant;
    const want = Math.min(numwant, this.#maxNumwant);
    const own = ipKey.length === 4 ? 4 : 6;
    const first = family === "any" ? own : family;
    return this.#result(
      swarm,
      this.#select(swarm, peer, want, first, family === "any" ? 10 - own : 0),
    );
  }

  /**
   * Counts for an info-hash (zeros when unknown or not allowed).
   * @param infoHash 20 bytes
   * @returns the counts
   */
  scrape(infoHash: Uint8Array): SwarmCounts {
    this.#scrapes++;
    const swarm = infoHash.length === 20 ? this.#swarms.get(shortLatin1(infoHash)) : undefined;
    return swarm ? this.#counts(swarm) : { complete: 0, incomplete: 0, downloaded: 0 };
  }

  /**
   * Drops peers that missed their announces (older than the TTL) and empty swarms.
   * @param now current time, ms
   * @returns how many peers were dropped
   */
  sweep(now: number): number {
    let dropped = 0;
    for (const [hashKey, swarm] of this.#swarms) {
      for (const [key, peer] of swarm.peers) {
        if (now - peer.lastSeen <= this.#ttlMs) break;
        this.#remove(hashKey, swarm, key, peer);
        this.#evicted++;
        dropped++;
      }
    }
    return dropped;
  }

  /**
   * Totals.
   * @returns a snapshot
   */
  stats(): StoreStats {
    return {
      swarms: this.#swarms.size,
      peers: this.#peers,
      seeders: this.#seeders,
      leechers: this.#peers - this.#seeders,
      announces: this.#announces,
      scrapes: this.#scrapes,
      evicted: this.#evicted,
    };
  }

  /**
   * The busiest swarms, for the stats page.
   * @param limit how many
   * @returns hex info-hashes with counts, most peers first
   */
  topSwarms(limit: number): (SwarmCounts & { readonly infoHash: string })[] {
    const all = [...this.#swarms].map(([k, s]) => ({ infoHash: hexOf(k), ...this.#counts(s) }));
    all.sort((a, b) => b.complete + b.incomplete - (a.complete + a.incomplete));
    return all.slice(0, limit);
  }

  /**
   * Checks the class invariants (O(peers); for tests).
   * @throws {Error} when one is broken
   */
  assertInvariants(): void {
    let total = 0, seeders = 0;
    for (const swarm of this.#swarms.values()) {
      let s = 0;
      for (const p of swarm.peers.values()) {
        const list = p.addr6 === undefined ? swarm.list4 : swarm.list6;
        if (list[p.index] !== p) throw new Error("Peer index out of sync");
        if (p.isSeed) s++;
      }
      if (swarm.list4.length + swarm.list6.length !== swarm.peers.size) {
        throw new Error("Peer lists out of sync");
      }
      if (s !== swarm.seeders) throw new Error(`Seeder count ${swarm.seeders}, actual ${s}`);
      if (swarm.peers.size === 0) throw new Error("Empty swarm kept");
      total += swarm.peers.size;
      seeders += s;
    }
    if (total !== this.#peers || seeders !== this.#seeders) throw new Error("Totals out of sync");
  }

  #checkedHash(infoHash: Uint8Array): string {
    if (infoHash.length !== 20) throw new TrackerFailureError("Invalid info_hash");
    const key = shortLatin1(infoHash);
    if (this.#allow && !this.#allow.has(key)) {
      throw new TrackerFailureError("Requested download is not authorized");
    }
    return key;
  }

  #touchSwarm(hashKey: string, swarm: Swarm | undefined): Swarm {
    if (swarm) {
      this.#swarms.delete(hashKey); // re-insert: most recently used goes last
      this.#swarms.set(hashKey, swarm);
      return swarm;
    }
    if (this.#swarms.size >= this.#maxSwarms) this.#evictSwarm();
    const created = new Swarm();
    this.#swarms.set(hashKey, created);
    return created;
  }

  #upsert(
    swarm: Swarm,
    key: string,
    ipKey: string,
    port: number,
    peerId: string,
    isSeed: boolean,
    now: number,
  ): PeerRecord {
    let peer = swarm.peers.get(key);
    if (peer) {
      swarm.peers.delete(key);
      if ((peer.addr6 === undefined) !== (ipKey.length === 4)) {
        this.#unlist(swarm, peer);
        peer.setAddress(ipKey, port);
        this.#list(swarm, peer);
      } else {
        peer.setAddress(ipKey, port);
      }
      peer.peerId = peerId;
      if (peer.isSeed !== isSeed) this.#addSeeders(swarm, isSeed ? 1 : -1);
      peer.isSeed = isSeed;
      peer.lastSeen = now;
    } else {
      if (swarm.peers.size >= this.#maxPerSwarm) this.#evictOldest(swarm);
      if (this.#peers >= this.#maxPeers) this.#evictGlobal(swarm);
      peer = new PeerRecord(ipKey, port, peerId, isSeed, now, 0);
      this.#list(swarm, peer);
      this.#peers++;
      if (isSeed) this.#addSeeders(swarm, 1);
    }
    swarm.peers.set(key, peer);
    return peer;
  }

  #addSeeders(swarm: Swarm, delta: number): void {
    swarm.seeders += delta;
    this.#seeders += delta;
  }

  #list(swarm: Swarm, peer: PeerRecord): void {
    const list = peer.addr6 === undefined ? swarm.list4 : swarm.list6;
    peer.index = list.length;
    list.push(peer);
  }

  #unlist(swarm: Swarm, peer: PeerRecord): void {
    const list = peer.addr6 === undefined ? swarm.list4 : swarm.list6;
    const last = list.pop()!;
    if (last !== peer) {
      list[peer.index] = last;
      last.index = peer.index;
    }
  }

  #remove(hashKey: string, swarm: Swarm, key: string, peer: PeerRecord): void {
    swarm.peers.delete(key);
    this.#unlist(swarm, peer);
    this.#peers--;
    if (peer.isSeed) this.#addSeeders(swarm, -1);
    if (swarm.peers.size === 0) this.#swarms.delete(hashKey);
  }

  #evictOldest(swarm: Swarm): void {
    const first = swarm.peers.entries().next();
    if (first.done) return;
    swarm.peers.delete(first.value[0]);
    this.#unlist(swarm, first.value[1]);
    this.#peers--;
    if (first.value[1].isSeed) this.#addSeeders(swarm, -1);
    this.#evicted++;
  }

  #evictGlobal(keep: Swarm): void {
    for (const [hashKey, swarm] of this.#swarms) {
      if (swarm === keep) continue;
      const first = swarm.peers.entries().next();
      if (first.done) continue;
      this.#remove(hashKey, swarm, first.value[0], first.value[1]);
      this.#evicted++;
      return;
    }
    this.#evictOldest(keep); // the asker's swarm is the only one: it stays listed
  }

  #evictSwarm(): void {
    const first = this.#swarms.entries().next();
    if (first.done) return;
    const [hashKey, swarm] = first.value;
    this.#swarms.delete(hashKey);
    this.#peers -= swarm.peers.size;
    this.#seeders -= swarm.seeders;
    this.#evicted += swarm.peers.size;
  }

  /** Partial Fisher–Yates over each family's list, skipping the asker. */
  #select(
    swarm: Swarm,
    asker: PeerRecord,
    want: number,
    first: number,
    second: number,
  ): StoredPeer[] {
    const out: StoredPeer[] = [];
    for (let f = first; f !== 0; f = f === second ? 0 : second) {
      const list = f === 4 ? swarm.list4 : swarm.list6;
      const n = list.length;
      let x = this.#rng;
      for (let i = 0; i < n && out.length < want; i++) {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        const j = i + Math.floor(((x >>> 0) / 4294967296) * (n - i));
        const picked = list[j]!;
        if (j !== i) {
          const moved = list[i]!;
          list[i] = picked;
          picked.index = i;
          list[j] = moved;
          moved.index = j;
        }
        if (picked !== asker) out.push(picked);
      }
      this.#rng = x;
    }
    return out;
  }

  #counts(swarm: Swarm): SwarmCounts {
    return {
      complete: swarm.seeders,
      incomplete: swarm.peers.size - swarm.seeders,
      downloaded: swarm.downloaded,
    };
  }

  #result(swarm: Swarm | undefined, peers: StoredPeer[]): SwarmAnnounceResult {
    const seeders = swarm ? swarm.seeders : 0;
    return {
      complete: seeders,
      incomplete: swarm ? swarm.peers.size - seeders : 0,
      downloaded: swarm ? swarm.downloaded : 0,
      peers,
      intervalS: this.#intervalS,
      minIntervalS: this.#minIntervalS,
    };
  }
}

function hexOf(latin1: string): string {
  let out = "";
  for (let i = 0; i < latin1.length; i++) out += latin1.charCodeAt(i).toString(16).padStart(2, "0");
  return out;
}
