/**
 * The DHT node driver (BEP 5): binds the pure cores (KRPC codec, routing table,
 * lookups, tokens, peer store, rate limits) to a {@linkcode UdpSocketLike}, a
 * {@linkcode Clock} and a {@linkcode Random}. It answers the four queries, runs
 * iterative lookups, announces, bootstraps (retrying with backoff, warning once),
 * pings questionable nodes and refreshes idle buckets on a 5-second tick, and saves
 * and restores its routing table. Policy lives in the cores; this file only moves
 * bytes and timer firings.
 *
 * Under a query flood (RELIABILITY D2) every stage is bounded: a datagram that is not
 * plainly an answer to one of our queries is dropped unless both the per-IP limiter and
 * the node's query budget (`maxQueriesPerSecond`) let it through; a query is dropped
 * before any work when the reply budget is spent; the routing table, peer store, limiter
 * and transaction table are capped. Answers to our own queries are never budgeted out.
 *
 * Layer: driver.
 * @module
 */
import type {
  Clock,
  Datagram,
  Logger,
  PeerAddress,
  Random,
  Timer,
  UdpSocketLike,
} from "../runtime/types.ts";
import { SILENT_LOGGER } from "../runtime/types.ts";
import { isUsableAddress, parseIp } from "./_address.ts";
import { driveLookup, iteratePeers } from "./_lookup_driver.ts";
import { resolveSeeds } from "./_resolve.ts";
import { RpcChannel } from "./_rpc.ts";
import { answerQuery } from "./_server.ts";
import { DEFAULT_BOOTSTRAP_NODES, type DhtStats, emptyStats } from "./_stats.ts";
import type { DhtContact } from "./compact.ts";
import { decodeKrpc, type KrpcMessage, type KrpcQuery, KrpcSyntaxError } from "./krpc.ts";
import { Lookup, type LookupResult } from "./lookup.ts";
import { bep42NodeId, compareDistance, NODE_ID_LENGTH } from "./node_id.ts";
import { PeerStore } from "./peer_store.ts";
import { ByteBudget, IpRateLimiter } from "./rate_limit.ts";
import { RoutingTable, type RoutingTableOptions } from "./routing_table.ts";
import {
  type DhtAnnounceOptions,
  type DhtAnnounceResult,
  type DhtLookupOptions,
  type DhtNodeOptions,
  type NodeSettings,
  settingsOf,
} from "./dht_options.ts";
import { TokenSecrets } from "./tokens.ts";

export { DEFAULT_BOOTSTRAP_NODES, type DhtContact, type DhtStats };
export type { DhtAnnounceOptions, DhtAnnounceResult, DhtLookupOptions, DhtNodeOptions };

/** Verification pings are skipped while this many queries are outstanding. */
const MAX_VERIFY_PENDING = 256;

/**
 * A Mainline DHT node.
 *
 * @example
 * ```ts
 * import { DhtNode } from "./dht_node.ts";
 * import { SeededRandom } from "../util/prng.ts";
 * import { deepStrictEqual } from "node:assert";
 * let wake: (d: null) => void = () => {};
 * const socket = {
 *   addr: { host: "1.2.3.4", port: 6881 },
 *   send: () => Promise.resolve(),
 *   receive: () => new Promise<null>((resolve) => (wake = resolve)),
 *   close: () => wake(null),
 * };
 * const clock = { now: () => 0, wallNow: () => 0, schedule: () => ({ cancel() {} }) };
 * const node = new DhtNode({ socket, clock, random: new SeededRandom(1) });
 * const result = await node.lookup(new Uint8Array(20)); // empty table: nothing to ask
 * deepStrictEqual([result.end, result.queries], ["exhausted", 0]);
 * node.close();
 * ```
 */
