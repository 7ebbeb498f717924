import { assert, assertEquals, assertThrows } from "../../tests/assert.ts";
import { fuzzCases, mutate } from "../../tests/fuzz.ts";
import type { Random } from "../runtime/types.ts";
import { fromLatin1, toLatin1 } from "../util/bytes.ts";
import { formatIp } from "./_address.ts";
import { decodeCompactNodes, encodeCompactNodes, encodeCompactPeer } from "./compact.ts";
import { decodeKrpc, encodeKrpc, type KrpcMessage, KrpcSyntaxError } from "./krpc.ts";

const A = "abcdefghij0123456789";
const M = "mnopqrstuvwxyz123456";
const b = fromLatin1;

// BEP 5 "KRPC Protocol" examples, verbatim.
const SPEC: [string, string, KrpcMessage][] = [
  ["ping query", `d1:ad2:id20:${A}e1:q4:ping1:t2:aa1:y1:qe`, {
    kind: "query",
    method: "ping",
    transactionId: b("aa"),
    id: b(A),
  }],
  ["ping response", `d1:rd2:id20:${M}e1:t2:aa1:y1:re`, {
    kind: "response",
    transactionId: b("aa"),
    id: b(M),
  }],
  ["find_node query", `d1:ad2:id20:${A}6:target20:${M}e1:q9:find_node1:t2:aa1:y1:qe`, {
    kind: "query",
    method: "find_node",
    transactionId: b("aa"),
    id: b(A),
    target: b(M),
  }],
  ["get_peers query", `d1:ad2:id20:${A}9:info_hash20:${M}e1:q9:get_peers1:t2:aa1:y1:qe`, {
    kind: "query",
    method: "get_peers",
    transactionId: b("aa"),
    id: b(A),
    infoHash: b(M),
  }],
  [
    "get_peers response with peers",
    `d1:rd2:id20:${A}5:token8:aoeusnth6:valuesl6:axje.u6:idhtnmee1:t2:aa1:y1:re`,
    {
      kind: "response",
      transactionId: b("aa"),
      id: b(A),
      token: b("aoeusnth"),
      values: [{ host: "97.120.106.101", port: 0x2e75 }, { host: "105.100.104.116", port: 0x6e6d }],
    },
  ],
  [
    "announce_peer query",
    `d1:ad2:id20:${A}12:implied_porti1e9:info_hash20:${M}4:porti6881e5:token8:aoeusnthe1:q13:announce_peer1:t2:aa1:y1:qe`,
    {
      kind: "query",
      method: "announce_peer",
      transactionId: b("aa"),
      id: b(A),
      infoHash: b(M),
      port: 6881,
      impliedPort: true,
      token: b("aoeusnth"),
    },
  ],
  ["error", "d1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee", {
    kind: "error",
    transactionId: b("aa"),
    code: 201,
    message: "A Generic Error Ocurred",
  }],
];

for (const [name, wire, message] of SPEC) {
  Deno.test(`decodeKrpc() reads the BEP 5 ${name} example`, () => {
    assertEquals(decodeKrpc(b(wire)), message);
  });
  Deno.test(`encodeKrpc() writes the BEP 5 ${name} example byte for byte`, () => {
    assertEquals(toLatin1(encodeKrpc(message)), wire);
  });
}

const deep = "l".repeat(11) + "e".repeat(11);
// RELIABILITY D1: every row must be rejected with a KrpcSyntaxError.
const MALFORMED: [string, string][] = [
  ["a non-dictionary (integer)", "i42e"],
  ["a non-dictionary (list)", "le"],
  ["a non-dictionary (string)", "4:spam"],
  ["broken bencode", "d1:t2:aa"],
  ["depth over 10", `d1:ad2:id20:${A}1:x${deep}e1:q4:ping1:t2:aa1:y1:qe`],
  ["over 500 tokens", `d1:ad2:id20:${A}1:xl${"i1e".repeat(600)}ee1:q4:ping1:t2:aa1:y1:qe`],
  ["a missing t", `d1:ad2:id20:${A}e1:q4:ping1:y1:qe`],
  ["a missing y", `d1:ad2:id20:${A}e1:q4:ping1:t2:aae`],
  ["an unknown y", `d1:ad2:id20:${A}e1:q4:ping1:t2:aa1:y1:xe`],
  [
    "nodes of 9 bytes (BEP 5's own placeholder)",
    `d1:rd2:id20:${A}5:nodes9:def456...e1:t2:aa1:y1:re`,
  ],
  ["nodes of 27 bytes", `d1:rd2:id20:${A}5:nodes27:${"x".repeat(27)}e1:t2:aa1:y1:re`],
  ["nodes6 of 26 bytes", `d1:rd2:id20:${A}6:nodes626:${"x".repeat(26)}e1:t2:aa1:y1:re`],
  ["a 19-byte query id", `d1:ad2:id19:${A.slice(1)}e1:q4:ping1:t2:aa1:y1:qe`],
  ["a 21-byte response id", `d1:rd2:id21:${A}xe1:t2:aa1:y1:re`],
  ["a missing a", "d1:q4:ping1:t2:aa1:y1:qe"],
  ["a missing r", "d1:t2:aa1:y1:re"],
  ["a short target", `d1:ad2:id20:${A}6:target3:abce1:q9:find_node1:t2:aa1:y1:qe`],
  [
    "announce without a token",
    `d1:ad2:id20:${A}9:info_hash20:${M}4:porti1ee1:q13:announce_peer1:t2:aa1:y1:qe`,
  ],
  [
    "announce port 70000",
    `d1:ad2:id20:${A}9:info_hash20:${M}4:porti70000e5:token1:xe1:q13:announce_peer1:t2:aa1:y1:qe`,
  ],
  ["a values entry of 5 bytes", `d1:rd2:id20:${A}6:valuesl5:abcdeee1:t2:aa1:y1:re`],
  ["an error without a code", "d1:el3:abce1:t2:aa1:y1:ee"],
];

