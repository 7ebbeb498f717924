/**
 * Hostile peers against a real Session over loopback TCP (RELIABILITY PW1–PW8): each
 * misbehaviour closes that peer's connection, never the session, and nothing is written.
 */
import { assert, assertEquals } from "../assert.ts";
import { SECURE_RANDOM } from "../../src/deno/clock.ts";
import type { MemoryDiskIo } from "../../src/storage/mod.ts";
import { withLoopbackLeecher } from "./_loopback_leecher.ts";
import { encodeHandshake, encodeMessage } from "../../src/wire/mod.ts";
import { makeSimTorrent } from "../sim/swarm_harness.ts";
import { concatBytes } from "../../src/util/bytes.ts";

const t = makeSimTorrent(8, 32 * 1024, 21);

function withLeecher(fn: (port: number, disk: MemoryDiskIo) => Promise<void>) {
  return withLoopbackLeecher(t.meta, ({ port, disk }) => fn(port, disk));
}

/** Connects, sends `bytes`, and reports whether the session closed the connection within 5 s. */
async function closedAfter(port: number, bytes: Uint8Array): Promise<boolean> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(bytes).catch(() => 0);
    const buf = new Uint8Array(64 * 1024);
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline) {
      const n = await Promise.race([
        conn.read(buf).catch(() => null),
        new Promise<"wait">((r) => setTimeout(() => r("wait"), 250)),
      ]);
      if (n === null) return true;
    }
    return false;
  } finally {
    try {
      conn.close();
    } catch { /* already closed by the session */ }
  }
}

const handshake = () =>
  encodeHandshake({
    infoHash: t.meta.infoHash,
    peerId: SECURE_RANDOM.bytes(20),
    fastExtension: true,
  });

const cases: [string, () => Uint8Array][] = [
  ["PW1 a handshake with protocol length 0", () => new Uint8Array(68)],
  [
    "PW2 a length prefix of 0xFFFFFFFF",
    () => concatBytes([handshake(), new Uint8Array([0xff, 0xff, 0xff, 0xff, 7])]),
  ],
  [
    "PW3 a HAVE of the wrong length",
    () => concatBytes([handshake(), new Uint8Array([0, 0, 0, 6, 4, 0, 0, 0, 1, 0])]),
  ],
  [
    "PW4 a bitfield of the wrong length",
    () =>
      concatBytes([
        handshake(),
        encodeMessage({ type: "bitfield", bitfield: new Uint8Array([0xff, 0x80]) }),
      ]),
  ],
  [
    "PW5 a HAVE beyond the piece count",
    () => concatBytes([handshake(), encodeMessage({ type: "have", index: 8 })]),
  ],
  ["PW6 301 requests while choked", () =>
    concatBytes([
      handshake(),
      ...Array.from({ length: 301 }, () =>
        encodeMessage({ type: "request", index: 0, begin: 0, length: 16384 })),
    ])],
  ["PW8 blocks we never requested", () =>
    concatBytes([
      handshake(),
      ...Array.from({ length: 70 }, (_, i) =>
        encodeMessage({ type: "piece", index: i % 8, begin: 0, block: new Uint8Array(16384) })),
    ])],
];

for (const [name, bytes] of cases) {
  Deno.test(`hostile peer: ${name} closes its connection, nothing is written`, async () => {
    await withLeecher(async (port, disk) => {
      assert(await closedAfter(port, bytes()), "connection closed");
      assertEquals(disk.queuedBytes(), 0);
      // The session still works: a well-behaved handshake is answered.
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      await conn.write(handshake());
      const buf = new Uint8Array(68);
      let have = 0;
      while (have < 68) {
        const n = await conn.read(buf.subarray(have));
        if (n === null) break;
        have += n;
      }
      conn.close();
      assertEquals(have, 68, "the session answers the next peer");
    });
  });
}
