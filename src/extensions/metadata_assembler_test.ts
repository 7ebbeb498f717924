import { assert, assertEquals, assertThrows } from "../../tests/assert.ts";
import { SeededRandom } from "../util/prng.ts";
import { sha1 } from "../util/sha1.ts";
import {
  decodeMetadataMessage,
  MetadataAssembler,
  type MetadataDataResult,
  MetadataServer,
} from "./mod.ts";

/** 40,000 bytes: pieces of 16384, 16384 and 7232. */
const META = new SeededRandom(7).bytes(40_000);
const HASH = sha1(META);
const SIZE = META.length;

function slice(meta: Uint8Array, piece: number): Uint8Array {
  return meta.slice(piece * 16384, Math.min(meta.length, (piece + 1) * 16384));
}

function corrupt(meta: Uint8Array): Uint8Array {
  const out = meta.slice();
  for (let i = 0; i < out.length; i += 16384) out[i]! ^= 0xff; // every piece differs
  return out;
}

/** Answers a request through the real codec: server → payload → decode → assembler. */
function answer(
  asm: MetadataAssembler,
  server: MetadataServer,
  id: string,
  piece: number,
): MetadataDataResult | undefined {
  const reply = decodeMetadataMessage(server.request(id, piece));
  if (reply.type === "data") return asm.onData(id, reply.piece, reply.totalSize, reply.data);
  if (reply.type === "reject") asm.onReject(id, reply.piece);
  return undefined;
}

/** Round-robin driver: every round each peer tops up to `max` requests, all answered. */
function drive(
  asm: MetadataAssembler,
  servers: Map<string, MetadataServer>,
  max = 1,
): MetadataDataResult[] {
  const results: MetadataDataResult[] = [];
  for (let round = 0; round < 100 && asm.infoBytes === undefined; round++) {
    for (const [id, server] of servers) {
      for (const piece of asm.nextRequests(id, max)) {
        const r = answer(asm, server, id, piece);
        if (r) results.push(r);
        asm.assertInvariants();
      }
    }
  }
  return results;
}

function honest(...ids: string[]): [string, MetadataServer][] {
  return ids.map((id) => [id, new MetadataServer(META)]);
}

Deno.test("MetadataAssembler assembles metadata from several honest peers", () => {
  const asm = new MetadataAssembler({ infoHash: HASH });
  const servers = new Map(honest("a", "b", "c"));
  for (const id of servers.keys()) assert(asm.offerSize(id, SIZE));
  const results = drive(asm, servers);
  const last = results.at(-1)!;
  assertEquals(last.done && last.infoBytes, META);
  assertEquals(last.done && last.liars, []);
  assertEquals(results.map((r) => r.status), ["accepted", "accepted", "complete"]);
  assertEquals(asm.pieceCount, 0); // nothing left to request
  assertEquals(asm.nextRequests("a", 4), []);
});

/** [metadata_size as sent, usable] (RELIABILITY EX2). */
const SIZES: [number, boolean][] = [
  [-1, false],
  [0, false],
  [16 * 1024 * 1024 + 1, false],
  [2 ** 53, false],
  [1.5, false],
  [NaN, false],
  [1, true],
  [16 * 1024 * 1024, true],
];

for (const [size, usable] of SIZES) {
  Deno.test(`MetadataAssembler.offerSize() ${usable ? "accepts" : "refuses"} ${size} (EX2)`, () => {
    const asm = new MetadataAssembler({ infoHash: HASH });
    assertEquals(asm.offerSize("p", size), usable);
    assertEquals(asm.metadataSize, usable ? size : undefined);
    assertEquals(asm.pieceCount, usable ? Math.ceil(size / 16384) : 0); // no allocation
    assertEquals(asm.nextRequests("p", 8).length, usable ? Math.min(8, asm.pieceCount) : 0);
    asm.assertInvariants();
  });
}

Deno.test("MetadataAssembler.offerSize() honours a smaller maxMetadataBytes", () => {
  const asm = new MetadataAssembler({ infoHash: HASH, maxMetadataBytes: 1000 });
  assertEquals(asm.offerSize("p", 1001), false);
  assertEquals(asm.offerSize("q", 1000), true);
});

Deno.test("MetadataAssembler.offerSize() ignores peers that disagree with the accepted size", () => {
  const asm = new MetadataAssembler({ infoHash: HASH });
  assert(asm.offerSize("a", SIZE));
  assertEquals(asm.offerSize("b", SIZE + 1), false);
  assertEquals(asm.nextRequests("b", 4), []);
  assertEquals(asm.onData("b", 0, SIZE + 1, new Uint8Array(16384)), {
    done: false,
    status: "ignored",
    reason: "peer is not used for metadata",
  });
  assertEquals(asm.metadataSize, SIZE);
});

