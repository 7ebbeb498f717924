import { assert, assertEquals } from "../assert.ts";
import { SeededRandom } from "../../src/util/prng.ts";
import { SimUdpNetwork } from "./sim_udp.ts";
import { VirtualClock } from "./virtual_clock.ts";

const A = { host: "10.0.0.1", port: 1 };
const B = { host: "10.0.0.2", port: 2 };

async function collect(net: SimUdpNetwork, clock: VirtualClock, sends: number, ms: number) {
  const a = net.bindSync(A), b = net.bindSync(B);
  const arrivals: [number, number][] = []; // [index, virtual ms]
  const start = clock.now();
  void (async () => {
    const buf = new Uint8Array(2000);
    for (;;) {
      const got = await b.receiveInto!(buf);
      if (!got) return;
      arrivals.push([buf[0]! | (buf[1]! << 8), clock.now() - start]);
    }
  })();
  for (let i = 0; i < sends; i++) {
    const d = new Uint8Array(1000);
    d[0] = i & 0xff;
    d[1] = i >> 8;
    await a.send(d, B);
  }
  await clock.advance(ms);
  a.close();
  b.close();
  return arrivals;
}

Deno.test("SimUdpNetwork bottleneck: datagrams leave at the link rate; a full queue drops", async () => {
  const clock = new VirtualClock();
  const net = new SimUdpNetwork(clock, new SeededRandom(1), {
    minLatencyMs: 10,
    maxLatencyMs: 10,
    bottleneck: { bytesPerSecond: 100_000, queueBytes: 20_000 },
  });
  const arrivals = await collect(net, clock, 30, 2000);
  // 20 datagrams fit the queue; each takes 10 ms on the link, then 10 ms of latency
  assertEquals(arrivals.length, 20);
  assertEquals(net.stats.queueDrops, 10);
  assertEquals(arrivals.map(([, t]) => Math.round(t)), arrivals.map((_, i) => 20 + 10 * i));
});

Deno.test("SimUdpNetwork duplicates and reorders datagrams at the configured rates", async () => {
  const clock = new VirtualClock();
  const net = new SimUdpNetwork(clock, new SeededRandom(2), {
    minLatencyMs: 5,
    maxLatencyMs: 5,
    duplicateRate: 0.2,
    reorderRate: 0.2,
    reorderDelayMs: 3,
  });
  const arrivals = await collect(net, clock, 500, 1000);
  const indices = arrivals.map(([i]) => i);
  assertEquals(arrivals.length, 500 + net.stats.duplicated);
  assert(net.stats.duplicated > 60 && net.stats.duplicated < 140, `${net.stats.duplicated}`);
  assert(net.stats.reordered > 60 && net.stats.reordered < 140, `${net.stats.reordered}`);
  assertEquals(new Set(indices).size, 500);
});
