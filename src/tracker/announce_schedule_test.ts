import { assertEquals } from "../../tests/assert.ts";
import { AnnounceSchedule, clampIntervalS } from "./announce_schedule.ts";

Deno.test("clampIntervalS() keeps intervals within [60 s, 6 h]", () => {
  const cases: [number | undefined, number][] = [
    [undefined, 1800],
    [NaN, 1800],
    [0, 60],
    [59.9, 60],
    [61.7, 61],
    [1e12, 21600],
  ];
  for (const [input, expected] of cases) {
    assertEquals(clampIntervalS(input), expected, String(input));
  }
});

Deno.test("AnnounceSchedule sends started, then regular announces on the interval", () => {
  const s = new AnnounceSchedule();
  assertEquals(s.nextAnnounceAt(), undefined);
  s.start(1000);
  assertEquals([s.isDue(1000), s.eventFor("u")], [true, "started"]);
  s.onSuccess("u", "started", 1000, { intervalS: 120 });
  assertEquals([s.nextAnnounceAt(), s.isDue(120_999), s.eventFor("u")], [
    121_000,
    false,
    undefined,
  ]);
  assertEquals(s.eventFor("other"), "started"); // a tier switch starts the next tracker too
  s.assertInvariants();
});

Deno.test("AnnounceSchedule owes completed only to trackers that got started", () => {
  const s = new AnnounceSchedule();
  s.start(0);
  s.onSuccess("a", "started", 0, { intervalS: 1800 });
  s.completed(5000);
  assertEquals([s.nextAnnounceAt(), s.eventFor("a"), s.eventFor("b")], [
    5000,
    "completed",
    "started",
  ]);
  s.onSuccess("a", "completed", 5000, { intervalS: 1800 });
  assertEquals(s.eventFor("a"), undefined);
  s.assertInvariants();
});

Deno.test("AnnounceSchedule.reannounce() respects the min interval", () => {
  const s = new AnnounceSchedule();
  s.start(0);
  s.onSuccess("a", "started", 0, { intervalS: 1800, minIntervalS: 300 });
  s.reannounce(10_000);
  assertEquals(s.nextAnnounceAt(), 300_000);
  s.onSuccess("a", undefined, 300_000, { intervalS: 1800, minIntervalS: 300 });
  s.reannounce(900_000);
  assertEquals(s.nextAnnounceAt(), 900_000);
});

Deno.test("AnnounceSchedule.stop() owes stopped to started trackers and ends", () => {
  const s = new AnnounceSchedule();
  s.start(0);
  s.onSuccess("a", "started", 0, { intervalS: 1800 });
  s.onSuccess("b", "started", 0, { intervalS: 1800 });
  s.stop(10);
  assertEquals([s.phase, s.startedUrls(), s.eventFor("a")], ["stopping", ["a", "b"], "stopped"]);
  s.onSuccess("a", "stopped", 20, { intervalS: 1800 });
  s.forget("b");
  assertEquals([s.phase, s.nextAnnounceAt()], ["stopped", undefined]);
  s.assertInvariants();
  const idle = new AnnounceSchedule();
  idle.stop(0);
  assertEquals(idle.phase, "stopped");
});

Deno.test("AnnounceSchedule.onFailure() plans the retry from the tiers", () => {
  const s = new AnnounceSchedule();
  s.start(0);
  s.onFailure(17_500);
  assertEquals([s.nextAnnounceAt(), s.eventFor("a")], [17_500, "started"]);
});
