import { assert, assertEquals } from "../../tests/assert.ts";
import type { PeerConnection } from "../net/peer_connection.ts";
import { PiecePicker } from "../picker/mod.ts";
import { type PeerAddress, SILENT_LOGGER } from "../runtime/types.ts";
import { Bitfield } from "../util/bitfield.ts";
import { SeededRandom } from "../util/prng.ts";
import { encodeExtensionHandshake, type WireMessage } from "../wire/mod.ts";
import { Peer } from "./peer.ts";
import { PeerMessageHandler, type PeerMessageHost, type PieceWork } from "./peer_messages.ts";
import { testSettings } from "./settings.ts";
import type { TorrentState } from "./events.ts";

const BLOCK = 16384;
const PIECE = 4 * BLOCK;

/** A connection that records what was sent and whether it closed. */
function fakeConn(id: string, fast = true, outgoing = true) {
  const sent: WireMessage[] = [];
  let closed: string | undefined;
  const [host, port] = id.split(":");
  const conn = {
    id,
    addr: { host: host!, port: Number(port) },
    remote: {
      fastExtension: fast,
      extensionProtocol: true,
      dht: false,
      peerId: new Uint8Array(20),
    },
    outgoing,
    connectedAt: 0,
    lastReceivedAt: 0,
    lastSentAt: 0,
    sendBufferBytes: 0,
    unsentBytes: 0,
    get isClosed() {
      return closed !== undefined;
    },
    send: (m: WireMessage) => sent.push(m),
    sendRaw: () => {},
    sendPiece: () => {},
    setPieceCount: () => {},
    close: (reason: string, detail = "") => closed ??= `${reason}${detail ? `: ${detail}` : ""}`,
    // the transport's own timeouts: only the idle rule matters here
    checkTimeouts: (now: number) =>
      now > testSettings().idleTimeoutMs && conn.close("idle") !== undefined,
  };
  return { conn: conn as unknown as PeerConnection, sent, closed: () => closed };
}

interface Harness {
  readonly handler: PeerMessageHandler;
  readonly host: PeerMessageHost & { state: TorrentState; now: number };
  readonly work: PieceWork;
  readonly picker: PiecePicker;
  readonly submitted: number[];
  readonly calls: string[];
  peer(id: string, options?: { fast?: boolean; outgoing?: boolean; known?: boolean }): {
    peer: Peer;
    sent: WireMessage[];
    closed: () => string | undefined;
  };
}

