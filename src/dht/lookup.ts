/**
 * The iterative Kademlia lookup of BEP 5 as a pure state machine: keep the
 * candidates sorted by XOR distance to the target, keep α = 3 queries in flight to
 * the closest unqueried ones, and finish once the k closest live candidates have all
 * answered. A query count and a time budget bound every lookup (RELIABILITY D8); the
 * driver sends the queries, feeds back replies and calls `onTimeout`.
 *
 * Invariants: in-flight ≤ α; queries sent ≤ `maxQueries`; candidates ≤ `maxCandidates`
 * plus those in flight or answered; peers ≤ `maxPeers`, deduplicated.
 *
 * Layer: core (pure; time is passed in).
 * @module
 */
import type { PeerAddress } from "../runtime/types.ts";
import { toLatin1 } from "../util/bytes.ts";
import { addressKey, isUsableAddress } from "./_address.ts";
import type { DhtContact } from "./compact.ts";
import { compareDistance, NODE_ID_LENGTH } from "./node_id.ts";

/** Which query a lookup sends. */
export type LookupKind = "find_node" | "get_peers";

/** Tunables of a {@linkcode Lookup}. */
export interface LookupOptions {
  /** Result size and convergence width (BEP 5 K). Default 8. */
  readonly k?: number;
  /** Queries in flight (Kademlia α). Default 3. */
  readonly alpha?: number;
  /** Queries sent at most. Default 64. */
  readonly maxQueries?: number;
  /** The lookup ends this long after it started. Default 30 s. */
  readonly timeBudgetMs?: number;
  /** Unqueried candidates kept (the farthest are dropped). Default 64. */
  readonly maxCandidates?: number;
  /** Peers collected at most (`get_peers`). Default 1,000. */
  readonly maxPeers?: number;
  /** Accept loopback and private addresses (test mode, D7). Default false. */
  readonly allowLocalAddresses?: boolean;
  /** An id never to add (our own). */
  readonly excludeId?: Uint8Array;
}

/** A node to start from; the id may be unknown (bootstrap routers). */
export interface LookupSeed {
  /** The node id, when known. */
  readonly id?: Uint8Array;
  /** Its address. */
  readonly address: PeerAddress;
}

/** What a node answered, as the lookup needs it. */
export interface LookupReply {
  /** The responder's id. */
  readonly id: Uint8Array;
  /** Closer nodes it knows. */
  readonly nodes?: readonly DhtContact[];
  /** Peers for the info-hash. */
  readonly values?: readonly PeerAddress[];
  /** Its announce token. */
  readonly token?: Uint8Array | undefined;
}

/** A node that answered, with its announce token (for `get_peers`). */
export interface LookupNode extends DhtContact {
  /** The token to use in `announce_peer`, when it sent one. */
  readonly token: Uint8Array | undefined;
}

/** Why a lookup ended. */
export type LookupEnd = "converged" | "exhausted" | "query-budget" | "time-budget" | "aborted";

/** Outcome of a finished lookup. */
export interface LookupResult {
  /** The k closest nodes that answered, closest first. */
  readonly closest: LookupNode[];
  /** Peers found (`get_peers`). */
  readonly peers: PeerAddress[];
  /** Queries sent. */
  readonly queries: number;
  /** Replies received. */
  readonly replies: number;
  /** Queries that timed out or drew an error. */
  readonly failures: number;
  /** Why it ended. */
  readonly end: LookupEnd;
}

type CandidateState = "new" | "flight" | "replied" | "failed";

interface Candidate {
  id: Uint8Array | undefined;
  address: PeerAddress;
  key: string;
  state: CandidateState;
  token: Uint8Array | undefined;
}

/**
 * One iterative lookup.
 *
 * @example
 * ```ts
 * import { Lookup } from "./lookup.ts";
 * import { deepStrictEqual } from "node:assert";
 * const lookup = new Lookup(new Uint8Array(20), "get_peers", 0);
 * const node = { id: new Uint8Array(20).fill(1), address: { host: "1.2.3.4", port: 6881 } };
 * lookup.seed([node]);
 * deepStrictEqual(lookup.next(0), [node]); // the driver sends get_peers to it
 * const peers = lookup.onReply(node.address, { id: node.id, values: [{ host: "9.9.9.9", port: 1 }] }, 5);
 * deepStrictEqual(peers, [{ host: "9.9.9.9", port: 1 }]);
 * deepStrictEqual(lookup.isDone(5), true);
 * deepStrictEqual(lookup.result().end, "converged");
 * ```
 */
