/**
 * Choker: who may download from us (BEP 3 tit-for-tat, as mainline, libtorrent and
 * Transmission do it; PARAMETERS.md §2.2).
 *
 * Every `rechokeIntervalMs` (10 s) the driver calls `rechoke(now, peers, isSeeding)`:
 * - Leeching: the `regularSlots` (4) interested, non-snubbed, non-seed peers that
 *   upload to us fastest (`downloadBps`) get regular slots: reciprocation. A snubbed
 *   peer (no block for a while) loses its regular slot (anti-snubbing) but may still
 *   win the optimistic one.
 * - Seeding: the `seedingSlots` interested peers we upload to fastest (`uploadBps`) get
 *   the slots, as mainline and Transmission do: fast peers take data fastest and spread it on,
 *   and the ranking needs no state. libtorrent defaults to round-robin instead (a
 *   peer keeps its slot for 20 pieces or ≥1 min, then rotates), which is fairer to
 *   slow peers; fastest-upload keeps this core stateless and predictable.
 * - One optimistic unchoke on top: an interested peer outside the regular slots
 *   (a choked one when there is any; not the previous holder when another candidate
 *   exists), drawn every `optimisticIntervalMs` (30 s), peers connected less than
 *   `newPeerAgeMs` ago `newPeerWeight` (3) times likelier, so newcomers soon get a
 *   first piece to trade. It keeps its slot until the next rotation, unless it
 *   leaves, loses interest or becomes a seed.
 * Seeds never get a slot: they need no data; uninterested peers get none either
 * (libtorrent practice). Ties in rate prefer peers already unchoked (fewer
 * CHOKE/UNCHOKE flips), then a random order. Snubbing only matters while leeching.
 *
 * Between rechokes `fillFreeSlots` hands a freed slot on at once. A slot holder that is
 * `idle` (unchoked and interested, yet asking for nothing: what it wants from us it gets
 * elsewhere) lends its slot to the next peer and stays unchoked until the next rechoke,
 * so an uplink is not left idle behind peers that have no use for it just now.
 *
 * Invariants (`assertInvariants()`): at most `regularSlots` (or `seedingSlots`) regular
 * peers and as many lent ones; the optimistic peer is not one of them; the next wake-up
 * is set after any rechoke.
 *
 * Layer: core (pure; time is a `now` argument, randomness injected).
 * @module
 */
import type { Random } from "../runtime/types.ts";

/** One peer as the choker sees it, sampled by the driver at rechoke time. */
export interface PeerSample {
  /** Stable peer identity. */
  readonly id: string;
  /** The peer is interested in our pieces (`peerInterested`). */
  readonly interested: boolean;
  /** We are currently choking it (`amChoking`). */
  readonly amChoking: boolean;
  /** Its upload to us, bytes/s over the driver's rolling window. */
  readonly downloadBps: number;
  /** Our upload to it, bytes/s over the driver's rolling window. */
  readonly uploadBps: number;
  /** It has every piece. */
  readonly isSeed: boolean;
  /** It has not sent a requested block for `snubTimeoutMs`. */
  readonly snubbed: boolean;
  /** When it connected, ms on the injected clock. */
  readonly connectedAt: number;
  /**
   * Unchoked and interested, yet it has asked us for nothing for a while: it has no use
   * for its slot now (everything it wants from us it is getting elsewhere).
   */
  readonly idle?: boolean;
}

/** What to change after a rechoke. */
export interface ChokeDecision {
  /** Peers to send UNCHOKE to (currently choked, now given a slot). */
  readonly unchoke: string[];
  /** Peers to send CHOKE to (currently unchoked, now without a slot). */
  readonly choke: string[];
  /** The current optimistic peer, if any (changed or not). */
  readonly optimistic: string | undefined;
}

/** Options of {@linkcode Choker}; defaults from BEP 3 mainline. */
export interface ChokerOptions {
  /** Regular unchoke slots; default 4. */
  readonly regularSlots?: number;
  /** Regular unchoke slots while seeding; default `regularSlots`. */
  readonly seedingSlots?: number;
  /** Time between rechokes in ms; default 10,000. */
  readonly rechokeIntervalMs?: number;
  /** Time between optimistic rotations in ms; default 30,000. */
  readonly optimisticIntervalMs?: number;
  /** How much likelier a new peer is to win the optimistic slot; default 3. */
  readonly newPeerWeight?: number;
  /** A peer connected less than this long ago (ms) counts as new; default 60,000. */
  readonly newPeerAgeMs?: number;
  /**
   * Time without a requested block after which the driver marks a peer snubbed
   * (ms); default 60,000. The choker only reads `PeerSample.snubbed`; the value
   * lives here so the policy has one home.
   */
  readonly snubTimeoutMs?: number;
  /** Source for the optimistic draw and rate ties. */
  readonly random: Random;
}

