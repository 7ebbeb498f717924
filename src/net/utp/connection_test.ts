import { assert, assertEquals } from "../../../tests/assert.ts";
import { CoreLink } from "../../../tests/utp_core_link.ts";
import { SeededRandom } from "../../util/prng.ts";
import { EV_CLOSED, EV_CONFIRMED, EV_CONNECTED, EV_READABLE } from "./connection.ts";
import { encodePacket, ST_DATA, ST_FIN, ST_RESET, ST_STATE, ST_SYN } from "./packet.ts";

const PAYLOAD = 1452;

function connected(settings = {}): CoreLink {
  const link = new CoreLink(settings);
  link.connect(100, 5000);
  assertEquals([link.a.state, link.b?.state], ["connected", "syn-recv"]);
  return link;
}

/** Writes `data` on side `from` and runs the link until quiet, reading on the other side. */
function transfer(link: CoreLink, from: "a" | "b", data: Uint8Array, stepMs = 1): Uint8Array {
  const sender = from === "a" ? link.a : link.b!;
  const got: Uint8Array[] = [];
  let at = 0;
  for (let round = 0; round < 20_000 && (at < data.length || link.queue.length > 0); round++) {
    at += sender.write(data, at);
    link.flush();
    link.run({ limit: 1, stepMs });
    got.push(link.drain(from === "a" ? "b" : "a"));
    if (link.queue.length === 0 && at < data.length) continue;
    if (link.queue.length === 0) link.tick(600); // let a timeout resend what was lost
  }
  link.run();
  got.push(link.drain(from === "a" ? "b" : "a"));
  const out = new Uint8Array(got.reduce((n, g) => n + g.length, 0));
  let o = 0;
  for (const g of got) out.set(g, (o += g.length) - g.length);
  return out;
}

Deno.test("UtpConnection handshake: the STATE answering a SYN carries the acceptor's initial seq, and so does its first DATA", () => {
  const link = connected();
  const [syn, state] = link.log;
  assertEquals([syn!.h.type, syn!.h.connectionId, syn!.h.seq, syn!.h.ack], [ST_SYN, 1000, 100, 0]);
  assertEquals([state!.h.type, state!.h.connectionId, state!.h.seq, state!.h.ack], [
    ST_STATE,
    1000,
    5000,
    100,
  ]);
  assertEquals(link.a.events & EV_CONNECTED, EV_CONNECTED);
  link.a.write(new Uint8Array([1]), 0);
  link.run();
  assertEquals([link.b!.state, link.b!.events & EV_CONFIRMED], ["connected", EV_CONFIRMED]);
  link.b!.write(new Uint8Array([2]), 0);
  link.run();
  const firstData = link.sent("b").find((p) => p.h.type === ST_DATA)!;
  assertEquals([firstData.h.seq, firstData.h.connectionId], [5000, 1000]); // T again; the SYN's id
  assert(link.sent("a").slice(1).every((p) => p.h.connectionId === 1001)); // the dialer's send id
  assertEquals([link.drain("a"), link.drain("b")], [new Uint8Array([2]), new Uint8Array([1])]);
});

Deno.test("UtpConnection dialer accepts the acceptor's first DATA even when the STATE was lost", () => {
  const link = new CoreLink();
  link.filter = (p) => !(p.from === "b" && p.h.type === ST_STATE && p.h.ack === 100);
  link.a.connect(100, link.now);
  link.run({ bSeq: 7000 });
  assertEquals([link.a.state, link.b?.state], ["syn-sent", "syn-recv"]);
  link.b!.write(new Uint8Array([9, 9]), 0); // an acceptor may speak first
  link.run();
  assertEquals([link.a.state, [...link.drain("a")]], ["connected", [9, 9]]);
});

Deno.test("UtpConnection answers each resent SYN with one STATE and nothing more (no amplification)", () => {
  const link = new CoreLink();
  link.filter = (p) => p.from === "a"; // every STATE is lost
  link.a.connect(100, link.now);
  link.run();
  for (let i = 0; i < 2; i++) link.tick(1000 * 2 ** i + 10), link.run();
  const syns = link.sent("a").filter((p) => p.h.type === ST_SYN).length;
  const replies = link.sent("b");
  assertEquals([syns, replies.length, replies.every((p) => p.h.type === ST_STATE)], [3, 3, true]);
  assert(replies.every((p) => p.bytes.length === 20));
  link.tick(4010); // the third SYN timed out too: synResends = 2
  assertEquals([link.a.state, link.a.closeReason], ["closed", "refused"]);
});

