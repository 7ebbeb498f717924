import { assert, assertEquals, assertRejects } from "../../tests/assert.ts";
import { SimUdpNetwork } from "../../tests/sim/sim_udp.ts";
import { VirtualClock } from "../../tests/sim/virtual_clock.ts";
import type { Logger, PeerAddress, UdpSocketLike } from "../runtime/types.ts";
import { fromLatin1, toLatin1 } from "../util/bytes.ts";
import { SeededRandom } from "../util/prng.ts";
import { DhtNode, type DhtNodeOptions } from "./dht_node.ts";
import { decodeKrpc, encodeKrpc, type KrpcMessage } from "./krpc.ts";

interface Net {
  clock: VirtualClock;
  net: SimUdpNetwork;
  nodes: DhtNode[];
}

const host = (i: number) => `11.0.${i}.1`;

function makeNet(count: number, options: Partial<DhtNodeOptions> = {}): Net {
  const clock = new VirtualClock();
  const net = new SimUdpNetwork(clock, new SeededRandom(1));
  const nodes = Array.from({ length: count }, (_, i) =>
    new DhtNode({
      socket: net.bindSync({ host: host(i), port: 6881 }),
      clock,
      random: new SeededRandom(100 + i),
      bootstrapNodes: i === 0 ? [] : [{ host: host(0), port: 6881 }],
      ...options,
    }));
  return { clock, net, nodes };
}

async function joined(count: number): Promise<Net> {
  const n = makeNet(count);
  n.nodes[0]!.start();
  const all = Promise.all(n.nodes.slice(1).map((node) => node.bootstrap()));
  assert((await n.clock.runUntil(all, 30_000)).every(Boolean));
  await n.clock.advance(1000);
  return n;
}

function closeAll(n: Net): void {
  for (const node of n.nodes) node.close();
}

/** A raw socket that records what it receives. */
function probe(n: Net, at: PeerAddress): { socket: UdpSocketLike; got: KrpcMessage[] } {
  const socket = n.net.bindSync(at);
  const got: KrpcMessage[] = [];
  void (async () => {
    for (let d = await socket.receive(); d; d = await socket.receive()) {
      got.push(decodeKrpc(d.data));
    }
  })();
  return { socket, got };
}

function countingLogger(): Logger & { warns: string[] } {
  const warns: string[] = [];
  return { warns, debug() {}, info() {}, warn: (m) => void warns.push(m), error() {} };
}

Deno.test("DhtNode.bootstrap() with unreachable routers warns once, retries with backoff, never blocks", async () => {
  const logger = countingLogger();
  const resolved: number[] = [];
  const n = makeNet(1, {
    logger,
    resolve: (name) => {
      resolved.push(n.clock.now());
      return Promise.resolve(name === "router.example" ? ["11.9.9.9"] : []);
    },
    bootstrapNodes: [{ host: "router.example", port: 6881 }, { host: "nowhere.example", port: 1 }],
  });
  const node = n.nodes[0]!;
  const start = n.clock.now();
  const ok = await n.clock.runUntil(node.bootstrap(), 10_000);
  assertEquals(ok, false);
  assert(n.clock.now() - start <= 3000, "the first attempt ends after one RPC timeout");
  await n.clock.advance(10 * 60_000);
  assertEquals(logger.warns.length, 1);
  const attempts = resolved.filter((_, i) => i % 2 === 0).map((t) =>
    Math.round((t - start) / 1000)
  );
  assert(attempts.length >= 5 && attempts.length <= 8, `attempts at ${attempts.join(", ")} s`);
  const gaps = attempts.slice(1).map((t, i) => t - attempts[i]!);
  assert(gaps.every((g, i) => i === 0 || g >= gaps[i - 1]!), `gaps grow: ${gaps.join(", ")}`);
  closeAll(n);
});

Deno.test("DhtNode.bootstrap() resolves router names through the injected resolver", async () => {
  const n = makeNet(2);
  n.nodes[0]!.start();
  const node = new DhtNode({
    socket: n.net.bindSync({ host: "11.0.50.1", port: 6881 }),
    clock: n.clock,
    random: new SeededRandom(9),
    resolve: () => Promise.resolve([host(0)]),
    bootstrapNodes: [{ host: "router.example", port: 6881 }],
  });
  assert(await n.clock.runUntil(node.bootstrap(), 10_000));
  assertEquals(node.routingTable.size, 1);
  node.close();
  closeAll(n);
});