Deno.test("MetadataAssembler.nextRequests() asks each piece of at most one peer at a time", () => {
  const asm = new MetadataAssembler({ infoHash: HASH });
  for (const id of ["a", "b", "c"]) asm.offerSize(id, SIZE);
  assertEquals(asm.nextRequests("a", 2), [0, 1]);
  assertEquals(asm.nextRequests("a", 2), []); // already at 2 outstanding
  assertEquals(asm.nextRequests("b", 2), [2]);
  assertEquals(asm.nextRequests("c", 2), []);
  asm.onData("a", 0, SIZE, slice(META, 0));
  assertEquals(asm.nextRequests("a", 2), []); // nothing free; one still outstanding
  asm.releasePeer("b");
  assertEquals(asm.nextRequests("c", 2), [2]);
  asm.assertInvariants();
});

Deno.test("MetadataAssembler.nextRequests() starts at a random piece when given random", () => {
  const asm = new MetadataAssembler({ infoHash: HASH, random: new SeededRandom(3) });
  asm.offerSize("a", 40 * 16384);
  const first = asm.nextRequests("a", 3);
  assertEquals(first.length, 3);
  assertEquals(first[1], (first[0]! + 1) % 40);
});

/** [why, piece, totalSize, data length, expected reason fragment] (RELIABILITY EX3). */
const VIOLATIONS: [string, number, number, number, string][] = [
  ["piece index ≥ count", 3, SIZE, 7232, "piece 3 out of range 0..2"],
  ["negative piece index", -1, SIZE, 16384, "piece -1 out of range"],
  ["non-final piece of 16383 bytes", 0, SIZE, 16383, "piece 0 of 16383 bytes, expected 16384"],
  ["final piece not the remainder", 2, SIZE, 16384, "piece 2 of 16384 bytes, expected 7232"],
  ["changed total_size", 0, SIZE + 16384, 16384, `total_size ${SIZE + 16384} differs`],
];

for (const [why, piece, totalSize, length, reason] of VIOLATIONS) {
  Deno.test(`MetadataAssembler.onData() strikes ${why} (EX3)`, () => {
    const asm = new MetadataAssembler({ infoHash: HASH });
    asm.offerSize("bad", SIZE);
    asm.offerSize("good", SIZE);
    asm.nextRequests("bad", 3);
    const r = asm.onData("bad", piece, totalSize, new Uint8Array(length));
    assertEquals(r.status, "strike");
    assert(r.status === "strike" && r.reason.includes(reason), JSON.stringify(r));
    assert(asm.isBanned("bad"));
    assertEquals(asm.offerSize("bad", SIZE), false);
    assertEquals(asm.nextRequests("good", 3), [0, 1, 2]); // its requests were released
    asm.assertInvariants();
  });
}

Deno.test("MetadataAssembler.onData() drops the pieces a struck peer sent earlier", () => {
  const asm = new MetadataAssembler({ infoHash: HASH });
  asm.offerSize("bad", SIZE);
  asm.nextRequests("bad", 3);
  assertEquals(asm.onData("bad", 0, SIZE, slice(META, 0)).status, "accepted");
  assertEquals(asm.onData("bad", 1, SIZE, new Uint8Array(5)).status, "strike");
  assertEquals(asm.piecesReceived, 0);
  asm.assertInvariants();
});

Deno.test("MetadataAssembler.onData() ignores unsolicited and duplicate pieces", () => {
  const asm = new MetadataAssembler({ infoHash: HASH });
  asm.offerSize("a", SIZE);
  asm.offerSize("b", SIZE);
  assertEquals(asm.onData("a", 0, SIZE, slice(META, 0)), {
    done: false,
    status: "ignored",
    reason: "piece 0 was not requested",
  });
  asm.nextRequests("a", 1);
  assertEquals(asm.onData("a", 0, SIZE, slice(META, 0)).status, "accepted");
  assertEquals(asm.onData("a", 0, SIZE, slice(META, 0)), {
    done: false,
    status: "ignored",
    reason: "piece 0 already received",
  });
  assert(!asm.isBanned("a"));
});

Deno.test("MetadataAssembler.onData() copies the data it keeps", () => {
  const asm = new MetadataAssembler({ infoHash: HASH });
  asm.offerSize("a", SIZE);
  asm.nextRequests("a", 3);
  const buffer = slice(META, 0);
  asm.onData("a", 0, SIZE, buffer);
  buffer.fill(0); // the network buffer is reused
  asm.onData("a", 1, SIZE, slice(META, 1));
  const r = asm.onData("a", 2, SIZE, slice(META, 2));
  assertEquals(r.done && r.infoBytes, META);
});

