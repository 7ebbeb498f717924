import { assertEquals, assertRejects } from "../../tests/assert.ts";
import { VirtualClock } from "../../tests/sim/virtual_clock.ts";
import type { Conn, Network, PeerAddress } from "../runtime/types.ts";
import { dialTransport, type Transport, type TransportDialOptions } from "./transport_dial.ts";

const PEER: PeerAddress = { host: "192.0.2.1", port: 6881 };

/** A connection attempt that answers after `ms` (or fails, or never answers). */
type Answer = { ms: number; fails?: boolean } | "silent";

interface FakeConn extends Conn {
  readonly transport: Transport;
  closed: boolean;
}

/** Dialers for both transports on the virtual clock; records starts, closes and aborts. */
function fakeTransports(clock: VirtualClock, answers: Record<Transport, Answer>) {
  const started: [Transport, number][] = [];
  const aborted: Transport[] = [];
  const conns: FakeConn[] = [];
  const dialer = (transport: Transport) => (_: PeerAddress, o: { signal?: AbortSignal } = {}) =>
    new Promise<Conn>((resolve, reject) => {
      started.push([transport, clock.now()]);
      let settled = false;
      o.signal?.addEventListener("abort", () => {
        if (settled) return;
        settled = true;
        aborted.push(transport);
        reject(new Error("aborted"));
      });
      const answer = answers[transport];
      if (answer === "silent") return;
      clock.schedule(answer.ms, () => {
        if (settled) return;
        settled = true;
        if (answer.fails) return reject(new Error(`${transport} refused`));
        const conn: FakeConn = {
          transport,
          closed: false,
          remoteAddr: PEER,
          localAddr: { host: "192.0.2.2", port: 1 },
          read: () => Promise.resolve(null),
          write: () => Promise.resolve(),
          close: () => conn.closed = true,
        };
        conns.push(conn);
        resolve(conn);
      });
    });
  const network = { dial: dialer("tcp") } as unknown as Network;
  return { started, aborted, conns, network, utp: { dial: dialer("utp") } };
}

function options(
  clock: VirtualClock,
  t: ReturnType<typeof fakeTransports>,
  o: Partial<TransportDialOptions> = {},
): TransportDialOptions {
  return {
    network: t.network,
    utp: t.utp,
    clock,
    order: ["utp", "tcp"],
    headStartMs: 0,
    graceMs: 50,
    signal: new AbortController().signal,
    ...o,
  };
}

Deno.test("dialTransport() dials both at once; uTP answering within the grace wins over a faster TCP", async () => {
  const clock = new VirtualClock();
  const t = fakeTransports(clock, { tcp: { ms: 20 }, utp: { ms: 60 } });
  const opening = dialTransport(PEER, options(clock, t));
  await clock.advance(100);
  const opened = await opening;
  assertEquals([opened.transport, opened.connectMs], ["utp", 60]);
  assertEquals(t.started.map(([name, at]) => [name, at - 1_000_000]), [["utp", 0], ["tcp", 0]]);
  assertEquals(t.conns.map((c) => [c.transport, c.closed]), [["tcp", true], ["utp", false]]);
});

Deno.test("dialTransport() keeps TCP when a silent uTP misses the grace (a TCP-only peer costs a round trip plus 50 ms)", async () => {
  const clock = new VirtualClock();
  const t = fakeTransports(clock, { tcp: { ms: 20 }, utp: "silent" });
  const opening = dialTransport(PEER, options(clock, t));
  await clock.advance(69);
  let settled = false;
  void opening.then(() => settled = true);
  await clock.advance(0);
  assertEquals(settled, false);
  await clock.advance(1);
  const opened = await opening;
  assertEquals([opened.transport, opened.connectMs], ["tcp", 20]);
  assertEquals(t.aborted, ["utp"]);
  assertEquals(t.conns.map((c) => c.closed), [false]);
});

Deno.test("dialTransport() scales the grace with a slow TCP connect (a long path)", async () => {
  const clock = new VirtualClock();
  const t = fakeTransports(clock, { tcp: { ms: 300 }, utp: { ms: 550 } });
  const opening = dialTransport(PEER, options(clock, t));
  await clock.advance(1_000);
  assertEquals((await opening).transport, "utp");
});

Deno.test("dialTransport() takes TCP at once when uTP fails, during the grace or before TCP is up", async () => {
  for (const utpFailsAt of [10, 40]) {
    const clock = new VirtualClock();
    const t = fakeTransports(clock, { tcp: { ms: 20 }, utp: { ms: utpFailsAt, fails: true } });
    const opening = dialTransport(PEER, options(clock, t));
    await clock.advance(1_000);
    const opened = await opening;
    assertEquals(opened.transport, "tcp");
    assertEquals(clock.now() - 1_000_000 >= 20, true);
  }
});

Deno.test("dialTransport() with a head start dials the second transport later, or at once after a failure", async () => {
  const clock = new VirtualClock();
  const t = fakeTransports(clock, { tcp: { ms: 5 }, utp: "silent" });
  const opening = dialTransport(PEER, options(clock, t, { headStartMs: 1_000 }));
  await clock.advance(2_000);
  assertEquals((await opening).transport, "tcp");
  assertEquals(t.started.map(([name, at]) => [name, at - 1_000_000]), [["utp", 0], ["tcp", 1_000]]);

  const clock2 = new VirtualClock();
  const t2 = fakeTransports(clock2, { tcp: { ms: 5, fails: true }, utp: { ms: 5 } });
  const opening2 = dialTransport(
    PEER,
    options(clock2, t2, { order: ["tcp", "utp"], headStartMs: 15_000 }),
  );
  await clock2.advance(100);
  assertEquals((await opening2).transport, "utp");
  assertEquals(t2.started.map(([name, at]) => [name, at - 1_000_000]), [["tcp", 0], ["utp", 5]]);
});

Deno.test("dialTransport() rejects when every transport fails or the signal aborts, closing what came up late", async () => {
  const clock = new VirtualClock();
  const t = fakeTransports(clock, { tcp: { ms: 5, fails: true }, utp: { ms: 8, fails: true } });
  const failing = dialTransport(PEER, options(clock, t));
  const failed = assertRejects(() => failing);
  await clock.advance(100);
  await failed;

  const clock2 = new VirtualClock();
  const t2 = fakeTransports(clock2, { tcp: "silent", utp: "silent" });
  const abort = new AbortController();
  const aborting = dialTransport(PEER, options(clock2, t2, { signal: abort.signal }));
  const aborted = assertRejects(() => aborting);
  abort.abort();
  await aborted;
  assertEquals(t2.aborted.sort(), ["tcp", "utp"]);
});
