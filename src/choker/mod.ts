/**
 * Choking policy (BEP 3 tit-for-tat with optimistic unchoke, anti-snubbing and
 * seed mode) and rolling-window rate meters that feed it.
 *
 * @example
 * ```ts
 * import { Choker, RateMeter } from "./mod.ts";
 * import { SeededRandom } from "../util/prng.ts";
 * import { deepStrictEqual } from "node:assert";
 * const meter = new RateMeter();
 * meter.add(50_000, 500);
 * const choker = new Choker({ random: new SeededRandom(1) });
 * const decision = choker.rechoke(1000, [{
 *   id: "a", interested: true, amChoking: true, downloadBps: meter.rate(1000),
 *   uploadBps: 0, isSeed: false, snubbed: false, connectedAt: 0,
 * }], false);
 * deepStrictEqual(decision.unchoke, ["a"]);
 * ```
 * @module
 */
export { type ChokeDecision, Choker, type ChokerOptions, type PeerSample } from "./choker.ts";
export { RateMeter, type RateMeterOptions } from "./rate_meter.ts";
// A type our signatures use, re-exported so the documented API is complete.
export type { Random } from "../runtime/types.ts";
