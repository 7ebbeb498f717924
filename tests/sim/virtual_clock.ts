/**
 * A virtual clock for simulations (STYLE §7): timers in a min-heap, driven by
 * `advance(ms)`. Between timer firings it drains pending promise jobs, so async
 * drivers (sessions, DHT nodes) run on virtual time, deterministically.
 * @module
 */
import { setImmediate } from "node:timers";
import type { Clock, Timer } from "../../src/runtime/types.ts";

interface Entry {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/**
 * Lets every queued promise job run: `setImmediate` fires only after the microtask queue
 * is empty, however deep the promise chains are (and is cheaper than many `await`s).
 */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Deterministic {@linkcode Clock} on virtual time. */
export class VirtualClock implements Clock {
  #now: number;
  #seq = 0;
  readonly #heap: Entry[] = [];
  /** Timers fired so far. */
  fired = 0;

  /** Starts at `startMs` (default 1,000,000 so `now - 0` arithmetic never looks "fresh"). */
  constructor(startMs = 1_000_000) {
    this.#now = startMs;
  }

  /** Virtual monotonic ms. */
  now(): number {
    return this.#now;
  }

  /** Virtual wall ms (epoch 2026-01-01 + now). */
  wallNow(): number {
    return 1_767_225_600_000 + this.#now;
  }

  /** Schedules `fn` after `delayMs` of virtual time. */
  schedule(delayMs: number, fn: () => void): Timer {
    const e: Entry = {
      at: this.#now + Math.max(0, delayMs),
      seq: this.#seq++,
      fn,
      cancelled: false,
    };
    this.#push(e);
    return { cancel: () => e.cancelled = true };
  }

  /** Pending (uncancelled) timers. */
  get pending(): number {
    return this.#heap.filter((e) => !e.cancelled).length;
  }

  /**
   * Advances virtual time by `ms`, firing due timers in order and settling promise jobs
   * after each one.
   */
  async advance(ms: number): Promise<void> {
    const end = this.#now + ms;
    await settle();
    for (;;) {
      const top = this.#heap[0];
      if (!top || top.at > end) break;
      this.#pop();
      if (top.cancelled) continue;
      this.#now = Math.max(this.#now, top.at);
      this.fired++;
      top.fn();
      await settle();
    }
    this.#now = end;
    await settle();
  }

  /**
   * Runs virtual time in `stepMs` steps until `target` settles (a promise: resolves with its
   * value, rejects with its error) or returns true (a predicate: resolves with the virtual ms
   * elapsed), or until `maxMs` of virtual time passed (rejects for a promise).
   */
  runUntil<T>(target: Promise<T>, maxMs: number, stepMs?: number): Promise<T>;
  runUntil(target: () => boolean, maxMs: number, stepMs?: number): Promise<number>;
  async runUntil<T>(
    target: Promise<T> | (() => boolean),
    maxMs: number,
    stepMs = 100,
  ): Promise<T | number> {
    const start = this.#now;
    if (typeof target === "function") {
      while (!target() && this.#now - start < maxMs) await this.advance(stepMs);
      return this.#now - start;
    }
    let state: { ok: true; value: T } | { ok: false; error: unknown } | undefined;
    target.then((value) => state = { ok: true, value }, (error) => state = { ok: false, error });
    await settle();
    while (!state && this.#now - start < maxMs) await this.advance(stepMs);
    if (!state) throw new Error(`runUntil: not settled after ${maxMs} ms of virtual time`);
    const done = state as { ok: true; value: T } | { ok: false; error: unknown };
    if (!done.ok) throw done.error;
    return done.value;
  }

  #push(e: Entry): void {
    const h = this.#heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (less(h[p]!, h[i]!)) break;
      [h[p], h[i]] = [h[i]!, h[p]!];
      i = p;
    }
  }

  #pop(): void {
    const h = this.#heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1, r = l + 1;
      let m = i;
      if (l < h.length && less(h[l]!, h[m]!)) m = l;
      if (r < h.length && less(h[r]!, h[m]!)) m = r;
      if (m === i) return;
      [h[m], h[i]] = [h[i]!, h[m]!];
      i = m;
    }
  }
}

function less(a: Entry, b: Entry): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
