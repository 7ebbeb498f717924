import { assert, assertEquals, assertRejects } from "../../tests/assert.ts";
import { VirtualClock } from "../../tests/sim/virtual_clock.ts";
import { DatagramInbox } from "../../tests/datagram_inbox.ts";
import { TrackerError } from "../errors.ts";
import type { Datagram, PeerAddress, UdpSocketLike } from "../runtime/types.ts";
import { SeededRandom } from "../util/prng.ts";
import { TrackerFailureError } from "./tracker_errors.ts";
import { UdpTrackerClient } from "./udp_client.ts";
import {
  decodeUdpRequest,
  encodeUdpResponse,
  type UdpRequest,
  type UdpResponse,
} from "./udp_codec.ts";
import type { AnnounceParams } from "./types.ts";

const PARAMS: AnnounceParams = {
  infoHash: new Uint8Array(20).fill(1),
  peerId: new Uint8Array(20).fill(2),
  port: 6881,
  uploaded: 0,
  downloaded: 0,
  left: 10,
  event: "started",
};

/** The client's socket, wired to a scripted tracker on the same virtual clock. */
class ScriptedTracker implements UdpSocketLike {
  readonly addr: PeerAddress;
  readonly sent: { at: number; request: UdpRequest }[] = [];
  dropFirst = 0;
  readonly #inbox = new DatagramInbox();

  constructor(
    readonly clock: VirtualClock,
    readonly tracker: PeerAddress,
    readonly reply: (request: UdpRequest, n: number) => { data: Uint8Array; from?: PeerAddress }[],
    host = "127.0.0.1",
  ) {
    this.addr = { host, port: 50000 };
  }

  send(data: Uint8Array, to: PeerAddress): Promise<void> {
    assertEquals(to, this.tracker);
    const request = decodeUdpRequest(data.slice());
    this.sent.push({ at: this.clock.now(), request });
    if (this.sent.length <= this.dropFirst) return Promise.resolve();
    for (const r of this.reply(request, this.sent.length - 1)) {
      this.clock.schedule(
        5,
        () => this.#inbox.deliver({ data: r.data, from: r.from ?? this.tracker }),
      );
    }
    return Promise.resolve();
  }

  receive(): Promise<Datagram | null> {
    return this.#inbox.receive();
  }

  close(): void {
    this.#inbox.close();
  }
}

const CID = new Uint8Array([9, 9, 9, 9, 9, 9, 9, 9]);
const TRACKER = { host: "10.0.0.1", port: 6969 };

function honest(family: 4 | 6 = 4): (request: UdpRequest) => { data: Uint8Array }[] {
  return (request) => {
    const tid = request.transactionId;
    if (request.action === "connect") {
      return [{
        data: encodeUdpResponse({ action: "connect", transactionId: tid, connectionId: CID }),
      }];
    }
    if (request.action === "scrape") {
      return [{
        data: encodeUdpResponse({
          action: "scrape",
          transactionId: tid,
          entries: request.infoHashes.map(() => ({ seeders: 3, completed: 4, leechers: 5 })),
        }),
      }];
    }
    const peers = family === 4
      ? [{ host: "1.2.3.4", port: 1 }]
      : [{ host: "2001:db8::9", port: 2 }];
    const response: UdpResponse = {
      action: "announce",
      transactionId: tid,
      intervalS: 30,
      leechers: 2,
      seeders: 1,
      peers,
    };
    return [{ data: encodeUdpResponse(response, family) }];
  };
}

function setup(
  reply: ScriptedTracker["reply"],
  options: { host?: string; maxRetransmits?: number } = {},
) {
  const clock = new VirtualClock();
  const socket = new ScriptedTracker(
    clock,
    options.host === "::1" ? { host: "2001:db8::1", port: 6969 } : TRACKER,
    reply,
    options.host,
  );
  const client = new UdpTrackerClient({
    socket,
    clock,
    random: new SeededRandom(7),
    retransmitBaseMs: 100,
    maxRetransmits: options.maxRetransmits ?? 8,
  });
  return { clock, socket, client };
}

Deno.test("UdpTrackerClient.announce() retransmits after the first 2 packets are lost", async () => {
  const { clock, socket, client } = setup(honest());
  socket.dropFirst = 2;
  const start = clock.now();
  const response = await clock.runUntil(
    client.announce("udp://10.0.0.1:6969/announce", PARAMS),
    10_000,
    5,
  );
  assertEquals(response.peers, [{ host: "1.2.3.4", port: 1 }]);
  assertEquals([response.complete, response.incomplete, response.intervalS], [1, 2, 60]); // 30 s clamped
  assertEquals(socket.sent.map((s) => [s.request.action, s.at - start]), [
    ["connect", 0],
    ["connect", 100], // base·2^0
    ["connect", 300], // + base·2^1
    ["announce", 305],
  ]);
  const ids = new Set(socket.sent.map((s) => s.request.transactionId));
  assertEquals(ids.size, 4); // a fresh random transaction id per attempt
  client.close();
});

