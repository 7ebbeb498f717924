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
import { type TrackerSettings, validateTrackerSettings } from "./settings.ts";
import { Swarm } from "./swarm.ts";

/**
 * Options of a {@linkcode SwarmStore}: randomness, an optional allowlist, and the store's
 * part of {@linkcode TrackerSettings} (intervals, peer lifetime, numwant and caps; defaults
 * in `DEFAULT_TRACKER_SETTINGS`).
 */
export interface SwarmStoreOptions extends Partial<TrackerSettings> {
  /** Peer selection. */
  readonly random: Random;
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

/** Peer times are whole seconds, so V8 keeps them as small integers rather than boxed doubles. */
function secondsOf(nowMs: number): number {
  return Math.floor(nowMs / 1000);
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
 * assertEquals(store.sweep(1_201_000), 2); // both missed two intervals
 * ```
 */
export class SwarmStore {
  /** xorshift32 state, seeded from the injected `Random`: selection draws ~50 numbers per announce. */
  #rng: number;
  readonly #settings: TrackerSettings;
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
   * @throws {RangeError} when a setting is out of range (see `validateTrackerSettings`)
   */
  constructor(options: SwarmStoreOptions) {
    this.#rng = (options.random.int(0xffffffff) | 0) || 0x9e3779b9;
    const { random: _, allowlist: __, ...settings } = options;
    this.#settings = validateTrackerSettings(settings);
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
    return this.#settings.intervalS;
  }

  /** The settings in force (defaults filled in). */
  get settings(): TrackerSettings {
    return this.#settings;
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
      ? this.#settings.defaultNumwant
      : input.numwant;
    const want = Math.min(numwant, this.#settings.maxNumwant);
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
    const oldest = secondsOf(now) - this.#settings.peerTtlS;
    for (const [hashKey, swarm] of this.#swarms) {
      for (const [key, peer] of swarm.peers) {
        if (peer.lastSeenS >= oldest) break;
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
    // One pass keeping the `limit` largest: O(limit) memory however many swarms there are
    // (a sorted copy of 100,000 swarms per /stats request took the process to 750 MiB).
    const top: [string, Swarm][] = [];
    for (const entry of this.#swarms) {
      const size = entry[1].peers.size;
      if (top.length === limit && (limit === 0 || size <= top[limit - 1]![1].peers.size)) continue;
      let at = top.length === limit ? limit - 1 : top.length;
      while (at > 0 && top[at - 1]![1].peers.size < size) {
        top[at] = top[at - 1]!;
        at--;
      }
      top[at] = entry;
    }
    return top.map(([k, s]) => ({ infoHash: hexOf(k), ...this.#counts(s) }));
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
        if (list?.[p.index] !== p) throw new Error("Peer index out of sync");
        if (p.isSeed) s++;
      }
      if ((swarm.list4?.length ?? 0) + (swarm.list6?.length ?? 0) !== swarm.peers.size) {
        throw new Error("Peer lists out of sync");
      }
      if (swarm.peers.size > this.#settings.maxPeersPerSwarm) throw new Error("Swarm over its cap");
      if (s !== swarm.seeders) throw new Error(`Seeder count ${swarm.seeders}, actual ${s}`);
      if (swarm.peers.size === 0) throw new Error("Empty swarm kept");
      total += swarm.peers.size;
      seeders += s;
    }
    if (total !== this.#peers || seeders !== this.#seeders) throw new Error("Totals out of sync");
    if (total > this.#settings.maxPeers || this.#swarms.size > this.#settings.maxSwarms) {
      throw new Error("Store over its caps");
    }
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
    if (this.#swarms.size >= this.#settings.maxSwarms) this.#evictSwarm();
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
        swarm.unlist(peer);
        peer.setAddress(ipKey, port);
        swarm.list(peer);
      } else {
        peer.setAddress(ipKey, port);
      }
      peer.peerId = peerId;
      if (peer.isSeed !== isSeed) this.#addSeeders(swarm, isSeed ? 1 : -1);
      peer.isSeed = isSeed;
      peer.lastSeenS = secondsOf(now);
    } else {
      if (swarm.peers.size >= this.#settings.maxPeersPerSwarm) this.#evictOldest(swarm);
      if (this.#peers >= this.#settings.maxPeers) this.#evictGlobal(swarm);
      peer = new PeerRecord(ipKey, port, peerId, isSeed, secondsOf(now), 0);
      swarm.list(peer);
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

  #remove(hashKey: string, swarm: Swarm, key: string, peer: PeerRecord): void {
    swarm.peers.delete(key);
    swarm.unlist(peer);
    this.#peers--;
    if (peer.isSeed) this.#addSeeders(swarm, -1);
    if (swarm.peers.size === 0) this.#swarms.delete(hashKey);
  }

  #evictOldest(swarm: Swarm): void {
    const first = swarm.peers.entries().next();
    if (first.done) return;
    swarm.peers.delete(first.value[0]);
    swarm.unlist(first.value[1]);
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
      const list = (f === 4 ? swarm.list4 : swarm.list6) ?? [];
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
      intervalS: this.#settings.intervalS,
      minIntervalS: this.#settings.minIntervalS,
    };
  }
}

function hexOf(latin1: string): string {
  let out = "";
  for (let i = 0; i < latin1.length; i++) out += latin1.charCodeAt(i).toString(16).padStart(2, "0");
  return out;
}
