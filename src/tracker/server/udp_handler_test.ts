import { assert, assertEquals } from "../../../tests/assert.ts";
import { SeededRandom } from "../../util/prng.ts";
import { decodeUdpResponse, encodeUdpRequest, type UdpAnnounceRequest } from "../udp_codec.ts";
import { ConnectionIds } from "./connection_ids.ts";
import { SwarmStore } from "./swarm_store.ts";
import { UdpTrackerHandler } from "./udp_handler.ts";

const HASH = new Uint8Array(20).fill(5);
const ALICE = { host: "198.51.100.1", port: 40000 };
const BOB = { host: "198.51.100.2", port: 40001 };

function setup(options: { limit?: number; allow?: string[] } = {}) {
  const store = new SwarmStore({
    random: new SeededRandom(1),
    intervalS: 300,
    ...(options.allow ? { allowlist: options.allow } : {}),
  });
  const ids = new ConnectionIds(new SeededRandom(2).bytes(32));
  const handler = new UdpTrackerHandler({
    store,
    ids,
    connectsPerSecondPerPrefix: options.limit ?? 1000,
  });
  return { store, ids, handler };
}

function announce(
  connectionId: Uint8Array,
  port: number,
  extra: Partial<UdpAnnounceRequest> = {},
): Uint8Array {
  return encodeUdpRequest({
    action: "announce",
    connectionId,
    transactionId: 77,
    infoHash: HASH,
    peerId: new Uint8Array(20).fill(port & 0xff),
    downloaded: 0,
    left: 1,
    uploaded: 0,
    event: "started",
    ip: 0,
    key: port,
    numwant: -1,
    port,
    ...extra,
  });
}

function connect(
  handler: UdpTrackerHandler,
  from: { host: string; port: number },
  now = 0,
): Uint8Array {
  const reply = handler.handle(
    encodeUdpRequest({ action: "connect", transactionId: 1 }),
    from,
    now,
  )!;
  const decoded = decodeUdpResponse(reply);
  assert(decoded.action === "connect");
  return decoded.connectionId;
}

Deno.test("UdpTrackerHandler answers a 16-byte connect with exactly 16 bytes (TS2)", () => {
  const { handler } = setup();
  const reply = handler.handle(
    encodeUdpRequest({ action: "connect", transactionId: 0xabcdef }),
    ALICE,
    0,
  );
  assertEquals(reply?.length, 16);
  assertEquals(decodeUdpResponse(reply!).transactionId, 0xabcdef);
});

Deno.test("UdpTrackerHandler answers nothing without a valid connection id (TS1)", () => {
  const { handler, store } = setup();
  const aliceId = connect(handler, ALICE);
  const cases: [Uint8Array, { host: string; port: number }][] = [
    [announce(new Uint8Array(8), 1), ALICE], // never issued
    [announce(aliceId, 1), BOB], // spoofed: Alice's id from Bob's address
    [announce(aliceId, 1), { host: ALICE.host, port: ALICE.port + 1 }],
    [
      encodeUdpRequest({
        action: "scrape",
        connectionId: aliceId,
        transactionId: 3,
        infoHashes: [HASH],
      }),
      BOB,
    ],
    [new Uint8Array(15), ALICE],
    [new Uint8Array(16), ALICE], // connect without the magic
  ];
  for (const [packet, from] of cases) assertEquals(handler.handle(packet, from, 0), undefined);
  assertEquals(handler.handle(announce(aliceId, 1), ALICE, 10 * 60_000), undefined); // expired
  assertEquals(store.stats().peers, 0);
  assertEquals(handler.stats().dropped, 7);
});

Deno.test("UdpTrackerHandler records the source address, never the ip field (TS3)", () => {
  const { handler } = setup();
  const aliceId = connect(handler, ALICE);
  const victim = (203 << 24) | (0 << 16) | (113 << 8) | 9;
  handler.handle(announce(aliceId, 6881, { ip: victim }), ALICE, 0);
  const bobId = connect(handler, BOB);
  const reply = decodeUdpResponse(handler.handle(announce(bobId, 6882), BOB, 0)!);
  assert(reply.action === "announce");
  assertEquals(reply.peers, [{ host: ALICE.host, port: 6881 }]);
  assertEquals([reply.intervalS, reply.leechers, reply.seeders, reply.transactionId], [
    300,
    2,
    0,
    77,
  ]);
});

Deno.test("UdpTrackerHandler answers malformed requests and refusals with an error action", () => {
  const { handler } = setup({ allow: ["11".repeat(20)] });
  const id = connect(handler, ALICE);
  const cases: [Uint8Array, string][] = [
    [announce(id, 1).subarray(0, 60), "Malformed request"],
    [announce(id, 0), "Invalid port 0"],
    [announce(id, 1), "not authorized"],
  ];
  for (const [packet, message] of cases) {
    const reply = decodeUdpResponse(handler.handle(packet, ALICE, 0)!);
    assert(reply.action === "error");
    assert(reply.message.includes(message), reply.message);
  }
});

Deno.test("UdpTrackerHandler scrapes and serves IPv6 peers to IPv6 senders", () => {
  const { handler } = setup();
  const v6a = { host: "2001:db8::1", port: 1 }, v6b = { host: "2001:db8::2", port: 2 };
  handler.handle(announce(connect(handler, v6a), 7001), v6a, 0);
  const reply = decodeUdpResponse(
    handler.handle(announce(connect(handler, v6b), 7002), v6b, 0)!,
    6,
  );
  assert(reply.action === "announce");
  assertEquals(reply.peers, [{ host: "2001:db8::1", port: 7001 }]);
  const scrape = encodeUdpRequest({
    action: "scrape",
    connectionId: connect(handler, v6a),
    transactionId: 9,
    infoHashes: [HASH, new Uint8Array(20)],
  });
  assertEquals(decodeUdpResponse(handler.handle(scrape, v6a, 0)!), {
    action: "scrape",
    transactionId: 9,
    entries: [{ seeders: 0, completed: 0, leechers: 2 }, { seeders: 0, completed: 0, leechers: 0 }],
  });
});

Deno.test("UdpTrackerHandler rate-limits connects per /24 (TS2)", () => {
  const { handler } = setup({ limit: 3 });
  const replies = Array.from(
    { length: 5 },
    (_, i) =>
      handler.handle(encodeUdpRequest({ action: "connect", transactionId: i }), {
        host: `192.0.2.${i}`,
        port: 1,
      }, 500),
  );
  assertEquals(replies.map((r) => r !== undefined), [true, true, true, false, false]);
  assert(
    handler.handle(encodeUdpRequest({ action: "connect", transactionId: 9 }), {
      host: "192.0.3.1",
      port: 1,
    }, 500),
  );
  assert(
    handler.handle(encodeUdpRequest({ action: "connect", transactionId: 9 }), {
      host: "192.0.2.1",
      port: 1,
    }, 1500),
  );
});
