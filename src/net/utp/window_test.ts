import { assert, assertEquals } from "../../../tests/assert.ts";
import { BufferPool } from "./buffer_pool.ts";
import { HEADER_BYTES, ST_FIN } from "./packet.ts";
import {
  DATA_DROPPED,
  DATA_DUPLICATE,
  DATA_IN_ORDER,
  DATA_REORDERED,
  ReceiveWindow,
} from "./receive_window.ts";
import { SendWindow } from "./send_window.ts";

const MSS = 100;

function receiver(capacity = 10_000, maxReorder = 64): ReceiveWindow {
  const r = new ReceiveWindow(new BufferPool(MSS, 16), capacity, maxReorder, MSS);
  r.ackNr = 999;
  return r;
}

const payload = (n: number, fill: number) => new Uint8Array(n).fill(fill);

function take(r: ReceiveWindow): number[] {
  const out = new Uint8Array(100_000);
  return [...out.subarray(0, r.read(out))];
}

Deno.test("ReceiveWindow delivers in order, holds reordered packets, refuses duplicates", () => {
  const r = receiver();
  const table: [number, number][] = [ // [seq, expected code]
    [1001, DATA_REORDERED],
    [1003, DATA_REORDERED],
    [1001, DATA_DUPLICATE],
    [1000, DATA_IN_ORDER], // drains 1001
    [1000, DATA_DUPLICATE],
    [999, DATA_DUPLICATE],
    [1002, DATA_IN_ORDER], // drains 1003
  ];
  for (const [seq, code] of table) {
    assertEquals(r.onData(seq, payload(3, seq & 0xff), 0, 3), code, `seq ${seq}`);
    r.assertInvariants();
  }
  assertEquals(r.ackNr, 1003);
  assertEquals(take(r), [1000, 1001, 1002, 1003].flatMap((s) => [s & 0xff, s & 0xff, s & 0xff]));
});

Deno.test("ReceiveWindow writes the BEP 29 selective ACK: bit 0 of byte 0 is ack_nr + 2, 4n bytes", () => {
  const r = receiver();
  for (const seq of [1001, 1008, 1009, 1040]) r.onData(seq, payload(1, 1), 0, 1);
  const buf = new Uint8Array(64);
  const n = r.writeSack(buf, 0);
  // ack_nr 999: bit i is seq 1001 + i, so 1001 -> bit 0, 1008 -> bit 7, 1009 -> bit 8, 1040 -> bit 39
  assertEquals(n, 8);
  assertEquals([...buf.subarray(0, n)], [0x81, 0x01, 0, 0, 0x80, 0, 0, 0]);
});

Deno.test("ReceiveWindow caps buffered bytes at the window, with one packet of slack for the next expected", () => {
  const r = receiver(5 * MSS);
  for (let s = 1001; s <= 1005; s++) {
    assertEquals(r.onData(s, payload(MSS, 0), 0, MSS), DATA_REORDERED);
  }
  assertEquals(r.onData(1006, payload(MSS, 0), 0, MSS), DATA_DROPPED); // window full
  assertEquals(r.windowBytes(), 0);
  assertEquals(r.onData(1000, payload(MSS, 0), 0, MSS), DATA_IN_ORDER); // the slack
  assertEquals([r.ackNr, r.unread], [1005, 6 * MSS]);
  assertEquals(r.onData(1005 + 65, payload(1, 0), 0, 1), DATA_DROPPED); // beyond maxReorder
});

Deno.test("ReceiveWindow: the FIN ends the stream once everything before it arrived; data past it is dropped", () => {
  const r = receiver();
  r.onFin(1002);
  assertEquals(r.eof, false);
  assertEquals(r.onData(1002, payload(1, 0), 0, 1), DATA_DROPPED);
  r.onData(1001, payload(1, 2), 0, 1);
  r.onData(1000, payload(1, 1), 0, 1);
  assertEquals([r.eof, r.ackNr], [true, 1002]);
  assertEquals(take(r), [1, 2]);
});

Deno.test("ReceiveWindow copies in-order payload straight into a lent reader buffer", () => {
  const r = receiver();
  const target = new Uint8Array(4);
  r.setTarget(target);
  r.onData(1000, Uint8Array.of(1, 2, 3), 0, 3);
  r.onData(1001, Uint8Array.of(4, 5, 6), 0, 3);
  assertEquals([r.targetFilled, [...target], r.unread], [4, [1, 2, 3, 4], 2]);
  assertEquals(take(r), [5, 6]);
});