export class DhtNode {
  #socket: UdpSocketLike;
  #clock: Clock;
  #random: Random;
  #log: Logger;
  #o: NodeSettings;
  #resolve: ((host: string) => Promise<string[]>) | undefined;
  #tableOptions: RoutingTableOptions;
  #table: RoutingTable;
  #tokens: TokenSecrets;
  #peers: PeerStore;
  #limiter: IpRateLimiter;
  /** Queries handled per second, counted one per datagram. */
  #queryBudget: ByteBudget;
  #rpc: RpcChannel;
  #stats = emptyStats();
  #bootstrapAddrs: PeerAddress[];
  #started = false;
  #closed = false;
  #warned = false;
  #tickTimer: Timer | undefined;
  #retryTimer: Timer | undefined;
  #retryDelayMs: number;
  #externalHost: string | undefined;
  readonly #onAnnounce: ((infoHash: Uint8Array, peer: PeerAddress) => void) | undefined;
  #stoppers = new Set<() => void>();

  /**
   * Creates a node; nothing is sent until {@linkcode DhtNode.start} or `bootstrap`.
   * @param options socket, clock, randomness and tunables
   * @throws {RangeError} when `nodeId` is not 20 bytes
   */
  constructor(options: DhtNodeOptions) {
    this.#socket = options.socket;
    this.#clock = options.clock;
    this.#random = options.random;
    this.#log = options.logger ?? SILENT_LOGGER;
    this.#resolve = options.resolve;
    this.#onAnnounce = options.onAnnounce;
    this.#o = settingsOf(options);
    const now = this.#clock.now();
    this.#tableOptions = {
      k: this.#o.k,
      allowLocalAddresses: this.#o.allowLocalAddresses,
      ...options.table,
    };
    const ext = options.externalHost;
    const id = options.nodeId ??
      (ext && parseIp(ext) ? bep42NodeId(ext, this.#random) : this.#random.bytes(NODE_ID_LENGTH));
    if (ext && parseIp(ext)) this.#externalHost = ext;
    this.#table = new RoutingTable(id, this.#tableOptions, now);
    this.#tokens = new TokenSecrets(this.#random, now);
    this.#peers = new PeerStore(options.store);
    this.#limiter = new IpRateLimiter(options.rateLimit);
    const qps = this.#o.maxQueriesPerSecond;
    this.#queryBudget = new ByteBudget(qps, qps * 2, now);
    this.#rpc = new RpcChannel({
      socket: this.#socket,
      clock: this.#clock,
      random: this.#random,
      log: this.#log,
      stats: this.#stats,
      rpcTimeoutMs: this.#o.rpcTimeoutMs,
      maxReplyBytesPerSecond: this.#o.maxReplyBytesPerSecond,
      version: this.#o.version,
      onTimeout: (id) => this.#table.markFailed(id, this.#clock.now()),
    });
    this.#bootstrapAddrs = [...this.#o.bootstrapNodes];
    this.#retryDelayMs = this.#o.bootstrapRetryMs;
  }

  /** Our node id. */
  get id(): Uint8Array {
    return this.#table.id;
  }

  /** The socket's bound address. */
  get address(): PeerAddress {
    return this.#socket.addr;
  }

  /** The routing table (read it; do not insert into it). */
  get routingTable(): RoutingTable {
    return this.#table;
  }

  /** A snapshot of the counters. */
  get stats(): DhtStats {
    return {
      ...this.#stats,
      tableSize: this.#table.size,
      storedInfoHashes: this.#peers.infoHashCount,
    };
  }

  /** Starts receiving and the maintenance tick. Idempotent; a no-op after `close()`. */
  start(): void {
    if (this.#started || this.#closed) return;
    this.#started = true;
    void this.#receiveLoop();
    this.#tickTimer = this.#clock.schedule(this.#o.tickIntervalMs, () => this.#tick());
  }

  async #receiveLoop(): Promise<void> {
    while (!this.#closed) {
      let d: Datagram | null;
      try {
        d = await this.#socket.receive();
      } catch (e) {
        if (!this.#closed) this.#log.warn("DHT socket failed", { error: String(e) });
        return;
      }
      if (d === null) return;
      try {
        this.#onDatagram(d);
      } catch (e) {
        // RELIABILITY rule 3: one bad datagram (or a bug it triggers) must not stop the node
        this.#log.warn("DHT datagram handling failed", { error: String(e), from: d.from });
      }
    }
  }

  #onDatagram(d: Datagram): void {
    const now = this.#clock.now();
    this.#stats.bytesReceived += d.data.length;
    // A query when the budget is spent is dropped before anything is looked up for its
    // sender; a sender the per-IP limiter stops spends none of the budget.
    const query = !this.#rpc.mayBeAnswer(d);
    if (query && this.#queryBudget.available(now) < 1) {
      this.#stats.droppedOverQueryBudget++;
      return;
    }
    if (!this.#limiter.allow(d.from.host, now)) {
      this.#stats.droppedRateLimited++;
      return;
    }
    if (query) this.#queryBudget.tryTake(1, now);
    let msg: KrpcMessage;
    try {
      msg = decodeKrpc(d.data);
    } catch (e) {
      if (!(e instanceof KrpcSyntaxError)) throw e;
      this.#stats.malformed++;
      if (e.isQuery && e.transactionId) this.#rpc.replyProtocolError(e.transactionId, d.from);
      return;
    }
    if (msg.kind === "query") return this.#onQuery(msg, d, now);
    const handlers = this.#rpc.claim(msg, d.from);
    if (!handlers) return;
    if (msg.kind === "error") return handlers.onFail();
    const seen = msg.requesterAddress;
    if (seen && isUsableAddress(seen, d.from.host, this.#o.allowLocalAddresses)) {
      this.#externalHost = seen.host;
    }
    this.#table.insert({ id: msg.id, address: d.from }, now, "reply");
    handlers.onReply(msg);
  }

  #onQuery(q: KrpcQuery, d: Datagram, now: number): void {
    this.#stats.queriesReceived++;
    if (!this.#rpc.canReply()) {
      this.#stats.droppedOverBudget++; // no answer could go out: spend nothing on it
      return;
    }
    if (!q.readOnly) {
      const result = this.#table.insert({ id: q.id, address: d.from }, now, "query");
      // verify newcomers with a ping, but never let (spoofed) queriers crowd out our lookups
      const room = this.#rpc.pending < MAX_VERIFY_PENDING;
      if (room && (result === "added" || result === "replaced")) void this.#ping(d.from, q.id);
    }
    const answer = answerQuery(q, d.from, d.data.length, {
      id: this.#table.id,
      table: this.#table,
      tokens: this.#tokens,
      peers: this.#peers,
      random: this.#random,
      k: this.#o.k,
      allowLocalAddresses: this.#o.allowLocalAddresses,
      version: this.#o.version,
    }, now);
    if (answer.stored) this.#stats.announcesStored++;
    this.#rpc.reply(answer.bytes, d.from, answer.isError);
    if (answer.announced) {
      try {
        this.#onAnnounce?.(answer.announced.infoHash, answer.announced.peer);
      } catch (e) {
        this.#log.warn("DHT onAnnounce callback threw", { error: String(e) }); // user code
      }
    }
  }

  #common = (transactionId: Uint8Array) => ({
    kind: "query" as const,
    transactionId,
    id: this.#table.id,
    version: this.#o.version,
  });

  #ping(to: PeerAddress, expectedId?: Uint8Array) {
    return this.#rpc.request(to, expectedId, (t) => ({ ...this.#common(t), method: "ping" }));
  }

  /**
   * Adds a node we heard of (the wire `port` message): it is pinged and enters the
   * table once it answers.
   * @param addr the node's UDP address
   */
  addNode(addr: PeerAddress): void {
    // a peer told us of its own node: it is its own source
    if (this.#closed || !isUsableAddress(addr, addr.host, this.#o.allowLocalAddresses)) return;
    this.start();
    void this.#ping(addr);
  }

  /**
   * Runs one iterative lookup (BEP 5) from the routing table's closest nodes.
   * @param target a 20-byte node id or info-hash
   * @param options kind, abort signal, peer callback, extra seeds
   * @returns the k closest responders (with tokens), the peers found and counters;
   *   never rejects (an abort or `close()` resolves with what was found)
   * @throws {RangeError} when `target` is not 20 bytes
   */
  lookup(target: Uint8Array, options: DhtLookupOptions = {}): Promise<LookupResult> {
    const lookup = new Lookup(target, options.kind ?? "find_node", this.#clock.now(), {
      k: this.#o.k,
      alpha: this.#o.alpha,
      maxQueries: this.#o.maxQueriesPerLookup,
      timeBudgetMs: this.#o.lookupTimeBudgetMs,
      allowLocalAddresses: this.#o.allowLocalAddresses,
      excludeId: this.#table.id,
    });
    lookup.seed(this.#table.closest(target, this.#o.k * 2, { includeUnverified: true }));
    if (options.seeds) lookup.seed(options.seeds);
    this.start();
    return driveLookup(lookup, {
      clock: this.#clock,
      rpc: this.#rpc,
      log: this.#log,
      common: this.#common,
      isClosed: () => this.#closed,
      family: this.#socket.addr.host.includes(":") ? 6 : 4,
      track: (stop) => {
        this.#stoppers.add(stop);
        return () => this.#stoppers.delete(stop);
      },
    }, { signal: options.signal, onPeers: options.onPeers }).then((result) => {
      this.#stats.lookups++;
      this.#stats.lookupQueries += result.queries;
      if (lookup.kind !== "get_peers") return result;
      // Peers that announced to *us* count too: a node never returns itself in get_peers,
      // so when we are among the closest nodes our own store is where the answer is.
      const own = this.#peers.peers(target, this.#clock.now(), this.#random)
        .filter((p) => !result.peers.some((q) => q.host === p.host && q.port === p.port));
      if (own.length === 0) return result;
      // each announced itself to us: it is its own source
      for (const p of own) options.onPeers?.([p], p);
      return { ...result, peers: [...result.peers, ...own] };
    });
  }

  /**
   * Finds peers for an info-hash, yielding each new one as it arrives.
   * @param infoHash the 20-byte info-hash
   * @param options `signal` ends the iteration early
   * @returns an async iterable of peers (ends when the lookup does)
   * @throws {RangeError} when `infoHash` is not 20 bytes
   */
  getPeers(
    infoHash: Uint8Array,
    options: { readonly signal?: AbortSignal } = {},
  ): AsyncGenerator<PeerAddress, void, undefined> {
    return iteratePeers(
      (signal, onPeers) => this.lookup(infoHash, { kind: "get_peers", signal, onPeers }),
      options.signal,
    );
  }

  /**
   * Announces that we serve `infoHash` on `port`: a `get_peers` lookup, then
   * `announce_peer` to each of the k closest nodes that gave a token. When we are
   * ourselves among the k closest, our own store keeps the announce too.
   * @param infoHash the 20-byte info-hash
   * @param port our TCP port (ignored with `impliedPort`)
   * @param options implied port, abort signal
   * @returns how many nodes accepted it and the peers met on the way
   * @throws {RangeError} when `port` is not 1..65535 (without `impliedPort`)
   */
  async announce(
    infoHash: Uint8Array,
    port: number,
    options: DhtAnnounceOptions = {},
  ): Promise<DhtAnnounceResult> {
    const implied = options.impliedPort ?? false;
    if (!implied && !(Number.isInteger(port) && port >= 1 && port <= 65535)) {
      throw new RangeError(`Cannot announce port ${port}`);
    }
    const lookup = await this.lookup(infoHash, {
      kind: "get_peers",
      signal: options.signal,
      onPeers: options.onPeers,
    });
    const withToken = lookup.closest.filter((n) => n.token !== undefined);
    const replies = await Promise.all(
      withToken.map((n) =>
        this.#rpc.request(n.address, n.id, (t) => ({
          ...this.#common(t),
          method: "announce_peer",
          infoHash,
          port: implied ? 0 : port,
          impliedPort: implied,
          token: n.token!,
        }))
      ),
    );
    this.#storeSelf(infoHash, implied ? this.#socket.addr.port : port, lookup);
    return { announcedTo: replies.filter(Boolean).length, peers: lookup.peers, lookup };
  }

  #storeSelf(infoHash: Uint8Array, port: number, lookup: LookupResult): void {
    const self = { host: this.#externalHost ?? this.#socket.addr.host, port };
    if (!isUsableAddress(self, self.host, this.#o.allowLocalAddresses)) return;
    const kth = lookup.closest[this.#o.k - 1];
    if (kth && compareDistance(infoHash, this.#table.id, kth.id) > 0) return;
    this.#peers.announce(infoHash, self, this.#clock.now());
  }

  /**
   * Joins the DHT: resolves the routers and looks up our own id through them and
   * any saved nodes. When nothing answers it warns once and keeps retrying in the
   * background with exponential backoff; it never blocks longer than one lookup.
   * @param addrs routers to use (remembered for retries); default the configured ones
   * @returns whether any node answered
   */
  async bootstrap(addrs?: readonly PeerAddress[]): Promise<boolean> {
    if (addrs) this.#bootstrapAddrs = [...addrs];
    this.start();
    this.#retryTimer?.cancel();
    const ok = await this.#bootstrapOnce();
    if (ok) this.#retryDelayMs = this.#o.bootstrapRetryMs;
    else this.#scheduleRetry();
    return ok;
  }

  async #bootstrapOnce(): Promise<boolean> {
    if (this.#closed) return false;
    const seeds = await resolveSeeds(this.#bootstrapAddrs, {
      resolve: this.#resolve,
      clock: this.#clock,
      timeoutMs: this.#o.rpcTimeoutMs * 2,
      allowLocalAddresses: this.#o.allowLocalAddresses,
      log: this.#log,
    });
    if (seeds.length === 0 && this.#table.size === 0) {
      this.#warnOnce("DHT bootstrap failed: no bootstrap node could be resolved");
      return false;
    }
    const result = await this.lookup(this.#table.id, { seeds });
    if (result.replies === 0) {
      this.#warnOnce("DHT bootstrap failed: no node answered");
      return false;
    }
    this.#log.info("DHT bootstrapped", { nodes: this.#table.size, queries: result.queries });
    return true;
  }

  #warnOnce(message: string): void {
    if (this.#warned) this.#log.debug(message, { retryInMs: this.#retryDelayMs });
    else this.#log.warn(`${message}; retrying with backoff`, { retryInMs: this.#retryDelayMs });
    this.#warned = true;
  }

  #scheduleRetry(): void {
    if (this.#closed) return;
    const delay = this.#retryDelayMs;
    this.#retryDelayMs = Math.min(delay * 2, this.#o.maxBootstrapRetryMs);
    this.#retryTimer = this.#clock.schedule(delay, () => {
      void this.#bootstrapOnce().then((ok) => ok ? undefined : this.#scheduleRetry());
    });
  }

  #tick(): void {
    if (this.#closed) return;
    const now = this.#clock.now();
    this.#tokens.rotateIfDue(now);
    this.#peers.expire(now);
    const stale = this.#table.nodeToPing(now);
    if (stale) void this.#ping(stale.address, stale.id);
    for (const target of this.#table.refreshTargets(now, this.#random)) void this.lookup(target);
    this.#tickTimer = this.#clock.schedule(this.#o.tickIntervalMs, () => this.#tick());
  }

  /**
   * The routing table as bytes, to save across runs (write it atomically).
   * @returns the serialised id and nodes
   */
  saveState(): Uint8Array {
    return this.#table.toBytes();
  }

  /**
   * Restores our id and nodes saved by {@linkcode DhtNode.saveState}; call it before
   * `bootstrap`. Restored nodes are verified by the next lookup.
   * @param bytes the saved state
   * @throws {SyntaxError} when the bytes are not a saved table
   */
  loadState(bytes: Uint8Array): void {
    this.#table = RoutingTable.fromBytes(bytes, this.#tableOptions, this.#clock.now());
  }

  /** Stops everything: pending queries fail, lookups resolve, the socket closes. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#tickTimer?.cancel();
    this.#retryTimer?.cancel();
    this.#rpc.close();
    for (const stop of [...this.#stoppers]) stop();
    this.#socket.close();
  }
}
