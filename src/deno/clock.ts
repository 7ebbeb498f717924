/**
 * Deno bindings of {@linkcode Clock} and {@linkcode Random}: monotonic time from
 * `performance.now()`, timers from `setTimeout`, randomness from Web Crypto.
 *
 * Layer: platform.
 * @module
 */
import type { Clock, Random, Timer } from "../runtime/types.ts";

/** The real clock. */
export const SYSTEM_CLOCK: Clock = Object.freeze({
  now: () => performance.now(),
  wallNow: () => Date.now(),
  schedule(delayMs: number, fn: () => void): Timer {
    const handle = setTimeout(fn, Math.max(0, delayMs));
    return { cancel: () => clearTimeout(handle) };
  },
});

/** Cryptographically secure randomness (for peer ids, transaction ids, tokens, secrets). */
export const SECURE_RANDOM: Random = Object.freeze({
  next(): number {
    const u = new Uint32Array(2);
    crypto.getRandomValues(u);
    return (u[0]! * 2 ** 21 + (u[1]! >>> 11)) / 2 ** 53;
  },
  int(maxExclusive: number): number {
    return Math.floor(SECURE_RANDOM.next() * maxExclusive);
  },
  bytes(length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i += 65536) {
      crypto.getRandomValues(out.subarray(i, Math.min(length, i + 65536)));
    }
    return out;
  },
});
