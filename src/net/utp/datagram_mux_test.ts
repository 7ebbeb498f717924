import { assertEquals } from "../../../tests/assert.ts";
import { SimUdpNetwork } from "../../../tests/sim/sim_udp.ts";
import { VirtualClock } from "../../../tests/sim/virtual_clock.ts";
import { DhtNode } from "../../dht/dht_node.ts";
import type { Datagram, PeerAddress, UdpSocketLike } from "../../runtime/types.ts";
import { SeededRandom } from "../../util/prng.ts";
import { DatagramMux } from "./datagram_mux.ts";

const A = { host: "10.0.0.1", port: 6881 };
const B = { host: "10.0.0.2", port: 6881 };
const krpc = new TextEncoder().encode("d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe");
const utp = Uint8Array.of(0x21, 0, 0, 1, ...new Uint8Array(16)); // a STATE

/** A socket without `receiveInto`, fed by hand. */
function plainSocket(incoming: Datagram[]): UdpSocketLike & { sent: number } {
  let wake: ((d: Datagram | null) => void) | undefined;
  return {
    addr: A,
    sent: 0,
    send() {
      this.sent++;
      return Promise.resolve();
    },
    receive: () => {
      const next = incoming.shift();
      return next ? Promise.resolve(next) : new Promise((r) => (wake = r));
    },
    close: () => wake?.(null),
  };
}

for (const path of ["receive", "receiveInto"] as const) {
  Deno.test(`DatagramMux sorts datagrams by first byte (${path})`, async () => {
    const clock = new VirtualClock();
    const net = new SimUdpNetwork(clock, new SeededRandom(1), { minLatencyMs: 1, maxLatencyMs: 1 });
    const sim = net.bindSync(A);
    const socket = path === "receive"
      ? { ...plainSocket([]), receive: () => sim.receive(), close: () => sim.close() }
      : sim;
    const mux = new DatagramMux(socket);
    const seen: [number, PeerAddress][] = [];
    mux.utp.attach((data, from) => seen.push([data[0]!, from]));
    const peer = net.bindSync(B);
    for (const d of [krpc, utp, Uint8Array.of(0x51, 1, 2), utp, Uint8Array.of()]) {
      await peer.send(d, A);
    }
    await clock.advance(10);
    const k = await mux.krpc.receive();
    assertEquals([k?.data, k?.from], [krpc, B]);
    assertEquals(seen, [[0x21, B], [0x21, B]]);
    assertEquals(mux.stats, { utp: 2, krpc: 1, dropped: 2 });
    mux.close();
    assertEquals(await mux.krpc.receive(), null);
    peer.close();
  });
}

Deno.test("DatagramMux: the DHT closing its side leaves uTP running; the socket closes with the last side", async () => {
  const socket = plainSocket([{ data: utp, from: B }]);
  let closed = 0;
  const close = socket.close;
  socket.close = () => {
    closed++;
    close();
  };
  const mux = new DatagramMux(socket);
  const seen: number[] = [];
  mux.utp.attach((d) => seen.push(d.length));
  mux.krpc.close();
  await new Promise((r) => setTimeout(r, 0));
  assertEquals([seen, closed], [[20], 0]);
  mux.utp.send(utp, B);
  assertEquals(socket.sent, 1);
  mux.utp.close();
  assertEquals(closed, 1);
});

Deno.test("DatagramMux carries a DhtNode's traffic while uTP shares the port", async () => {
  const clock = new VirtualClock();
  const net = new SimUdpNetwork(clock, new SeededRandom(2), { minLatencyMs: 5, maxLatencyMs: 5 });
  const mux = new DatagramMux(net.bindSync(A));
  const utpSeen: number[] = [];
  mux.utp.attach((d) => utpSeen.push(d[0]!));
  const options = {
    clock,
    random: new SeededRandom(3),
    allowLocalAddresses: true,
    bootstrapNodes: [],
  };
  const node = new DhtNode({ socket: mux.krpc, ...options });
  const other = new DhtNode({ socket: net.bindSync(B), ...options, random: new SeededRandom(4) });
  node.start();
  other.start();
  const pinged = other.bootstrap([A]);
  await clock.runUntil(pinged, 10_000, 10);
  const peer = net.bindSync({ host: "10.0.0.3", port: 1 });
  await peer.send(utp, A);
  await clock.advance(10);
  assertEquals([node.routingTable.size, other.routingTable.size, utpSeen], [1, 1, [0x21]]);
  node.close();
  other.close();
  mux.close();
  peer.close();
});
