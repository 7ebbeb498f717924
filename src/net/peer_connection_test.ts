import { assertEquals } from "../../tests/assert.ts";
import { memoryConnPair } from "../../tests/memory_conn.ts";
import type { Clock } from "../runtime/types.ts";
import { encodeMessage } from "../wire/mod.ts";
import { type CloseReason, PeerConnection } from "./peer_connection.ts";

const LIMITS = {
  maxMessageBytes: 1024 * 1024 + 16 * 1024,
  readBufferBytes: 64 * 1024,
  writeCoalesceBytes: 256 * 1024,
  idleTimeoutMs: 120_000,
  messageTimeoutMs: 10_000,
  minMessageBytesPerSecond: 512,
  maxSendQueueBytes: 8 * 1024 * 1024,
};

/** A connection on a hand-set clock, its far end, and a gate the test opens. */
function setup() {
  let now = 0;
  const clock: Clock = { now: () => now, wallNow: () => now, schedule: () => ({ cancel() {} }) };
  const [near, far] = memoryConnPair();
  const conn = new PeerConnection(near, {
    clock,
    remote: {
      infoHash: new Uint8Array(20),
      peerId: new Uint8Array(20),
      extensionProtocol: false,
      fastExtension: false,
      dht: false,
    },
    outgoing: true,
    pieceCount: 4,
    limits: LIMITS,
  });
  let closed: string | undefined;
  let gate: Promise<void> | undefined;
  const received: [string, number][] = [];
  conn.start({
    onMessage: (m, receivedAt) => received.push([m.type, receivedAt]),
    onClose: (reason: CloseReason, detail: string) => closed = `${reason}: ${detail}`,
    beforeRead: () => gate,
  }, new Uint8Array(0));
  return {
    conn,
    far,
    set now(ms: number) {
      now = ms;
    },
    closed: () => closed,
    received,
    hold(): () => void {
      let open!: () => void;
      gate = new Promise((r) => open = r);
      return () => {
        gate = undefined;
        open();
      };
    },
  };
}

const turns = async () => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};
const REQUEST = encodeMessage({ type: "request", index: 0, begin: 0, length: 16384 });
/** What a 17-byte message may take: 10 s plus 17 bytes at 512 B/s. */
const ALLOWED = 10_000 + (17 * 1000) / 512;

Deno.test("PeerConnection.checkTimeouts() closes a peer that keeps a message unfinished past its time (PW10)", async () => {
  const t = setup();
  await t.far.write(REQUEST.subarray(0, 5));
  await turns();
  t.now = ALLOWED - 1;
  assertEquals(t.conn.checkTimeouts(ALLOWED - 1), false);
  await t.far.write(REQUEST.subarray(5, 6)); // a byte now and then: never idle
  await turns();
  t.now = ALLOWED + 1;
  assertEquals(t.conn.checkTimeouts(ALLOWED + 1), true);
  assertEquals(t.closed()?.startsWith("timeout: message stalled: 6 of 17 bytes"), true);
});

Deno.test("PeerConnection.checkTimeouts() counts only time spent waiting on the socket, and a whole message restarts the clock", async () => {
  const t = setup();
  const open = t.hold(); // our own rate limit holds the read loop after its next read
  await t.far.write(REQUEST.subarray(0, 5));
  await turns();
  t.now = 60_000; // a minute held back by us
  assertEquals(t.conn.checkTimeouts(60_000), false);
  assertEquals(t.conn.partialMessageAgeMs(60_000), 0);
  open();
  await turns(); // reading again from 60 s: the socket wait counts from here
  assertEquals(t.conn.partialMessageAgeMs(65_000), 5_000);
  t.now = 65_000;
  await t.far.write(REQUEST.subarray(5)); // the message completes
  await turns();
  assertEquals(t.conn.partialMessageAgeMs(100_000), 0);
  assertEquals(t.conn.checkTimeouts(100_000), false);
  assertEquals(t.closed(), undefined);
  t.conn.close("shutdown");
});

Deno.test("PeerConnection.checkTimeouts() closes an idle peer", () => {
  const t = setup();
  assertEquals(t.conn.checkTimeouts(LIMITS.idleTimeoutMs), false);
  assertEquals(t.conn.checkTimeouts(LIMITS.idleTimeoutMs + 1), true);
  assertEquals(t.closed(), "idle: ");
});

Deno.test("PeerConnection.sendRaw() past maxSendQueueBytes drops the bytes and closes the peer (PW7)", async () => {
  const t = setup();
  t.conn.sendRaw(new Uint8Array(5 * 1024 * 1024));
  t.conn.sendRaw(new Uint8Array(4 * 1024 * 1024)); // 9 MiB would wait: over 8 MiB
  assertEquals(t.conn.unsentBytes, 5 * 1024 * 1024);
  await turns();
  assertEquals(
    t.closed(),
    `timeout: send queue over ${LIMITS.maxSendQueueBytes} bytes: the peer does not read`,
  );
  assertEquals(t.conn.unsentBytes, 0);
});

Deno.test("PeerConnection gives every message of one read the time the read completed", async () => {
  const t = setup();
  t.now = 5;
  const have = encodeMessage({ type: "have", index: 1 });
  const bytes = new Uint8Array(REQUEST.length + have.length);
  bytes.set(REQUEST);
  bytes.set(have, REQUEST.length);
  await t.far.write(bytes);
  await turns();
  t.now = 9;
  await t.far.write(have);
  await turns();
  assertEquals(t.received, [["request", 5], ["have", 5], ["have", 9]]);
  assertEquals(t.conn.lastReceivedAt, 9);
});
