/**
 * The daemon's queue and seeding-limit policy (Transmission's download and seed queues,
 * ratio and idle limits): a pure function from a snapshot of the torrents to what to start
 * and stop.
 *
 * Layer: core (pure).
 * @module
 */
import type { DaemonSettings, TorrentPrefs } from "./library_types.ts";

/** One torrent as the queue sees it. */
export interface QueueEntry {
  /** Id. */
  readonly id: number;
  /** The user wants it running (not stopped, not finished by a limit). */
  readonly wanted: boolean;
  /** Every wanted byte is verified (it would seed). */
  readonly complete: boolean;
  /** The engine runs it now. */
  readonly running: boolean;
  /** Queue position, 0 first. */
  readonly position: number;
  /** Started past the queue (Transmission's start-now): runs if wanted, counts for nothing. */
  readonly forced?: boolean;
}

/** Queue limits. */
export interface QueueLimits {
  /** At most this many downloading (`Infinity` when the queue is off). */
  readonly downloads: number;
  /** At most this many seeding (`Infinity` when the queue is off). */
  readonly seeds: number;
}

/** What the queue decides. */
export interface QueuePlan {
  /** Ids to start. */
  readonly start: number[];
  /** Ids to pause (queued, or not wanted). */
  readonly stop: number[];
}

/**
 * Decides which torrents run: wanted ones in queue order, up to the download and seed
 * limits; everything else is paused.
 * @param entries the torrents
 * @param limits queue sizes
 * @returns ids to start and to stop
 * @example
 * ```ts
 * import { planQueue } from "./queue.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const e = (id: number, running: boolean) =>
 *   ({ id, wanted: true, complete: false, running, position: id });
 * assertEquals(planQueue([e(1, false), e(2, true), e(3, false)], { downloads: 1, seeds: 5 }),
 *   { start: [1], stop: [2] });
 * ```
 */
export function planQueue(entries: readonly QueueEntry[], limits: QueueLimits): QueuePlan {
  const start: number[] = [], stop: number[] = [];
  const sorted = [...entries].sort((a, b) => a.position - b.position || a.id - b.id);
  let downloads = 0, seeds = 0;
  for (const e of sorted) {
    let run = false;
    if (e.wanted && e.forced) run = true;
    else if (e.wanted && e.complete) run = seeds++ < limits.seeds;
    else if (e.wanted) run = downloads++ < limits.downloads;
    if (run && !e.running) start.push(e.id);
    else if (!run && e.running) stop.push(e.id);
  }
  return { start, stop };
}

/** What a seeding-limit check reads. */
export interface SeedingSample {
  /** Lifetime upload / download (or / size when nothing was downloaded). */
  readonly ratio: number;
  /** Minutes since the last payload went up or down. */
  readonly idleMinutes: number;
  /** Effective ratio limit, or undefined for none. */
  readonly ratioLimit: number | undefined;
  /** Effective idle limit in minutes, or undefined for none. */
  readonly idleLimit: number | undefined;
}

/**
 * Whether a seeding torrent reached its ratio or idle limit (then it stops, finished).
 * @param s the torrent's figures and limits
 * @returns true when a limit is reached
 */
export function seedingDone(s: SeedingSample): boolean {
  return (s.ratioLimit !== undefined && s.ratio >= s.ratioLimit) ||
    (s.idleLimit !== undefined && s.idleMinutes >= s.idleLimit);
}

/**
 * The limit in force for a torrent: its own (mode 1), the session's (mode 0, when
 * enabled), or none (mode 2).
 * @param mode the torrent's mode
 * @param own its own limit
 * @param session the session's limit, or undefined when the session's is off
 * @returns the limit, or undefined
 */
export function effectiveLimit(
  mode: 0 | 1 | 2,
  own: number,
  session: number | undefined,
): number | undefined {
  return mode === 1 ? own : mode === 0 ? session : undefined;
}

/**
 * Whether a seeding torrent reached the ratio or idle limit in force for it (Transmission:
 * the ratio is uploaded / downloaded, or uploaded / size for a torrent that downloaded
 * nothing).
 * @param t its lifetime bytes, size and idle minutes
 * @param prefs its own modes and limits
 * @param session the session's limits
 * @returns true when it should stop
 */
export function seedingLimitReached(
  t: { uploaded: number; downloaded: number; size: number; idleMinutes: number },
  prefs: Pick<TorrentPrefs, "seedRatioMode" | "seedRatioLimit" | "seedIdleMode" | "seedIdleLimit">,
  session: Pick<
    DaemonSettings,
    "seedRatioLimited" | "seedRatioLimit" | "idleSeedingLimitEnabled" | "idleSeedingLimit"
  >,
): boolean {
  const base = t.downloaded > 0 ? t.downloaded : t.size;
  return seedingDone({
    ratio: base > 0 ? t.uploaded / base : 0,
    idleMinutes: t.idleMinutes,
    ratioLimit: effectiveLimit(
      prefs.seedRatioMode,
      prefs.seedRatioLimit,
      session.seedRatioLimited ? session.seedRatioLimit : undefined,
    ),
    idleLimit: effectiveLimit(
      prefs.seedIdleMode,
      prefs.seedIdleLimit,
      session.idleSeedingLimitEnabled ? session.idleSeedingLimit : undefined,
    ),
  });
}
