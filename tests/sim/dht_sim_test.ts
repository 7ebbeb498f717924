/**
 * A 500-node Mainline DHT in one process (in-memory UDP, virtual clock): nodes join
 * through one router node, lookups must converge to the true k closest nodes
 * (checked against brute force), and get_peers must find announced peers.
 * Set DHT_SIM_REPORT=1 to print messages-per-lookup figures.
 * @module
 */
import { assert } from "../assert.ts";
import { DhtNode } from "../../src/dht/dht_node.ts";
import { compareDistance } from "../../src/dht/node_id.ts";
import { SeededRandom } from "../../src/util/prng.ts";
import { toHex } from "../../src/util/bytes.ts";
import { SimUdpNetwork } from "./sim_udp.ts";
import { VirtualClock } from "./virtual_clock.ts";

const NODES = 500;
const K = 8;

interface Swarm {
  clock: VirtualClock;
  net: SimUdpNetwork;
  nodes: DhtNode[];
  random: SeededRandom;
}

function hostOf(i: number): string {
  return `11.${i >> 8}.${i & 255}.1`; // public-looking, one /24 per node
}

async function buildSwarm(seed: number): Promise<Swarm> {
  const clock = new VirtualClock();
  const random = new SeededRandom(seed);
  const net = new SimUdpNetwork(clock, new SeededRandom(seed + 1));
  const nodes: DhtNode[] = [];
  for (let i = 0; i < NODES; i++) {
    nodes.push(
      new DhtNode({
        socket: net.bindSync({ host: hostOf(i), port: 6881 }),
        clock,
        random: new SeededRandom(seed * 1000 + i),
        bootstrapNodes: i === 0 ? [] : [{ host: hostOf(0), port: 6881 }],
        // node 0 plays the public router: it serves every join, so no 8 kB/s reply cap
        ...(i === 0 ? { maxReplyBytesPerSecond: Infinity } : {}),
      }),
    );
  }
  // Invariants of every routing table, checked each virtual second throughout the run.
  const check = () => {
    for (const n of nodes) n.routingTable.assertInvariants();
    clock.schedule(1000, check);
  };
  clock.schedule(1000, check);
  nodes[0]!.start();
  const joins: Promise<boolean>[] = [];
  for (let i = 1; i < NODES; i++) {
    joins.push(nodes[i]!.bootstrap());
    await clock.advance(20); // one join every 20 ms of virtual time
  }
  const joined = await clock.runUntil(Promise.all(joins), 60_000);
  assert(joined.every(Boolean), "every node bootstraps");
  await clock.advance(10_000);
  for (const n of nodes) n.routingTable.assertInvariants();
  return { clock, net, nodes, random };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

Deno.test("DhtNode simulation: 500 nodes, lookups converge and get_peers finds announcers", async () => {
  const started = performance.now();
  const swarm = await buildSwarm(42);
  const { clock, nodes, random } = swarm;
  const joinMs = performance.now() - started;

  // Convergence: lookups for random targets from random nodes against brute force.
  const queries: number[] = [];
  const messages: number[] = [];
  let exact = 0, overlap = 0;
  const LOOKUPS = 40;
  for (let i = 0; i < LOOKUPS; i++) {
    const target = random.bytes(20);
    const from = nodes[random.int(NODES)]!;
    const result = await clock.runUntil(from.lookup(target), 60_000);
    const truth = nodes.filter((n) => n !== from).map((n) => n.id)
      .sort((a, b) => compareDistance(target, a, b)).slice(0, K).map(toHex);
    const got = new Set(result.closest.map((c) => toHex(c.id)));
    const hits = truth.filter((id) => got.has(id)).length;
    overlap += hits;
    if (hits === K) exact++;
    queries.push(result.queries);
    messages.push(result.queries + result.replies);
  }
  assert(exact >= LOOKUPS * 0.9, `exact k-closest in ${exact}/${LOOKUPS} lookups`);
  assert(overlap >= LOOKUPS * K * 0.97, `overlap ${overlap}/${LOOKUPS * K}`);

  // get_peers finds announced peers.
  const announcers = [1, 2, 3].map(() => nodes[1 + random.int(NODES - 1)]!);
  const hashes = announcers.map(() => random.bytes(20));
  for (let i = 0; i < announcers.length; i++) {
    const r = await clock.runUntil(announcers[i]!.announce(hashes[i]!, 50_000 + i), 60_000);
    assert(r.announcedTo >= K - 1, `announced to ${r.announcedTo} nodes`);
  }
  for (let i = 0; i < 15; i++) {
    const which = i % hashes.length;
    const seeker = nodes[random.int(NODES)]!;
    if (seeker === announcers[which]) continue;
    const found: string[] = [];
    const run = (async () => {
      for await (const p of seeker.getPeers(hashes[which]!)) found.push(`${p.host}:${p.port}`);
    })();
    await clock.runUntil(run, 60_000);
    const want = `${announcers[which]!.address.host}:${50_000 + which}`;
    assert(found.includes(want), `peer ${want} found (got ${found.join(",")})`);
  }
  for (const n of nodes) n.routingTable.assertInvariants();

  queries.sort((a, b) => a - b);
  const mean = queries.reduce((a, b) => a + b, 0) / queries.length;
  assert(mean <= 40, `mean queries per lookup ${mean}`);
  if (Deno.env.get("DHT_SIM_REPORT")) {
    const sent = swarm.net.stats.sent;
    const line = JSON.stringify({
      nodes: NODES,
      lookups: LOOKUPS,
      exact,
      overlap: overlap / (LOOKUPS * K),
      queriesPerLookupMean: mean,
      queriesPerLookupP95: percentile(queries, 0.95),
      messagesPerLookupMean: messages.reduce((a, b) => a + b, 0) / messages.length,
      datagramsTotal: sent,
      joinWallMs: Math.round(joinMs),
      wallMs: Math.round(performance.now() - started),
      virtualMs: clock.now(),
    });
    Deno.stdout.writeSync(new TextEncoder().encode(`${line}\n`));
  }
  for (const n of nodes) n.close();
});
