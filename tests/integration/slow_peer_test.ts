/**
 * Slow peers against a real Session over loopback TCP (RELIABILITY PW10): a peer that
 * drips a message byte by byte is closed once the message is late, though it is never
 * idle; our own download limit never makes an honest peer late.
 */
import { assert, assertEquals } from "../assert.ts";
import { encodeMessage } from "../../src/wire/mod.ts";
import { makeSimTorrent } from "../sim/swarm_harness.ts";
import { RawPeer, sleep, withLoopbackSeed } from "./_hostile_peer.ts";
import { withLoopbackLeecher } from "./_loopback_leecher.ts";

const t = makeSimTorrent(4, 32 * 1024, 41);
const big = makeSimTorrent(4, 32 * 1024, 42);

Deno.test("PW10: a peer that sends one byte every 300 ms inside a message is closed once the message is late", async () => {
  // 1 s for a message, plus its length at 512 bytes/s: a 17-byte REQUEST has ~1.03 s
  await withLoopbackSeed(
    t,
    { messageTimeoutMs: 1000, minMessageBytesPerSecond: 512 },
    async ({ port }) => {
      const dripper = await RawPeer.connect(port, t);
      try {
        await dripper.send({ type: "interested" });
        assert(await dripper.readUntil((m) => m.type === "unchoke", 5000));
        const bytes = encodeMessage({ type: "request", index: 0, begin: 0, length: 16384 });
        const started = Date.now();
        let sent = 0;
        for (; sent < bytes.length && !dripper.closed; sent++) {
          await dripper.conn.write(bytes.subarray(sent, sent + 1)).catch(() =>
            dripper.closed = true
          );
          await dripper.readUntil(() => false, 300); // keeps reading: it is never idle
        }
        assert(dripper.closed, "the dripping peer was closed");
        assert(sent < bytes.length, `it sent all ${sent} bytes first`);
        const closedAfter = Date.now() - started;
        assert(closedAfter >= 1000 && closedAfter < 6000, `closed after ${closedAfter} ms`);
      } finally {
        dripper.close();
      }
    },
  );
});

Deno.test("PW10: a download held back by our own rate limit never makes the seeding peer late", async () => {
  // 300 ms per message and a floor rate no peer could miss: only socket waits may count
  // (peer_connection_test.ts checks that rule on a hand-set clock; this checks that a real
  // rate-limited download with blocks straddling 8 KiB reads never trips it).
  const overrides = {
    messageTimeoutMs: 300,
    minMessageBytesPerSecond: 100_000_000,
    maxDownloadBytesPerSecond: 16 * 1024,
    readBufferBytes: 8 * 1024,
    tickIntervalMs: 100,
  };
  const t = big;
  await withLoopbackLeecher(t.meta, async ({ port, torrent }) => {
    const started = Date.now();
    const seed = await RawPeer.connect(port, t);
    const closes: string[] = [];
    void (async () => {
      for await (const e of torrent.events({ categories: ["peer"] })) {
        if (e.type === "peer-closed") closes.push(e.reason);
      }
    })();
    try {
      await seed.send({ type: "have-all" }, { type: "unchoke" });
      const deadline = Date.now() + 30_000;
      while (torrent.stats().piecesHave < t.meta.pieceCount && Date.now() < deadline) {
        const asked: { index: number; begin: number; length: number }[] = [];
        await seed.readUntil((m) => {
          if (m.type === "request") asked.push(m);
          return false;
        }, 50);
        if (seed.closed) break;
        for (const r of asked) {
          const block = t.pieces[r.index]!.subarray(r.begin, r.begin + r.length);
          await seed.send({ type: "piece", index: r.index, begin: r.begin, block });
        }
        seed.messages.length = 0;
        await sleep(0);
      }
      assertEquals(torrent.stats().piecesHave, t.meta.pieceCount);
      assertEquals(closes.filter((r) => !r.startsWith("not-needed")), [], "closed while held back");
      assert(Date.now() - started > 2000, "the rate limit held the download back");
    } finally {
      seed.close();
    }
  }, overrides);
});
