import { assert, assertEquals, assertRejects } from "../../../tests/assert.ts";
import { SimUdpNetwork, type SimUdpOptions } from "../../../tests/sim/sim_udp.ts";
import { VirtualClock } from "../../../tests/sim/virtual_clock.ts";
import type { Conn } from "../../runtime/types.ts";
import { SeededRandom } from "../../util/prng.ts";
import { encodePacket, ST_RESET, ST_STATE, ST_SYN } from "./packet.ts";
import type { UtpSettings } from "./settings.ts";
import { UtpConnectionError, UtpSocket } from "./utp_socket.ts";

const A = { host: "10.0.0.1", port: 6881 };
const B = { host: "10.0.0.2", port: 6881 };

function world(options: SimUdpOptions = {}, settings: Partial<UtpSettings> = {}) {
  const clock = new VirtualClock();
  const net = new SimUdpNetwork(clock, new SeededRandom(1), {
    minLatencyMs: 10,
    maxLatencyMs: 10,
    ...options,
  });
  const make = (addr: typeof A, seed: number) =>
    new UtpSocket({ socket: net.bindSync(addr), clock, random: new SeededRandom(seed), settings });
  const a = make(A, 2), b = make(B, 3);
  const done = () => {
    a.assertInvariants();
    b.assertInvariants();
    a.close();
    b.close();
  };
  return { clock, net, a, b, done };
}

/** Reads until EOF, or until `limit` bytes. */
async function readAll(conn: Conn, limit = Infinity): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const buf = new Uint8Array(40_000);
  for (let total = 0; total < limit;) {
    const n = await conn.read(buf);
    if (n === null) break;
    parts.push(buf.slice(0, n));
    total += n;
  }
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
  return out;
}