Deno.test("UtpConnection state transitions (table)", () => {
  type Step = (l: CoreLink) => void;
  const table: [string, Step[], string, string | undefined][] = [
    ["dial answered", [], "connected", "syn-recv"],
    ["first DATA confirms", [(l) => l.a.write(new Uint8Array(1), 0)], "connected", "connected"],
    [
      "dialer closes, acceptor reads EOF",
      [(l) => l.a.write(new Uint8Array(1), 0), (l) => l.a.close(l.now)],
      "fin-sent",
      "connected",
    ],
    [
      "both close",
      [(l) => l.a.write(new Uint8Array(1), 0), (l) => l.a.close(l.now), (l) => l.b!.close(l.now)],
      "closed",
      "closed",
    ],
    [
      "abort resets the peer",
      [(l) => l.a.write(new Uint8Array(1), 0), (l) => l.a.abort("aborted", l.now)],
      "closed",
      "closed",
    ],
    ["half-open close aborts", [(l) => l.b!.close(l.now)], "closed", "closed"],
  ];
  for (const [name, steps, aState, bState] of table) {
    const link = connected();
    for (const step of steps) {
      step(link);
      link.flush();
      link.run();
    }
    assertEquals([link.a.state, link.b?.state], [aState, bState], name);
  }
});

Deno.test("UtpConnection graceful close: FIN after the data, STATEs after it carry the FIN's seq, both sides end 'closed'", () => {
  const link = connected();
  const data = new SeededRandom(1).bytes(10_000);
  assertEquals(transfer(link, "a", data), data);
  link.a.close(link.now);
  link.flush();
  link.run();
  const fin = link.sent("a").find((p) => p.h.type === ST_FIN)!;
  assertEquals([link.b!.atEof, link.b!.events & EV_READABLE], [true, EV_READABLE]);
  link.b!.close(link.now);
  link.flush();
  link.run();
  const after = link.sent("a").filter((p, i, all) => p.h.type === ST_STATE && all.indexOf(fin) < i);
  assert(after.length > 0 && after.every((p) => p.h.seq === fin.h.seq), "STATE after FIN");
  assertEquals([link.a.closeReason, link.b!.closeReason], ["closed", "closed"]);
  assertEquals(link.b!.events & EV_CLOSED, EV_CLOSED);
});

Deno.test("UtpConnection delivers in order through loss, reordering and duplication", () => {
  const random = new SeededRandom(7);
  const link = connected();
  link.filter = (p) => p.h.type !== ST_DATA || random.next() > 0.1;
  const data = random.bytes(300_000);
  assertEquals(transfer(link, "a", data), data);
  assert(link.a.stats.fastResends > 0, "lost packets are resent after SACK / duplicate ACKs");
  const sacks = link.sent("b").filter((p) => p.h.sackOffset !== 0);
  assert(
    sacks.length > 0 && sacks.every((p) => p.h.sackLength % 4 === 0),
    "BEP 29: SACKs of 4n bytes",
  );
});

Deno.test("UtpConnection fast-resends after three duplicate ACKs, once, and cuts the window once", () => {
  const link = connected({ initialWindowPackets: 8 });
  link.a.write(new Uint8Array(8 * PAYLOAD), 0);
  link.filter = (p) => !(p.h.type === ST_DATA && p.h.seq === 101); // lose the first DATA
  link.flush();
  const cwnd = link.a.cwnd;
  link.filter = () => true;
  link.run();
  const resent = link.sent("a").filter((p) => p.h.type === ST_DATA && p.h.seq === 101).length;
  assertEquals([resent, link.a.stats.fastResends, link.a.stats.timeouts], [2, 1, 0]);
  assert(link.a.cwnd < cwnd, "window cut on loss");
  assertEquals(link.drain("b").length, 8 * PAYLOAD);
});

Deno.test("UtpConnection RACK resends a lost resend without waiting for the timeout", () => {
  const link = connected({ initialWindowPackets: 16 });
  link.a.write(new Uint8Array(16 * PAYLOAD), 0);
  let drops = 0;
  link.filter = (p) => !(p.h.type === ST_DATA && p.h.seq === 101 && drops++ < 2); // first send and first resend
  link.flush();
  link.run();
  link.now += 10;
  link.a.write(new Uint8Array(4 * PAYLOAD), 0); // sent after the lost resend, and acknowledged
  link.flush();
  link.run({ stepMs: 5 });
  assertEquals([link.a.stats.timeouts, link.drain("b").length], [0, 20 * PAYLOAD]);
});

