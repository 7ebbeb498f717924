import { assert, assertEquals, assertThrows } from "../../tests/assert.ts";
import { fromHex, toHex } from "../util/bytes.ts";
import { SeededRandom } from "../util/prng.ts";
import type { DhtContact } from "./compact.ts";
import { commonPrefixBits, compareDistance } from "./node_id.ts";
import { RoutingTable } from "./routing_table.ts";

const MIN = 60_000;
const SELF = new Uint8Array(20); // our id: all zero bits

/** A node whose id starts with `head` (hex) followed by `fill`, on host `n.n.n.1` in its own /24. */
function node(head: string, n: number, fill = n & 0xff): DhtContact {
  const id = new Uint8Array(20).fill(fill);
  id.set(fromHex(head));
  return { id, address: { host: `11.${n >> 8}.${n & 0xff}.1`, port: 6881 } };
}

Deno.test("RoutingTable.insert() fills a bucket to k, then splits only the bucket holding our id", () => {
  const table = new RoutingTable(SELF);
  for (let i = 0; i < 8; i++) assertEquals(table.insert(node("80", i), 0), "added");
  assertEquals(table.bucketCount, 1);
  assertEquals(table.insert(node("80", 8), 0), "full"); // splits, but all nine are far
  assertEquals(table.bucketCount, 2);
  assertEquals(table.insert(node("40", 9), 0), "added"); // the near half has room
  for (let i = 10; i < 17; i++) table.insert(node("40", i), 0);
  assertEquals(table.insert(node("40", 17), 0), "full");
  assertEquals(table.bucketCount, 3);
  assertEquals(table.size, 16);
  table.assertInvariants();
});

Deno.test("RoutingTable.insert() reports updated for a known node and rejects invalid ones", () => {
  const table = new RoutingTable(SELF);
  const a = node("80", 1);
  const cases: [string, DhtContact, string][] = [
    ["new node", a, "added"],
    ["same node again", a, "updated"],
    ["same id, other address", { id: a.id, address: { host: "11.9.9.9", port: 1 } }, "rejected"],
    ["same IP, other id (D5)", { id: node("81", 2).id, address: a.address }, "rejected"],
    ["same /24 in the bucket (D5)", {
      id: node("82", 3).id,
      address: { host: "11.0.1.2", port: 1 },
    }, "rejected"],
    ["our own id", { id: SELF, address: { host: "11.5.5.5", port: 1 } }, "rejected"],
    [
      "a 19-byte id",
      { id: new Uint8Array(19), address: { host: "11.5.5.6", port: 1 } },
      "rejected",
    ],
    // A node is inserted only when heard from directly: it is its own source, so a LAN or
    // loopback node is usable (the scope rule keeps it out of lookups and replies of public
    // nodes instead).
    ["loopback, heard directly", {
      id: node("83", 4).id,
      address: { host: "127.0.0.1", port: 1 },
    }, "added"],
    ["private, heard directly", {
      id: node("84", 5).id,
      address: { host: "192.168.0.9", port: 1 },
    }, "added"],
    ["multicast (D7)", {
      id: node("87", 8).id,
      address: { host: "224.0.0.9", port: 1 },
    }, "rejected"],
    ["port 0 (D7)", { id: node("85", 6).id, address: { host: "11.7.7.7", port: 0 } }, "rejected"],
    ["a hostname", { id: node("86", 7).id, address: { host: "example.com", port: 1 } }, "rejected"],
  ];
  for (const [name, contact, want] of cases) assertEquals(table.insert(contact, 0), want, name);
  table.assertInvariants();
});

Deno.test("RoutingTable options relax the IP, subnet and local-address rules for loopback tests", () => {
  const table = new RoutingTable(SELF, {
    restrictIps: false,
    restrictSubnets: false,
    allowLocalAddresses: true,
  });
  for (let i = 0; i < 8; i++) {
    const id = node("80", i).id;
    assertEquals(table.insert({ id, address: { host: "127.0.0.1", port: 7000 + i } }, 0), "added");
  }
  table.assertInvariants();
});

Deno.test("RoutingTable.state() follows BEP 5: good, questionable after 15 min, good again on a query, bad after failures", () => {
  const table = new RoutingTable(SELF, { maxFailures: 3 });
  const a = node("80", 1);
  table.insert(a, 0, "reply");
  const steps: [string, () => void, number, string][] = [
    ["replied just now", () => {}, 1, "good"],
    ["15 min of silence", () => {}, 15 * MIN, "questionable"],
    ["queried us after having replied", () => table.insert(a, 16 * MIN, "query"), 16 * MIN, "good"],
    ["one failure", () => table.markFailed(a.id, 40 * MIN), 40 * MIN, "questionable"],
    [
      "three failures",
      () => [1, 2].forEach(() => table.markFailed(a.id, 40 * MIN)),
      40 * MIN,
      "bad",
    ],
    ["a reply clears failures", () => table.insert(a, 41 * MIN, "reply"), 41 * MIN, "good"],
  ];
  for (const [name, act, now, want] of steps) {
    act();
    assertEquals(table.state(a.id, now), want, name);
  }
  const b = node("81", 2);
  table.insert(b, 0, "query");
  assertEquals(table.state(b.id, 0), "questionable", "queried us but never replied");
});

