import { assertEquals, assertThrows } from "../../../tests/assert.ts";
import { HttpConnectionTable } from "./http_connections.ts";

const LIMITS = { maxConnections: 3, headerTimeoutMs: 10_000, writeTimeoutMs: 2_000 };

Deno.test("HttpConnectionTable.expired() closes heads not whole within the header timeout (TS5 slowloris)", () => {
  const t = new HttpConnectionTable<string>(LIMITS);
  t.admit("slow", 0);
  t.admit("honest", 4_000);
  t.busy("honest", 4_001); // its head came at once
  t.waiting("honest", 4_002); // answered; kept alive, waiting again
  assertEquals(t.expired(9_999), []);
  assertEquals(t.expired(10_000), ["slow"]); // dribbling bytes never resets the deadline
  assertEquals(t.expired(14_002), ["honest"]); // an idle kept-alive connection, likewise
  assertEquals(t.size, 0);
  t.assertInvariants();
});

Deno.test("HttpConnectionTable.expired() closes a response the client never takes", () => {
  const t = new HttpConnectionTable<string>(LIMITS);
  t.admit("reader", 0);
  t.busy("reader", 10);
  assertEquals(t.expired(2_009), []);
  assertEquals(t.expired(2_010), ["reader"]);
});

Deno.test("HttpConnectionTable.admit() holds the cap by closing the longest-waiting connection", () => {
  const t = new HttpConnectionTable<string>(LIMITS);
  for (let i = 0; i < 3; i++) assertEquals(t.admit(`idle${i}`, i), undefined);
  t.busy("idle1", 5); // answering now: never the one to go
  assertEquals(t.admit("new1", 6), "idle0");
  assertEquals(t.admit("new2", 7), "idle2");
  assertEquals(t.longestWaiting(), "new1");
  t.busy("new1", 8);
  t.busy("new2", 8);
  assertEquals(t.admit("new3", 9), "new3"); // every slot busy: the newcomer is refused
  assertEquals(t.size, 3);
  t.assertInvariants();
  // 10,000 idle sockets against a cap of 3: the table never holds more than 3.
  for (let i = 0; i < 10_000; i++) t.admit(`flood${i}`, 10 + i);
  assertEquals(t.size, 3);
  t.assertInvariants();
  assertThrows(() => new HttpConnectionTable({ ...LIMITS, maxConnections: 0 }), RangeError);
});
