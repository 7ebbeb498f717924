/**
 * Our DHT node against python3-libtorrent's on loopback (INTEROP.md):
 * (1) we bootstrap from a libtorrent node and our get_peers finds the peer that a
 *     second libtorrent session announced;
 * (3) a libtorrent session bootstrapped from our node finds the peer we announced.
 * Skipped without libtorrent unless SWARMD_REQUIRE_INTEROP=1.
 * @module
 */
import { assert } from "../assert.ts";
import { DhtNode } from "../../src/dht/mod.ts";
import { SECURE_RANDOM, SYSTEM_CLOCK } from "../../src/deno/clock.ts";
import { bindUdp } from "../../src/deno/udp.ts";
import type { PeerAddress } from "../../src/runtime/types.ts";
import { toHex } from "../../src/util/bytes.ts";
import { interopTest } from "./_harness.ts";
import { LtDhtProcess } from "./_dht_helpers.ts";

async function ourNode(host: string, bootstrap: PeerAddress[]): Promise<DhtNode> {
  return new DhtNode({
    socket: await bindUdp({ host, port: 0 }),
    clock: SYSTEM_CLOCK,
    random: SECURE_RANDOM,
    bootstrapNodes: bootstrap,
    allowLocalAddresses: true, // everything lives on 127.0.0.0/8
    rpcTimeoutMs: 1000,
    table: { restrictSubnets: false },
  });
}

function parse(hostPort: string): PeerAddress {
  const at = hostPort.lastIndexOf(":");
  return { host: hostPort.slice(0, at), port: Number(hostPort.slice(at + 1)) };
}

/** Runs `fn` until it returns true, at most `timeoutMs`, waiting `stepMs` between tries. */
async function eventually(fn: () => Promise<boolean>, timeoutMs: number, stepMs = 250) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await fn()) return true;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  return false;
}

await interopTest(
  "DHT interop: our get_peers finds a peer a libtorrent session announced",
  async () => {
    const hash = SECURE_RANDOM.bytes(20);
    const save = await Deno.makeTempDir({ prefix: "dht_interop_" });
    const lt = new LtDhtProcess(["announcer", "45", toHex(hash), "127.0.0.12", "127.0.0.13", save]);
    let node: DhtNode | undefined;
    try {
      const ready = await lt.waitFor((e) => e.event === "ready", 30_000);
      const router = parse(String(ready.router));
      const peer = String(ready.peer);
      node = await ourNode("127.0.0.14", [router]);
      assert(await node.bootstrap(), "bootstrapped from the libtorrent node");
      const found = new Set<string>();
      const ok = await eventually(async () => {
        for await (const p of node!.getPeers(hash)) found.add(`${p.host}:${p.port}`);
        return found.has(peer);
      }, 20_000);
      assert(ok, `found ${[...found].join(", ") || "nothing"}, wanted ${peer}`);
    } finally {
      node?.close();
      await lt.stop();
      await Deno.remove(save, { recursive: true });
    }
  },
);

await interopTest(
  "DHT interop: a libtorrent session bootstrapped from our node finds our announce",
  async () => {
    const hash = SECURE_RANDOM.bytes(20);
    const node = await ourNode("127.0.0.15", []);
    node.start();
    const ours = node.address;
    const lt = new LtDhtProcess([
      "seeker",
      "45",
      toHex(hash),
      "127.0.0.16",
      `${ours.host}:${ours.port}`,
    ]);
    try {
      await lt.waitFor((e) => e.event === "started", 15_000);
      const joined = await eventually(() => {
        const verified = node.routingTable.entries().some((e) => e.lastReplyAt !== undefined);
        return Promise.resolve(verified);
      }, 15_000);
      assert(joined, "the libtorrent node contacted us and answered our ping");
      const result = await node.announce(hash, 7777);
      assert(result.announcedTo >= 1, "libtorrent accepted our announce_peer");
      await lt.send("lookup");
      const want = `${ours.host}:7777`;
      const hit = await lt.waitFor(
        (e) => e.event === "peers" && (e.peers as string[]).includes(want),
        20_000,
      );
      assert(hit, `libtorrent found ${want}`);
    } finally {
      node.close();
      await lt.stop();
    }
  },
);
