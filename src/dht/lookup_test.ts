import { assert, assertEquals, assertThrows } from "../../tests/assert.ts";
import type { PeerAddress } from "../runtime/types.ts";
import { toHex } from "../util/bytes.ts";
import { SeededRandom } from "../util/prng.ts";
import type { DhtContact } from "./compact.ts";
import { Lookup, type LookupOptions, type LookupReply, type LookupSeed } from "./lookup.ts";
import { commonPrefixBits, compareDistance } from "./node_id.ts";

interface World {
  nodes: DhtContact[];
  byHost: Map<string, DhtContact>;
  dead: Set<string>;
}

function world(seed: number, count: number, deadRatio = 0): World {
  const random = new SeededRandom(seed);
  const nodes = Array.from({ length: count }, (_, i) => ({
    id: random.bytes(20),
    address: { host: `11.${i >> 8}.${i & 255}.1`, port: 6881 },
  }));
  const dead = new Set(nodes.filter(() => random.next() < deadRatio).map((n) => n.address.host));
  return { nodes, byHost: new Map(nodes.map((n) => [n.address.host, n])), dead };
}

function closestOf(nodes: readonly DhtContact[], target: Uint8Array, k: number): DhtContact[] {
  return [...nodes].sort((a, b) => compareDistance(target, a.id, b.id)).slice(0, k);
}

const knowledge = new Map<DhtContact, DhtContact[]>();

/** Each node knows up to 8 random nodes per bucket of its own table, as Kademlia assumes. */
function replyOf(w: World, who: DhtContact, target: Uint8Array): LookupReply {
  let known = knowledge.get(who);
  if (!known) {
    const random = new SeededRandom(who.id[0]! * 256 + who.id[1]!);
    const perBucket = new Map<number, DhtContact[]>();
    for (const n of w.nodes) {
      if (n === who || random.next() < 0.5) continue;
      const bucket = commonPrefixBits(who.id, n.id);
      const list = perBucket.get(bucket) ?? [];
      if (list.length < 8) list.push(n);
      perBucket.set(bucket, list);
    }
    known = [...perBucket.values()].flat();
    knowledge.set(who, known);
  }
  return { id: who.id, nodes: closestOf(known, target, 8) };
}

/** Runs the lookup to completion; each step answers every in-flight query at once. */
function drive(lookup: Lookup, w: World, answer = replyOf): number {
  let now = 0, steps = 0;
  let flight: LookupSeed[] = [];
  while (!lookup.isDone(now) && steps++ < 1000) {
    flight.push(...lookup.next(now));
    lookup.assertInvariants();
    const batch = flight;
    flight = [];
    for (const q of batch) {
      const node = w.byHost.get(q.address.host);
      if (!node || w.dead.has(q.address.host)) lookup.onTimeout(q.address);
      else lookup.onReply(q.address, answer(w, node, lookup.target), now);
    }
    now += 100;
  }
  return steps;
}

Deno.test("Lookup converges to the true k closest nodes (brute force) with α = 3", () => {
  for (let round = 0; round < 10; round++) {
    const w = world(round, 1000);
    const target = new SeededRandom(100 + round).bytes(20);
    const lookup = new Lookup(target, "find_node", 0);
    lookup.seed(w.nodes.slice(0, 8));
    drive(lookup, w);
    const r = lookup.result();
    assertEquals(r.end, "converged");
    assertEquals(
      r.closest.map((c) => toHex(c.id)),
      closestOf(w.nodes, target, 8).map((c) => toHex(c.id)),
    );
    assert(r.queries <= 64 && r.replies === r.queries, `queries ${r.queries}`);
  }
});

Deno.test("Lookup routes around dead nodes and returns only responders", () => {
  const w = world(7, 600, 0.3);
  const target = new SeededRandom(5).bytes(20);
  const lookup = new Lookup(target, "find_node", 0);
  lookup.seed(w.nodes.slice(0, 16));
  drive(lookup, w);
  const r = lookup.result();
  const alive = w.nodes.filter((n) => !w.dead.has(n.address.host));
  assertEquals(
    r.closest.map((c) => toHex(c.id)),
    closestOf(alive, target, 8).map((c) => toHex(c.id)),
  );
  assert(r.failures > 0);
});

