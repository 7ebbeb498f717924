/**
 * uTP on the simulator's datagram network and virtual clock: a transfer through 5 % loss
 * at 200 ms RTT, and LEDBAT's defining property, yielding a shared bottleneck to a
 * loss-based (TCP-Reno-like) flow, then taking it back.
 */
import { assert } from "../assert.ts";
import { SeededRandom } from "../../src/util/prng.ts";
import type { Conn, PeerAddress } from "../../src/runtime/types.ts";
import { UtpSocket } from "../../src/net/utp/utp_socket.ts";
import { SimUdpNetwork, type SimUdpOptions } from "./sim_udp.ts";
import { TcpRenoFlow } from "./tcp_reno_flow.ts";
import { VirtualClock } from "./virtual_clock.ts";

const SENDER = { host: "10.0.0.1", port: 6881 };
const RECEIVER = { host: "10.0.1.1", port: 6881 };

function utpPair(clock: VirtualClock, net: SimUdpNetwork) {
  const make = (addr: PeerAddress, seed: number) =>
    new UtpSocket({ socket: net.bindSync(addr), clock, random: new SeededRandom(seed) });
  return { sender: make(SENDER, 11), receiver: make(RECEIVER, 12) };
}

/** Writes forever (until `stop()`), counting bytes the reader gets. */
function bulk(sender: Conn, accepted: Promise<Conn | null>) {
  let running = true, received = 0;
  const chunk = new Uint8Array(64 * 1024);
  const writing = (async () => {
    while (running) await sender.write(chunk);
  })().catch(() => {});
  let receiver: Conn | null = null;
  const reading = (async () => {
    receiver = await accepted;
    const buf = new Uint8Array(64 * 1024);
    for (let n = await receiver!.read(buf); n !== null; n = await receiver!.read(buf)) {
      received += n;
    }
  })().catch(() => {});
  return {
    get received() {
      return received;
    },
    async stop() {
      running = false;
      sender.close();
      (receiver as Conn | null)?.close();
      await Promise.all([writing, reading]);
    },
  };
}

Deno.test("uTP sim: 1 MiB through 5 % loss (both ways) at 200 ms RTT arrives intact", async () => {
  const clock = new VirtualClock();
  const options: SimUdpOptions = { minLatencyMs: 100, maxLatencyMs: 100, lossRate: 0.05 };
  const net = new SimUdpNetwork(clock, new SeededRandom(29), options);
  const { sender, receiver } = utpPair(clock, net);
  const data = new SeededRandom(1).bytes(1 << 20);
  const start = clock.now();
  const got = new Uint8Array(data.length);
  const reading = (async () => {
    const conn = (await receiver.accept())!;
    let at = 0;
    const buf = new Uint8Array(65536);
    while (at < data.length) {
      const n = await conn.read(buf);
      if (n === null) break;
      got.set(buf.subarray(0, n), at);
      at += n;
    }
    conn.close();
    return at;
  })();
  const conn = await clock.runUntil(sender.dial(RECEIVER), 30_000, 10);
  const writing = (async () => {
    for (let at = 0; at < data.length; at += 100_000) {
      await conn.write(data.subarray(at, at + 100_000));
    }
  })();
  const received = await clock.runUntil(reading, 600_000, 20);
  await writing;
  const seconds = (clock.now() - start) / 1000;
  assert(received === data.length && got.every((v, i) => v === data[i]), "intact");
  console.log(
    `uTP sim: 1 MiB, 5 % loss, 200 ms RTT: ${seconds.toFixed(1)} s virtual ` +
      `(${(data.length / seconds / 1024).toFixed(0)} KiB/s), ${net.stats.dropped} datagrams lost`,
  );
  assert(seconds < 120, `${seconds} s`);
  sender.assertInvariants();
  receiver.assertInvariants();
  conn.close();
  sender.close();
  receiver.close();
});

Deno.test("uTP sim: LEDBAT yields a shared bottleneck to a TCP-Reno-like flow and takes it back", async () => {
  const clock = new VirtualClock();
  const rate = 125_000; // 1 Mbit/s
  const isData = (from: PeerAddress) => from.host.startsWith("10.0.0.");
  const net = new SimUdpNetwork(clock, new SeededRandom(30), {
    minLatencyMs: 20,
    maxLatencyMs: 20,
    bottleneck: { bytesPerSecond: rate, queueBytes: 60_000, applies: isData }, // 480 ms of queue
  });
  const { sender, receiver } = utpPair(clock, net);
  const accepted = receiver.accept();
  const utpConn = await clock.runUntil(sender.dial(RECEIVER), 10_000, 10);
  const utpFlow = bulk(utpConn, accepted);
  const tcp = new TcpRenoFlow(clock, {
    tx: net.bindSync({ host: "10.0.0.2", port: 80 }),
    rx: net.bindSync({ host: "10.0.1.2", port: 80 }),
  });
  /** Throughputs over `ms`, and the mean queuing delay at the bottleneck. */
  const phase = async (ms: number) => {
    const u = utpFlow.received, t = tcp.delivered;
    let queued = 0;
    for (let step = 0; step < ms / 100; step++) {
      await clock.advance(100);
      queued += net.queuedBytes;
    }
    const delayMs = (queued / (ms / 100)) / rate * 1000;
    return {
      utp: (utpFlow.received - u) / (ms / 1000),
      tcp: (tcp.delivered - t) / (ms / 1000),
      delayMs,
    };
  };
  await clock.advance(5_000); // uTP ramps up alone
  const alone = await phase(10_000);
  tcp.start();
  await clock.advance(5_000); // both converge
  const shared = await phase(20_000);
  tcp.stop();
  await clock.advance(5_000);
  const after = await phase(10_000);
  const kib = (x: number) => `${(x / 1024).toFixed(1)} KiB/s`;
  const report = [
    `uTP sim bottleneck ${kib(rate)}, 480 ms queue:`,
    `uTP alone ${kib(alone.utp)} (queue ${alone.delayMs.toFixed(0)} ms);`,
    `with TCP: uTP ${kib(shared.utp)}, TCP ${kib(shared.tcp)} (queue ${
      shared.delayMs.toFixed(0)
    } ms);`,
    `after TCP: uTP ${kib(after.utp)}`,
  ];
  console.log(report.join(" "));
  assert(alone.delayMs < 150, `LEDBAT keeps the queue near its 100 ms target: ${alone.delayMs} ms`);
  assert(alone.utp > 0.8 * rate, `uTP alone uses the link: ${kib(alone.utp)}`);
  assert(shared.utp < 0.25 * shared.tcp, `uTP yields: ${kib(shared.utp)} vs ${kib(shared.tcp)}`);
  assert(shared.tcp > 0.6 * rate, `TCP gets the link: ${kib(shared.tcp)}`);
  assert(after.utp > 0.8 * rate, `uTP takes it back: ${kib(after.utp)}`);
  sender.assertInvariants();
  receiver.assertInvariants();
  await utpFlow.stop();
  sender.close();
  receiver.close();
});
