import { assert, assertEquals, assertThrows } from "../../tests/assert.ts";
import type { PeerAddress } from "../runtime/types.ts";
import { decodePex, PexFlags, pexFlagsOf, type PexPeerInfo, PexSender } from "./mod.ts";

function v4(i: number, port = 6881): PeerAddress {
  return { host: `198.51.${(i >> 8) & 0xff}.${i & 0xff}`, port };
}

function peer(i: number): PexPeerInfo {
  return { addr: v4(i), isSeed: i % 3 === 0, reachable: i % 2 === 0 };
}

const key = (a: PeerAddress) => `${a.host}:${a.port}`;
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

/** [peer, flags byte]. */
const FLAGS: [PexPeerInfo, number][] = [
  [{ addr: v4(1), isSeed: false, reachable: false }, 0],
  [{ addr: v4(1), isSeed: true, reachable: false }, PexFlags.seed],
  [{ addr: v4(1), isSeed: false, reachable: true }, PexFlags.reachable],
  [{
    addr: v4(1),
    isSeed: true,
    reachable: true,
    prefersEncryption: true,
    supportsUtp: true,
    supportsHolepunch: true,
  }, 0x1f],
];

for (const [info, flags] of FLAGS) {
  Deno.test(`pexFlagsOf() gives 0x${flags.toString(16)} for ${JSON.stringify(info)}`, () => {
    assertEquals(pexFlagsOf(info), flags);
  });
}

Deno.test("PexSender.build() rate-limits to one message a minute and 50 peers over 5 minutes", () => {
  const sender = new PexSender({ recipient: v4(5) });
  let current = range(0, 180).map(peer);
  const known = new Map<string, number>(); // what the recipient learned: address → flags
  const sentAt: number[] = [];
  for (let t = 0; t <= 300; t++) {
    if (t === 200) current = [...range(120, 180), ...range(1000, 1030)].map(peer);
    const payload = sender.build(t * 1000, current);
    if (!payload) continue;
    sentAt.push(t);
    const m = decodePex(payload);
    assert(m.added.length <= 50 && m.dropped.length <= 50);
    for (const { addr, flags } of m.added) {
      assert(!known.has(key(addr)), `told twice: ${key(addr)}`);
      known.set(key(addr), flags);
    }
    for (const addr of m.dropped) assert(known.delete(key(addr)), `dropped unknown ${key(addr)}`);
  }
  assertEquals(sentAt, [0, 60, 120, 180, 240, 300]);
  assert(!known.has(key(v4(5))), "the recipient itself was announced");
  for (const [addr, flags] of known) {
    const i = current.find((p) => key(p.addr) === addr);
    if (i) assertEquals(flags, pexFlagsOf(i));
  }
  // every current peer was told; 119 departures minus 100 dropped so far are pending
  for (const p of current) assert(known.has(key(p.addr)));
  assertEquals(known.size, 90 + 19);
  assertEquals(sender.toldCount, known.size);
});

Deno.test("PexSender.build() sends nothing when nothing changed, without resetting the timer", () => {
  const sender = new PexSender({ recipient: v4(0) });
  assert(sender.build(0, [peer(1)]));
  assertEquals(sender.build(60_000, [peer(1)]), undefined);
  assertEquals(sender.lastSentAt, 0);
  const m = decodePex(sender.build(61_000, [peer(1), peer(2)])!);
  assertEquals(m.added.map((p) => p.addr), [v4(2)]);
});

Deno.test("PexSender.build() sends the first message at once and honours intervalMs", () => {
  const sender = new PexSender({ recipient: [v4(0), v4(0, 50000)], intervalMs: 10_000 });
  assert(sender.build(123, [peer(1)]));
  assertEquals(sender.build(10_122, [peer(2)]), undefined);
  assert(sender.build(10_123, [peer(2)]));
});

Deno.test("PexSender.build() never includes the recipient under any of its addresses", () => {
  const sender = new PexSender({ recipient: [v4(7, 40000), { host: "2001:DB8::7", port: 6881 }] });
  const payload = sender.build(0, [
    { addr: v4(7, 40000), isSeed: false, reachable: true },
    { addr: { host: "2001:db8:0::7", port: 6881 }, isSeed: false, reachable: true },
    { addr: v4(7, 6881), isSeed: false, reachable: true }, // same host, other port: a peer
  ])!;
  assertEquals(decodePex(payload).added.map((p) => p.addr), [v4(7, 6881)]);
});

Deno.test("PexSender.build() puts IPv6 peers in added6 and skips host names and duplicates", () => {
  const sender = new PexSender({ recipient: v4(0) });
  const payload = sender.build(0, [
    { addr: { host: "2001:db8::1", port: 1 }, isSeed: true, reachable: false },
    { addr: { host: "tracker.example", port: 2 }, isSeed: false, reachable: false },
    { addr: { host: "bad", port: 0 }, isSeed: false, reachable: false },
    peer(3),
    peer(3),
  ])!;
  assertEquals(decodePex(payload), {
    added: [
      { addr: v4(3), flags: pexFlagsOf(peer(3)) },
      { addr: { host: "2001:db8::1", port: 1 }, flags: PexFlags.seed },
    ],
    dropped: [],
  });
  assertEquals(sender.toldCount, 2);
  const gone = decodePex(sender.build(60_000, [])!);
  assertEquals(gone.dropped, [v4(3), { host: "2001:db8::1", port: 1 }]); // IPv4 first
});

Deno.test("new PexSender() throws RangeError for a bad limit", () => {
  assertThrows(() => new PexSender({ recipient: v4(0), intervalMs: 0 }), RangeError, "intervalMs");
  assertThrows(
    () => new PexSender({ recipient: v4(0), maxPeersPerMessage: 2.5 }),
    RangeError,
    "maxPeersPerMessage",
  );
});
