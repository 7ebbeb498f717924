import { assert, assertEquals } from "../../tests/assert.ts";
import { VirtualClock } from "../../tests/sim/virtual_clock.ts";
import { encode } from "../bencode/mod.ts";
import type { PeerAddress } from "../runtime/types.ts";
import { SeededRandom } from "../util/prng.ts";
import { encodeCompactPeers } from "./compact_peers.ts";
import {
  type HttpFetcher,
  type HttpFetchOptions,
  type HttpFetchResult,
  HttpTrackerClient,
} from "./http_client.ts";
import { TrackerClient } from "./tracker_client.ts";

type Behaviour = "ok" | "down" | "gone" | "hang";

/** HTTP trackers by host name, each with a scripted behaviour; records every request. */
class Trackers implements HttpFetcher {
  readonly log: { host: string; event: string; numwant: string; at: number }[] = [];
  readonly behaviour = new Map<string, Behaviour>();
  constructor(readonly clock: VirtualClock) {}
  fetch(url: string, options: HttpFetchOptions): Promise<HttpFetchResult> {
    const u = new URL(url);
    const host = u.hostname;
    this.log.push({
      host,
      event: u.searchParams.get("event") ?? "",
      numwant: u.searchParams.get("numwant") ?? "",
      at: this.clock.now(),
    });
    const b = this.behaviour.get(host) ?? "ok";
    if (b === "down") return Promise.reject(new Error("connection refused"));
    if (b === "gone") return Promise.resolve({ status: 410, body: new Uint8Array(0) });
    if (b === "hang") {
      return new Promise((_, reject) =>
        options.signal?.addEventListener("abort", () => reject(new Error("aborted")))
      );
    }
    const peers = encodeCompactPeers([{ host: "10.9.9.9", port: 1000 + host.length }], 4);
    return Promise.resolve({
      status: 200,
      body: encode({ interval: 600, complete: 3, incomplete: 4, peers }),
    });
  }
}

function setup(tiers: string[][]) {
  const clock = new VirtualClock();
  const trackers = new Trackers(clock);
  const got: { peers: PeerAddress[]; source: string }[] = [];
  let left = 100;
  const client = new TrackerClient({
    infoHash: new Uint8Array(20).fill(3),
    peerId: new Uint8Array(20).fill(4),
    port: 6881,
    trackers: tiers.map((t) => t.map((h) => `http://${h}/announce`)),
    clock,
    random: new SeededRandom(11),
    http: new HttpTrackerClient({ fetcher: trackers }),
    stats: () => ({ uploaded: 0, downloaded: 100 - left, left }),
    onPeers: (peers, source) => got.push({ peers, source }),
  });
  return { clock, trackers, got, client, finish: () => (left = 0) };
}

Deno.test("TrackerClient.start() announces started and hands the peers to onPeers", async () => {
  const { clock, trackers, got, client } = setup([["a.example"]]);
  const t0 = clock.wallNow();
  client.start();
  await clock.advance(10);
  assertEquals(trackers.log.map((l) => [l.host, l.event, l.numwant]), [[
    "a.example",
    "started",
    "200",
  ]]);
  assertEquals(got, [{
    peers: [{ host: "10.9.9.9", port: 1009 }],
    source: "http://a.example/announce",
  }]);
  const [status] = client.status();
  assertEquals([status!.peersReturned, status!.seeders, status!.leechers, status!.lastError], [
    1,
    3,
    4,
    undefined,
  ]);
  assertEquals(status!.lastAnnounceAt, t0);
  assertEquals(status!.nextAnnounceAt, t0 + 600_000);
  await clock.advance(600_000);
  assertEquals(trackers.log.map((l) => l.event), ["started", ""]);
});

Deno.test("TrackerClient moves on within a tier, then to the next tier, and backs off failures", async () => {
  const { clock, trackers, client } = setup([["a.example", "b.example"], ["c.example"]]);
  trackers.behaviour.set("a.example", "down").set("b.example", "down");
  client.start();
  await clock.advance(10);
  assertEquals(trackers.log.map((l) => l.host).sort(), ["a.example", "b.example", "c.example"]);
  assertEquals(trackers.log[2]!.host, "c.example");
  const status = client.status();
  assertEquals(status.map((s) => [s.fails, s.lastError !== undefined]), [[1, true], [1, true], [
    0,
    false,
  ]]);
  const wall = clock.wallNow() - 10;
  assertEquals(status.slice(0, 2).map((s) => s.nextAnnounceAt! - wall), [17_500, 17_500]);
  trackers.behaviour.set("a.example", "ok").set("b.example", "ok");
  await clock.advance(600_000);
  // back on tier 1 (its back-off expired), which owes started to its tracker
  assertEquals(trackers.log.slice(3).map((l) => l.event), ["started"]);
});

Deno.test("TrackerClient.completed() announces completed now, stop() sends stopped", async () => {
  const { clock, trackers, client, finish } = setup([["a.example"]]);
  client.start();
  await clock.advance(10);
  finish();
  client.completed();
  await clock.advance(10);
  const stopping = client.stop(1000);
  await clock.runUntil(stopping, 2000, 10);
  assertEquals(trackers.log.map((l) => [l.event, l.numwant]), [["started", "200"], [
    "completed",
    "200",
  ], ["stopped", "0"]]);
  await clock.advance(3_600_000);
  assertEquals(trackers.log.length, 3);
});

Deno.test("TrackerClient.stop() gives up after its timeout and never throws", async () => {
  const { clock, trackers, client } = setup([["a.example"]]);
  client.start();
  await clock.advance(10);
  trackers.behaviour.set("a.example", "hang");
  const start = clock.now();
  await clock.runUntil(client.stop(500), 5000, 10);
  assert(clock.now() - start <= 510);
  assertEquals(trackers.log.at(-1)!.event, "stopped");
});

Deno.test("TrackerClient drops a tracker that answers 410 and keeps going when all fail", async () => {
  const { clock, trackers, client } = setup([["a.example", "b.example"]]);
  trackers.behaviour.set("a.example", "gone").set("b.example", "down");
  client.start();
  await clock.advance(3_600_000);
  const status = client.status();
  const a = status.find((s) => s.url.includes("a.example"))!;
  const b = status.find((s) => s.url.includes("b.example"))!;
  assertEquals(a.isDead, true);
  assertEquals(trackers.log.filter((l) => l.host === "a.example").length, 1);
  assert(b.fails >= 5 && b.fails < 30, `b.example tried ${b.fails} times in an hour`);
  assertEquals(b.nextAnnounceAt !== undefined, true);
});
