import { assertEquals } from "../../tests/assert.ts";
import { describeEvent, lineSink, RunLog } from "./run_log.ts";

Deno.test("RunLog writes one timestamped line per record, fields as key=value", async () => {
  const lines: string[] = [];
  const log = new RunLog(
    lineSink((l) => lines.push(l)),
    () => Date.UTC(2026, 11, 5, 10, 0, 0, 123),
  );
  log.debug("dialing 10.0.0.2:6881", { infoHash: "ab", n: 3 });
  log.warn("DHT: no bootstrap node answered", { error: new Error("timed out"), list: [1] });
  log.event({ type: "peer-closed", category: "peer", infoHash: "ab", peer: "p", reason: "eof" });
  log.event({
    type: "progress",
    category: "stats",
    stats: {} as never,
  });
  log.info("name\x1b[2J");
  await log.close();
  assertEquals(lines, [
    "2026-12-05T10:00:00.123Z debug dialing 10.0.0.2:6881 infoHash=ab n=3",
    '2026-12-05T10:00:00.123Z warn DHT: no bootstrap node answered error="timed out" list=[1]',
    "2026-12-05T10:00:00.123Z event peer p closed: eof",
    "2026-12-05T10:00:00.123Z info name\\u{1b}[2J",
  ]);
});

Deno.test("describeEvent() covers connections, trackers, pieces and storage", () => {
  const hex = "ab".repeat(20);
  assertEquals(
    describeEvent({
      type: "peer-connected",
      category: "peer",
      infoHash: hex,
      peer: "127.0.0.1:5",
      client: "libtorrent 2.0",
      outgoing: true,
      encryption: "rc4",
      transport: "tcp",
    }),
    "peer 127.0.0.1:5 connected (we dialled, handshake done, client libtorrent 2.0, MSE RC4)",
  );
  const peer = { type: "peer-connected", category: "peer", infoHash: hex, peer: "p" } as const;
  const client = { client: "T", outgoing: false, transport: "tcp" } as const;
  assertEquals(
    describeEvent({ ...peer, ...client, encryption: "mse-plaintext" }),
    "peer p connected (it dialled, handshake done, client T, MSE plaintext)",
  );
  assertEquals(
    describeEvent({ ...peer, ...client, encryption: "none" }),
    "peer p connected (it dialled, handshake done, client T, plain BitTorrent)",
  );
  assertEquals(
    describeEvent({ ...peer, ...client, transport: "utp", encryption: "none" }),
    "peer p connected (it dialled over uTP, handshake done, client T, plain BitTorrent)",
  );
  assertEquals(
    describeEvent({
      type: "tracker-announced",
      category: "tracker",
      infoHash: hex,
      url: "u",
      peers: 4,
    }),
    "tracker u answered: 4 peers",
  );
  assertEquals(
    describeEvent({
      type: "piece-hash-failed",
      category: "piece",
      infoHash: hex,
      index: 2,
      peers: [],
    }),
    "piece 2 failed its hash (sent by nobody)",
  );
  assertEquals(
    describeEvent({ type: "storage-warning", category: "storage", infoHash: hex, message: "m" }),
    "m",
  );
});
