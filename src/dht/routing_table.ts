/**
 * The Kademlia routing table of BEP 5: buckets of k = 8 nodes that split (only the
 * bucket covering our own id splits), node states good / questionable / bad, a
 * replacement cache per full bucket, refresh targets for idle buckets, at most one
 * entry per IP and one per /24 per bucket (RELIABILITY D5), optional BEP 42 checks,
 * and a bounded serialisation for saving the table across runs.
 *
 * Invariants (checked by {@linkcode RoutingTable.assertInvariants}):
 * - 1 ≤ buckets ≤ 160; each holds ≤ k nodes and ≤ `replacementsPerBucket` candidates;
 * - a node in bucket i shares exactly i prefix bits with our id (the last bucket: ≥ i);
 * - ids are unique, our own id is never stored, the id and IP indexes match the buckets;
 * - with `restrictIps`, one node per IP; with `restrictSubnets`, one per /24 per bucket.
 *
 * Layer: core (pure; time is passed in).
 * @module
 */
import { decode, encode } from "../bencode/mod.ts";
import type { Random } from "../runtime/types.ts";
import { bytesEqual, toLatin1 } from "../util/bytes.ts";
import { addressKey, canonicalHost, isUsableAddress, subnetKey } from "./_address.ts";
import { decodeCompactNodes, type DhtContact, encodeCompactNodes } from "./compact.ts";
import {
  commonPrefixBits,
  compareDistance,
  isBep42Valid,
  NODE_ID_LENGTH,
  randomIdInBucket,
} from "./node_id.ts";

/** BEP 5 node states. */
export type NodeState = "good" | "questionable" | "bad";
/** What {@linkcode RoutingTable.insert} did. */
export type InsertResult = "added" | "updated" | "replaced" | "full" | "rejected";
/** How we heard from a node: it answered us, it queried us, or it came from saved state. */
export type ContactEvent = "reply" | "query" | "saved";

/** Tunables of a {@linkcode RoutingTable}. */
export interface RoutingTableOptions {
  /** Nodes per bucket (BEP 5 K). Default 8. */
  readonly k?: number;
  /** A node stays good this long after its last reply. Default 15 min. */
  readonly goodForMs?: number;
  /** Failed queries in a row after which a node is bad. Default 5. */
  readonly maxFailures?: number;
  /** At most one node per IP in the whole table (D5). Default true. */
  readonly restrictIps?: boolean;
  /** At most one node per /24 (IPv6: /64) in a bucket (D5). Default true. */
  readonly restrictSubnets?: boolean;
  /** Accept loopback and private addresses (test mode, D7). Default false. */
  readonly allowLocalAddresses?: boolean;
  /** Reject ids that fail BEP 42 for their IP. Default false. */
  readonly enforceBep42?: boolean;
  /** Candidates kept per full bucket. Default 8. */
  readonly replacementsPerBucket?: number;
  /** A bucket untouched this long needs a refresh. Default 15 min. */
  readonly refreshIntervalMs?: number;
}

/** A snapshot of one table entry. */
export interface RoutingEntry extends DhtContact {
  /** When we last got a reply from it (clock ms), if ever. */
  readonly lastReplyAt: number | undefined;
  /** When it last queried us, if ever. */
  readonly lastQueryAt: number | undefined;
  /** Failed queries since its last reply. */
  readonly failures: number;
}

interface Entry {
  id: Uint8Array;
  address: DhtContact["address"];
  idKey: string;
  host: string;
  subnet: string;
  lastReplyAt: number | undefined;
  lastQueryAt: number | undefined;
  lastPingAt: number | undefined;
  failures: number;
}

interface Bucket {
  nodes: Entry[];
  replacements: Entry[];
  lastChangedAt: number;
}

const MINUTE = 60_000;
const SAVE_LIMITS = {
  maxBytes: 256 * 1024,
  maxDepth: 2,
  maxTokens: 16,
  maxStringLength: 128 * 1024,
};

/**
 * The routing table of one DHT node.
 *
 * @example
 * ```ts
 * import { RoutingTable } from "./routing_table.ts";
 * import { deepStrictEqual } from "node:assert";
 * const table = new RoutingTable(new Uint8Array(20));
 * const near = { id: new Uint8Array(20).fill(1), address: { host: "1.2.3.4", port: 6881 } };
 * const far = { id: new Uint8Array(20).fill(0xff), address: { host: "5.6.7.8", port: 6881 } };
 * deepStrictEqual(table.insert(far, 0), "added");
 * deepStrictEqual(table.insert(near, 0), "added");
 * deepStrictEqual(table.closest(new Uint8Array(20), 1), [near]);
 * deepStrictEqual(table.state(near.id, 16 * 60_000), "questionable");
 * ```
 */
