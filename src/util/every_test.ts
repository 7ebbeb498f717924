import { assertEquals } from "../../tests/assert.ts";
import { VirtualClock } from "../../tests/sim/virtual_clock.ts";
import { every } from "./every.ts";

Deno.test("every() runs on schedule, survives a throwing run, and stops when cancelled", async () => {
  const clock = new VirtualClock();
  const t0 = clock.now();
  const runs: number[] = [];
  const errors: unknown[] = [];
  const timer = every(clock, 100, () => {
    runs.push(clock.now() - t0);
    if (runs.length === 2) throw new Error("boom");
  }, (e) => errors.push(e));
  await clock.advance(350);
  timer.cancel();
  await clock.advance(500);
  assertEquals(runs, [100, 200, 300]);
  assertEquals(errors.length, 1);
});