Deno.test("DhtNode.announce() stores our peer on the closest nodes and getPeers() finds it", async () => {
  const n = await joined(30);
  const hash = new SeededRandom(5).bytes(20);
  const r = await n.clock.runUntil(n.nodes[3]!.announce(hash, 7000), 30_000);
  assert(r.announcedTo >= 7, `announced to ${r.announcedTo}`);
  const found: PeerAddress[] = [];
  const run = (async () => {
    for await (const p of n.nodes[20]!.getPeers(hash)) found.push(p);
  })();
  await n.clock.runUntil(run, 30_000);
  assertEquals(found, [{ host: host(3), port: 7000 }]);
  await assertRejects(() => n.nodes[3]!.announce(hash, 0), RangeError);
  closeAll(n);
});

Deno.test("DhtNode tells onAnnounce of each announce_peer it stores, with the announcer as the peer", async () => {
  const heard: string[] = [];
  const n = makeNet(3, {
    onAnnounce: (hash, peer) => heard.push(`${hash[0]} ${peer.host}:${peer.port}`),
  });
  n.nodes[0]!.start();
  const all = Promise.all(n.nodes.slice(1).map((node) => node.bootstrap()));
  assert((await n.clock.runUntil(all, 30_000)).every(Boolean));
  const hash = new Uint8Array(20).fill(7);
  const r = await n.clock.runUntil(n.nodes[2]!.announce(hash, 7000), 30_000);
  assert(r.announcedTo >= 1);
  assert(heard.includes(`7 ${host(2)}:7000`), heard.join(", "));
  closeAll(n);
});

Deno.test("DhtNode drops replies it never asked for, with a wrong id, or from the wrong source (D6)", async () => {
  const n = await joined(2);
  const fake = probe(n, { host: "11.0.77.1", port: 6881 });
  const liar = n.net.bindSync({ host: "11.0.78.1", port: 6881 });
  const target = n.nodes[1]!;
  target.addNode(fake.socket.addr);
  await n.clock.advance(100);
  const ping = fake.got.find((m) => m.kind === "query");
  assert(ping?.kind === "query" && ping.method === "ping");
  const reply = (t: Uint8Array) =>
    encodeKrpc({ kind: "response", transactionId: t, id: new Uint8Array(20).fill(7) });
  const before = target.stats.droppedUnexpected;
  await liar.send(reply(ping.transactionId), target.address); // right t, wrong source
  await fake.socket.send(reply(fromLatin1("zzzz")), target.address); // wrong t
  await n.clock.advance(100);
  assertEquals(target.stats.droppedUnexpected, before + 2);
  assertEquals(target.routingTable.entries().some((e) => e.address.host === "11.0.77.1"), false);
  await fake.socket.send(reply(ping.transactionId), target.address); // the real answer
  await n.clock.advance(100);
  assert(target.routingTable.entries().some((e) => e.address.host === "11.0.77.1"));
  closeAll(n);
  fake.socket.close();
  liar.close();
});

Deno.test("DhtNode answers a malformed query with error 203 and ignores non-dictionaries (D1)", async () => {
  const n = await joined(2);
  const fake = probe(n, { host: "11.0.77.1", port: 6881 });
  const node = n.nodes[0]!;
  await fake.socket.send(fromLatin1("d1:ad2:id3:abce1:q4:ping1:t2:xy1:y1:qe"), node.address);
  await fake.socket.send(fromLatin1("i42e"), node.address);
  await n.clock.advance(200);
  assertEquals(node.stats.malformed, 2);
  assertEquals(fake.got.length, 1);
  const e = fake.got[0]!;
  assert(e.kind === "error" && e.code === 203 && toLatin1(e.transactionId) === "xy");
  closeAll(n);
  fake.socket.close();
});