/** Byte equality without a diff (deepStrictEqual's diff of large arrays takes minutes). */
function same(x: Uint8Array, y: Uint8Array): boolean {
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

async function writeAll(conn: Conn, data: Uint8Array): Promise<void> {
  for (let at = 0; at < data.length; at += 50_000) await conn.write(data.subarray(at, at + 50_000));
}

Deno.test("UtpSocket dials, accepts and carries bytes both ways; closing ends both and forgets them", async () => {
  const { clock, a, b, done } = world();
  const up = new SeededRandom(5).bytes(300_000), down = new SeededRandom(6).bytes(100_000);
  const server = (async () => {
    const conn = (await b.accept())!;
    const [got] = await Promise.all([readAll(conn, up.length), writeAll(conn, down)]);
    conn.close(); // the client reads to the end, then closes too
    return got;
  })();
  const client = (async () => {
    const conn = await a.dial(B);
    assertEquals([conn.remoteAddr, conn.localAddr], [B, A]);
    const [, got] = await Promise.all([writeAll(conn, up), readAll(conn)]);
    conn.close();
    return got;
  })();
  const [fromB, fromA] = await clock.runUntil(Promise.all([client, server]), 60_000, 10);
  assert(same(fromB, down) && same(fromA, up), `${fromB.length} / ${fromA.length} bytes`);
  await clock.runUntil(() => a.stats.connections + b.stats.connections === 0, 30_000, 10);
  done();
});

Deno.test("UtpSocket bounds a SYN flood: one 20-byte STATE per SYN it keeps, none for the rest, all expire", async () => {
  const { clock, net, a, b, done } = world({}, { maxHalfOpen: 8, halfOpenTimeoutMs: 2000 });
  const sentBefore = net.stats.sent;
  for (let i = 0; i < 100; i++) {
    const spoofed = net.bindSync({ host: `10.9.${i >> 8}.${i & 0xff}`, port: 1000 + i });
    await spoofed.send(
      encodePacket({
        type: ST_SYN,
        connectionId: i,
        timestampMicros: 1,
        timestampDifferenceMicros: 0,
        windowBytes: 1 << 20,
        seq: i,
        ack: 0,
      }),
      B,
    );
  }
  await clock.advance(50);
  assertEquals([b.stats.halfOpen, b.stats.refusedSyns], [8, 92]);
  assertEquals(net.stats.sent - sentBefore, 100 + 8); // the SYNs and 8 STATEs: no amplification
  await clock.advance(2100);
  assertEquals([b.stats.connections, b.stats.halfOpen], [0, 0]);
  const conn = await clock.runUntil(a.dial(B), 5000, 10); // the real peer still gets in
  conn.close();
  done();
});

Deno.test("UtpSocket: a RESET must carry the right connection id from the right sender; only that connection ends", async () => {
  const { clock, net, a, b, done } = world();
  const accepted: Conn[] = [];
  void (async () => {
    for await (const c of b) accepted.push(c);
  })();
  const [c1, c2] = await clock.runUntil(Promise.all([a.dial(B), a.dial(B)]), 5000, 10);
  await c1!.write(new Uint8Array([1]));
  await c2!.write(new Uint8Array([2]));
  await clock.advance(100);
  assertEquals(accepted.length, 2);
  const target = (c1 as unknown as { core: { recvId: number; sendId: number } }).core;
  const reset = (id: number) =>
    encodePacket({
      type: ST_RESET,
      connectionId: id,
      timestampMicros: 0,
      timestampDifferenceMicros: 0,
      windowBytes: 0,
      seq: 1,
      ack: 1,
    });
  const attacker = net.bindSync({ host: "10.6.6.6", port: B.port });
  await attacker.send(reset(target.recvId), A); // right id, wrong sender
  const spoofedB = net.bindSync({ host: B.host, port: 9999 });
  await spoofedB.send(reset(target.recvId), A); // right host, wrong port
  const real = net.bindSync({ host: B.host, port: B.port + 1 });
  await real.send(reset((target.recvId + 7) & 0xffff), A);
  await clock.advance(50);
  assertEquals(a.stats.connections, 2);
  const peerOfC1 = accepted.find((c) =>
    (c as unknown as { core: { sendId: number } }).core.sendId === target.recvId
  )!;
  (peerOfC1 as unknown as { abort(now: number): void }).abort(clock.now()); // the real peer resets c1
  const r1 = await clock.runUntil(c1!.read(new Uint8Array(8)).catch((e) => e), 1000, 10);
  assertEquals([r1 instanceof UtpConnectionError, r1.reason], [true, "reset"]);
  const other = accepted.find((c) => c !== peerOfC1)!;
  await other.write(new Uint8Array([7]));
  assertEquals(await clock.runUntil(c2!.read(new Uint8Array(8)), 1000, 10), 1); // c2 unaffected
  assertEquals(a.stats.connections, 1);
  done();
});

Deno.test("UtpSocket.dial() fails as `refused` after the SYN resends (1 + 2 + 4 s), or at once when aborted", async () => {
  const { clock, a, done } = world();
  const start = clock.now();
  const silent = a.dial({ host: "10.0.0.99", port: 1 });
  const e = await clock.runUntil(assertRejects(() => silent, UtpConnectionError), 20_000, 50);
  assertEquals(e.reason, "refused");
  const took = clock.now() - start;
  assert(took >= 7000 && took < 7200, `${took} ms`);
  const controller = new AbortController();
  const aborted = a.dial({ host: "10.0.0.99", port: 1 }, { signal: controller.signal });
  controller.abort();
  assertEquals((await assertRejects(() => aborted, UtpConnectionError)).reason, "aborted");
  assertEquals(a.stats.connections, 0);
  done();
});

Deno.test("UtpSocket write() applies backpressure: with no reader, memory stays bounded and writes wait", async () => {
  const { clock, a, b, done } = world({}, {
    receiveWindowBytes: 64 * 1024,
    sendBufferBytes: 32 * 1024,
  });
  const conn = await clock.runUntil(a.dial(B), 5000, 10);
  let resolved = 0;
  const chunk = new Uint8Array(16 * 1024);
  let writing: Promise<void> = Promise.resolve();
  for (let i = 0; i < 40; i++) {
    writing = writing.then(() => conn.write(chunk)).then(() => void resolved++);
  }
  await clock.advance(3000);
  const peer = (await clock.runUntil(b.accept(), 1000, 10))!;
  const limit = 64 * 1024 + 32 * 1024 + 2 * 1452;
  assert(resolved * chunk.length <= limit + chunk.length, `resolved ${resolved} writes`);
  assert(resolved < 40);
  const got = readAll(peer);
  await clock.runUntil(writing.then(() => conn.close()), 60_000, 10);
  assertEquals((await clock.runUntil(got, 60_000, 10)).length, 40 * chunk.length);
  done();
});

Deno.test("UtpSocket counts malformed datagrams and packets for no connection, and answers neither", async () => {
  const { clock, net, b, done } = world();
  const probe = net.bindSync({ host: "10.0.0.7", port: 7 });
  const before = net.stats.sent;
  await probe.send(Uint8Array.of(0x01, 1, 2), B); // short
  await probe.send(Uint8Array.of(0x21, 5, ...new Uint8Array(18)), B); // broken extension chain
  await probe.send(
    encodePacket({
      type: ST_STATE,
      connectionId: 42,
      timestampMicros: 0,
      timestampDifferenceMicros: 0,
      windowBytes: 0,
      seq: 1,
      ack: 1,
    }),
    B,
  );
  await clock.advance(50);
  assertEquals([b.stats.invalidPackets, b.stats.unknownPackets, net.stats.sent - before], [
    2,
    1,
    3,
  ]);
  done();
});

Deno.test("UtpSocket enforces the connection limit and the accept backlog", async () => {
  const { clock, a, b, done } = world({}, { maxConnections: 3, acceptBacklog: 1 });
  const conns = await clock.runUntil(Promise.all([a.dial(B), a.dial(B), a.dial(B)]), 5000, 10);
  await assertRejects(() => a.dial(B), RangeError);
  for (const c of conns) await c.write(new Uint8Array([1]));
  await clock.advance(100);
  assertEquals(b.stats.refusedSyns, 2); // confirmed beyond the backlog of 1: reset
  const first = await b.accept();
  assert(first !== null);
  done();
  assertEquals(await b.accept(), null); // closed: accept ends
});
