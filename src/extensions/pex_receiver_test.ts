import { assert, assertEquals, assertThrows } from "../../tests/assert.ts";
import { encode } from "../bencode/mod.ts";
import type { PeerAddress } from "../runtime/types.ts";
import { encodePex, PexReceiver, type PexReceiveResult } from "./mod.ts";

function v4(i: number, port = 6881): PeerAddress {
  return { host: `198.51.${(i >> 8) & 0xff}.${i & 0xff}`, port };
}

function pex(added: PeerAddress[], dropped: PeerAddress[] = []): Uint8Array {
  const isV6 = (a: PeerAddress) => a.host.includes(":");
  return encodePex({
    added: added.filter((a) => !isV6(a)),
    added6: added.filter(isV6),
    dropped: dropped.filter((a) => !isV6(a)),
    dropped6: dropped.filter(isV6),
  });
}

function added(r: PexReceiveResult): PeerAddress[] {
  if ("disconnect" in r) throw new Error(`unexpected disconnect: ${r.disconnect}`);
  return r.added;
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

Deno.test("PexReceiver.accept() disconnects a peer that sends a message every second (EX6)", () => {
  const rx = new PexReceiver();
  const results = range(0, 10).map((s) => rx.accept(s * 1000, pex([v4(s)])));
  assertEquals(results.map((r) => "disconnect" in r), [
    false,
    false,
    false,
    true,
    true,
    true,
    true,
    true,
    true,
    true,
  ]);
  const last = results.at(-1)!;
  assert("disconnect" in last && last.disconnect.startsWith("ut_pex flood"));
  rx.assertInvariants();
});

Deno.test("PexReceiver.accept() never disconnects a peer sending every 60 s for an hour", () => {
  const rx = new PexReceiver();
  for (let t = 0; t <= 3600; t += 60) {
    assertEquals(added(rx.accept(t * 1000, pex([v4(t)]))).length, 1);
    rx.assertInvariants();
  }
});

Deno.test("PexReceiver.accept() allows a burst of 3, then regains one message per 45 s", () => {
  const rx = new PexReceiver();
  for (const t of [0, 1, 2]) added(rx.accept(t, pex([])));
  added(rx.accept(45_002, pex([])));
  assert("disconnect" in rx.accept(45_003, pex([])));
});

Deno.test("PexReceiver.accept() honours minIntervalMs and burst options", () => {
  const rx = new PexReceiver({ minIntervalMs: 1000, burst: 1 });
  added(rx.accept(0, pex([])));
  added(rx.accept(1000, pex([])));
  assert("disconnect" in rx.accept(1999, pex([])));
});

/** [why (RELIABILITY EX7), address, kept by default, kept with allowLocal]. */
const ADDRESSES: [string, PeerAddress, boolean, boolean][] = [
  ["a public IPv4 peer", { host: "198.51.100.7", port: 6881 }, true, true],
  ["a public IPv6 peer", { host: "2001:db8::7", port: 6881 }, true, true],
  ["loopback", { host: "127.0.0.1", port: 6881 }, false, true],
  ["10/8", { host: "10.1.2.3", port: 6881 }, false, true],
  ["192.168/16", { host: "192.168.1.1", port: 6881 }, false, true],
  ["172.16/12", { host: "172.20.0.1", port: 6881 }, false, true],
  ["multicast", { host: "224.0.0.1", port: 6881 }, false, true],
  ["0.0.0.0", { host: "0.0.0.0", port: 6881 }, false, true],
  ["IPv6 loopback", { host: "::1", port: 6881 }, false, true],
  ["IPv6 link-local", { host: "fe80::1", port: 6881 }, false, true],
  ["IPv6 multicast", { host: "ff02::1", port: 6881 }, false, true],
  ["IPv4-mapped loopback", { host: "::ffff:127.0.0.1", port: 6881 }, false, true],
  ["port 0", { host: "198.51.100.7", port: 0 }, false, false],
];

for (const [why, addr, kept, keptLocal] of ADDRESSES) {
  Deno.test(`PexReceiver.accept() ${kept ? "keeps" : "drops"} ${why} (EX7)`, () => {
    const payload = encode({
      added: addr.host.includes(":") && !addr.host.startsWith("::ffff:")
        ? new Uint8Array(0)
        : compact(addr),
      added6: addr.host.includes(":") && !addr.host.startsWith("::ffff:")
        ? compact(addr)
        : new Uint8Array(0),
    });
    assertEquals(added(new PexReceiver().accept(0, payload)).length, kept ? 1 : 0);
    assertEquals(
      added(new PexReceiver({ allowLocal: true }).accept(0, payload)).length,
      keptLocal ? 1 : 0,
    );
  });
}

/** A compact entry written by hand, so port 0 and mapped hosts can be tested. */
function compact(addr: PeerAddress): Uint8Array {
  const host = addr.host.replace(/^::ffff:/, "");
  const ip = host.includes(":") ? ipv6(host) : host.split(".").map(Number);
  return new Uint8Array([...ip, addr.port >> 8, addr.port & 0xff]);
}

function ipv6(host: string): number[] {
  const [head, tail] = host.split("::") as [string, string];
  const words = (s: string) => (s ? s.split(":").map((w) => parseInt(w, 16)) : []);
  const h = words(head), t = words(tail);
  const all = [...h, ...new Array(8 - h.length - t.length).fill(0), ...t];
  return all.flatMap((w) => [w >> 8, w & 0xff]);
}

Deno.test("PexReceiver.accept() takes at most 200 distinct peers per source", () => {
  const rx = new PexReceiver();
  let total = 0;
  for (let m = 0; m < 6; m++) {
    const got = added(rx.accept(m * 60_000, pex(range(m * 50, m * 50 + 50).map((i) => v4(i)))));
    total += got.length;
  }
  assertEquals(total, 200);
  assertEquals(rx.takenCount, 200);
  rx.assertInvariants();
});

Deno.test("PexReceiver.accept() returns a peer once and drops only peers it took", () => {
  const rx = new PexReceiver({ maxPeersPerSource: 3 });
  assertEquals(added(rx.accept(0, pex([v4(1), v4(2), v4(1)]))), [v4(1), v4(2)]);
  const r = rx.accept(60_000, pex([v4(1), v4(3), v4(4)], [v4(2), v4(9)]));
  assertEquals(r, { added: [v4(3)], addedFlags: [0], dropped: [v4(2)] });
});

Deno.test("PexReceiver.accept() uses only the first 50 added peers of a 10k message (EX6)", () => {
  const rx = new PexReceiver();
  const all = range(0, 10_000).map((i) => compact(v4(i)));
  const payload = encode({ added: new Uint8Array(all.flatMap((e) => [...e])) });
  const got = added(rx.accept(0, payload));
  assertEquals(got, range(0, 50).map((i) => v4(i)));
});

/** [why, payload, reason fragment]. */
const BAD: [string, Uint8Array, string][] = [
  ["a 500 KiB message", encode({ added: new Uint8Array(500 * 1024) }), "exceeds 65536"],
  ["a message that is not a dictionary", encode(7), "not a dictionary"],
  ["bad bencode", new TextEncoder().encode("d5:added"), "Cannot decode ut_pex message"],
];

for (const [why, payload, fragment] of BAD) {
  Deno.test(`PexReceiver.accept() disconnects on ${why}, and stays disconnected`, () => {
    const rx = new PexReceiver();
    const r = rx.accept(0, payload);
    assert("disconnect" in r && r.disconnect.includes(fragment), JSON.stringify(r));
    assertEquals(rx.accept(600_000, pex([v4(1)])), r);
  });
}

Deno.test("new PexReceiver() throws RangeError for a bad limit", () => {
  assertThrows(() => new PexReceiver({ burst: 0 }), RangeError, "burst");
  assertThrows(() => new PexReceiver({ maxPeersPerSource: -1 }), RangeError, "maxPeersPerSource");
});
