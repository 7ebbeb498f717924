import { deepStrictEqual as assertEquals, ok as assert } from "node:assert";
import { RequestQueue, type RequestQueueOptions } from "./request_queue.ts";

const OPTIONS: RequestQueueOptions = {
  requestQueueTimeMs: 300,
  minRequestQueue: 2,
  maxRequestQueue: 500,
  snubTimeoutMs: 60_000,
};
const KIB = 1024;

Deno.test("RequestQueue.target() is rate × queue time in blocks, within min, max and reqq", () => {
  const cases: [string, number, number | undefined, number | undefined, number][] = [
    // [what, rate B/s, rtt ms, reqq, expected]
    ["slow start floor at 0 B/s", 0, undefined, undefined, 4],
    ["1 MiB/s × 300 ms = 19.2 → 20 blocks", 1024 * KIB, undefined, undefined, 20],
    [
      "100 MiB/s: a peer that did not say reqq gets 250",
      100 * 1024 * KIB,
      undefined,
      undefined,
      250,
    ],
    ["100 MiB/s is capped at maxRequestQueue", 100 * 1024 * KIB, undefined, 2000, 500],
    ["a 1.6 s round trip: 1 MiB/s × 3.2 s = 204.8 → 205", 1024 * KIB, 1600, undefined, 205],
    ["a short round trip does not shrink the queue", 1024 * KIB, 10, undefined, 20],
    ["the peer's reqq caps it", 1024 * KIB, undefined, 8, 8],
    ["reqq 0 still allows one", 1024 * KIB, undefined, 0, 1],
  ];
  for (const [what, rate, rtt, reqq, expected] of cases) {
    const q = new RequestQueue(OPTIONS, 0, { connectMs: rtt });
    if (reqq !== undefined) q.setPeerLimit(reqq);
    assertEquals(q.target(rate), expected, what);
    q.assertInvariants();
  }
});

Deno.test("RequestQueue.blockArrived() grows the queue by one per block until the rate rules", () => {
  const q = new RequestQueue(OPTIONS, 0);
  const targets: number[] = [];
  for (let i = 0; i < 8; i++) {
    q.blockArrived(i, 0, 0);
    targets.push(q.target(0));
  }
  // At 0 B/s the slow-start target stops at 2 × 0 + 4 + 1.
  assertEquals(targets, [5, 5, 5, 5, 5, 5, 5, 5]);
  const fast = new RequestQueue(OPTIONS, 0);
  for (let i = 0; i < 30; i++) fast.blockArrived(i, 1024 * KIB, 0);
  assertEquals(fast.target(1024 * KIB), 34); // 4 + 30 blocks: still under 2 × 20 + 4
});

Deno.test("RequestQueue.blockArrived() asks for a refill once a quarter of the queue is free", () => {
  const q = new RequestQueue(OPTIONS, 0);
  // rate 1 MiB/s → target ≥ 20, so refill when ≥ 5 of ≥ 20 are free.
  const rate = 1024 * KIB;
  const rows: [number, boolean][] = [[20, false], [16, false], [15, true], [0, true]];
  for (const [outstanding, refill] of rows) {
    const fresh = new RequestQueue(OPTIONS, 0);
    assertEquals(fresh.blockArrived(1, rate, outstanding), refill, `outstanding ${outstanding}`);
  }
  assert(q.hasRoom(0, rate));
  assert(!q.hasRoom(20, rate));
});

Deno.test("RequestQueue.tick() snubs a peer with requests out and no block for the timeout", () => {
  const cases: [string, number, number, boolean][] = [
    // [what, last block at, outstanding, snubbed at 61 s]
    ["silent with requests out", 0, 3, true],
    ["silent with nothing requested", 0, 0, false],
    ["a block 10 s ago", 51_000, 3, false],
  ];
  for (const [what, lastBlock, outstanding, snubbed] of cases) {
    const q = new RequestQueue(OPTIONS, 0);
    if (lastBlock > 0) q.blockArrived(lastBlock, 0, outstanding);
    assertEquals(q.tick(61_000, outstanding).snubbed, snubbed, what);
    assertEquals(q.isSnubbed, snubbed, what);
    if (snubbed) assertEquals(q.target(10 * 1024 * KIB), 1, what);
    q.assertInvariants();
  }
});

Deno.test("RequestQueue: a snubbed peer that sends again grows back from one request", () => {
  const q = new RequestQueue(OPTIONS, 0);
  q.tick(61_000, 5);
  assert(q.isSnubbed);
  assertEquals(q.tick(62_000, 1).snubbed, false); // snubbed once, not again
  q.blockArrived(62_500, 0, 0);
  assert(!q.isSnubbed);
  assertEquals(q.target(0), 2); // minRequestQueue over a slow-start target of 2
});