Deno.test("MetadataAssembler.onReject() frees the piece for others and never re-asks the peer", () => {
  const asm = new MetadataAssembler({ infoHash: HASH });
  asm.offerSize("a", SIZE);
  asm.offerSize("b", SIZE);
  assertEquals(asm.nextRequests("a", 1), [0]);
  asm.onReject("a", 0);
  assertEquals(asm.nextRequests("a", 1), [1]);
  assertEquals(asm.nextRequests("b", 1), [0]);
  asm.onReject("a", 99); // out of range: ignored
  asm.assertInvariants();
  asm.offerSize("a", SIZE); // a new extension handshake: it may be asked again
  asm.onReject("b", 0);
  assertEquals(asm.nextRequests("a", 1), [0]);
});

Deno.test("MetadataAssembler.expire() releases requests older than the timeout", () => {
  const asm = new MetadataAssembler({ infoHash: HASH, requestTimeoutMs: 10_000 });
  asm.offerSize("slow", SIZE);
  asm.offerSize("fast", SIZE);
  assertEquals(asm.nextRequests("slow", 2, 1_000), [0, 1]);
  assertEquals(asm.nextRequests("fast", 1, 5_000), [2]);
  assertEquals(asm.expire(10_999), []);
  assertEquals(asm.expire(11_000), ["slow"]);
  // late data from the slow peer is still welcome while nobody else was asked
  assertEquals(asm.onData("slow", 0, SIZE, slice(META, 0)).status, "accepted");
  assertEquals(asm.nextRequests("fast", 2, 12_000), [1]);
  assertEquals(asm.onData("slow", 1, SIZE, slice(META, 1)).status, "ignored");
  asm.assertInvariants();
});

Deno.test("MetadataAssembler.removePeer() falls back to another peer's size", () => {
  const asm = new MetadataAssembler({ infoHash: HASH });
  asm.offerSize("a", 1000);
  assertEquals(asm.offerSize("b", SIZE), false);
  asm.nextRequests("a", 1);
  asm.removePeer("a");
  assertEquals(asm.metadataSize, SIZE);
  assert(asm.isUsable("b"));
  assertEquals(asm.nextRequests("b", 5), [0, 1, 2]);
  asm.assertInvariants();
});

Deno.test("MetadataAssembler discards a hash mismatch, strikes the liar, then succeeds (EX4)", () => {
  for (const order of [["liar", "h1", "h2"], ["h1", "liar", "h2"]]) {
    const asm = new MetadataAssembler({ infoHash: HASH });
    const servers = new Map(order.map((id) => [
      id,
      new MetadataServer(id === "liar" ? corrupt(META) : META),
    ]));
    for (const id of order) asm.offerSize(id, SIZE);
    const results = drive(asm, servers);
    const mismatch = results.find((r) => r.status === "hash-mismatch")!;
    assertEquals(mismatch.status === "hash-mismatch" && [...mismatch.struck].sort(), [
      "h1",
      "h2",
      "liar",
    ]);
    const done = results.at(-1)!;
    assert(done.done, `order ${order}: ${JSON.stringify(results.map((r) => r.status))}`);
    assertEquals(done.infoBytes, META);
    assertEquals(done.liars, ["liar"]);
    assert(!asm.isBanned("h1") && !asm.isBanned("h2"));
    assert(asm.strikesOf("h1") <= 1 && asm.strikesOf("h2") <= 1);
  }
});

Deno.test("MetadataAssembler bans a sole sender whose metadata fails the hash (EX4)", () => {
  const asm = new MetadataAssembler({ infoHash: HASH });
  const liar = new MetadataServer(corrupt(META));
  asm.offerSize("liar", SIZE);
  const results = drive(asm, new Map([["liar", liar]]), 3);
  assertEquals(results.at(-1), {
    done: false,
    status: "hash-mismatch",
    struck: ["liar"],
    banned: ["liar"],
  });
  assert(asm.isBanned("liar"));
  assertEquals(asm.piecesReceived, 0); // everything discarded
  assertEquals(asm.metadataSize, undefined); // nobody left who offered it
  asm.offerSize("honest", SIZE);
  const r = drive(asm, new Map(honest("honest")), 3).at(-1)!;
  assertEquals(r.done && r.infoBytes, META);
});