Deno.test("DhtNode rate-limits a flooding IP (D2); a loopback node that queried it is kept but never handed to a public node (D7)", async () => {
  const n = await joined(2);
  const node = n.nodes[0]!;
  const fake = probe(n, { host: "11.0.77.1", port: 6881 });
  const ping = (i: number) =>
    encodeKrpc({
      kind: "query",
      method: "ping",
      transactionId: new Uint8Array([i]),
      id: new Uint8Array(20).fill(i),
    });
  for (let i = 0; i < 200; i++) await fake.socket.send(ping(i), node.address);
  await n.clock.advance(200);
  assert(node.stats.droppedRateLimited >= 140, `${node.stats.droppedRateLimited} dropped`);
  assert(fake.got.length <= 60, `${fake.got.length} replies`);
  const local = n.net.bindSync({ host: "127.0.0.1", port: 6881 });
  await local.send(ping(1), node.address);
  await n.clock.advance(200);
  assert(node.routingTable.entries().some((e) => e.address.host === "127.0.0.1"));
  const asker = probe(n, { host: "11.0.78.1", port: 6881 });
  await asker.socket.send(
    encodeKrpc({
      kind: "query",
      method: "find_node",
      transactionId: new Uint8Array([9]),
      id: new Uint8Array(20).fill(9),
      target: new Uint8Array(20).fill(1),
    }),
    node.address,
  );
  await n.clock.advance(200);
  const reply = asker.got.find((m) => m.kind === "response");
  assert(reply && reply.kind === "response", "the public asker got an answer");
  assert(!(reply.nodes ?? []).some((c) => c.address.host === "127.0.0.1"));
  closeAll(n);
  fake.socket.close();
  local.close();
  asker.socket.close();
});

Deno.test("DhtNode.saveState() and loadState() carry the id and nodes to a new run", async () => {
  const n = await joined(10);
  const saved = n.nodes[5]!.saveState();
  const id = n.nodes[5]!.id;
  n.nodes[5]!.close();
  const again = new DhtNode({
    socket: n.net.bindSync({ host: host(5), port: 6881 }),
    clock: n.clock,
    random: new SeededRandom(77),
    bootstrapNodes: [],
  });
  again.loadState(saved);
  assertEquals(again.id, id);
  assert(await n.clock.runUntil(again.bootstrap(), 30_000), "bootstraps from saved nodes alone");
  again.close();
  closeAll(n);
});

Deno.test("DhtNode.close() ends lookups and getPeers iterations; an aborted getPeers ends too", async () => {
  const n = await joined(5);
  const node = n.nodes[1]!;
  const controller = new AbortController();
  let count = 0;
  const run = (async () => {
    for await (
      const _ of node.getPeers(new Uint8Array(20).fill(1), { signal: controller.signal })
    ) count++;
  })();
  controller.abort();
  await n.clock.runUntil(run, 1000);
  const pending = node.lookup(new Uint8Array(20).fill(2));
  node.close();
  node.close();
  const r = await n.clock.runUntil(pending, 1000);
  assertEquals(r.end, "aborted");
  assertEquals(count, 0);
  closeAll(n);
});

Deno.test("DhtNode rotates token secrets on its tick and refreshes idle buckets after 15 minutes", async () => {
  const n = await joined(6);
  const node = n.nodes[0]!;
  const fake = probe(n, { host: "11.0.77.1", port: 6881 });
  const hash = new Uint8Array(20).fill(4);
  const id = new Uint8Array(20).fill(5);
  const ask = async (t: number, body: Record<string, unknown>) => {
    await fake.socket.send(
      encodeKrpc({ kind: "query", transactionId: new Uint8Array([t]), id, ...body } as KrpcMessage),
      node.address,
    );
    await n.clock.advance(200);
    return fake.got.find((m) => m.transactionId[0] === t)!;
  };
  const first = await ask(1, { method: "get_peers", infoHash: hash });
  assert(first.kind === "response" && first.token);
  const lookupsBefore = node.stats.lookups;
  await n.clock.advance(11 * 60_000);
  const announce = (t: number, token: Uint8Array) =>
    ask(t, { method: "announce_peer", infoHash: hash, port: 6881, impliedPort: false, token });
  const stale = await announce(2, first.token);
  assertEquals(stale.kind === "error" && stale.code, 203, "an 11-minute-old token is refused");
  const fresh = await ask(3, { method: "get_peers", infoHash: hash });
  assert(fresh.kind === "response" && fresh.token);
  assertEquals((await announce(4, fresh.token)).kind, "response");
  await n.clock.advance(5 * 60_000);
  assert(node.stats.lookups > lookupsBefore, "bucket refresh ran lookups");
  closeAll(n);
  fake.socket.close();
});
