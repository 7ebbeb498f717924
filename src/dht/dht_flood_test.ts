/**
 * DhtNode under a query flood from many addresses (RELIABILITY D2): the per-IP limiter
 * alone passes 5 queries a second from each of 2,000 addresses, so the node's query
 * budget is what bounds its work; answers to its own lookups still get through.
 */
import { assert, assertEquals } from "../../tests/assert.ts";
import { SimUdpNetwork } from "../../tests/sim/sim_udp.ts";
import { VirtualClock } from "../../tests/sim/virtual_clock.ts";
import { SeededRandom } from "../util/prng.ts";
import { DhtNode } from "./dht_node.ts";
import { encodeKrpc } from "./krpc.ts";

const host = (i: number) => `11.${1 + (i >> 8)}.${i & 255}.1`;

Deno.test("DhtNode under a flood from 2,000 addresses handles at most its query budget, and its lookups still complete (D2)", async () => {
  const clock = new VirtualClock();
  const net = new SimUdpNetwork(clock, new SeededRandom(1), { minLatencyMs: 1, maxLatencyMs: 5 });
  const random = new SeededRandom(2);
  const peers = Array.from({ length: 8 }, (_, i) =>
    new DhtNode({
      socket: net.bindSync({ host: `12.0.${i}.1`, port: 6881 }),
      clock,
      random: new SeededRandom(10 + i),
      bootstrapNodes: [],
    }));
  for (const p of peers) p.start();
  const node = new DhtNode({
    socket: net.bindSync({ host: "13.0.0.1", port: 6881 }),
    clock,
    random: new SeededRandom(3),
    bootstrapNodes: peers.map((p) => p.address),
    maxQueriesPerSecond: 100,
  });
  assert(await clock.runUntil(node.bootstrap(), 10_000));
  const before = node.stats.queriesReceived;
  const flooders = Array.from({ length: 2000 }, (_, i) => net.bindSync({ host: host(i), port: 1 }));
  const lookups: Promise<unknown>[] = [];
  const seconds = 5;
  for (let s = 0; s < seconds; s++) {
    // 4 queries per address per second: under the per-IP limit, 8,000/s in all
    for (let burst = 0; burst < 4; burst++) {
      for (const [i, f] of flooders.entries()) {
        const q = encodeKrpc(
          {
            kind: "query",
            method: i % 2 ? "get_peers" : "find_node",
            transactionId: random.bytes(2),
            id: random.bytes(20),
            ...(i % 2 ? { infoHash: random.bytes(20) } : { target: random.bytes(20) }),
          } as Parameters<typeof encodeKrpc>[0],
        );
        void f.send(q, node.address);
      }
      await clock.advance(250);
    }
    lookups.push(node.lookup(random.bytes(20)));
  }
  const results = await clock.runUntil(Promise.all(lookups), 30_000) as { replies: number }[];
  const handled = node.stats.queriesReceived - before;
  const budget = 100 * 2 + 100 * (seconds + 1); // burst, then the rate
  assert(handled <= budget, `${handled} queries handled, budget ${budget}`);
  assert(node.stats.droppedOverQueryBudget >= 2000 * 4 * seconds - budget - 200);
  assertEquals(node.stats.droppedRateLimited, 0); // the per-IP limiter saw nothing wrong
  assert(results.every((r) => r.replies > 0), "every lookup got answers through the flood");
  node.close();
  for (const p of peers) p.close();
  for (const f of flooders) f.close();
});