Deno.test("MetadataAssembler recovers when the first size offered was a lie", () => {
  const asm = new MetadataAssembler({ infoHash: HASH });
  const fake = new SeededRandom(9).bytes(1000);
  asm.offerSize("liar", fake.length);
  assertEquals(asm.offerSize("honest", SIZE), false); // disagrees with the first size
  const servers = new Map([["liar", new MetadataServer(fake)], ...honest("honest")]);
  const results = drive(asm, servers, 3);
  assertEquals(results.map((r) => r.status), ["hash-mismatch", "accepted", "accepted", "complete"]);
  assert(asm.isBanned("liar"));
  assertEquals(asm.infoBytes, META);
});

Deno.test("MetadataAssembler retries from one source at a time after a mismatch", () => {
  const asm = new MetadataAssembler({ infoHash: HASH });
  const servers = new Map([["liar", new MetadataServer(corrupt(META))], ...honest("h1")]);
  for (const id of servers.keys()) asm.offerSize(id, SIZE);
  assertEquals(asm.nextRequests("liar", 2), [0, 1]);
  assertEquals(asm.nextRequests("h1", 2), [2]);
  for (const [id, p] of [["liar", 0], ["liar", 1], ["h1", 2]] as const) {
    answer(asm, servers.get(id)!, id, p);
  }
  assertEquals(asm.piecesReceived, 0);
  assertEquals(asm.nextRequests("h1", 3), [0, 1, 2]); // h1 asked first: sole source
  assertEquals(asm.nextRequests("liar", 3), []);
  asm.releasePeer("h1"); // h1 timed out: the liar gets its turn
  assertEquals(asm.nextRequests("liar", 3), [0, 1, 2]);
  asm.assertInvariants();
});

Deno.test("MetadataAssembler bans a peer after maxStrikes mismatches", () => {
  const asm = new MetadataAssembler({ infoHash: HASH, maxStrikes: 1 });
  const servers = new Map([["liar", new MetadataServer(corrupt(META))], ...honest("h1")]);
  for (const id of servers.keys()) asm.offerSize(id, SIZE);
  const mismatch = drive(asm, servers).find((r) => r.status === "hash-mismatch");
  assertEquals(mismatch, {
    done: false,
    status: "hash-mismatch",
    struck: ["liar", "h1"],
    banned: ["liar", "h1"],
  });
});

const BAD_OPTIONS: [string, () => unknown][] = [
  ["a 19-byte info-hash", () => new MetadataAssembler({ infoHash: new Uint8Array(19) })],
  ["maxMetadataBytes 0", () => new MetadataAssembler({ infoHash: HASH, maxMetadataBytes: 0 })],
  ["requestTimeoutMs -1", () => new MetadataAssembler({ infoHash: HASH, requestTimeoutMs: -1 })],
];

for (const [why, fn] of BAD_OPTIONS) {
  Deno.test(`new MetadataAssembler() throws RangeError for ${why}`, () => {
    assertThrows(fn, RangeError, "Cannot create MetadataAssembler");
  });
}

Deno.test("MetadataAssembler keeps its invariants under random operations from hostile peers", () => {
  const peers = ["a", "b", "c", "liar"];
  let completed = 0;
  for (let seed = 1; seed <= 300; seed++) {
    const r = new SeededRandom(seed);
    const asm = new MetadataAssembler({ infoHash: HASH, requestTimeoutMs: 1000 });
    const liarMeta = corrupt(META);
    const asked: [string, number][] = [];
    let now = 0;
    for (let step = 0; step < 300 && asm.infoBytes === undefined; step++) {
      const peer = peers[r.int(peers.length)]!;
      now += r.int(100);
      const op = r.int(10);
      if (op === 0) asm.offerSize(peer, [SIZE, SIZE, SIZE, -1, 0, 100, 2 ** 30][r.int(7)]!);
      else if (op <= 2) {
        for (const p of asm.nextRequests(peer, 1 + r.int(3), now)) asked.push([peer, p]);
      } else if (op <= 5 && asked.length > 0) {
        const [who, piece] = asked.splice(r.int(asked.length), 1)[0]!;
        const good = slice(who === "liar" ? liarMeta : META, piece);
        const data = r.next() < 0.95 ? good : r.bytes(r.int(20_000));
        asm.onData(who, piece, r.next() < 0.98 ? SIZE : r.int(SIZE * 2), data);
      } else if (op === 6) asm.onData(peer, r.int(5) - 1, SIZE, r.bytes(r.int(17_000)));
      else if (op === 7) asm.onReject(peer, r.int(5) - 1);
      else if (op === 8) asm.expire(now);
      else if (r.next() < 0.2) asm.removePeer(peer);
      else asm.releasePeer(peer);
      asm.assertInvariants();
    }
    if (asm.infoBytes !== undefined) {
      assertEquals(asm.infoBytes, META); // the liar's bytes are never accepted
      completed++;
    }
  }
  assert(completed >= 100, `only ${completed} of 300 runs completed`);
});