export class RoutingTable {
  /** Our node id. */
  readonly id: Uint8Array;
  #opts: Required<RoutingTableOptions>;
  #buckets: Bucket[];
  #byId = new Map<string, Entry>();
  #byHost = new Map<string, Entry>();

  /**
   * Creates an empty table.
   * @param id our 20-byte node id
   * @param options tunables
   * @param now current clock ms (buckets count as fresh from here)
   * @throws {RangeError} when `id` is not 20 bytes
   */
  constructor(id: Uint8Array, options: RoutingTableOptions = {}, now = 0) {
    if (id.length !== NODE_ID_LENGTH) {
      throw new RangeError(`Cannot use a ${id.length}-byte node id`);
    }
    this.id = id.slice();
    this.#opts = {
      k: 8,
      goodForMs: 15 * MINUTE,
      maxFailures: 5,
      restrictIps: true,
      restrictSubnets: true,
      allowLocalAddresses: false,
      enforceBep42: false,
      replacementsPerBucket: 8,
      refreshIntervalMs: 15 * MINUTE,
      ...options,
    };
    this.#buckets = [{ nodes: [], replacements: [], lastChangedAt: now }];
  }

  /** Number of nodes in the table (candidates excluded). */
  get size(): number {
    return this.#byId.size;
  }

  /** Number of buckets. */
  get bucketCount(): number {
    return this.#buckets.length;
  }

  #bucketIndex(id: Uint8Array): number {
    return Math.min(commonPrefixBits(this.id, id), this.#buckets.length - 1);
  }

  #accepts(node: DhtContact): boolean {
    return node.id.length === NODE_ID_LENGTH && !bytesEqual(node.id, this.id) &&
      // inserted only when heard from directly (or restored): the node is its own source
      isUsableAddress(node.address, node.address.host, this.#opts.allowLocalAddresses) &&
      (!this.#opts.enforceBep42 || isBep42Valid(node.id, node.address.host));
  }

  /**
   * Records that we heard from a node, adding it when there is room.
   * @param node the node
   * @param now current clock ms
   * @param event `"reply"` (it answered us: verified), `"query"` (it queried us) or `"saved"`
   * @returns `"added"`, `"updated"` (already known), `"replaced"` (a bad or never-verified
   *   node made room), `"full"` (kept as a replacement candidate) or `"rejected"`
   *   (invalid id, own id, unusable address, id moved to another address, IP rule)
   */
  insert(node: DhtContact, now: number, event: ContactEvent = "reply"): InsertResult {
    if (!this.#accepts(node)) return "rejected";
    const idKey = toLatin1(node.id);
    const known = this.#byId.get(idKey);
    if (known) {
      if (addressKey(known.address) !== addressKey(node.address)) return "rejected";
      this.#touch(known, now, event);
      return "updated";
    }
    const host = canonicalHost(node.address.host);
    if (this.#opts.restrictIps && this.#byHost.has(host)) return "rejected";
    const entry: Entry = {
      id: node.id.slice(),
      address: { host, port: node.address.port },
      idKey,
      host,
      subnet: subnetKey(host),
      lastReplyAt: undefined,
      lastQueryAt: undefined,
      lastPingAt: undefined,
      failures: 0,
    };
    this.#touch(entry, now, event);
    for (;;) {
      const index = this.#bucketIndex(entry.id);
      const bucket = this.#buckets[index]!;
      if (this.#opts.restrictSubnets && this.#subnetTaken(bucket, entry)) return "rejected";
      if (bucket.nodes.length < this.#opts.k) {
        this.#add(bucket, entry, now);
        return "added";
      }
      if (index === this.#buckets.length - 1 && this.#buckets.length < 160) {
        this.#split();
        continue;
      }
      return this.#replaceOrQueue(bucket, entry, now);
    }
  }

  #touch(entry: Entry, now: number, event: ContactEvent): void {
    if (event === "reply") {
      entry.lastReplyAt = now;
      entry.failures = 0;
      const bucket = this.#buckets[this.#bucketIndex(entry.id)]!;
      if (bucket.nodes.includes(entry)) bucket.lastChangedAt = now;
    } else if (event === "query") entry.lastQueryAt = now;
  }

  #subnetTaken(bucket: Bucket, entry: Entry): boolean {
    return bucket.nodes.some((n) => n.host !== entry.host && n.subnet === entry.subnet);
  }

  #add(bucket: Bucket, entry: Entry, now: number): void {
    bucket.nodes.push(entry);
    bucket.lastChangedAt = now;
    this.#byId.set(entry.idKey, entry);
    this.#byHost.set(entry.host, entry);
  }

  #remove(bucket: Bucket, entry: Entry): void {
    bucket.nodes.splice(bucket.nodes.indexOf(entry), 1);
    this.#byId.delete(entry.idKey);
    if (this.#byHost.get(entry.host) === entry) this.#byHost.delete(entry.host);
  }

  #split(): void {
    const last = this.#buckets[this.#buckets.length - 1]!;
    const next: Bucket = { nodes: [], replacements: [], lastChangedAt: last.lastChangedAt };
    const depth = this.#buckets.length - 1;
    this.#buckets.push(next);
    const moves = (e: Entry) => commonPrefixBits(this.id, e.id) > depth;
    next.nodes = last.nodes.filter(moves);
    last.nodes = last.nodes.filter((e) => !moves(e));
    next.replacements = last.replacements.filter(moves);
    last.replacements = last.replacements.filter((e) => !moves(e));
  }

  #replaceOrQueue(bucket: Bucket, entry: Entry, now: number): InsertResult {
    const victim = bucket.nodes.find((n) => this.#stateOf(n, now) === "bad") ??
      (entry.lastReplyAt !== undefined
        ? bucket.nodes.find((n) => n.lastReplyAt === undefined)
        : undefined);
    if (victim) {
      this.#remove(bucket, victim);
      this.#add(bucket, entry, now);
      return "replaced";
    }
    const list = bucket.replacements.filter((r) =>
      r.idKey !== entry.idKey && r.host !== entry.host
    );
    list.push(entry);
    bucket.replacements = list.slice(-this.#opts.replacementsPerBucket);
    return "full";
  }

  #popReplacement(bucket: Bucket): Entry | undefined {
    for (let next = bucket.replacements.pop(); next; next = bucket.replacements.pop()) {
      if (this.#opts.restrictIps && this.#byHost.has(next.host)) continue;
      if (this.#opts.restrictSubnets && this.#subnetTaken(bucket, next)) continue;
      if (!this.#byId.has(next.idKey)) return next;
    }
    return undefined;
  }

  #stateOf(e: Entry, now: number): NodeState {
    if (e.failures >= this.#opts.maxFailures) return "bad";
    if (e.lastReplyAt === undefined) return "questionable";
    const good = this.#opts.goodForMs;
    if (now - e.lastReplyAt < good) return "good";
    return e.lastQueryAt !== undefined && now - e.lastQueryAt < good ? "good" : "questionable";
  }

  /**
   * The BEP 5 state of a node.
   * @param id the node id
   * @param now current clock ms
   * @returns its state, or `undefined` when the node is not in the table
   */
  state(id: Uint8Array, now: number): NodeState | undefined {
    const e = this.#byId.get(toLatin1(id));
    return e ? this.#stateOf(e, now) : undefined;
  }

  /**
   * Records a query to the node that went unanswered; a node that turns bad is
   * swapped for the newest replacement candidate of its bucket.
   * @param id the node id
   * @param now current clock ms
   * @returns the node's new state, or `undefined` when it is not in the table
   */
  markFailed(id: Uint8Array, now: number): NodeState | undefined {
    const e = this.#byId.get(toLatin1(id));
    if (!e) return undefined;
    e.failures++;
    const state = this.#stateOf(e, now);
    if (state === "bad") {
      const bucket = this.#buckets[this.#bucketIndex(e.id)]!;
      const at = bucket.nodes.indexOf(e);
      this.#remove(bucket, e);
      const next = this.#popReplacement(bucket);
      if (next) this.#add(bucket, next, now);
      else { // keep it, in place, until something better turns up
        bucket.nodes.splice(at, 0, e);
        this.#byId.set(e.idKey, e);
        this.#byHost.set(e.host, e);
      }
    }
    return state;
  }

  /**
   * Removes a node.
   * @param id the node id
   * @returns whether it was present
   */
  remove(id: Uint8Array): boolean {
    const e = this.#byId.get(toLatin1(id));
    if (!e) return false;
    this.#remove(this.#buckets[this.#bucketIndex(e.id)]!, e);
    return true;
  }

  /**
   * The `count` nodes closest to `target` by XOR distance, bad nodes excluded.
   * @param target a 20-byte id or info-hash
   * @param count how many to return; defaults to k
   * @param options `includeUnverified`: also return nodes that never answered us
   * @returns contacts, closest first
   */
  closest(
    target: Uint8Array,
    count: number = this.#opts.k,
    options: { readonly includeUnverified?: boolean } = {},
  ): DhtContact[] {
    const picked: Entry[] = [];
    for (const e of this.#byId.values()) {
      if (e.failures >= this.#opts.maxFailures) continue;
      if (e.lastReplyAt === undefined && !options.includeUnverified) continue;
      picked.push(e);
    }
    picked.sort((a, b) => compareDistance(target, a.id, b.id));
    return picked.slice(0, count).map((e) => ({ id: e.id, address: e.address }));
  }

  /**
   * One questionable node worth pinging now (BEP 5 bucket maintenance): a node that
   * never answered, or the least recently heard one, not pinged in the last minute.
   * @param now current clock ms
   * @returns the node, or `undefined` when every node is good or recently pinged
   */
  nodeToPing(now: number): DhtContact | undefined {
    let best: Entry | undefined;
    for (const e of this.#byId.values()) {
      if (this.#stateOf(e, now) === "good") continue;
      if (e.lastPingAt !== undefined && now - e.lastPingAt < MINUTE) continue;
      if (!best || (e.lastReplyAt ?? -Infinity) < (best.lastReplyAt ?? -Infinity)) best = e;
    }
    if (!best) return undefined;
    best.lastPingAt = now;
    return { id: best.id, address: best.address };
  }

  /**
   * Random targets inside every bucket idle for the refresh interval; each returned
   * bucket counts as refreshed from `now`.
   * @param now current clock ms
   * @param random source for the random ids
   * @returns lookup targets
   */
  refreshTargets(now: number, random: Random): Uint8Array[] {
    const out: Uint8Array[] = [];
    this.#buckets.forEach((bucket, i) => {
      if (now - bucket.lastChangedAt < this.#opts.refreshIntervalMs) return;
      bucket.lastChangedAt = now;
      out.push(randomIdInBucket(this.id, i, random));
    });
    return out;
  }

  /**
   * Snapshots of every node, bucket by bucket.
   * @returns the entries
   */
  entries(): RoutingEntry[] {
    return this.#buckets.flatMap((b) =>
      b.nodes.map((e) => ({
        id: e.id,
        address: e.address,
        lastReplyAt: e.lastReplyAt,
        lastQueryAt: e.lastQueryAt,
        failures: e.failures,
      }))
    );
  }

  /**
   * Serialises our id and the nodes (not the timestamps) for a later run.
   * @returns bencoded `{ id, nodes, nodes6 }`
   */
  toBytes(): Uint8Array {
    const all = this.entries();
    return encode({
      id: this.id,
      nodes: encodeCompactNodes(all, 4),
      nodes6: encodeCompactNodes(all, 6),
    });
  }

  /**
   * Rebuilds a table from {@linkcode RoutingTable.toBytes} output. Restored nodes are
   * unverified until they answer.
   * @param bytes the saved state (≤ 256 KiB)
   * @param options tunables of the new table
   * @param now current clock ms
   * @returns the table
   * @throws {SyntaxError} when the bytes are not a saved table
   */
  static fromBytes(bytes: Uint8Array, options: RoutingTableOptions = {}, now = 0): RoutingTable {
    const root = decode(bytes, SAVE_LIMITS);
    const id = root instanceof Map ? root.get("id") : undefined;
    if (!(id instanceof Uint8Array) || id.length !== NODE_ID_LENGTH) {
      throw new SyntaxError("Cannot restore a routing table: no 20-byte id");
    }
    const table = new RoutingTable(id, options, now);
    for (const [key, family] of [["nodes", 4], ["nodes6", 6]] as const) {
      const raw = (root as Map<string, unknown>).get(key);
      if (raw === undefined) continue;
      const nodes = raw instanceof Uint8Array ? decodeCompactNodes(raw, family) : undefined;
      if (!nodes) throw new SyntaxError(`Cannot restore a routing table: bad "${key}"`);
      for (const n of nodes.slice(0, 2000)) table.insert(n, now, "saved");
    }
    return table;
  }

  /**
   * Checks the invariants listed in the file header.
   * @throws {Error} naming the first broken invariant
   */
  assertInvariants(): void {
    const fail = (what: string): never => {
      throw new Error(`RoutingTable invariant broken: ${what}`);
    };
    const n = this.#buckets.length;
    if (n < 1 || n > 160) fail(`${n} buckets`);
    let count = 0;
    const hosts = new Set<string>();
    this.#buckets.forEach((bucket, i) => {
      if (bucket.nodes.length > this.#opts.k) fail(`bucket ${i} holds ${bucket.nodes.length}`);
      if (bucket.replacements.length > this.#opts.replacementsPerBucket) fail(`bucket ${i} queue`);
      const subnets = new Set<string>();
      for (const e of bucket.nodes) {
        const cpl = commonPrefixBits(this.id, e.id);
        if (cpl === 160) fail("our own id is stored");
        if (i < n - 1 ? cpl !== i : cpl < i) fail(`node with ${cpl} prefix bits in bucket ${i}`);
        if (this.#byId.get(e.idKey) !== e) fail("id index out of date");
        if (this.#opts.restrictIps && hosts.has(e.host)) fail(`two nodes on ${e.host}`);
        hosts.add(e.host);
        if (this.#opts.restrictSubnets && subnets.has(e.subnet)) fail("subnet twice");
        subnets.add(e.subnet);
        count++;
      }
    });
    if (count !== this.#byId.size) fail(`index holds ${this.#byId.size}, buckets ${count}`);
  }
}
