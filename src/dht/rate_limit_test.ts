import { assert, assertEquals, assertThrows } from "../../tests/assert.ts";
import { ByteBudget, IpRateLimiter, maxReplyBytes } from "./rate_limit.ts";

const MIN = 60_000;

Deno.test("IpRateLimiter.allow() passes 5 packets/s sustained and blocks a flooder for 5 minutes (D2)", () => {
  const limiter = new IpRateLimiter();
  let passed = 0;
  for (let ms = 0; ms < 60_000; ms += 200) if (limiter.allow("1.1.1.1", ms)) passed++; // 5/s
  assertEquals(passed, 300);
  assert(!limiter.isBlocked("1.1.1.1", 60_000));
  let flood = 0;
  for (let ms = 0; ms < 10_000; ms += 50) if (limiter.allow("2.2.2.2", ms)) flood++; // 20/s
  assert(flood < 100, `${flood} packets passed`);
  assert(limiter.isBlocked("2.2.2.2", 10_000));
  assert(!limiter.allow("2.2.2.2", 10_000 + 4 * MIN));
  assert(limiter.allow("2.2.2.2", 20_000 + 5 * MIN));
  assert(limiter.allow("3.3.3.3", 10_000), "other IPs unaffected");
});

Deno.test("IpRateLimiter forgets the least recently seen IP beyond its capacity", () => {
  const limiter = new IpRateLimiter({ burstPackets: 1, maxTrackedIps: 2 });
  limiter.allow("1.1.1.1", 0);
  limiter.allow("1.1.1.1", 0); // blocked
  assert(limiter.isBlocked("1.1.1.1", 0));
  limiter.allow("2.2.2.2", 0);
  limiter.allow("3.3.3.3", 0);
  assert(!limiter.isBlocked("1.1.1.1", 0), "evicted");
  assertThrows(() => new IpRateLimiter({ packetsPerSecond: 0 }), RangeError);
});

Deno.test("ByteBudget.tryTake() caps output at its rate with a burst allowance", () => {
  const budget = new ByteBudget(8000, 16000, 0);
  let sent = 0;
  for (let ms = 0; ms <= 10_000; ms += 10) if (budget.tryTake(500, ms)) sent += 500;
  assert(sent <= 8000 * 10 + 16000 && sent >= 8000 * 10, `${sent} bytes in 10 s`);
  assert(new ByteBudget(Infinity).tryTake(1e9, 0));
  assertThrows(() => new ByteBudget(0), RangeError);
});

Deno.test("maxReplyBytes() allows at most 10x the request", () => {
  assertEquals(maxReplyBytes(95), 950);
  assertEquals(maxReplyBytes(95, 2), 190);
});
