/**
 * Incoming connection bursts against a real Session over loopback TCP (RELIABILITY PW11):
 * while 1,000 connections that never send their handshake keep coming back, an honest
 * peer from another address still gets its handshake answered at once.
 */
import { assert } from "../assert.ts";
import { SECURE_RANDOM } from "../../src/deno/clock.ts";
import { encodeHandshake, HANDSHAKE_LENGTH } from "../../src/wire/mod.ts";
import { makeSimTorrent } from "../sim/swarm_harness.ts";
import { connectFrom, connectionBurst, sleep } from "./_hostile_peer.ts";
import { withLoopbackLeecher } from "./_loopback_leecher.ts";

const t = makeSimTorrent(4, 32 * 1024, 51);

/** Connects from `address`, sends a handshake and times the session's answer (ms, or -1). */
async function handshakeTime(port: number, address: string, timeoutMs: number): Promise<number> {
  const started = Date.now();
  const s = await connectFrom(address, port);
  try {
    let got = 0;
    const answered = new Promise<boolean>((resolve) => {
      s.on("data", (d: Uint8Array) => {
        got += d.length;
        if (got >= HANDSHAKE_LENGTH) resolve(true);
      });
      s.once("close", () => resolve(false));
      setTimeout(() => resolve(false), timeoutMs);
    });
    s.write(encodeHandshake({ infoHash: t.meta.infoHash, peerId: SECURE_RANDOM.bytes(20) }));
    return await answered ? Date.now() - started : -1;
  } finally {
    s.destroy();
  }
}

for (
  const [what, addresses] of [
    ["one address", ["127.0.0.1"]],
    ["50 addresses", Array.from({ length: 50 }, (_, i) => `127.0.1.${i + 1}`)],
  ] as const
) {
  Deno.test(`PW11: during a burst of 1,000 silent connections from ${what}, an honest peer is answered at once`, async () => {
    await withLoopbackLeecher(t.meta, async ({ port }) => {
      const flood = connectionBurst(port, { count: 1000, addresses, reconnectDelayMs: 200 });
      try {
        for (let i = 0; i < 100 && flood.opened < 1000; i++) await sleep(20);
        assert(flood.opened >= 1000, `only ${flood.opened} connections opened`);
        // three honest peers, one after another, while the burst goes on
        for (const address of ["127.0.0.2", "127.0.0.3", "127.0.0.4"]) {
          const ms = await handshakeTime(port, address, 5000);
          assert(ms >= 0, `honest peer ${address}: no answer in 5 s`);
        }
      } finally {
        await flood.stop();
      }
    });
  });
}