Deno.test("UtpConnection retransmission timeout: 500 ms floor, doubling, then gives up", () => {
  const link = connected({ dataResends: 2 });
  link.a.write(new Uint8Array(100), 0);
  link.filter = (p) => p.from !== "a" || p.h.type !== ST_DATA; // the DATA never arrives
  link.flush();
  const sends = () => link.sent("a").filter((p) => p.h.type === ST_DATA).length;
  link.tick(499); // one tail-loss probe, well before the timeout
  assertEquals([sends(), link.a.stats.probes, link.a.stats.timeouts], [2, 1, 0]);
  link.tick(2); // ≥ 500 ms: first timeout
  assertEquals([sends(), link.a.stats.timeouts], [3, 1]);
  link.tick(999);
  assertEquals(sends(), 3); // no second probe without progress
  link.tick(2); // doubled to ≥ 1,000 ms
  assertEquals(sends(), 4);
  link.tick(2001);
  assertEquals([link.a.state, link.a.closeReason], ["closed", "timeout"]);
  assertEquals(link.sent("a").at(-1)!.h.type, ST_RESET);
});

Deno.test("UtpConnection resends a lost tail packet after a probe timeout, long before the RTO, keeping its window", () => {
  const link = connected({ initialWindowPackets: 8 });
  link.a.write(new Uint8Array(8 * PAYLOAD), 0);
  link.run(); // an RTT sample: srtt of a few ms
  link.a.write(new Uint8Array(3 * PAYLOAD), 0);
  link.filter = (p) => !(p.h.type === ST_DATA && p.h.seq === 111); // the flight's last packet
  link.flush();
  link.run();
  const cwnd = link.a.cwnd;
  link.filter = () => true;
  link.tick(50); // the socket's tick: past 2·srtt + 10 ms, far before 500 ms
  link.run();
  assertEquals([link.a.stats.probes, link.a.stats.timeouts, link.a.bytesInFlight], [1, 0, 0]);
  assertEquals([link.a.cwnd, link.drain("b").length], [cwnd, 11 * PAYLOAD]);
});

Deno.test("UtpConnection ignores a RESET whose ack_nr we never sent; a plausible one closes it", () => {
  const link = connected();
  link.a.write(new Uint8Array(10), 0);
  link.run();
  const reset = (ack: number) =>
    encodePacket({
      type: ST_RESET,
      connectionId: 1000,
      timestampMicros: 0,
      timestampDifferenceMicros: 0,
      windowBytes: 0,
      seq: 1,
      ack,
    });
  link.inject("a", reset(40_000)); // neither ahead of what we sent nor recently acknowledged
  link.inject("a", reset(102));
  assertEquals(link.a.state, "connected");
  link.inject("a", reset(101));
  assertEquals([link.a.state, link.a.closeReason], ["closed", "reset"]);
});

Deno.test("UtpConnection drops packets that acknowledge unsent data, and DATA far outside the window", () => {
  const link = connected();
  const forged = (seq: number, ack: number) =>
    encodePacket({
      type: ST_DATA,
      connectionId: 1000,
      timestampMicros: 1,
      timestampDifferenceMicros: 0,
      windowBytes: 1 << 20,
      seq,
      ack,
      payload: new Uint8Array(10).fill(0xee),
    });
  link.inject("a", forged(5000, 30_000)); // acks our seq 30,000: never sent
  link.inject("a", forged(5000 + 5000, 100)); // 5,000 packets ahead
  assertEquals([link.a.readableBytes, link.a.snapshot().reorderCount], [0, 0]);
  link.inject("a", forged(5000, 100)); // the real next packet
  assertEquals(link.a.readableBytes, 10);
});

Deno.test("UtpConnection ignores uTorrent's INT_MAX timestamp difference", () => {
  const link = connected();
  const before = link.a.cwnd;
  link.a.write(new Uint8Array(PAYLOAD), 0);
  link.flush();
  const data = link.queue.shift()!;
  link.deliver(data);
  link.b!.flush(link.now);
  link.b!.flushAck(link.now);
  const ack = link.queue.shift()!.bytes.slice();
  ack.set([0x7f, 0xff, 0xff, 0xff], 8); // timestamp_difference = INT_MAX
  link.inject("a", ack);
  assertEquals(link.a.bytesInFlight, 0);
  assertEquals(link.a.cwnd, before); // no delay sample: LEDBAT left alone
});

Deno.test("UtpConnection advertises a shrinking window while unread data piles up; the sender honours it", () => {
  const link = connected({ receiveWindowBytes: 64 * 1024 });
  const data = new Uint8Array(200_000);
  let at = 0;
  for (let i = 0; i < 200; i++) {
    at += link.a.write(data, at);
    link.flush();
    link.run({ limit: 1 });
  }
  const unread = link.b!.readableBytes;
  assert(unread <= 64 * 1024 + PAYLOAD, `unread ${unread}`);
  const lastWindow = link.sent("b").at(-1)!.h.windowBytes;
  assert(lastWindow < PAYLOAD, `window ${lastWindow}`);
  const got = link.drain("b");
  link.flush(); // the reopened window goes out
  link.run();
  assert(got.length + link.drain("b").length > unread, "more data after the window update");
});