/** A torrent of `pieces` 64 KiB pieces (the last `lastLength` bytes long). */
function harness(pieces = 4, options: { magnet?: boolean; have?: number[] } = {}): Harness {
  const settings = testSettings();
  const calls: string[] = [];
  const submitted: number[] = [];
  const peers = new Map<string, Peer>();
  const picker = new PiecePicker({
    pieceCount: pieces,
    pieceLength: PIECE,
    totalLength: pieces * PIECE,
    random: new SeededRandom(1),
  });
  for (const i of options.have ?? []) picker.setHave(i);
  const buffers = new Map<number, Uint8Array>();
  const work: PieceWork = {
    pieceCount: pieces,
    pieceSize: () => PIECE,
    picker,
    pipeline: {
      canRequest: () => true,
      has: (i) => buffers.has(i),
      buffer: (i) => {
        if (!buffers.has(i)) buffers.set(i, new Uint8Array(PIECE));
        return buffers.get(i)!;
      },
      submit: (i) => {
        buffers.delete(i);
        submitted.push(i);
      },
    },
    uploader: {
      request: (p, r) => calls.push(`request ${p.id} ${r.index}:${r.begin}`),
      cancel: (p, r) => calls.push(`cancel ${p.id} ${r.index}:${r.begin}`),
    },
    superSeeder: undefined,
  };
  const host = {
    now: 0,
    ctx: {
      settings,
      logger: SILENT_LOGGER,
      clock: {
        now: () => host.now,
        wallNow: () => host.now,
        schedule: () => ({ cancel() {} }),
      },
    },
    peers,
    state: (options.magnet ? "metadata" : "downloading") as TorrentState,
    extensions: {
      greet: (p: Peer) => calls.push(`greet ${p.id}`),
      onHandshake: (p: Peer) => calls.push(`ext-handshake ${p.id}`),
      onMessage: (p: Peer, id: number) => calls.push(`ext ${p.id} ${id}`),
    },
    transfer: { countDownload: (p: Peer, n: number) => p.downloadMeter.add(n, host.now) },
    slotsChanged: () => calls.push("slots"),
    refillAll: () => calls.push("refill-all"),
    dhtNode: (a: PeerAddress) => calls.push(`dht ${a.host}:${a.port}`),
    listenAddressLearned: (p: Peer, a: PeerAddress) => calls.push(`listen ${p.id} ${a.port}`),
    metadataOffered: (p: Peer, size: number) => calls.push(`metadata ${p.id} ${size}`),
  };
  const handler = new PeerMessageHandler(host, options.magnet ? undefined : work);
  return {
    handler,
    host,
    work,
    picker,
    submitted,
    calls,
    peer(id, o = {}) {
      const c = fakeConn(id, o.fast ?? true, o.outgoing ?? true);
      const peer = new Peer(c.conn, {
        settings,
        pieceCount: options.magnet ? undefined : pieces,
      });
      peers.set(id, peer);
      return { peer, sent: c.sent, closed: c.closed };
    },
  };
}

const types = (sent: WireMessage[]) => sent.map((m) => m.type);
const bitfield = (bits: string) => {
  const bf = new Bitfield(bits.length);
  [...bits].forEach((c, i) => c === "x" && bf.set(i));
  return bf.toBytes();
};

Deno.test("PeerMessageHandler.greet() announces our pieces in the one form BEP 6 allows", () => {
  const cases: [string, number[], boolean, boolean, string[]][] = [
    // [what, pieces we have, fast peer, magnet, messages after the extension handshake]
    ["nothing, fast", [], true, false, ["have-none"]],
    ["nothing, plain", [], false, false, []],
    ["everything, fast", [0, 1, 2, 3], true, false, ["have-all"]],
    ["everything, plain", [0, 1, 2, 3], false, false, ["bitfield"]],
    ["some", [1], true, false, ["bitfield"]],
    ["a magnet before its metadata", [], true, true, ["have-none"]],
  ];
  for (const [what, have, fast, magnet, expected] of cases) {
    const h = harness(4, { have, magnet });
    const { peer, sent } = h.peer("10.0.0.1:6881", { fast });
    h.handler.greet(peer, undefined);
    assertEquals(types(sent), expected, what);
    assertEquals(peer.announcedPieces, !magnet, what);
    assertEquals(h.calls, ["greet 10.0.0.1:6881"], what);
  }
});

Deno.test("PeerMessageHandler: a bitfield with a wanted piece makes us interested; an unchoke sends requests", () => {
  const h = harness(4);
  const { peer, sent } = h.peer("10.0.0.1:6881");
  h.handler.onMessage(peer, { type: "bitfield", bitfield: bitfield("xx..") });
  assertEquals(types(sent), ["interested"]);
  assertEquals(h.picker.availabilityOf(0), 1);
  h.handler.onMessage(peer, { type: "unchoke" });
  const requests = sent.filter((m) => m.type === "request");
  assertEquals(requests.length, 4); // slow start: 4 requests at first
  assertEquals(h.picker.requestCount(peer.id), 4);
});