Deno.test("Lookup is bounded by its query budget when nodes keep inventing closer nodes (D8)", () => {
  const random = new SeededRandom(11);
  const target = random.bytes(20);
  const w = world(1, 8);
  let distance = 0xffffffff;
  const liar = (_w: World, who: DhtContact, t: Uint8Array): LookupReply => {
    const nodes = Array.from({ length: 8 }, () => {
      const id = t.slice(); // each invented node is closer than every earlier one
      const d = --distance;
      for (let i = 0; i < 4; i++) id[16 + i]! ^= (d >>> (24 - 8 * i)) & 0xff;
      const c = { id, address: { host: `12.${(d >> 8) & 255}.${d & 255}.1`, port: 1 } };
      w.byHost.set(c.address.host, c);
      return c;
    });
    return { id: who.id, nodes };
  };
  const lookup = new Lookup(target, "get_peers", 0, { maxQueries: 40 });
  lookup.seed(w.nodes);
  drive(lookup, w, liar);
  const r = lookup.result();
  assertEquals(r.end, "query-budget");
  assertEquals(r.queries, 40);
});

Deno.test("Lookup ends at its time budget when nobody answers", () => {
  const lookup = new Lookup(new Uint8Array(20), "find_node", 1000, { timeBudgetMs: 5000 });
  lookup.seed(world(2, 20).nodes);
  assertEquals(lookup.next(1000).length, 3);
  assert(!lookup.isDone(5999));
  assert(lookup.isDone(6000));
  assertEquals(lookup.result().end, "time-budget");
  assertEquals(lookup.next(6000), []);
});

Deno.test("Lookup queries id-less seeds (routers) first and learns their ids from replies", () => {
  const w = world(3, 200);
  const router = w.nodes[0]!;
  const target = new SeededRandom(9).bytes(20);
  const lookup = new Lookup(target, "find_node", 0);
  lookup.seed([{ address: router.address }]);
  assertEquals(lookup.next(0), [{ address: router.address }]);
  lookup.onReply(router.address, replyOf(w, router, target), 0);
  assert(lookup.next(0).length === 3);
});

Deno.test("Lookup collects get_peers values once each, dropping local and port-0 peers (D7)", () => {
  const w = world(4, 50);
  const peers: PeerAddress[] = [
    { host: "1.2.3.4", port: 1 },
    { host: "1.2.3.4", port: 1 },
    { host: "127.0.0.1", port: 2 },
    { host: "5.6.7.8", port: 0 },
    { host: "5.6.7.8", port: 3 },
  ];
  const lookup = new Lookup(new Uint8Array(20), "get_peers", 0);
  lookup.seed(w.nodes.slice(0, 3));
  const [first, second] = lookup.next(0);
  const token = new Uint8Array([1, 2]);
  const fresh = lookup.onReply(first!.address, { id: first!.id!, values: peers, token }, 0);
  assertEquals(fresh, [{ host: "1.2.3.4", port: 1 }, { host: "5.6.7.8", port: 3 }]);
  assertEquals(lookup.onReply(second!.address, { id: second!.id!, values: peers }, 0), []);
  assertEquals(lookup.result().peers.length, 2);
  assertEquals(lookup.result().closest.find((c) => c.token)?.token, token);
});

Deno.test("Lookup ignores replies it did not ask for and our own id", () => {
  const w = world(5, 30);
  const self = w.nodes[29]!;
  const options: LookupOptions = { excludeId: self.id };
  const lookup = new Lookup(new Uint8Array(20), "find_node", 0, options);
  lookup.seed(w.nodes);
  assertEquals(lookup.onReply(w.nodes[20]!.address, { id: w.nodes[20]!.id }, 0), []);
  assertEquals(lookup.result().replies, 0);
  lookup.abort();
  assert(lookup.isDone(0));
  assertEquals(lookup.result().end, "aborted");
  assertThrows(() => new Lookup(new Uint8Array(3), "find_node", 0), RangeError);
});
