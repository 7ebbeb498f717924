/**
 * Multitracker tiers (BEP 12): each tier shuffled once, trackers tried in order, tiers in
 * order; the tracker that answers moves to the front of its tier. Each tracker backs off
 * after failures like libtorrent (5 s + 12.5 s·fails², capped at 60 min; PARAMETERS §2.5),
 * and a tracker that said HTTP 410 or `retry in: never` is never used again (TC4).
 *
 * Invariants: every URL appears once; `fails` is 0 right after a success; a dead entry is
 * never returned by `next()`.
 *
 * Layer: core (pure; randomness injected, time passed in as `now` in ms).
 * @module
 */
import type { Random } from "../runtime/types.ts";
import { shuffle } from "../util/prng.ts";

/** Most trackers used per torrent (RELIABILITY M1); the rest are ignored. */
export const MAX_TRACKERS = 100;
/** Shortest retry delay, ms (libtorrent `tracker_retry_delay_min`). */
export const RETRY_DELAY_MIN_MS = 5_000;
/** Longest retry delay, ms (libtorrent `tracker_retry_delay_max`). */
export const RETRY_DELAY_MAX_MS = 60 * 60_000;
/** Back-off growth in percent (libtorrent `tracker_backoff`). */
export const TRACKER_BACKOFF_PERCENT = 250;

/**
 * Retry delay after `fails` consecutive failures: 5 s + 5 s·fails²·2.5, capped at 60 min,
 * and never shorter than the tracker's own `retry in`.
 * @param fails consecutive failures, ≥ 1
 * @param retryInS the tracker's requested delay in seconds, if any
 * @returns the delay in ms
 * @example
 * ```ts
 * import { retryDelayMs } from "./mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * assertEquals([retryDelayMs(1), retryDelayMs(2), retryDelayMs(50)], [17_500, 55_000, 3_600_000]);
 * ```
 */
export function retryDelayMs(fails: number, retryInS?: number): number {
  const grown = RETRY_DELAY_MIN_MS +
    (fails * fails * RETRY_DELAY_MIN_MS * TRACKER_BACKOFF_PERCENT) / 100;
  return Math.max((retryInS ?? 0) * 1000, Math.min(RETRY_DELAY_MAX_MS, grown));
}

/**
 * The schemes a tracker URL may use; anything else is never requested (issue 4).
 * @param url an announce URL
 * @returns true for `http://`, `https://` and `udp://` URLs with a host
 * @example
 * ```ts
 * import { isTrackerUrl } from "./mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * assertEquals([isTrackerUrl("udp://t.example:80"), isTrackerUrl("file:///etc/passwd")], [true, false]);
 * ```
 */
