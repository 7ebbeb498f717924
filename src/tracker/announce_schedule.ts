/**
 * When to announce, and with which event (BEP 3 `started`/`completed`/`stopped`).
 *
 * Intervals from trackers are clamped to [60 s, 6 h]: below a minute a hostile or buggy
 * tracker would make us hammer it, above six hours we would go silent long enough for
 * every tracker to expire us (RELIABILITY TC3; libtorrent floors at 60 s for UDP).
 *
 * Invariants: `nextAnnounceAt()` is defined only while the phase is `running` or
 * `stopping`; a URL gets `completed` only after it accepted `started`.
 *
 * Layer: core (pure; time comes in as `now`, milliseconds on the injected clock).
 * @module
 */
import type { AnnounceEvent } from "./types.ts";

/** Shortest interval we honour, in seconds. */
export const MIN_INTERVAL_S = 60;
/** Longest interval we honour, in seconds. */
export const MAX_INTERVAL_S = 6 * 60 * 60;
/** Interval used when a tracker gives none, in seconds (libtorrent's default). */
export const DEFAULT_INTERVAL_S = 30 * 60;

/**
 * Clamps a tracker-supplied interval to [{@linkcode MIN_INTERVAL_S}, {@linkcode MAX_INTERVAL_S}].
 * @param seconds the tracker's value (may be absent, negative, zero or huge)
 * @param fallback used when `seconds` is undefined or not finite
 * @returns the clamped interval in seconds
 * @example
 * ```ts
 * import { clampIntervalS } from "./mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * assertEquals([clampIntervalS(0), clampIntervalS(1e9), clampIntervalS(undefined)], [60, 21600, 1800]);
 * ```
 */
export function clampIntervalS(seconds: number | undefined, fallback = DEFAULT_INTERVAL_S): number {
  const s = seconds === undefined || !Number.isFinite(seconds) ? fallback : seconds;
  return Math.min(MAX_INTERVAL_S, Math.max(MIN_INTERVAL_S, Math.floor(s)));
}

/** Life cycle of a torrent's announcing. */
export type SchedulePhase = "idle" | "running" | "stopping" | "stopped";

/** Interval information from a successful announce. */
export interface ScheduleTiming {
  /** Regular interval in seconds (already clamped). */
  readonly intervalS: number;
  /** Minimum interval in seconds, when given. */
  readonly minIntervalS?: number | undefined;
}

/**
 * Pure announce timetable for one torrent.
 * @example
 * ```ts
 * import { AnnounceSchedule } from "./mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const schedule = new AnnounceSchedule();
 * schedule.start(0);
 * assertEquals(schedule.eventFor("udp://t:1"), "started");
 * schedule.onSuccess("udp://t:1", "started", 0, { intervalS: 900 });
 * assertEquals(schedule.nextAnnounceAt(), 900_000);
 * schedule.completed(5_000);
 * assertEquals([schedule.eventFor("udp://t:1"), schedule.nextAnnounceAt()], ["completed", 5_000]);
 * ```
 */
export class AnnounceSchedule {
  #phase: SchedulePhase = "idle";
  #nextAt: number | undefined;
  #lastAnnounceAt: number | undefined;
  #intervalMs = DEFAULT_INTERVAL_S * 1000;
  #minIntervalMs = MIN_INTERVAL_S * 1000;
  readonly #started = new Set<string>();
  readonly #completionPending = new Set<string>();
  #isComplete = false;

  /** The current phase. */
  get phase(): SchedulePhase {
    return this.#phase;
  }