Deno.test("UtpConnection coalesces small writes while an undersized packet is in flight (Nagle)", () => {
  const link = connected();
  for (let i = 0; i < 50; i++) {
    link.a.write(new Uint8Array([i]), 0);
    link.flush(); // each write flushed at once, as the driver would
  }
  const data = link.sent("a").filter((p) => p.h.type === ST_DATA);
  assertEquals(data.map((p) => p.bytes.length - 20), [1]); // the rest wait for its ACK
  link.run();
  assertEquals(link.sent("a").filter((p) => p.h.type === ST_DATA).map((p) => p.bytes.length - 20), [
    1,
    49,
  ]);
});

Deno.test("UtpConnection acknowledges every second in-order packet at once, a lone one after the delay", () => {
  const link = connected({ initialWindowPackets: 8 });
  link.a.write(new Uint8Array(PAYLOAD), 0);
  link.flush();
  link.deliver(link.queue.shift()!);
  assertEquals(link.b!.flush(link.now), true); // an ACK is owed, not urgent
  assertEquals(link.queue.length, 0);
  link.b!.flushAck(link.now);
  assertEquals(link.queue.map((p) => p.h.type), [ST_STATE]);
  link.queue = [];
  link.a.write(new Uint8Array(2 * PAYLOAD), 0);
  link.a.flush(link.now);
  for (const p of link.queue.splice(0)) link.deliver(p);
  assertEquals(link.b!.flush(link.now), false);
  assertEquals(link.queue.map((p) => p.h.type), [ST_STATE]);
});

Deno.test("UtpConnection sends a keep-alive STATE after 29 s without sending", () => {
  const link = connected();
  link.a.write(new Uint8Array(1), 0);
  link.run();
  const count = () => link.sent("a").length;
  const before = count();
  link.tick(28_000);
  assertEquals(count(), before);
  link.tick(1_100);
  assertEquals([count(), link.sent("a").at(-1)!.h.type], [before + 1, ST_STATE]);
});

Deno.test("UtpConnection drops a half-open connection after halfOpenTimeoutMs", () => {
  const link = connected({ halfOpenTimeoutMs: 3000 });
  link.tick(3001);
  assertEquals([link.b!.state, link.b!.closeReason], ["closed", "timeout"]);
});

Deno.test("UtpConnection sizes its receive window to the path: min 128 KiB on a short path, all of it on a long one", () => {
  const windowOffered = (stepMs: number) => {
    const link = new CoreLink();
    link.a.connect(100, link.now);
    link.run({ stepMs });
    link.b!.write(new Uint8Array(10), 0); // the acceptor's DATA gets an RTT sample from its ACK
    link.b!.flush(link.now);
    link.run({ stepMs });
    link.a.write(new Uint8Array(10), 0);
    link.a.flush(link.now);
    link.run({ stepMs });
    return link.sent("b").at(-1)!.h.windowBytes + 10; // plus what the reader left unread
  };
  assertEquals(windowOffered(0.1), 128 * 1024); // 128 MB/s × 0.2 ms < 128 KiB
  assertEquals(windowOffered(2), 768 * 1000); // 128 MB/s × 6 ms (three rounds of the link)
  assertEquals(windowOffered(100), 1024 * 1024); // capped at receiveWindowBytes
});

Deno.test("UtpConnection keeps probing a closed window while the peer answers, and resumes when it reads", () => {
  const link = connected({ receiveWindowBytes: 16 * 1024 });
  const data = new SeededRandom(3).bytes(64 * 1024);
  let at = 0;
  for (let i = 0; i < 50; i++) {
    at += link.a.write(data, at);
    link.flush();
    link.run({ limit: 1 });
  }
  assert(link.b!.readableBytes >= 16 * 1024, "the reader sleeps; the window is closed");
  for (let s = 0; s < 120; s++) { // two minutes of a sleeping reader
    link.tick(1000);
    link.run();
  }
  assertEquals(link.a.state, "connected");
  assert(link.a.stats.timeouts > link.settings.dataResends, "probed past the resend limit");
  const got = [link.drain("b")];
  for (let round = 0; round < 400 && got.reduce((n, g) => n + g.length, 0) < data.length; round++) {
    at += link.a.write(data, at);
    link.flush();
    link.run({ limit: 1 });
    if (link.queue.length === 0) link.tick(1000), link.run();
    got.push(link.drain("b"));
  }
  const all = new Uint8Array(got.reduce((n, g) => n + g.length, 0));
  got.reduce((o, g) => (all.set(g, o), o + g.length), 0);
  assert(all.length === data.length && all.every((v, i) => v === data[i]), `${all.length} bytes`);
});