export function isTrackerUrl(url: string): boolean {
  return /^(https?|udp):\/\/[^/?#]+/i.test(url);
}

/** State of one tracker in the tiers. */
export interface TierEntry {
  /** The announce URL. */
  readonly url: string;
  /** Tier index, 0 first. */
  readonly tier: number;
  /** Consecutive failures. */
  readonly fails: number;
  /** Not to be tried before this time, ms. */
  readonly retryAt: number;
  /** True once the tracker asked never to be contacted again. */
  readonly isDead: boolean;
}

/** What {@linkcode TrackerTiers.next} proposes. */
export interface NextTracker {
  /** The tracker to announce to. */
  readonly url: string;
  /** When, ms (≤ `now` means right away). */
  readonly at: number;
}

interface Entry {
  url: string;
  tier: number;
  fails: number;
  retryAt: number;
  isDead: boolean;
}

/**
 * BEP 12 tier list with per-tracker back-off.
 * @example
 * ```ts
 * import { TrackerTiers } from "./mod.ts";
 * import { SeededRandom } from "../util/prng.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const tiers = new TrackerTiers([["http://a/announce"], ["udp://b:1"]], new SeededRandom(1));
 * assertEquals(tiers.next(0), { url: "http://a/announce", at: 0 });
 * tiers.onFailure("http://a/announce", 0); // backs off 17.5 s
 * assertEquals(tiers.next(0), { url: "udp://b:1", at: 0 });
 * tiers.onFailure("http://a/announce", 0, { permanent: true }); // HTTP 410: never again
 * assertEquals(tiers.next(3_600_000)?.url, "udp://b:1");
 * ```
 */
export class TrackerTiers {
  readonly #tiers: Entry[][];
  readonly #byUrl = new Map<string, Entry>();

  /**
   * Builds the tiers: drops unsupported schemes and duplicates, keeps at most
   * {@linkcode MAX_TRACKERS}, shuffles each tier once.
   * @param tiers announce-list tiers (BEP 12), e.g. `[["udp://a"], ["http://b", "http://c"]]`
   * @param random randomness for the shuffle
   */
  constructor(tiers: readonly (readonly string[])[], random: Random) {
    this.#tiers = [];
    for (const urls of tiers) {
      const tier: Entry[] = [];
      for (const url of urls) {
        if (this.#byUrl.size >= MAX_TRACKERS || !isTrackerUrl(url) || this.#byUrl.has(url)) {
          continue;
        }
        const entry = { url, tier: this.#tiers.length, fails: 0, retryAt: 0, isDead: false };
        this.#byUrl.set(url, entry);
        tier.push(entry);
      }
      if (tier.length > 0) this.#tiers.push(shuffle(tier, random));
    }
  }

  /** Number of trackers kept. */
  get size(): number {
    return this.#byUrl.size;
  }

  /**
   * The tracker to use next: the first ready one in tier order, else the one that is
   * ready soonest.
   * @param now current time, ms
   * @returns the tracker and when to use it, or `undefined` when every tracker is dead
   */
  next(now: number): NextTracker | undefined {
    let soonest: Entry | undefined;
    for (const tier of this.#tiers) {
      for (const e of tier) {
        if (e.isDead) continue;
        if (e.retryAt <= now) return { url: e.url, at: now };
        if (!soonest || e.retryAt < soonest.retryAt) soonest = e;
      }
    }
    return soonest && { url: soonest.url, at: soonest.retryAt };
  }

  /**
   * Records an answer: clears the back-off and moves the tracker to the front of its tier.
   * @param url the tracker
   * @param now current time, ms
   */
  onSuccess(url: string, now: number): void {
    const e = this.#byUrl.get(url);
    if (!e) return;
    e.fails = 0;
    e.retryAt = now;
    const tier = this.#tiers[e.tier]!;
    tier.splice(tier.indexOf(e), 1);
    tier.unshift(e);
  }

  /**
   * Records a failure and backs the tracker off.
   * @param url the tracker
   * @param now current time, ms
   * @param options `permanent` (410, `retry in: never`) drops the tracker for good;
   *   `retryInS` is the tracker's minimum delay
   * @returns when the tracker may be tried again (ms), or `undefined` when dropped
   */
  onFailure(
    url: string,
    now: number,
    options: { readonly permanent?: boolean; readonly retryInS?: number | undefined } = {},
  ): number | undefined {
    const e = this.#byUrl.get(url);
    if (!e) return undefined;
    if (options.permanent) {
      e.isDead = true;
      return undefined;
    }
    e.fails++;
    e.retryAt = now + retryDelayMs(e.fails, options.retryInS);
    return e.retryAt;
  }

  /**
   * Snapshot of every tracker, tier by tier, in current order.
   * @returns copies of the entries
   */
  entries(): TierEntry[] {
    return this.#tiers.flatMap((tier) => tier.map((e) => ({ ...e })));
  }

  /**
   * Checks the class invariants.
   * @throws {Error} when one is broken
   */
  assertInvariants(): void {
    const seen = new Set<string>();
    this.#tiers.forEach((tier, i) => {
      for (const e of tier) {
        if (seen.has(e.url)) throw new Error(`Tracker "${e.url}" listed twice`);
        if (e.tier !== i) {
          throw new Error(`Tracker "${e.url}" in tier ${i} thinks it is in ${e.tier}`);
        }
        seen.add(e.url);
      }
    });
    if (seen.size !== this.#byUrl.size) throw new Error("Tier index out of sync");
  }
}
