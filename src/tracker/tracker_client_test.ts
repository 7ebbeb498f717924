import { assert, assertEquals } from "../../tests/assert.ts";
import { VirtualClock } from "../../tests/sim/virtual_clock.ts";
import { encode } from "../bencode/mod.ts";
import { SeededRandom } from "../util/prng.ts";
import { encodeCompactPeers } from "./compact_peers.ts";
import {
  type HttpFetcher,
  type HttpFetchOptions,
  type HttpFetchResult,
  HttpTrackerClient,
} from "./http_client.ts";
import { TrackerClient, type TrackerClientOptions } from "./tracker_client.ts";
import type { Logger, PeerAddress, UdpSocketLike } from "../runtime/types.ts";
import { UdpTrackerClient } from "./udp_client.ts";

type Behaviour = "ok" | "down" | "gone" | "hang" | "error500" | "refuse" | "empty";

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
    if (b === "error500") return Promise.resolve({ status: 500, body: new Uint8Array(0) });
    if (b === "refuse") {
      return Promise.resolve({
        status: 200,
        body: encode({ "failure reason": "unregistered\u001b[2J" }),
      });
    }
    if (b === "hang") {
      return new Promise((_, reject) =>
        options.signal?.addEventListener("abort", () => reject(new Error("aborted")))
      );
    }
    const peers = b === "empty"
      ? new Uint8Array(0)
      : encodeCompactPeers([{ host: "10.9.9.9", port: 1000 + host.length }], 4);
    return Promise.resolve({
      status: 200,
      body: encode({ interval: 600, complete: 3, incomplete: 4, peers }),
    });
  }
}

/** Log lines as `level message`. */
function recordingLogger(lines: string[]): Logger {
  return {
    debug: (m) => lines.push(`debug ${m}`),
    info: (m) => lines.push(`info ${m}`),
    warn: (m) => lines.push(`warn ${m}`),
    error: (m) => lines.push(`error ${m}`),
  };
}

function setup(hosts: string[][], extra: Partial<TrackerClientOptions> = {}) {
  const tiers = hosts.map((t) => t.map((h) => `http://${h}/announce`));
  return setupWith(new VirtualClock(), tiers, extra);
}

function setupWith(
  clock: VirtualClock,
  tiers: string[][],
  extra: Partial<TrackerClientOptions> = {},
) {
  const trackers = new Trackers(clock);
  const got: { peers: PeerAddress[]; source: string }[] = [];
  let left = 100;
  const client = new TrackerClient({
    infoHash: new Uint8Array(20).fill(3),
    peerId: new Uint8Array(20).fill(4),
    port: 6881,
    trackers: tiers,
    clock,
    random: new SeededRandom(11),
    http: new HttpTrackerClient({ fetcher: trackers }),
    stats: () => ({ uploaded: 0, downloaded: 100 - left, left }),
    onPeers: (peers, source) => got.push({ peers, source }),
    ...extra,
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

Deno.test("TrackerClient hands an answer with no peer to onPeers too (the swarm's first seed)", async () => {
  const { clock, trackers, got, client } = setup([["a.example"]]);
  trackers.behaviour.set("a.example", "empty");
  client.start();
  await clock.advance(10);
  assertEquals(got, [{ peers: [], source: "http://a.example/announce" }]);
  assertEquals(client.status()[0]!.peersReturned, 0);
  await client.stop();
  assertEquals(trackers.log.map((l) => l.event), ["started", "stopped"]);
  assertEquals(got.length, 1, "no onPeers for the stopped announce");
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

Deno.test("TrackerClient warns once per change of state, naming the URL and the reason", async () => {
  // A dead tracker once gave `warning: tracker announce failed` on every retry, with no URL
  // or reason.
  const log: string[] = [];
  const { clock, trackers, client } = setup([["a.example"]], { logger: recordingLogger(log) });
  const url = `"http://a.example/announce"`;
  trackers.behaviour.set("a.example", "down");
  client.start();
  await clock.advance(3_600_000); // about ten retries
  assert(client.status()[0]!.fails >= 5, `fails ${client.status()[0]!.fails}`);
  assertEquals(log.filter((l) => l.startsWith("warn")), [
    `warn Cannot announce to ${url}: network error: connection refused`,
  ]);
  assert(log.filter((l) => l.startsWith("debug")).length >= 4); // the repeats, quietly
  trackers.behaviour.set("a.example", "error500");
  await clock.advance(3_600_000);
  trackers.behaviour.set("a.example", "refuse");
  await clock.advance(3_600_000);
  trackers.behaviour.set("a.example", "ok");
  await clock.advance(3_600_000);
  const status = client.status()[0]!;
  assertEquals([status.lastError, status.lastErrorAt !== undefined], [undefined, true]);
  trackers.behaviour.set("a.example", "down");
  await clock.advance(3_600_000);
  assertEquals(
    log.filter((l) => !l.startsWith("debug")).map((l) => l.replace(/\d+ failures/, "N failures")),
    [
      `warn Cannot announce to ${url}: network error: connection refused`,
      `warn Cannot announce to ${url}: tracker answered HTTP 500`,
      `warn Cannot announce to ${url}: tracker refused: "unregistered\\u{1b}[2J"`, // escaped (C3)
      `info Announced to ${url} again after N failures`,
      `warn Cannot announce to ${url}: network error: connection refused`,
    ],
  );
});

Deno.test("TrackerClient: a dead UDP tracker first in its tier yields to the next within 45 s", async () => {
  // With BEP 15's full schedule (15·2^n s, n ≤ 8) the UDP client waited 2 h 8 min before
  // failing, with the torrent's one announce in flight: no tracker was tried meanwhile.
  const clock = new VirtualClock();
  const silent: UdpSocketLike = {
    addr: { host: "127.0.0.1", port: 40000 },
    send: () => Promise.resolve(),
    receive: () => new Promise<null>((resolve) => (closeSilent = () => resolve(null))),
    close: () => closeSilent(),
  };
  let closeSilent = () => {};
  const udp = new UdpTrackerClient({ socket: silent, clock, random: new SeededRandom(3) });
  const log: string[] = [];
  const { trackers, client } = setupWith(clock, [[
    "udp://10.0.0.1:6969",
    "http://b.example/announce",
  ]], {
    udp,
    logger: recordingLogger(log),
    random: new SeededRandom(2), // tier order: the UDP tracker first
  });
  assertEquals(client.status()[0]!.url, "udp://10.0.0.1:6969");
  const start = clock.now();
  client.start();
  await clock.advance(45_001);
  assertEquals(trackers.log.map((l) => [l.host, l.at - start]), [["b.example", 45_000]]);
  assertEquals(log.filter((l) => l.startsWith("warn")), [
    `warn Cannot announce to "udp://10.0.0.1:6969": timed out after 45 s (2 tries)`,
  ]);
  udp.close();
});
