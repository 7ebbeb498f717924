import { assert, assertEquals } from "../../tests/assert.ts";
import { SeededRandom } from "../util/prng.ts";
import { isTrackerUrl, MAX_TRACKERS, retryDelayMs, TrackerTiers } from "./tiers.ts";

function order(tiers: TrackerTiers): string[][] {
  const out: string[][] = [];
  for (const e of tiers.entries()) (out[e.tier] ??= []).push(e.url);
  return out;
}

Deno.test("retryDelayMs() follows libtorrent: 5 s + 12.5 s·fails², capped at 60 min", () => {
  const cases: [number, number | undefined, number][] = [
    [1, undefined, 17_500],
    [2, undefined, 55_000],
    [3, undefined, 117_500],
    [16, undefined, 3_205_000],
    [17, undefined, 3_600_000],
    [100, undefined, 3_600_000],
    [1, 600, 600_000], // the tracker's own retry delay wins when longer
  ];
  for (const [fails, retryInS, expected] of cases) {
    assertEquals(retryDelayMs(fails, retryInS), expected, `${fails}`);
  }
});

Deno.test("isTrackerUrl() accepts only http, https and udp", () => {
  const cases: [string, boolean][] = [
    ["http://t/announce", true],
    ["HTTPS://t/announce", true],
    ["udp://t:80", true],
    ["file:///etc/passwd", false],
    ["ftp://t/", false],
    ["wss://t/", false],
    ["http://", false],
    ["javascript:alert(1)", false],
  ];
  for (const [url, expected] of cases) assertEquals(isTrackerUrl(url), expected, url);
});

Deno.test("TrackerTiers() shuffles each tier once, drops duplicates and bad schemes, caps the count", () => {
  const tiers = new TrackerTiers(
    [["http://a/announce", "http://b/announce", "http://c/announce"], [
      "file:///x",
      "http://a/announce",
    ], ["udp://d:1"]],
    new SeededRandom(1),
  );
  const shuffled = order(tiers);
  assertEquals(shuffled.length, 2);
  assertEquals([...shuffled[0]!].sort(), [
    "http://a/announce",
    "http://b/announce",
    "http://c/announce",
  ]);
  assertEquals(shuffled[1], ["udp://d:1"]);
  const many = new TrackerTiers(
    [Array.from({ length: 500 }, (_, i) => `http://t${i}/announce`)],
    new SeededRandom(2),
  );
  assertEquals(many.size, MAX_TRACKERS);
  tiers.assertInvariants();
});

Deno.test("TrackerTiers.next() tries trackers in order and moves the one that answers to the front", () => {
  const tiers = new TrackerTiers([["a", "b", "c"].map((h) => `http://${h}/announce`), [
    "udp://d:1",
  ]], new SeededRandom(3));
  const [first, second, third] = order(tiers)[0]!;
  assertEquals(tiers.next(0), { url: first, at: 0 });
  tiers.onFailure(first!, 0);
  assertEquals(tiers.next(0), { url: second, at: 0 });
  tiers.onFailure(second!, 0);
  tiers.onSuccess(third!, 0);
  assertEquals(order(tiers)[0], [third, first, second]);
  assertEquals(tiers.next(1), { url: third, at: 1 });
  tiers.assertInvariants();
});

Deno.test("TrackerTiers.next() falls to the next tier only when a whole tier is backed off", () => {
  const tiers = new TrackerTiers(
    [["http://a/announce"], ["http://b/announce"]],
    new SeededRandom(4),
  );
  tiers.onFailure("http://a/announce", 0);
  assertEquals(tiers.next(0), { url: "http://b/announce", at: 0 });
  assertEquals(tiers.next(17_500), { url: "http://a/announce", at: 17_500 });
  tiers.onFailure("http://b/announce", 0);
  tiers.onFailure("http://b/announce", 0);
  assertEquals(tiers.next(1000), { url: "http://a/announce", at: 17_500 }); // soonest ready
});

Deno.test("TrackerTiers.onFailure() drops a tracker for good on 410 or retry-in-never (TC4)", () => {
  const tiers = new TrackerTiers([["http://a/announce", "http://b/announce"]], new SeededRandom(5));
  assertEquals(tiers.onFailure("http://a/announce", 0, { permanent: true }), undefined);
  for (let now = 0; now < 10; now++) assertEquals(tiers.next(now)?.url, "http://b/announce");
  tiers.onFailure("http://b/announce", 0, { permanent: true });
  assertEquals(tiers.next(0), undefined);
  assert(tiers.entries().every((e) => e.isDead));
});
