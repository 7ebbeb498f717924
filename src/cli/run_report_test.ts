import { assert, assertEquals } from "../../tests/assert.ts";
import type { TorrentStats } from "../session/events.ts";
import { noPeersHint, StarvationWatch, summaryLine } from "./run_report.ts";

function stats(over: Partial<TorrentStats> = {}): TorrentStats {
  return {
    infoHash: "ab".repeat(20),
    name: "x.iso",
    bytesVerified: 0,
    bytesWanted: 24 * 1024 * 1024,
    piecesHave: 0,
    pieceCount: 96,
    downloadBps: 0,
    uploadBps: 0,
    bytesDownloaded: 0,
    bytesUploaded: 0,
    peersUsed: 0,
    peers: 0,
    seeds: 0,
    knownPeers: 0,
    state: "downloading",
    ...over,
  };
}

Deno.test("summaryLine() says size, time, average rate, peers used and uploaded in one line", () => {
  const MiB = 1024 * 1024;
  const done = stats({
    bytesVerified: 24 * MiB,
    bytesDownloaded: 24 * MiB,
    bytesUploaded: 3 * MiB,
    peersUsed: 3,
    state: "seeding",
  });
  assertEquals(
    summaryLine({ outcome: "complete", dir: "dl", stats: done, elapsedMs: 3_000 }),
    "Complete: x.iso, 24.0 MiB verified in dl; downloaded 24.0 MiB in 3.0s (8.00 MiB/s " +
      "average) from 3 peers; uploaded 3.00 MiB",
  );
  const half = stats({ bytesVerified: 12 * MiB, bytesDownloaded: 13 * MiB, peersUsed: 1 });
  assertEquals(
    summaryLine({ outcome: "error", dir: "dl", stats: half, elapsedMs: 65_000 }),
    "Stopped: x.iso, 12.0 MiB of 24.0 MiB verified and kept in dl; downloaded 13.0 MiB in " +
      "1m05s (205 KiB/s average) from 1 peer; uploaded 0 B",
  );
  assertEquals(
    summaryLine({ outcome: "complete", dir: "s", stats: done, elapsedMs: 10_000, seeding: true }),
    "Seeded: x.iso, 24.0 MiB verified in s; uploaded 3.00 MiB in 10s (307 KiB/s average); " +
      "downloaded 24.0 MiB from 3 peers",
  );
  const evil = stats({ name: "a\x1b[2Jb" });
  assert(
    !summaryLine({ outcome: "stopped", dir: "d", stats: evil, elapsedMs: 1 }).includes("\x1b"),
  );
});

Deno.test("noPeersHint() names every source tried and what it answered", () => {
  const trackers = [
    {
      url: "http://127.0.0.1:1/announce",
      tier: 0,
      lastAnnounceAt: undefined,
      peersReturned: 0,
      seeders: undefined,
      leechers: undefined,
      lastError: "Cannot reach tracker: Connection refused",
      lastErrorAt: 4,
      warning: undefined,
      nextAnnounceAt: undefined,
      fails: 2,
      isDead: false,
    },
    {
      url: "udp://t.example:6969/announce",
      tier: 1,
      lastAnnounceAt: 5,
      peersReturned: 0,
      seeders: 0,
      leechers: 1,
      lastError: undefined,
      lastErrorAt: undefined,
      warning: undefined,
      nextAnnounceAt: undefined,
      fails: 0,
      isDead: false,
    },
  ];
  const hint = noPeersHint(
    stats({ trackers, knownPeers: 1 }),
    {
      dht: { tableSize: 0, queriesSent: 8, repliesReceived: 0 },
      pex: true,
      lsd: { sent: 3, received: 2, peers: 0 },
      manualPeers: [],
    },
    31_000,
  );
  assertEquals(
    hint,
    "no peers after 31s; trackers: http://127.0.0.1:1/announce (Cannot reach tracker: " +
      "Connection refused, 2 failures), udp://t.example:6969/announce (answered: 0 peers); " +
      "DHT: 0 nodes in the routing table, 0 of 8 queries answered (no bootstrap node " +
      "answered); PEX: no connected peer to ask; LSD: 2 LAN announces heard; 1 peer address " +
      "known. Check the network and firewall, or give a peer with --peer HOST:PORT",
  );
  const off = noPeersHint(
    stats({ state: "metadata" }),
    { dht: undefined, dhtOff: "--no-dht", pex: false, manualPeers: ["10.0.0.9:6881"] },
    60_000,
  );
  assert(off.startsWith("no peers to fetch the metadata from after 1m00s; no trackers; "), off);
  assert(
    off.includes("DHT: off (--no-dht); PEX: off; LSD: off; --peer 10.0.0.9:6881: no connection"),
    off,
  );
});

Deno.test("StarvationWatch.update() hints once per spell without peers, after the delay", () => {
  const watch = new StarvationWatch(30_000);
  const none = stats(), some = stats({ peers: 2 });
  assertEquals(watch.update(0, stats({ state: "checking" })), undefined);
  assertEquals(watch.update(1_000, none), undefined);
  assertEquals(watch.update(30_000, none), undefined);
  assertEquals(watch.update(31_000, none), 30_000);
  assertEquals(watch.update(60_000, none), undefined, "once per spell");
  assertEquals(watch.update(61_000, some), undefined);
  assertEquals(watch.update(62_000, none), undefined);
  assertEquals(watch.update(92_000, none), 30_000, "a new spell hints again");
  assertEquals(watch.update(200_000, stats({ state: "seeding" })), undefined);
});