function sender(): SendWindow {
  const w = new SendWindow(new BufferPool(HEADER_BYTES + MSS, 16), MSS, 10 * MSS);
  w.init(500);
  return w;
}

function sendAll(w: SendWindow, now = 0, flush = true): number[] {
  const seqs: number[] = [];
  for (let p = w.next(1 << 20, flush); p; p = w.next(1 << 20, flush)) {
    w.commit(p, now);
    seqs.push(p.seq);
  }
  return seqs;
}

Deno.test("SendWindow packetizes writes, coalescing into the unsent tail, under the buffer bound", () => {
  const w = sender();
  assertEquals(w.append(new Uint8Array(150), 0), 150);
  assertEquals(w.append(new Uint8Array(30), 0), 30);
  assertEquals([w.queuedPackets, w.queuedBytes], [2, 180]);
  assertEquals(w.append(new Uint8Array(5000), 0), 10 * MSS - 180); // stops at the bound
  assertEquals(sendAll(w).length, 10);
  w.assertInvariants();
});

Deno.test("SendWindow takes a selective ACK of any length (libtorrent sends ceil(n/8) bytes)", () => {
  const w = sender();
  w.append(new Uint8Array(10 * MSS), 0);
  assertEquals(sendAll(w), [500, 501, 502, 503, 504, 505, 506, 507, 508, 509]);
  w.onAck(499, true, 10);
  // a 1-byte mask (not a multiple of 4): bit 0 is ack_nr + 2, so 501..508 arrived
  w.onSack(499, Uint8Array.of(0xff), 0, 1, 10);
  assertEquals([w.packetsInFlight, w.inFlight, w.ackedBytes], [2, 2 * MSS, 8 * MSS]);
  assertEquals(w.lost, [500]); // a hole with three or more packets acknowledged above it
  w.assertInvariants();
  w.onAck(500, true, 20);
  assertEquals([w.ackedSeq, w.packetsInFlight], [508, 1]); // moved over the SACKed packets
});

Deno.test("SendWindow counts three duplicate STATE ACKs as a loss of the next packet", () => {
  const w = sender();
  w.append(new Uint8Array(5 * MSS), 0);
  sendAll(w);
  w.onAck(500, true, 1);
  const lost: number[][] = [];
  for (let i = 0; i < 3; i++) {
    w.onAck(500, true, 2);
    lost.push([...w.lost]);
  }
  assertEquals(lost, [[], [], [501]]);
});

Deno.test("SendWindow: a timeout marks everything in flight for resend, resent in order first", () => {
  const w = sender();
  w.append(new Uint8Array(3 * MSS), 0);
  sendAll(w);
  w.pushControl(ST_FIN);
  w.onTimeout();
  assertEquals([w.inFlight, w.resendCount], [0, 3]);
  assertEquals(sendAll(w, 5), [500, 501, 502, 503]); // resends, then the queued FIN
  assertEquals(w.at(500)!.transmissions, 2);
  w.assertInvariants();
});

Deno.test("SendWindow.isPlausibleAck refuses acks of unsent packets and far-stale ones", () => {
  const w = sender();
  w.append(new Uint8Array(3 * MSS), 0);
  sendAll(w);
  assert([499, 500, 502, 499 - 1000].every((a) => w.isPlausibleAck(a)));
  assert([503, 600, 499 - 2000].every((a) => !w.isPlausibleAck(a & 0xffff)));
});

Deno.test("SendWindow: Nagle forgets an acknowledged undersized packet, even 2^15 packets and a wrap later", () => {
  const w = sender();
  w.append(new Uint8Array(10), 0); // undersized
  sendAll(w);
  w.onAck(500, true, 1);
  for (let i = 0; i < 40_000; i++) { // full packets only, past a sequence wrap
    w.append(new Uint8Array(MSS), 0);
    sendAll(w);
    w.onAck(w.ackedSeq + 1 & 0xffff, true, 2);
  }
  w.append(new Uint8Array(10), 0); // a short tail: nothing is in flight, so it must go
  assertEquals(sendAll(w, 3, false).length, 1);
});