Deno.test("RequestQueue: a reject while unchoked refuses the piece for 5 s; a suggestion lifts it", () => {
  const q = new RequestQueue(OPTIONS, 0);
  q.rejected(7, 1_000, false); // choked: a reject refuses nothing
  assertEquals([...q.refused.keys()], []);
  q.rejected(7, 1_000, true);
  q.rejected(8, 3_000, true);
  assertEquals(q.tick(5_999, 0).lapsed, false);
  assertEquals(q.tick(6_000, 0).lapsed, true);
  assertEquals([...q.refused.keys()], [8]);
  assertEquals(q.suggest(8), true);
  assertEquals(q.suggest(8), false);
  assertEquals([...q.refused.keys()], []);
});

Deno.test("RequestQueue.suggest() keeps the 16 newest suggestions", () => {
  const q = new RequestQueue(OPTIONS, 0);
  for (let i = 0; i < 20; i++) q.suggest(i);
  q.suggest(5); // seen again: moves to the newest end
  assertEquals([...q.suggested], [4, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 5]);
  q.assertInvariants();
});

Deno.test("RequestQueue.firstMessage() times a round trip only from an opening message", () => {
  const rows: [string, boolean, number | undefined][] = [
    ["bitfield after 120 ms", true, 120],
    ["a keep-alive first", false, undefined],
  ];
  for (const [what, opening, expected] of rows) {
    const q = new RequestQueue(OPTIONS, 0, { answeredAt: 1_000 });
    q.firstMessage(1_120, opening);
    q.firstMessage(1_500, true); // only the first message counts
    assertEquals(q.rttMs, expected, what);
  }
  const late = new RequestQueue(OPTIONS, 0, { answeredAt: 0 });
  late.firstMessage(9_000, true);
  assertEquals(late.rttMs, 2_000); // capped
});

Deno.test("RequestQueue.unsolicitedBlock() says close after 64 blocks we never asked for", () => {
  const q = new RequestQueue(OPTIONS, 0);
  let closeAt = 0;
  for (let i = 1; i <= 100 && closeAt === 0; i++) if (q.unsolicitedBlock()) closeAt = i;
  assertEquals(closeAt, 65);
});

/**
 * Drives `q` for `seconds` with one tick a second: each second the peer sends `perSecond(q)`
 * blocks (spread over the second) and every refill gets all it asks for unless `short`.
 * Returns the queue time after each second.
 */
function drive(
  q: RequestQueue,
  from: number,
  seconds: number,
  perSecond: (q: RequestQueue) => number,
  short = false,
): number[] {
  const times: number[] = [];
  for (let s = 0; s < seconds; s++) {
    const t0 = from + s * 1000;
    const n = perSecond(q);
    for (let b = 0; b < n; b++) {
      q.refilled(4, short ? 1 : 4);
      q.blockArrived(t0 + Math.floor((b * 1000) / n), 0, 3);
    }
    q.tick(t0 + 999, 3);
    times.push(q.queueTimeMs);
  }
  return times;
}

Deno.test("RequestQueue: a peer that answers late gets a longer queue when the probe pays", () => {
  // Latency-bound: blocks per second = queue ÷ 0.8 s latency, the queue = 64 blocks/s × queue time.
  const q = new RequestQueue(OPTIONS, 0);
  const times = drive(q, 0, 20, (q) => Math.round((64 * q.queueTimeMs) / 1000 / 0.8));
  assertEquals(times.slice(0, 5), [300, 300, 300, 300, 300], "slow start settles first");
  assertEquals(times.at(-1), 3000, times.join(" "));
});

Deno.test("RequestQueue: a peer limited by its bandwidth keeps the short queue after a probe", () => {
  const q = new RequestQueue(OPTIONS, 0);
  const times = drive(q, 0, 60, () => 40); // 40 blocks/s whatever the queue
  // Probes (one 2 s window at 600 ms) 6 s after the start, then 30 s after each unpaid one.
  const probes = times.flatMap((t, i) => t === 600 && times[i - 1] !== 600 ? [i] : []);
  assertEquals(probes.length, 2, times.join(" "));
  assert(probes[0]! >= 5 && probes[1]! - probes[0]! >= 30, times.join(" "));
  assertEquals(new Set(times), new Set([300, 600]));
  assertEquals(times.at(-1), 300);
});

Deno.test("RequestQueue: no probe while the picker, not the queue, limits the peer", () => {
  const q = new RequestQueue(OPTIONS, 0);
  const times = drive(q, 0, 20, (q) => Math.round((64 * q.queueTimeMs) / 1000 / 0.8), true);
  assertEquals(new Set(times), new Set([300]));
});

Deno.test("RequestQueue: a snub ends a probe and undoes it", () => {
  const q = new RequestQueue(OPTIONS, 0);
  const times = drive(q, 0, 20, () => 40);
  const probing = times.findIndex((t) => t === 600);
  assert(probing >= 0, times.join(" "));
  const q2 = new RequestQueue(OPTIONS, 0);
  drive(q2, 0, probing + 1, () => 40);
  assertEquals(q2.queueTimeMs, 600);
  assertEquals(q2.tick(probing * 1000 + 999 + OPTIONS.snubTimeoutMs + 1, 3).snubbed, true);
  assertEquals(q2.queueTimeMs, 300);
});