/**
 * Tit-for-tat choker with optimistic unchoke, anti-snubbing and seed mode.
 *
 * @example
 * ```ts
 * import { Choker, type PeerSample } from "./mod.ts";
 * import { SeededRandom } from "../util/prng.ts";
 * import { deepStrictEqual, strictEqual } from "node:assert";
 * const choker = new Choker({ regularSlots: 1, random: new SeededRandom(1) });
 * const peer = (id: string, downloadBps: number): PeerSample => ({
 *   id, downloadBps, interested: true, amChoking: true, uploadBps: 0,
 *   isSeed: false, snubbed: false, connectedAt: 0,
 * });
 * const d = choker.rechoke(0, [peer("slow", 10), peer("fast", 900)], false);
 * deepStrictEqual(d.unchoke, ["fast", "slow"]); // best downloader + the optimistic one
 * strictEqual(d.optimistic, "slow");
 * strictEqual(choker.nextWakeAt(), 10_000);
 * ```
 */
export class Choker {
  /** Regular unchoke slots. */
  readonly regularSlots: number;
  /** Regular unchoke slots while seeding. */
  readonly seedingSlots: number;
  /** Time between rechokes in ms. */
  readonly rechokeIntervalMs: number;
  /** Time between optimistic rotations in ms. */
  readonly optimisticIntervalMs: number;
  /** Optimistic weight of a new peer. */
  readonly newPeerWeight: number;
  /** Age in ms below which a peer is new. */
  readonly newPeerAgeMs: number;
  /** Snub timeout in ms, for the driver. */
  readonly snubTimeoutMs: number;
  readonly #random: Random;
  #optimistic: string | undefined;
  #optimisticAt = -Infinity;
  #regular: string[] = [];
  /** Unchoked peers that gave up their regular slot while idle (see fillFreeSlots). */
  readonly #lent = new Set<string>();
  #nextWakeAt: number | undefined;

  /**
   * A choker with nobody unchoked.
   * @param options slots, intervals and randomness
   * @throws {RangeError} for negative slots, non-positive intervals or a weight < 1
   */
  constructor(options: ChokerOptions) {
    this.regularSlots = options.regularSlots ?? 4;
    this.seedingSlots = options.seedingSlots ?? this.regularSlots;
    this.rechokeIntervalMs = options.rechokeIntervalMs ?? 10_000;
    this.optimisticIntervalMs = options.optimisticIntervalMs ?? 30_000;
    this.newPeerWeight = options.newPeerWeight ?? 3;
    this.newPeerAgeMs = options.newPeerAgeMs ?? 60_000;
    this.snubTimeoutMs = options.snubTimeoutMs ?? 60_000;
    this.#random = options.random;
    for (const key of ["regularSlots", "seedingSlots"] as const) {
      if (!Number.isInteger(this[key]) || this[key] < 0) {
        throw new RangeError(`${key} must be an integer ≥ 0, got ${this[key]}`);
      }
    }
    for (const key of ["rechokeIntervalMs", "optimisticIntervalMs", "snubTimeoutMs"] as const) {
      if (!(this[key] > 0)) throw new RangeError(`${key} must be > 0, got ${this[key]}`);
    }
    if (!(this.newPeerWeight >= 1) || !(this.newPeerAgeMs >= 0)) {
      throw new RangeError("newPeerWeight must be ≥ 1 and newPeerAgeMs ≥ 0");
    }
  }

  /** The optimistic peer chosen by the last rechoke, if any. */
  get optimistic(): string | undefined {
    return this.#optimistic;
  }