for (const [name, wire] of MALFORMED) {
  Deno.test(`decodeKrpc() rejects ${name}`, () => {
    const e = assertThrows(() => decodeKrpc(b(wire)), KrpcSyntaxError);
    assert(e instanceof SyntaxError && typeof e.offset === "number");
  });
}

Deno.test("decodeKrpc() keeps the transaction id of a malformed query for error 203", () => {
  const e = assertThrows(
    () => decodeKrpc(b(`d1:ad2:id3:abce1:q4:ping1:t2:zz1:y1:qe`)),
    KrpcSyntaxError,
  );
  assertEquals(e.isQuery, true);
  assertEquals(toLatin1(e.transactionId!), "zz");
});

Deno.test("decodeKrpc() reads unknown methods, ro, want, v and the BEP 42 ip field", () => {
  const q = decodeKrpc(
    b(`d1:ad2:id20:${A}4:wantl2:n42:n6ee1:q6:sample2:roi1e1:t2:aa1:v4:LT\x01\x021:y1:qe`),
  );
  assertEquals(q, {
    kind: "query",
    method: "unknown",
    name: "sample",
    transactionId: b("aa"),
    id: b(A),
    readOnly: true,
    want: ["n4", "n6"],
    version: b("LT\x01\x02"),
  });
  const ip = toLatin1(encodeCompactPeer({ host: "1.2.3.4", port: 80 }));
  const r = decodeKrpc(b(`d2:ip6:${ip}1:rd2:id20:${M}e1:t2:aa1:y1:re`));
  assertEquals(r.kind === "response" && r.requesterAddress, { host: "1.2.3.4", port: 80 });
});

Deno.test("decodeCompactNodes() reads 26- and 38-byte entries and refuses ragged lengths", () => {
  const nodes = [
    { id: new Uint8Array(20).fill(1), address: { host: "1.2.3.4", port: 1 } },
    { id: new Uint8Array(20).fill(2), address: { host: "2001:db8::1", port: 65535 } },
  ];
  assertEquals(decodeCompactNodes(encodeCompactNodes(nodes, 4), 4), [nodes[0]!]);
  assertEquals(decodeCompactNodes(encodeCompactNodes(nodes, 6), 6), [nodes[1]!]);
  assertEquals(encodeCompactNodes(nodes, 4).length, 26);
  assertEquals(encodeCompactNodes(nodes, 6).length, 38);
  assertEquals(decodeCompactNodes(new Uint8Array(25), 4), undefined);
});

function pick<T>(random: Random, items: readonly T[]): T {
  return items[random.int(items.length)]!;
}

function randomPeer(random: Random) {
  const v6 = random.next() < 0.3;
  return { host: formatIp(random.bytes(v6 ? 16 : 4)), port: random.int(65536) };
}

function randomMessage(random: Random): KrpcMessage {
  const transactionId = random.bytes(1 + random.int(4));
  const common = random.next() < 0.5
    ? { transactionId }
    : { transactionId, version: random.bytes(4) };
  const id = random.bytes(20);
  const q = { ...common, kind: "query" as const, id };
  switch (random.int(7)) {
    case 0:
      return { ...q, method: "ping" };
    case 1:
      return { ...q, method: "find_node", target: random.bytes(20), readOnly: true };
    case 2:
      return { ...q, method: "get_peers", infoHash: random.bytes(20), want: ["n4"] };
    case 3:
      return {
        ...q,
        method: "announce_peer",
        infoHash: random.bytes(20),
        port: 1 + random.int(65535),
        impliedPort: random.next() < 0.5,
        token: random.bytes(random.int(20)),
      };
    case 4:
      return { ...q, method: "unknown", name: pick(random, ["get", "put", "sample_infohashes"]) };
    case 5: {
      const n = random.int(9);
      const contacts = Array.from({ length: n }, () => ({
        id: random.bytes(20),
        address: { host: formatIp(random.bytes(4)), port: random.int(65536) },
      }));
      const r = { ...common, kind: "response" as const, id, nodes: contacts };
      return random.next() < 0.5 ? r : {
        ...r,
        token: random.bytes(8),
        values: Array.from({ length: random.int(5) }, () => randomPeer(random)),
        requesterAddress: randomPeer(random),
      };
    }
    default:
      return {
        ...common,
        kind: "error",
        code: 201 + random.int(4),
        message: pick(random, ["", "Bad token", "Method Unknown"]),
      };
  }
}

function decodeOrSyntaxError(bytes: Uint8Array): void {
  try {
    const msg = decodeKrpc(bytes);
    assertEquals(decodeKrpc(encodeKrpc(msg)), msg); // whatever decodes re-encodes losslessly
  } catch (e) {
    if (!(e instanceof KrpcSyntaxError)) throw e;
  }
}

Deno.test("fuzz krpc: decode(encode(x)) equals x; mutated bytes decode or throw KrpcSyntaxError", () => {
  fuzzCases("krpc", (random) => {
    const message = randomMessage(random);
    const bytes = encodeKrpc(message);
    assertEquals(decodeKrpc(bytes), message);
    decodeOrSyntaxError(
      mutate(random, bytes, { tokens: [0x64, 0x6c, 0x65, 0x69, 0x3a, 0x30, 0x39] }),
    );
  }, decodeOrSyntaxError);
});