Deno.test("PeerMessageHandler: blocks fill a piece, it is submitted, and the queue refills in batches", () => {
  const h = harness(4);
  const { peer, sent } = h.peer("10.0.0.1:6881");
  h.handler.onMessage(peer, { type: "have-all" });
  h.handler.onMessage(peer, { type: "unchoke" });
  const requested = () => sent.filter((m) => m.type === "request") as WireMessage[];
  const first = requested();
  assertEquals(first.length, 4);
  for (const r of first) {
    if (r.type !== "request") continue;
    h.host.now += 10;
    h.handler.onMessage(peer, {
      type: "piece",
      index: r.index,
      begin: r.begin,
      block: new Uint8Array(r.length),
    });
  }
  assertEquals(h.submitted, [(first[0] as { index: number }).index]);
  assert(requested().length > 4, "refilled after blocks arrived");
  assertEquals(peer.downloadMeter.rate(h.host.now) > 0, true);
});

Deno.test("PeerMessageHandler: unsolicited blocks are dropped and close the peer after 64", () => {
  const h = harness(4);
  const { peer, closed } = h.peer("10.0.0.1:6881");
  for (let i = 0; i < 64; i++) {
    h.handler.onMessage(peer, { type: "piece", index: 0, begin: 0, block: new Uint8Array(BLOCK) });
  }
  assertEquals(closed(), undefined);
  assertEquals(h.submitted, []);
  h.handler.onMessage(peer, { type: "piece", index: 0, begin: 0, block: new Uint8Array(BLOCK) });
  assertEquals(closed(), "protocol: too many blocks we did not request");
});

Deno.test("PeerMessageHandler closes peers for malformed piece traffic", () => {
  const cases: [string, WireMessage, string][] = [
    ["have out of range", { type: "have", index: 4 }, "protocol: have 4 out of range"],
    [
      "a bitfield of the wrong length",
      { type: "bitfield", bitfield: new Uint8Array(2) },
      "protocol",
    ],
    ["a block of a piece past the end", {
      type: "piece",
      index: 9,
      begin: 0,
      block: new Uint8Array(1),
    }, "protocol: block of piece 9"],
    ["a block of the wrong length", {
      type: "piece",
      index: 0,
      begin: 0,
      block: new Uint8Array(100),
    }, "protocol: block 0:0 of length 100"],
  ];
  for (const [what, message, reason] of cases) {
    const h = harness(4);
    const { peer, closed } = h.peer("10.0.0.1:6881");
    h.handler.onMessage(peer, message);
    assert(closed()?.startsWith(reason), `${what}: ${closed()}`);
  }
});

Deno.test("PeerMessageHandler: a reject while unchoked refuses the piece; a choke without BEP 6 releases all", () => {
  const h = harness(4);
  const { peer } = h.peer("10.0.0.1:6881");
  h.handler.onMessage(peer, { type: "have-all" });
  h.handler.onMessage(peer, { type: "unchoke" });
  const [r] = h.picker.requestsOf(peer.id);
  h.handler.onMessage(peer, {
    type: "reject",
    index: r!.index,
    begin: r!.begin,
    length: r!.length,
  });
  assert(peer.requests.refused.has(r!.index));
  assert(h.calls.includes("refill-all"));
  const plain = harness(4);
  const slow = plain.peer("10.0.0.2:6881", { fast: false });
  plain.handler.onMessage(slow.peer, { type: "have-all" });
  plain.handler.onMessage(slow.peer, { type: "unchoke" });
  assert(plain.picker.requestCount(slow.peer.id) > 0);
  plain.handler.onMessage(slow.peer, { type: "choke" });
  assertEquals(plain.picker.requestCount(slow.peer.id), 0);
});