Deno.test("UdpTrackerClient reuses a connection id for at most 60 s", async () => {
  const { clock, socket, client } = setup(honest());
  const url = "udp://10.0.0.1:6969";
  await clock.runUntil(client.announce(url, PARAMS), 1000, 5);
  await clock.advance(50_000);
  await clock.runUntil(client.announce(url, PARAMS), 1000, 5);
  await clock.advance(20_000);
  await clock.runUntil(client.announce(url, PARAMS), 1000, 5);
  assertEquals(socket.sent.map((s) => s.request.action), [
    "connect",
    "announce",
    "announce",
    "connect",
    "announce",
  ]);
  client.close();
});

Deno.test("UdpTrackerClient ignores replies with the wrong transaction id, source or length (TC5)", async () => {
  const { clock, socket, client } = setup((request, n) => {
    const good = honest()(request);
    if (n > 0) return good;
    const tid = request.transactionId;
    const reply = encodeUdpResponse({
      action: "connect",
      transactionId: tid,
      connectionId: new Uint8Array(8),
    });
    return [
      {
        data: encodeUdpResponse({
          action: "connect",
          transactionId: tid + 1,
          connectionId: new Uint8Array(8),
        }),
      },
      { data: reply, from: { host: "10.0.0.2", port: 6969 } },
      { data: reply, from: { host: "10.0.0.1", port: 6970 } },
      { data: reply.subarray(0, 12) },
      { data: encodeUdpResponse({ action: "scrape", transactionId: tid, entries: [] }) },
    ];
  });
  const response = await clock.runUntil(client.announce("udp://10.0.0.1:6969", PARAMS), 10_000, 5);
  assertEquals(response.peers.length, 1);
  assertEquals(socket.sent.map((s) => s.request.action), ["connect", "connect", "announce"]);
  const announce = socket.sent[2]!.request;
  assert(announce.action === "announce");
  assertEquals(announce.connectionId, CID); // the forged ids were never used
  client.close();
});

Deno.test("UdpTrackerClient surfaces the error action as TrackerFailureError", async () => {
  const { clock, client } = setup((request) =>
    request.action === "connect" ? honest()(request) : [{
      data: encodeUdpResponse({
        action: "error",
        transactionId: request.transactionId,
        message: "torrent not registered",
      }),
    }]
  );
  await assertRejects(
    () => clock.runUntil(client.announce("udp://10.0.0.1:6969", PARAMS), 10_000, 5),
    TrackerFailureError,
    "torrent not registered",
  );
  client.close();
});

Deno.test("UdpTrackerClient gives up after base·(2^(n+1) − 1) without a reply", async () => {
  const { clock, socket, client } = setup(() => [], { maxRetransmits: 2 });
  const start = clock.now();
  await assertRejects(
    () => clock.runUntil(client.announce("udp://10.0.0.1:6969", PARAMS), 10_000, 5),
    TrackerError,
    "Timed out after 700 ms (3 tries)",
  );
  assertEquals(socket.sent.map((s) => s.at - start), [0, 100, 300]);
  assert(clock.now() - start >= 700);
  client.close();
});

Deno.test("UdpTrackerClient decodes IPv6 announce responses on an IPv6 socket and scrapes", async () => {
  const { clock, client } = setup(honest(6), { host: "::1" });
  const response = await clock.runUntil(
    client.announce("udp://[2001:db8::1]:6969/announce", PARAMS),
    1000,
    5,
  );
  assertEquals(response.peers, [{ host: "2001:db8::9", port: 2 }]);
  const scraped = await clock.runUntil(
    client.scrape("udp://[2001:db8::1]:6969", [PARAMS.infoHash]),
    1000,
    5,
  );
  assertEquals(scraped, [{ infoHash: PARAMS.infoHash, complete: 3, incomplete: 5, downloaded: 4 }]);
  await assertRejects(
    () => client.announce("udp://10.0.0.1:6969", PARAMS),
    TrackerError,
    "from an IPv6 socket",
  );
  client.close();
});

Deno.test("UdpTrackerClient honours abort signals, refuses bad URLs and rejects after close()", async () => {
  const { clock, client } = setup(() => []);
  const abort = new AbortController();
  const pending = client.announce("udp://10.0.0.1:6969", PARAMS, abort.signal);
  pending.catch(() => {});
  await clock.advance(50);
  abort.abort();
  await assertRejects(() => pending, TrackerError, "aborted");
  const bad = await assertRejects(
    () => client.announce("udp://10.0.0.1/announce", PARAMS),
    TrackerFailureError,
  );
  assertEquals(bad.permanent, true);
  client.close();
  await assertRejects(() => client.announce("udp://10.0.0.1:6969", PARAMS), TrackerError, "closed");
});