export class Lookup {
  /** The id or info-hash sought. */
  readonly target: Uint8Array;
  /** The query this lookup sends. */
  readonly kind: LookupKind;
  /** Clock ms when the lookup ends regardless of progress. */
  readonly deadline: number;
  #opts: Required<Omit<LookupOptions, "excludeId">> & { excludeId: Uint8Array | undefined };
  #sorted: Candidate[] = []; // known ids, closest first
  #unknown: Candidate[] = []; // seeds without an id, queried first
  #byKey = new Map<string, Candidate>();
  #ids = new Set<string>();
  #peers = new Map<string, PeerAddress>();
  #queries = 0;
  #replies = 0;
  #failures = 0;
  #end: LookupEnd | undefined;

  /**
   * Starts a lookup.
   * @param target the 20-byte id or info-hash
   * @param kind `"find_node"` or `"get_peers"`
   * @param now current clock ms
   * @param options tunables
   * @throws {RangeError} when the target is not 20 bytes or `k`/`alpha` are below 1
   */
  constructor(target: Uint8Array, kind: LookupKind, now: number, options: LookupOptions = {}) {
    if (target.length !== NODE_ID_LENGTH) throw new RangeError("Cannot look up a non-20-byte id");
    this.#opts = {
      k: 8,
      alpha: 3,
      maxQueries: 64,
      timeBudgetMs: 30_000,
      maxCandidates: 64,
      maxPeers: 1000,
      allowLocalAddresses: false,
      ...options,
      excludeId: options.excludeId,
    };
    if (this.#opts.k < 1 || this.#opts.alpha < 1) throw new RangeError("Cannot use k or α below 1");
    this.target = target.slice();
    this.kind = kind;
    this.deadline = now + this.#opts.timeBudgetMs;
  }

  /** Queries sent so far. */
  get queries(): number {
    return this.#queries;
  }

  /**
   * Adds starting nodes (from the routing table, saved state or bootstrap routers).
   * @param seeds the nodes
   */
  seed(seeds: readonly LookupSeed[]): void {
    for (const s of seeds) this.#add(s.id, s.address, s.address.host);
  }