Deno.test("PeerMessageHandler keeps a magnet peer's announcements raw until the piece count is known", () => {
  const h = harness(4, { magnet: true });
  const a = h.peer("10.0.0.1:6881"), b = h.peer("10.0.0.2:6881"), c = h.peer("10.0.0.3:6881");
  h.handler.onMessage(a.peer, { type: "bitfield", bitfield: bitfield("x...") });
  h.handler.onMessage(a.peer, { type: "have", index: 2 });
  h.handler.onMessage(b.peer, { type: "have-all" });
  h.handler.onMessage(c.peer, { type: "bitfield", bitfield: new Uint8Array(3) }); // too long
  h.handler.onMessage(a.peer, { type: "request", index: 0, begin: 0, length: BLOCK });
  assertEquals(types(a.sent), ["reject"]); // nothing to serve yet
  assertEquals(h.picker.availabilityOf(0), 0);
  h.host.state = "checking";
  h.handler.beginWork(h.work);
  assertEquals([...a.peer.has.indices()], [0, 2]);
  assert(b.peer.isSeed);
  assertEquals(h.picker.availabilityOf(0), 2);
  assertEquals(h.picker.availabilityOf(2), 2);
  assertEquals(c.closed(), "protocol: bitfield of the wrong length or with spare bits set");
  h.host.state = "downloading";
  h.handler.checked();
  assertEquals(types(a.sent), ["reject", "interested"]); // it chokes us: no requests yet
  assert(a.peer.announcedPieces);
});

Deno.test("PeerMessageHandler: a HAVE past 2^21 before the metadata closes the peer (PW5)", () => {
  const h = harness(4, { magnet: true });
  const { peer, closed } = h.peer("10.0.0.1:6881");
  h.handler.onMessage(peer, { type: "have", index: 2 ** 21 - 1 });
  assertEquals(closed(), undefined);
  h.handler.onMessage(peer, { type: "have", index: 2 ** 21 });
  assertEquals(closed(), `protocol: have ${2 ** 21} before metadata`);
});

Deno.test("PeerMessageHandler passes requests and cancels to the upload side", () => {
  const h = harness(4, { have: [0] });
  const { peer } = h.peer("10.0.0.1:6881");
  h.handler.onMessage(peer, { type: "request", index: 0, begin: 0, length: BLOCK });
  h.handler.onMessage(peer, { type: "cancel", index: 0, begin: 0, length: BLOCK });
  assertEquals(h.calls, ["request 10.0.0.1:6881 0:0", "cancel 10.0.0.1:6881 0:0"]);
});

Deno.test("PeerMessageHandler reads the extension handshake: reqq, listen port, metadata size", () => {
  const h = harness(4, { magnet: true });
  const { peer } = h.peer("10.0.0.1:40000", { outgoing: false });
  const payload = encodeExtensionHandshake({
    m: new Map([["ut_metadata", 3]]),
    v: "lt 2.0",
    p: 6881,
    reqq: 7,
    metadataSize: 1234,
  });
  h.handler.onMessage(peer, { type: "extended", extendedId: 0, payload });
  assertEquals(peer.clientName, "lt 2.0");
  assertEquals(peer.listenAddr, { host: "10.0.0.1", port: 6881 });
  assertEquals(peer.requests.target(100 * 1024 * 1024), 7);
  assertEquals(h.calls, [
    "listen 10.0.0.1:40000 6881",
    "ext-handshake 10.0.0.1:40000",
    "metadata 10.0.0.1:40000 1234",
  ]);
});

Deno.test("PeerMessageHandler.tick() snubs a silent peer, cancelling its requests, and lets the transport close idle ones", () => {
  const h = harness(4);
  const { peer, sent } = h.peer("10.0.0.1:6881");
  h.handler.onMessage(peer, { type: "have-all" });
  h.handler.onMessage(peer, { type: "unchoke" });
  const out = h.picker.requestCount(peer.id);
  h.host.now = h.host.ctx.settings.snubTimeoutMs + 1;
  assertEquals(h.handler.tick(peer, h.host.now), true);
  assertEquals(h.picker.requestCount(peer.id), 0);
  assertEquals(sent.filter((m) => m.type === "cancel").length, out);
  assert(peer.requests.isSnubbed);
  const idle = h.peer("10.0.0.2:6881");
  h.handler.tick(idle.peer, h.host.ctx.settings.idleTimeoutMs + 1);
  assertEquals(idle.closed(), "idle");
});
