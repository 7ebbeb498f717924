import { assert, assertEquals } from "../../tests/assert.ts";
import { DhtNode } from "../dht/dht_node.ts";
import { SECURE_RANDOM, SYSTEM_CLOCK } from "./clock.ts";
import { bindUdp, resolveHost } from "./udp.ts";

Deno.test("bindUdp() sends and receives datagrams on loopback; close() ends receive()", async () => {
  const a = await bindUdp({ host: "127.0.0.1", port: 0 });
  const b = await bindUdp({ host: "127.0.0.1", port: 0 });
  assert(a.addr.port > 0 && a.addr.port !== b.addr.port);
  await a.send(new Uint8Array([1, 2, 3]), b.addr);
  const d = await b.receive();
  assertEquals(d?.data, new Uint8Array([1, 2, 3]));
  assertEquals(d?.from, a.addr);
  const pending = b.receive();
  b.close();
  b.close();
  assertEquals(await pending, null);
  await b.send(new Uint8Array([1]), a.addr); // after close: ignored, no throw
  a.close();
});

Deno.test("bindUdp() receiveInto() fills the caller's buffer; pending calls settle in arrival order", async () => {
  const a = await bindUdp({ host: "127.0.0.1", port: 0 });
  const b = await bindUdp({ host: "127.0.0.1", port: 0 });
  const settled: number[] = []; // first byte of each datagram, in the order its call settled
  const pending = [0, 1, 2].map(() => {
    const buf = new Uint8Array(2048);
    return b.receiveInto!(buf).then((got) => {
      assertEquals([got?.length, got?.from], [99 + buf[0]!, a.addr]);
      settled.push(buf[0]!);
    });
  });
  for (let i = 1; i <= 3; i++) await a.send(new Uint8Array(99 + i).fill(i), b.addr);
  await Promise.all(pending);
  assertEquals(settled, [1, 2, 3]);
  await a.send(new Uint8Array([7, 7]), b.addr);
  assertEquals((await b.receive())?.data, new Uint8Array([7, 7])); // an owned copy, exact length
  const last = b.receiveInto!(new Uint8Array(16));
  b.close();
  assertEquals(await last, null);
  a.close();
});

Deno.test("resolveHost() passes IP literals through and returns [] for names that do not resolve", async () => {
  assertEquals(await resolveHost("127.0.0.1"), ["127.0.0.1"]);
  assertEquals(await resolveHost("::1"), ["::1"]);
  assertEquals(await resolveHost("no-such-host.invalid"), []);
});

Deno.test("DhtNode over real UDP: a node announces and another finds it on loopback", async () => {
  const nodes: DhtNode[] = [];
  try {
    for (let i = 0; i < 4; i++) {
      nodes.push(
        new DhtNode({
          socket: await bindUdp({ host: `127.0.0.${40 + i}`, port: 0 }),
          clock: SYSTEM_CLOCK,
          random: SECURE_RANDOM,
          allowLocalAddresses: true,
          rpcTimeoutMs: 500,
          table: { restrictSubnets: false },
          bootstrapNodes: [],
        }),
      );
    }
    nodes[0]!.start();
    for (const n of nodes.slice(1)) assert(await n.bootstrap([nodes[0]!.address]));
    const hash = SECURE_RANDOM.bytes(20);
    const r = await nodes[1]!.announce(hash, 5555);
    assert(r.announcedTo >= 2, `announced to ${r.announcedTo}`);
    const found: string[] = [];
    for await (const p of nodes[3]!.getPeers(hash)) found.push(`${p.host}:${p.port}`);
    assert(found.includes("127.0.0.41:5555"), found.join(","));
  } finally {
    for (const n of nodes) n.close();
  }
});

Deno.test("bindUdp() through node:dgram (as without --unstable-net): concurrent receives, maxDatagramBytes", async () => {
  // The tracker runs 8 receive loops per socket; the node:dgram binding kept one waiter and
  // lost the others. It reads each datagram into a 4 KiB buffer when told the largest.
  const a = await bindUdp({ host: "127.0.0.1", port: 0 }, { backend: "node" });
  const b = await bindUdp({ host: "127.0.0.1", port: 0 }, {
    backend: "node",
    maxDatagramBytes: 2048,
  });
  try {
    const waiting = [b.receive(), b.receive(), b.receive()];
    for (const n of [1, 1496, 2048]) await a.send(new Uint8Array(n).fill(n & 0xff), b.addr);
    const got = await Promise.all(waiting);
    assertEquals(got.map((d) => d?.data.length).sort((x, y) => x! - y!), [1, 1496, 2048]);
    const last = b.receive();
    b.close();
    assertEquals(await last, null);
  } finally {
    a.close();
    b.close();
  }
});
