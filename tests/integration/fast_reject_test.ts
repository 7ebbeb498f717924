/**
 * BEP 6 REJECT from a peer that unchokes us: our leecher, over loopback TCP, leaves the
 * refused piece to other peers instead of asking again at once, and asks for it again
 * when the peer suggests it, or when the refusal lapses after 5 s.
 */
import { assert, assertEquals } from "../assert.ts";
import { SECURE_RANDOM } from "../../src/deno/clock.ts";
import { withLoopbackLeecher } from "./_loopback_leecher.ts";
import {
  encodeHandshake,
  encodeMessage,
  WireFramer,
  type WireMessage,
} from "../../src/wire/mod.ts";
import { concatBytes } from "../../src/util/bytes.ts";
import { makeSimTorrent } from "../sim/swarm_harness.ts";

const t = makeSimTorrent(8, 32 * 1024, 22);
const REFUSED = 3;

function refuseOnePiece(suggest: boolean): Promise<void> {
  return withLoopbackLeecher(t.meta, async ({ port, torrent }) => {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    const send = (m: WireMessage) => conn.write(encodeMessage(m));
    try {
      await conn.write(concatBytes([
        encodeHandshake({
          infoHash: t.meta.infoHash,
          peerId: SECURE_RANDOM.bytes(20),
          fastExtension: true,
        }),
        encodeMessage({ type: "have-all" }),
        encodeMessage({ type: "unchoke" }),
      ]));
      const framer = new WireFramer({ pieceCount: t.meta.pieceCount });
      const buf = new Uint8Array(64 * 1024);
      let reading: Promise<number | null> | undefined;
      let skip = 68; // the session's handshake
      let rejected = 0, askedAgain = 0, suggested = false, refusedAt = 0;
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline) {
        // one read in flight at a time: a read left behind by a timeout still takes bytes
        reading ??= conn.read(buf).finally(() => reading = undefined);
        const n = await Promise.race([
          reading,
          new Promise<"wait">((r) => setTimeout(() => r("wait"), 100)),
        ]);
        if (n === null) break;
        if (n !== "wait") {
          const chunk = buf.subarray(Math.min(skip, n), n);
          skip = Math.max(0, skip - n);
          const requests: { index: number; begin: number; length: number }[] = [];
          framer.feed(chunk, (m) => {
            if (m.type === "request") {
              requests.push({ index: m.index, begin: m.begin, length: m.length });
            }
          });
          const firstRefusal = rejected === 0;
          for (const r of requests) {
            if (r.index === REFUSED && !suggested) {
              // requests that came with the first one were pipelined before any reject
              if (!firstRefusal) askedAgain++;
              rejected++;
              await send({ type: "reject", ...r });
            } else {
              const block = t.pieces[r.index]!.subarray(r.begin, r.begin + r.length);
              await send({ type: "piece", index: r.index, begin: r.begin, block });
            }
          }
        }
        const have = torrent.stats().piecesHave;
        if (!suggested && have === t.meta.pieceCount - 1) {
          suggested = true; // everything else arrived, and the refused piece was left alone
          refusedAt = Date.now();
          if (suggest) await send({ type: "suggest", index: REFUSED });
        }
        if (have === t.meta.pieceCount) break;
      }
      assert(rejected > 0, "the leecher asked for the piece we refuse");
      assertEquals(askedAgain, 0, "the refused piece was asked for again");
      assert(suggested, "every other piece arrived");
      assertEquals(torrent.stats().piecesHave, t.meta.pieceCount, "the refusal ended");
      if (!suggest) assert(Date.now() - refusedAt > 2_000, "the refusal lasted seconds");
    } finally {
      conn.close();
    }
  });
}

Deno.test("fast extension: a refused piece is not asked for again until the peer suggests it", () =>
  refuseOnePiece(true));

Deno.test("fast extension: a refused piece is asked for again after 5 s", () =>
  refuseOnePiece(false));
