import { assert, assertEquals } from "../../../tests/assert.ts";
import { Ledbat, type LedbatConfig } from "./ledbat.ts";
import { DelayHistory, PathMetrics, RttEstimator } from "./path_metrics.ts";
import { newHeader } from "./packet.ts";

const MSS = 1452;
const CONFIG: LedbatConfig = {
  targetDelayMicros: 100_000,
  gainBytesPerRtt: 3000,
  lossFactor: 0.5,
  cwndReduceIntervalMs: 100,
  initialWindowBytes: 2 * MSS,
  maxWindowBytes: 4 << 20,
};

/** One RTT of ACKs for a full window, `per` bytes each, at `delay` µs; the sender refills. */
function rtt(cc: Ledbat, delay: number, per = MSS): void {
  const window = cc.cwnd;
  for (let acked = 0; acked + per <= window; acked += per) cc.onAck(per, delay, cc.cwnd);
}

Deno.test("Ledbat slow start doubles the window per RTT while delay is low", () => {
  const cc = new Ledbat(CONFIG, MSS);
  const sizes = [cc.cwnd];
  for (let i = 0; i < 4; i++) {
    rtt(cc, 0);
    sizes.push(cc.cwnd);
  }
  assertEquals(sizes.map((s) => Math.round(s / MSS)), [2, 4, 8, 16, 32]);
  assert(cc.slowStart);
});

Deno.test("Ledbat leaves slow start at the target delay, with ssthresh at half the window", () => {
  const cc = new Ledbat(CONFIG, MSS);
  for (let i = 0; i < 4; i++) rtt(cc, 0);
  const before = cc.cwnd;
  cc.onAck(MSS, 100_000, before);
  assertEquals([cc.slowStart, cc.ssthresh], [false, before / 2]);
});

Deno.test("Ledbat grows by at most `gain` per RTT below target and shrinks above it, in proportion", () => {
  const table: [number, number][] = [ // [delay µs, change per RTT in bytes]
    [0, 3000],
    [50_000, 1500],
    [100_000, 0],
    [150_000, -1500],
    [300_000, -6000],
  ];
  for (const [delay, change] of table) {
    const cc = new Ledbat(CONFIG, MSS);
    cc.slowStart = false;
    cc.cwnd = 100 * MSS;
    const before = cc.cwnd;
    rtt(cc, delay);
    const diff = cc.cwnd - before; // the window moves during the RTT: within 3 %
    assert(Math.abs(diff - change) <= 0.03 * Math.abs(change) + 1, `delay ${delay}: ${diff}`);
  }
});

Deno.test("Ledbat does not grow an application-limited window, and never drops below one packet", () => {
  const cc = new Ledbat(CONFIG, MSS);
  cc.cwnd = 100 * MSS;
  cc.onAck(MSS, 0, 10 * MSS); // only 10 packets were in flight
  assertEquals(cc.cwnd, 100 * MSS);
  cc.slowStart = false;
  for (let i = 0; i < 50; i++) rtt(cc, 10_000_000);
  assertEquals(cc.cwnd, MSS);
  cc.assertInvariants();
});

Deno.test("Ledbat halves the window on loss at most once per 100 ms; a timeout resets it to one packet", () => {
  const cc = new Ledbat(CONFIG, MSS);
  cc.cwnd = 64 * MSS;
  assertEquals([cc.onLoss(1000), cc.cwnd, cc.slowStart], [true, 32 * MSS, false]);
  assertEquals([cc.onLoss(1050), cc.cwnd], [false, 32 * MSS]);
  assertEquals([cc.onLoss(1101), cc.cwnd], [true, 16 * MSS]);
  cc.onTimeout(true); // idle: decay by a third
  assertEquals(cc.cwnd, (16 * MSS * 2) / 3);
  cc.onTimeout(false);
  assertEquals([cc.cwnd, cc.slowStart], [MSS, true]);
});

Deno.test("DelayHistory: queuing delay is the sample minus the lowest recent one; buckets expire after 13 minutes", () => {
  const h = new DelayHistory();
  const minute = 60_000;
  let now = 0;
  assertEquals(h.add(5_000_000, now), 0);
  assertEquals(h.add(5_020_000, now), 20_000);
  // the base only steps forward when a minute passed with enough samples (> 120)
  for (let m = 1; m <= 14; m++) {
    for (let i = 0; i < 130; i++) h.add(5_100_000, now + i);
    now = m * minute;
  }
  h.add(5_100_000, now);
  assertEquals(h.base, 5_100_000); // the old 5,000,000 minimum aged out
  h.shift(1000);
  assertEquals(h.add(5_101_500, now), 500);
});

Deno.test("DelayHistory compares wrapping timestamps", () => {
  const h = new DelayHistory();
  h.add(0xfffffff0, 0);
  assertEquals(h.add(0x10, 1), 0x20); // 32 µs later, across the wrap
  assertEquals(h.add(0xffffffe0, 2), 0); // a new minimum before the wrap
  assertEquals(h.base, 0xffffffe0);
});

Deno.test("PathMetrics: clock drift on the other side raises our base; INT_MAX differences are ignored", () => {
  const m = new PathMetrics();
  const h = newHeader();
  const packet = (nowMs: number, theirStampMicros: number, difference: number) => {
    h.timestampMicros = theirStampMicros;
    h.timestampDifferenceMicros = difference;
    m.onPacket(h, nowMs);
  };
  packet(1000, 1_000_000, 50_000); // their clock µs = our clock µs; our packets take 50 ms
  assertEquals([m.replyMicro, m.baseDelayMicros, m.queuingDelayMicros(Infinity)], [0, 50_000, 0]);
  // their clock runs 3 ms ahead now: their packets seem faster, ours slower by as much
  packet(1001, 1_004_000, 53_000);
  assertEquals([m.replyMicro, m.baseDelayMicros], [-3000 >>> 0, 53_000]); // base moved up 3 ms
  packet(1002, 1_005_000, 0x7fffffff); // uTorrent's "no sample"
  assertEquals(m.queuingDelayMicros(Infinity), 0);
  for (let i = 0; i < 3; i++) packet(1003 + i, 1_006_000 + i * 1000, 60_000);
  assertEquals(m.queuingDelayMicros(Infinity), 7000); // least of the last three samples
  assertEquals(m.queuingDelayMicros(5), 5000); // never above the RTT just measured
});

Deno.test("RttEstimator and PathMetrics.timeoutMs: srtt + 4·rttvar, 500 ms floor, doubling, capped", () => {
  const r = new RttEstimator();
  r.sample(100);
  assertEquals([r.srttMs, r.rttVarMs], [100, 50]);
  r.sample(200);
  assertEquals([r.srttMs, r.rttVarMs], [112.5, 62.5]);
  const m = new PathMetrics();
  const s = { minTimeoutMs: 500, synTimeoutMs: 1000, maxTimeoutMs: 60_000 };
  assertEquals([m.timeoutMs(0, s), m.timeoutMs(1, s), m.timeoutMs(10, s)], [1000, 2000, 60_000]);
  m.rtt.sample(10);
  assertEquals(m.timeoutMs(0, s), 500);
  m.rtt.sample(2000);
  assert(m.timeoutMs(0, s) > 2000);
});
