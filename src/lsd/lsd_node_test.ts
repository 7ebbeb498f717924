import { assertEquals } from "../../tests/assert.ts";
import { VirtualClock } from "../../tests/sim/virtual_clock.ts";
import { DatagramInbox } from "../../tests/datagram_inbox.ts";
import type { Datagram, PeerAddress, UdpSocketLike } from "../runtime/types.ts";
import { SeededRandom } from "../util/prng.ts";
import { encodeLsdAnnounce, LSD_GROUP_V4 } from "./lsd_message.ts";
import { LsdNode } from "./lsd_node.ts";

const A = "0123456789abcdef0123456789abcdef01234567";
const B = "fedcba9876543210fedcba9876543210fedcba98";

/** A LAN: whatever is sent to the LSD group reaches every group socket, loopback included. */
class Lan {
  readonly groups: FakeSocket[] = [];
  readonly sent: { from: string; text: string }[] = [];

  group(): FakeSocket {
    const s = new FakeSocket({ host: "0.0.0.0", port: LSD_GROUP_V4.port }, this);
    this.groups.push(s);
    return s;
  }

  deliver(data: Uint8Array, from: PeerAddress, to: PeerAddress): void {
    if (to.host !== LSD_GROUP_V4.host || to.port !== LSD_GROUP_V4.port) return;
    this.sent.push({ from: from.host, text: new TextDecoder().decode(data) });
    for (const g of this.groups) g.push({ data: data.slice(), from });
  }
}

class FakeSocket implements UdpSocketLike {
  readonly #inbox = new DatagramInbox();
  constructor(readonly addr: PeerAddress, readonly lan: Lan) {}
  send(data: Uint8Array, to: PeerAddress): Promise<void> {
    this.lan.deliver(data, this.addr, to);
    return Promise.resolve();
  }
  push(d: Datagram): void {
    this.#inbox.deliver(d);
  }
  receive(): Promise<Datagram | null> {
    return this.#inbox.receive();
  }
  close(): void {
    this.#inbox.close();
  }
}

function node(lan: Lan, clock: VirtualClock, host: string, port: number, seed: number) {
  const heard: string[] = [];
  const group = lan.group();
  const sender = new FakeSocket({ host, port: 40000 + seed }, lan);
  const n = new LsdNode({
    group,
    sender,
    port,
    clock,
    random: new SeededRandom(seed),
    onPeer: (hash, peer) => heard.push(`${hash.slice(0, 4)} ${peer.host}:${peer.port}`),
  });
  n.start();
  return { node: n, heard, group };
}

Deno.test("lsd node: two clients in one torrent find each other; our own announces are ignored", async () => {
  const clock = new VirtualClock();
  const lan = new Lan();
  const a = node(lan, clock, "192.168.1.10", 6881, 1);
  const b = node(lan, clock, "192.168.1.11", 51413, 2);
  a.node.add(A);
  b.node.add(A);
  b.node.add(B); // only b is in B: a hears nothing of it
  await clock.advance(10);
  assertEquals(a.heard, ["0123 192.168.1.11:51413"]);
  assertEquals(b.heard, ["0123 192.168.1.10:6881"]);
  // each torrent's first announce goes out three times: now, 2 s and 4 s later
  await clock.advance(5_000);
  assertEquals(lan.sent.filter((s) => s.from === "192.168.1.10").length, 3);
  assertEquals(a.heard.length, 3);
  a.node.close();
  b.node.close();
});

Deno.test("lsd node: a round every interval carries every torrent; removed and private ones stay quiet", async () => {
  const clock = new VirtualClock();
  const lan = new Lan();
  const a = node(lan, clock, "10.0.0.2", 6881, 3);
  let isPrivate = false;
  const removeA = a.node.add(A);
  a.node.add(B, () => !isPrivate);
  await clock.advance(5_000);
  lan.sent.length = 0;
  await clock.advance(300_000);
  assertEquals(lan.sent.length, 1);
  assertEquals(lan.sent[0]!.text.match(/Infohash: /g)?.length, 2);
  removeA();
  isPrivate = true; // a magnet whose metadata said private (BEP 27)
  lan.sent.length = 0;
  await clock.advance(300_000);
  assertEquals(lan.sent.length, 0);
  // and a peer announcing B is not taken either
  await lan.groups[0]!.send(encodeLsdAnnounce(7000, [B], "99"), LSD_GROUP_V4);
  await clock.advance(10);
  assertEquals(a.heard, []);
  a.node.close();
});

Deno.test("lsd node: a flood is read at most 50 datagrams a second", async () => {
  const clock = new VirtualClock();
  const lan = new Lan();
  const a = node(lan, clock, "10.0.0.2", 6881, 4);
  a.node.add(A);
  const flooder = new FakeSocket({ host: "10.0.0.66", port: 6771 }, lan);
  for (let i = 0; i < 500; i++) {
    await flooder.send(encodeLsdAnnounce(1000 + i, [A], "77"), LSD_GROUP_V4);
  }
  await clock.advance(10);
  // our own first announce was one of the 50 read (and ignored)
  assertEquals(a.heard.length, 49);
  assertEquals(a.node.stats.dropped, 451);
  await clock.advance(1_000);
  await flooder.send(encodeLsdAnnounce(999, [A], "77"), LSD_GROUP_V4);
  await clock.advance(10);
  assertEquals(a.heard.length, 50, "the next second reads again");
  a.node.close();
});