  /**
   * Begins announcing: the first announce (`started`) is due now.
   * @param now current time, ms
   */
  start(now: number): void {
    if (this.#phase !== "idle") return;
    this.#phase = "running";
    this.#nextAt = now;
  }

  /**
   * The download finished: every tracker that got `started` is owed `completed`, due now.
   * @param now current time, ms
   */
  completed(now: number): void {
    if (this.#isComplete) return;
    this.#isComplete = true;
    for (const url of this.#started) this.#completionPending.add(url);
    if (this.#phase === "running") this.#nextAt = now;
  }

  /**
   * Begins stopping: `stopped` is owed to every URL that accepted `started`.
   * @param now current time, ms
   */
  stop(now: number): void {
    if (this.#phase === "stopped" || this.#phase === "stopping") return;
    this.#phase = this.#started.size > 0 ? "stopping" : "stopped";
    this.#nextAt = this.#phase === "stopping" ? now : undefined;
  }

  /**
   * Asks for an early announce (e.g. peers ran low), no earlier than the min interval.
   * @param now current time, ms
   */
  reannounce(now: number): void {
    if (this.#phase !== "running") return;
    const earliest = (this.#lastAnnounceAt ?? now) + this.#minIntervalMs;
    const at = Math.max(now, this.#lastAnnounceAt === undefined ? now : earliest);
    if (this.#nextAt === undefined || at < this.#nextAt) this.#nextAt = at;
  }

  /**
   * The event owed to `url` in the next announce.
   * @param url the tracker
   * @returns `stopped` while stopping, `started` for a URL that never accepted it,
   *   `completed` when owed, else `undefined` (a regular announce)
   */
  eventFor(url: string): AnnounceEvent | undefined {
    if (this.#phase === "stopping" || this.#phase === "stopped") return "stopped";
    if (!this.#started.has(url)) return "started";
    return this.#completionPending.has(url) ? "completed" : undefined;
  }

  /**
   * URLs that accepted `started` and so are owed `stopped`.
   * @returns the URLs, in the order they accepted
   */
  startedUrls(): string[] {
    return [...this.#started];
  }

  /**
   * Whether an announce is due.
   * @param now current time, ms
   * @returns true when `now` reached {@linkcode AnnounceSchedule.nextAnnounceAt}
   */
  isDue(now: number): boolean {
    return this.#nextAt !== undefined && now >= this.#nextAt;
  }

  /**
   * When the next announce is due.
   * @returns the time in ms, or `undefined` when idle, stopped or out of trackers
   */
  nextAnnounceAt(): number | undefined {
    return this.#nextAt;
  }

  /**
   * Records an accepted announce and plans the next one.
   * @param url the tracker that answered
   * @param event the event that was sent
   * @param now current time, ms
   * @param timing the tracker's intervals
   */
  onSuccess(
    url: string,
    event: AnnounceEvent | undefined,
    now: number,
    timing: ScheduleTiming,
  ): void {
    this.#lastAnnounceAt = now;
    if (event === "stopped") {
      this.#started.delete(url);
      this.#completionPending.delete(url);
      if (this.#started.size === 0) [this.#phase, this.#nextAt] = ["stopped", undefined];
      return;
    }
    if (event === "started") this.#started.add(url);
    if (event === "completed") this.#completionPending.delete(url);
    this.#intervalMs = clampIntervalS(timing.intervalS) * 1000;
    const minS = timing.minIntervalS;
    this.#minIntervalMs = minS === undefined ? MIN_INTERVAL_S * 1000 : clampIntervalS(minS) * 1000;
    if (this.#phase === "running") this.#nextAt = now + this.#intervalMs;
  }

  /**
   * Records a failed announce; the next try is at `retryAt` (from the tiers' back-off).
   * @param retryAt when to try again, ms; `undefined` when no tracker is left
   */
  onFailure(retryAt: number | undefined): void {
    if (this.#phase === "running") this.#nextAt = retryAt;
  }

  /**
   * Forgets a URL (dropped for good): it is owed nothing any more.
   * @param url the tracker
   */
  forget(url: string): void {
    this.#started.delete(url);
    this.#completionPending.delete(url);
    if (this.#phase === "stopping" && this.#started.size === 0) {
      [this.#phase, this.#nextAt] = ["stopped", undefined];
    }
  }

  /**
   * Checks the class invariants.
   * @throws {Error} when one is broken
   */
  assertInvariants(): void {
    const active = this.#phase === "running" || this.#phase === "stopping";
    if (!active && this.#nextAt !== undefined) {
      throw new Error(`Schedule ${this.#phase} has a due time`);
    }
    for (const url of this.#completionPending) {
      if (!this.#started.has(url)) throw new Error(`Completion owed to unstarted "${url}"`);
    }
  }
}
