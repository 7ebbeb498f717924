/**
 * Request floods against a real seeding Session over loopback TCP (RELIABILITY PW7, EX5):
 * what one peer can make the seed queue is bounded, the flooder is closed, and an honest
 * peer that ignores refusals (as libtorrent does) still gets its blocks at once.
 */
import { assert, assertEquals } from "../assert.ts";
import { decodeMetadataMessage, encodeMetadataRequest } from "../../src/extensions/mod.ts";
import { LOCAL_EXTENSION_IDS } from "../../src/session/extension_hub.ts";
import { makeSimTorrent } from "../sim/swarm_harness.ts";
import { RawPeer, withLoopbackSeed } from "./_hostile_peer.ts";

const BLOCK = 16 * 1024;
const t = makeSimTorrent(64, 2 * BLOCK, 31);

/** `count` valid requests cycling over every block of the torrent, from piece `first` on. */
function requests(count: number, first = 0) {
  return Array.from({ length: count }, (_, i) => {
    const block = (first * 2 + i) % (t.meta.pieceCount * 2);
    return {
      type: "request" as const,
      index: block >> 1,
      begin: (block & 1) * BLOCK,
      length: BLOCK,
    };
  });
}

Deno.test("PW7: a peer that floods 100,000 valid requests without reading is closed after its cap plus the invalid-request limit", async () => {
  await withLoopbackSeed(t, {}, async ({ port }) => {
    const flooder = await RawPeer.connect(port, t);
    try {
      await flooder.send({ type: "interested" });
      assert(await flooder.readUntil((m) => m.type === "unchoke", 5000), "unchoked");
      const started = Date.now();
      // sent in slices, so the session can close us before the whole flood is written
      for (let i = 0; i < 100 && !flooder.closed; i++) {
        await flooder.send(...requests(1000, i)).catch(() => flooder.closed = true);
      }
      assert(await flooder.closedWithin(5000), "the flooder was closed");
      const rejects = flooder.messages.filter((m) => m.type === "reject").length;
      assert(rejects <= 300, `${rejects} rejects queued for it`); // the rest was never queued
      assert(Date.now() - started < 5000);
    } finally {
      flooder.close();
    }
  });
});

Deno.test("PW7: a peer that re-asks at once for a refused block is served, though a peer that never reads holds that piece", async () => {
  await withLoopbackSeed(t, {}, async ({ port }) => {
    const pinner = await RawPeer.connect(port, t);
    const honest = await RawPeer.connect(port, t);
    try {
      await pinner.send({ type: "interested" });
      assert(await pinner.readUntil((m) => m.type === "unchoke", 5000));
      // 500 requests (our reqq): pieces 0..63 are all "being sent" to a peer that never
      // reads, so first-copy screening leaves them to it and refuses them to others
      await pinner.send(...requests(500));
      await honest.send({ type: "have-none" }, { type: "interested" });
      assert(await honest.readUntil((m) => m.type === "unchoke", 5000));
      const want = requests(1)[0]!;
      let rejects = 0;
      await honest.send(want);
      // as libtorrent does: ask again for the same block as soon as it is refused
      const got = await honest.readUntil((m) => {
        if (m.type === "reject" && rejects < 1000) {
          rejects++;
          void honest.send(want);
        }
        return m.type === "piece" && m.index === want.index && m.begin === want.begin;
      }, 5000);
      assert(got, `the block never came (${rejects} rejects)`);
      assert(rejects <= 1, `${rejects} rejects before the block`);
    } finally {
      pinner.close();
      honest.close();
    }
  });
});

Deno.test("EX5: 100,000 ut_metadata requests from a peer that never reads are rejected past a burst, and the peer is closed", async () => {
  await withLoopbackSeed(t, {}, async ({ port }) => {
    const flooder = await RawPeer.connect(port, t, { extensions: true });
    try {
      const payload = encodeMetadataRequest(0);
      const flood = Array.from({ length: 10_000 }, () => ({
        type: "extended" as const,
        extendedId: LOCAL_EXTENSION_IDS.ut_metadata, // the id the seed told us
        payload,
      }));
      for (let i = 0; i < 10 && !flooder.closed; i++) {
        await flooder.send(...flood).catch(() => flooder.closed = true);
      }
      assert(await flooder.closedWithin(5000), "the flooder was closed");
      const replies = flooder.messages.filter((m) => m.type === "extended" && m.extendedId === 3)
        .map((m) => decodeMetadataMessage((m as { payload: Uint8Array }).payload).type);
      // what got out before the close (the close drops the rest): a burst of twice the
      // dictionary's pieces, 4/s after it, and at most 301 rejects
      const data = replies.filter((r) => r === "data").length;
      assert(data <= 2 * Math.ceil(t.meta.infoBytes.length / BLOCK) + 8, `${data} data replies`);
      assertEquals(replies.length - data <= 301, true);
    } finally {
      flooder.close();
    }
  });
});