Deno.test("RoutingTable.insert() replaces a bad node, and a bad node makes room for a queued candidate", () => {
  const table = new RoutingTable(SELF, { maxFailures: 2 });
  for (let i = 0; i < 8; i++) table.insert(node("80", i), 0);
  table.insert(node("40", 100), 0); // forces the split: bucket 0 = far half
  const victim = node("80", 0);
  assertEquals(table.insert(node("80", 8), 0), "full");
  table.markFailed(victim.id, 1);
  assertEquals(table.markFailed(victim.id, 1), "bad");
  assertEquals(table.state(victim.id, 1), undefined, "swapped for the queued candidate");
  assertEquals(table.state(node("80", 8).id, 1), "good");
  const other = node("80", 1);
  table.markFailed(other.id, 2);
  table.markFailed(other.id, 2); // bad, no candidate left: stays until replaced
  assertEquals(table.state(other.id, 2), "bad");
  assertEquals(table.insert(node("80", 9), 2), "replaced");
  assertEquals(table.state(other.id, 2), undefined);
  table.assertInvariants();
});

Deno.test("RoutingTable.insert() lets a verified node replace one that never answered", () => {
  const table = new RoutingTable(SELF);
  for (let i = 0; i < 8; i++) table.insert(node("80", i), 0, i === 3 ? "query" : "reply");
  table.insert(node("40", 100), 0);
  assertEquals(table.insert(node("80", 9), 0, "query"), "full");
  assertEquals(table.insert(node("80", 10), 0, "reply"), "replaced");
  assertEquals(table.state(node("80", 3).id, 0), undefined);
});

Deno.test("RoutingTable.closest() returns the k nearest verified nodes, as brute force does", () => {
  const random = new SeededRandom(9);
  const table = new RoutingTable(random.bytes(20));
  const all: DhtContact[] = [];
  for (let i = 0; i < 2000; i++) {
    const c = { id: random.bytes(20), address: { host: `11.${i >> 8}.${i & 255}.1`, port: 1 } };
    if (table.insert(c, 0) === "added") all.push(c);
    table.assertInvariants();
  }
  for (let round = 0; round < 20; round++) {
    const target = random.bytes(20);
    const kept = table.entries();
    const want = kept.sort((a, b) => compareDistance(target, a.id, b.id)).slice(0, 8).map((c) =>
      toHex(c.id)
    );
    assertEquals(table.closest(target).map((c) => toHex(c.id)), want);
  }
  assert(table.size >= 8 * 5, `table holds ${table.size}`);
});

Deno.test("RoutingTable.closest() leaves out unverified nodes unless asked", () => {
  const table = new RoutingTable(SELF);
  table.insert(node("80", 1), 0, "query");
  table.insert(node("40", 2), 0, "reply");
  assertEquals(table.closest(SELF).length, 1);
  assertEquals(table.closest(SELF, 8, { includeUnverified: true }).length, 2);
});

Deno.test("RoutingTable.refreshTargets() names each bucket idle for 15 minutes once", () => {
  const random = new SeededRandom(1);
  const table = new RoutingTable(SELF, {}, 0);
  for (let i = 0; i < 9; i++) table.insert(node(i < 8 ? "80" : "40", i), 0);
  assertEquals(table.refreshTargets(14 * MIN, random), []);
  const targets = table.refreshTargets(15 * MIN, random);
  assertEquals(targets.map((t) => Math.min(commonPrefixBits(SELF, t), 1)), [0, 1]);
  assertEquals(table.refreshTargets(15 * MIN, random), []);
});

Deno.test("RoutingTable.nodeToPing() picks unverified, then least recently heard, once a minute", () => {
  const table = new RoutingTable(SELF);
  const [a, b] = [node("80", 1), node("40", 2)];
  table.insert(a, 0, "reply");
  table.insert(b, 0, "query");
  assertEquals(table.nodeToPing(1)?.address, b.address);
  assertEquals(table.nodeToPing(2), undefined, "a is good, b was just pinged");
  assertEquals(table.nodeToPing(16 * MIN)?.address, b.address, "still unverified: first again");
  assertEquals(table.nodeToPing(16 * MIN)?.address, a.address, "then the questionable one");
});

Deno.test("RoutingTable.toBytes() and fromBytes() round-trip ids and addresses, unverified", () => {
  const table = new RoutingTable(fromHex("ab".repeat(20)));
  for (let i = 0; i < 20; i++) table.insert(node(i % 2 ? "80" : "40", i, i + 1), 0);
  table.insert({ id: node("c0", 99).id, address: { host: "2001:db8::1", port: 9 } }, 0);
  const back = RoutingTable.fromBytes(table.toBytes(), {}, 5);
  assertEquals(toHex(back.id), "ab".repeat(20));
  const key = (c: DhtContact) => `${toHex(c.id)}@${c.address.host}:${c.address.port}`;
  assertEquals(back.entries().map(key).sort(), table.entries().map(key).sort());
  assert(back.entries().every((e) => e.lastReplyAt === undefined));
  back.assertInvariants();
});

Deno.test("RoutingTable.fromBytes() rejects garbage and oversized input", () => {
  const cases = ["", "de", "d2:id3:abce", "d2:id20:aaaaaaaaaaaaaaaaaaaa5:nodes3:abce", "i1e"];
  for (const text of cases) {
    assertThrows(
      () => RoutingTable.fromBytes(new TextEncoder().encode(text)),
      SyntaxError,
      undefined,
    );
  }
  assertThrows(() => RoutingTable.fromBytes(new Uint8Array(300_000)), SyntaxError);
  assertThrows(() => new RoutingTable(new Uint8Array(5)), RangeError);
});