  /**
   * Decides who is unchoked from now on.
   * @param now ms on the injected clock
   * @param peers every connected peer of the torrent
   * @param isSeeding we have every wanted piece: rank by our upload to them
   * @returns the CHOKE/UNCHOKE changes and the optimistic peer
   */
  rechoke(now: number, peers: readonly PeerSample[], isSeeding: boolean): ChokeDecision {
    const byId = new Map(peers.map((p) => [p.id, p]));
    const current = this.#optimistic === undefined ? undefined : byId.get(this.#optimistic);
    const keep = current !== undefined && current.interested && !current.isSeed &&
      now - this.#optimisticAt < this.optimisticIntervalMs;
    const ranked = this.#rank(peers, isSeeding, keep ? current.id : undefined);
    const regular = ranked.slice(0, this.#slots(isSeeding));
    this.#regular = regular.map((p) => p.id);
    this.#lent.clear();
    if (!keep) {
      const inRegular = new Set(this.#regular);
      const pool = peers.filter((p) => p.interested && !p.isSeed && !inRegular.has(p.id));
      const others = pool.filter((p) => p.id !== this.#optimistic);
      const choked = others.filter((p) => p.amChoking);
      const tier = choked.length > 0 ? choked : others.length > 0 ? others : pool;
      this.#optimistic = this.#draw(tier, now)?.id;
      this.#optimisticAt = now;
    }
    const slots = new Set(this.#regular);
    if (this.#optimistic !== undefined) slots.add(this.#optimistic);
    const unchoke = [...slots].filter((id) => byId.get(id)!.amChoking);
    const choke = peers.filter((p) => !p.amChoking && !slots.has(p.id)).map((p) => p.id);
    this.#nextWakeAt = Math.min(
      now + this.rechokeIntervalMs,
      this.#optimistic === undefined ? Infinity : this.#optimisticAt + this.optimisticIntervalMs,
    );
    return { unchoke, choke, optimistic: this.#optimistic };
  }

  /**
   * Gives regular slots freed since the last rechoke (the peer holding one lost interest,
   * became a seed, was choked or left) to the best-ranked choked, interested peers at once,
   * instead of at the next rechoke: otherwise a peer that everyone else stopped needing
   * can wait a whole interval choked by all (in the swarm simulator the last leecher sat
   * idle for 8 s that way).
   * @param peers every connected peer of the torrent
   * @param isSeeding rank by our upload to them
   * @returns peers to send UNCHOKE to
   */
  fillFreeSlots(peers: readonly PeerSample[], isSeeding: boolean): string[] {
    const byId = new Map(peers.map((p) => [p.id, p]));
    const slots = this.#slots(isSeeding);
    this.#regular = this.#regular.filter((id) => {
      const p = byId.get(id);
      if (p === undefined || p.amChoking || !p.interested || p.isSeed) return false;
      // An idle holder lends its slot and stays unchoked, without one, until the next
      // rechoke; at most `slots` are lent, so at most twice the slots are open.
      if (p.idle && this.#lent.size < slots) {
        this.#lent.add(id);
        return false;
      }
      return true;
    });
    const free = slots - this.#regular.length;
    if (free <= 0) return [];
    const picked = this.#rank(peers, isSeeding, this.#optimistic)
      .filter((p) => p.amChoking && !p.idle)
      .slice(0, free)
      .map((p) => p.id);
    this.#regular.push(...picked);
    return picked;
  }

  /**
   * When the driver should call `rechoke` next (ms on the injected clock).
   * @returns that time, or undefined before the first rechoke (call it at once)
   */
  nextWakeAt(): number | undefined {
    return this.#nextWakeAt;
  }

  /**
   * Checks the choker's own state.
   * @throws {Error} naming the first broken invariant
   */
  assertInvariants(): void {
    const fail = (what: string) => {
      throw new Error(`Choker invariant broken: ${what}`);
    };
    const slots = Math.max(this.regularSlots, this.seedingSlots);
    if (this.#regular.length > slots) fail(`${this.#regular.length} regular peers`);
    if (this.#lent.size > slots) fail(`${this.#lent.size} lent slots`);
    for (const id of this.#lent) if (this.#regular.includes(id)) fail(`"${id}" lent and held`);
    if (new Set(this.#regular).size !== this.#regular.length) fail("a peer holds two slots");
    if (this.#optimistic !== undefined && this.#regular.includes(this.#optimistic)) {
      fail(`optimistic peer "${this.#optimistic}" also holds a regular slot`);
    }
    // Before the first rechoke fillFreeSlots may hold slots; nextWakeAt is then undefined,
    // which tells the driver to rechoke at once.
    const rechoked = this.#optimisticAt > -Infinity;
    if (rechoked && this.#regular.length > 0 && this.#nextWakeAt === undefined) {
      fail("no next wake-up");
    }
  }

  #slots(isSeeding: boolean): number {
    return isSeeding ? this.seedingSlots : this.regularSlots;
  }

  /** Peers eligible for a regular slot, best first. */
  #rank(peers: readonly PeerSample[], isSeeding: boolean, exclude?: string): PeerSample[] {
    const eligible = peers.filter((p) =>
      p.interested && !p.isSeed && p.id !== exclude && (isSeeding || !p.snubbed)
    );
    const keyed = eligible.map((p) => ({
      p,
      rate: isSeeding ? p.uploadBps : p.downloadBps,
      tie: (p.amChoking ? 0 : 1) + this.#random.next() / 2,
    }));
    keyed.sort((a, b) => b.rate - a.rate || b.tie - a.tie);
    return keyed.map((k) => k.p);
  }

  /** A weighted random pick: new peers count `newPeerWeight` times. */
  #draw(pool: readonly PeerSample[], now: number): PeerSample | undefined {
    const weight = (p: PeerSample) =>
      now - p.connectedAt < this.newPeerAgeMs ? this.newPeerWeight : 1;
    let total = 0;
    for (const p of pool) total += weight(p);
    let r = this.#random.next() * total;
    for (const p of pool) {
      r -= weight(p);
      if (r < 0) return p;
    }
    return pool[pool.length - 1];
  }
}