  /** Adds a node to ask; `source` is who told us of it (the scope rule). */
  #add(id: Uint8Array | undefined, address: PeerAddress, source: string): void {
    if (!isUsableAddress(address, source, this.#opts.allowLocalAddresses)) return;
    const key = addressKey(address);
    if (this.#byKey.has(key)) return;
    const c: Candidate = { id: undefined, address, key, state: "new", token: undefined };
    this.#byKey.set(key, c);
    if (id === undefined) this.#unknown.push(c);
    else if (!this.#setId(c, id)) this.#byKey.delete(key);
  }

  /** Places `c` in the sorted list under `id`; false when the id is taken, invalid or ours. */
  #setId(c: Candidate, id: Uint8Array): boolean {
    const idKey = toLatin1(id);
    if (id.length !== NODE_ID_LENGTH || this.#ids.has(idKey)) return false;
    const ex = this.#opts.excludeId;
    if (ex && toLatin1(ex) === idKey) return false;
    this.#ids.add(idKey);
    c.id = id;
    let lo = 0, hi = this.#sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (compareDistance(this.target, this.#sorted[mid]!.id!, id) < 0) lo = mid + 1;
      else hi = mid;
    }
    this.#sorted.splice(lo, 0, c);
    return true;
  }

  #trim(): void {
    let fresh = 0;
    for (let i = 0; i < this.#sorted.length; i++) {
      const c = this.#sorted[i]!;
      if (c.state !== "new" && c.state !== "failed") continue;
      if (++fresh <= this.#opts.maxCandidates) continue;
      this.#sorted.splice(i--, 1);
      this.#byKey.delete(c.key); // forgotten entirely: may come back if someone names it again
      this.#ids.delete(toLatin1(c.id!));
    }
  }

  #inFlight(): number {
    let n = 0;
    for (const c of this.#byKey.values()) if (c.state === "flight") n++;
    return n;
  }

  /**
   * The nodes to query now; they count as in flight until a reply or timeout.
   * @param now current clock ms
   * @returns contacts to send the lookup's query to (id unknown for routers)
   */
  next(now: number): LookupSeed[] {
    if (this.isDone(now)) return [];
    let slots = this.#opts.alpha - this.#inFlight();
    const out: LookupSeed[] = [];
    const take = (c: Candidate) => {
      c.state = "flight";
      this.#queries++;
      slots--;
      out.push(c.id ? { id: c.id, address: c.address } : { address: c.address });
    };
    for (const c of this.#unknown) {
      if (slots <= 0 || this.#queries >= this.#opts.maxQueries) return out;
      if (c.state === "new") take(c);
    }
    let rank = 0;
    for (const c of this.#sorted) {
      if (slots <= 0 || this.#queries >= this.#opts.maxQueries || rank >= this.#opts.k) break;
      if (c.state === "failed") continue;
      rank++;
      if (c.state === "new") take(c);
    }
    return out;
  }

  #find(address: PeerAddress): Candidate | undefined {
    const c = this.#byKey.get(addressKey(address));
    return c?.state === "flight" ? c : undefined;
  }

  /**
   * Feeds a reply from a queried node.
   * @param from the address the query went to
   * @param reply what it answered
   * @param now current clock ms
   * @returns peers not seen before in this lookup (already filtered, D7)
   */
  onReply(from: PeerAddress, reply: LookupReply, now: number): PeerAddress[] {
    const c = this.#find(from);
    if (!c || this.isDone(now)) return [];
    this.#replies++;
    c.state = "replied";
    c.token = reply.token;
    if (!c.id || toLatin1(c.id) !== toLatin1(reply.id)) {
      this.#sorted = this.#sorted.filter((x) => x !== c);
      this.#unknown = this.#unknown.filter((x) => x !== c);
      if (c.id) this.#ids.delete(toLatin1(c.id));
      if (!this.#setId(c, reply.id)) c.state = "failed"; // duplicate or our own id
    }
    for (const n of reply.nodes ?? []) this.#add(n.id, n.address, from.host);
    this.#trim();
    const fresh: PeerAddress[] = [];
    for (const p of reply.values ?? []) {
      const key = addressKey(p);
      if (this.#peers.size >= this.#opts.maxPeers || this.#peers.has(key)) continue;
      if (!isUsableAddress(p, from.host, this.#opts.allowLocalAddresses)) continue;
      this.#peers.set(key, p);
      fresh.push(p);
    }
    return fresh;
  }

  /**
   * Records that a query timed out or drew an error reply.
   * @param from the address the query went to
   */
  onTimeout(from: PeerAddress): void {
    const c = this.#find(from);
    if (!c) return;
    c.state = "failed";
    this.#failures++;
  }

  /** Ends the lookup now (cancelled or shutting down); later replies are ignored. */
  abort(): void {
    this.#end ??= "aborted";
  }

  /**
   * Whether the lookup has finished (and why, via {@linkcode Lookup.result}).
   * @param now current clock ms
   * @returns true once converged, exhausted or out of budget
   */
  isDone(now: number): boolean {
    if (this.#end) return true;
    if (now >= this.deadline) this.#end = "time-budget";
    else this.#end = this.#converged();
    return this.#end !== undefined;
  }

  #converged(): LookupEnd | undefined {
    let rank = 0, flight = 0;
    let open = this.#unknown.some((c) => c.state === "new" || c.state === "flight");
    for (const c of this.#byKey.values()) if (c.state === "flight") flight++;
    for (const c of this.#sorted) {
      if (rank >= this.#opts.k) break;
      if (c.state === "failed") continue;
      rank++;
      if (c.state !== "replied") open = true;
    }
    if (!open) return rank > 0 ? "converged" : flight === 0 ? "exhausted" : undefined;
    if (this.#queries >= this.#opts.maxQueries && flight === 0) return "query-budget";
    return undefined;
  }

  /**
   * The outcome so far (final once {@linkcode Lookup.isDone} is true).
   * @returns the closest responders with tokens, the peers and the counters
   */
  result(): LookupResult {
    const closest: LookupNode[] = [];
    for (const c of this.#sorted) {
      if (closest.length >= this.#opts.k) break;
      if (c.state === "replied") closest.push({ id: c.id!, address: c.address, token: c.token });
    }
    return {
      closest,
      peers: [...this.#peers.values()],
      queries: this.#queries,
      replies: this.#replies,
      failures: this.#failures,
      end: this.#end ?? "exhausted",
    };
  }

  /**
   * Checks the invariants in the file header.
   * @throws {Error} naming the broken invariant
   */
  assertInvariants(): void {
    if (this.#inFlight() > this.#opts.alpha) throw new Error("Lookup: too many in flight");
    if (this.#queries > this.#opts.maxQueries) throw new Error("Lookup: over the query budget");
    if (this.#peers.size > this.#opts.maxPeers) throw new Error("Lookup: too many peers");
    for (let i = 1; i < this.#sorted.length; i++) {
      if (compareDistance(this.target, this.#sorted[i - 1]!.id!, this.#sorted[i]!.id!) >= 0) {
        throw new Error("Lookup: candidates out of order");
      }
    }
  }
}
