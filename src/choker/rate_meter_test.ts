import { assert, assertEquals, assertThrows } from "../../tests/assert.ts";
import { RateMeter } from "./mod.ts";

// [name, adds as [bytes, atMs], query time, expected bytes/s]
const cases: [string, [number, number][], number, number][] = [
  ["is 0 before anything is counted", [], 5000, 0],
  ["divides by at least one bucket", [[1000, 0]], 0, 1000],
  ["measures a young meter since its first byte", [[1000, 0], [1000, 1000]], 2000, 1000],
  ["ignores time before the first byte", [[4000, 10_000]], 12_000, 2000],
  // a full window is 19 whole buckets plus the current, partial one
  ["averages over the whole window once full", [[20_000, 0], [19_000, 19_500]], 25_000, 1000],
  ["forgets bytes older than the window", [[99_999, 0], [3800, 30_000]], 31_000, 200],
  ["is 0 once the window has passed", [[5000, 0]], 20_000, 0],
  ["counts late adds inside the window", [[1000, 5000], [1000, 3000]], 5000, 1000],
  ["drops adds older than the window", [[975, 50_000], [950, 1000]], 50_500, 50],
];
for (const [name, adds, at, expected] of cases) {
  Deno.test(`RateMeter.rate() ${name}`, () => {
    const meter = new RateMeter();
    for (const [bytes, now] of adds) meter.add(bytes, now);
    assertEquals(meter.rate(at), expected);
    assertEquals(meter.total, adds.reduce((sum, [bytes]) => sum + bytes, 0));
  });
}

Deno.test("RateMeter.rate() tracks a steady stream and its stop", () => {
  const meter = new RateMeter();
  for (let t = 0; t <= 60_000; t += 100) meter.add(1000, t); // 10 kB/s
  const rate = meter.rate(60_050);
  assert(Math.abs(rate - 10_000) < 100, `rate ${rate}`);
  assert(meter.rate(70_000) < 5600 && meter.rate(70_000) > 4400);
  assertEquals(meter.rate(81_000), 0);
  assertEquals(meter.total, 601 * 1000);
});

Deno.test("RateMeter.add() survives long gaps and custom windows", () => {
  const meter = new RateMeter({ windowMs: 2000, bucketMs: 500 });
  meter.add(500, 0);
  meter.add(500, 1e12);
  assertEquals(meter.rate(1e12 + 500), 500 / 1.5); // 3 whole buckets + an empty current one
  assertEquals(meter.windowMs, 2000);
});

Deno.test("RateMeter rejects bad input", () => {
  assertThrows(() => new RateMeter({ windowMs: 1500, bucketMs: 1000 }), RangeError);
  assertThrows(() => new RateMeter({ bucketMs: 0 }), RangeError);
  const meter = new RateMeter();
  assertThrows(() => meter.add(-1, 0), RangeError);
  assertThrows(() => meter.add(Infinity, 0), RangeError);
  assertThrows(() => meter.add(1, NaN), RangeError);
});
