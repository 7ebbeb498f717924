/**
 * The peer-connected event names how each connection is encrypted, on both ends: MSE/PE
 * with RC4, MSE/PE that selected plaintext, or a plain BitTorrent handshake (what the CLI's
 * `--verbose` log and the interop tests against Transmission and WebTorrent read).
 */
import { assertEquals } from "../assert.ts";
import { makeSimTorrent, seededDisk, SimSwarm } from "./swarm_harness.ts";
import type { EngineEvent } from "../../src/session/events.ts";
import type { EncryptionMode } from "../../src/session/settings.ts";

type Encryption = Extract<EngineEvent, { type: "peer-connected" }>["encryption"];

async function connectedAs(
  leecherMode: EncryptionMode,
  seederMode: EncryptionMode,
): Promise<[Encryption | undefined, Encryption | undefined]> {
  const t = makeSimTorrent(4, 32 * 1024, 5);
  const swarm = new SimSwarm({ seed: 5 });
  const seeder = await swarm.addPeer(0, { encryption: seederMode }, await seededDisk(t, "/s"));
  const leecher = await swarm.addPeer(1, { encryption: leecherMode });
  const seen: (Encryption | undefined)[] = [undefined, undefined];
  for (const [i, peer] of [leecher, seeder].entries()) {
    void (async () => {
      for await (const e of peer.session.events({ categories: ["peer"] })) {
        if (e.type === "peer-connected") seen[i] = e.encryption;
      }
    })();
  }
  await swarm.clock.runUntil(seeder.session.add(t.meta, { dir: "/s", seed: true }), 5000);
  await swarm.clock.runUntil(
    leecher.session.add(t.meta, { dir: "/d", peers: [seeder.address] }),
    5000,
  );
  await swarm.clock.runUntil(() => seen[0] !== undefined && seen[1] !== undefined, 30_000);
  await swarm.close();
  return [seen[0], seen[1]];
}

const CASES: readonly [EncryptionMode, EncryptionMode, Encryption][] = [
  ["prefer", "prefer", "mse-plaintext"],
  ["require", "prefer", "rc4"],
  ["prefer", "require", "rc4"],
  ["plaintext", "prefer", "none"],
];

for (const [leecherMode, seederMode, expected] of CASES) {
  Deno.test(`peer-connected: a ${leecherMode} dialer and a ${seederMode} listener both see ${expected}`, async () => {
    assertEquals(await connectedAs(leecherMode, seederMode), [expected, expected]);
  });
}
