import { assert, assertEquals } from "../../tests/assert.ts";
import type { PeerAddress } from "../runtime/types.ts";
import { SeededRandom } from "../util/prng.ts";
import { answerQuery, type ServerState } from "./_server.ts";
import { decodeKrpc, encodeKrpc, type KrpcMessage, type KrpcQuery } from "./krpc.ts";
import { PeerStore } from "./peer_store.ts";
import { RoutingTable } from "./routing_table.ts";
import { TokenSecrets } from "./tokens.ts";

const FROM: PeerAddress = { host: "11.1.1.1", port: 4000 };
const HASH = new Uint8Array(20).fill(9);
const T = new Uint8Array([1, 2]);
const ID = new Uint8Array(20).fill(3);

function state(): ServerState {
  const random = new SeededRandom(1);
  const table = new RoutingTable(new Uint8Array(20));
  for (let i = 0; i < 40; i++) {
    table.insert({ id: random.bytes(20), address: { host: `12.0.${i}.1`, port: 1 } }, 0);
  }
  return {
    id: new Uint8Array(20),
    table,
    tokens: new TokenSecrets(random, 0),
    peers: new PeerStore(),
    random,
    k: 8,
    allowLocalAddresses: false,
    version: undefined,
  };
}

function ask(s: ServerState, q: KrpcQuery, from = FROM, now = 0): KrpcMessage {
  const bytes = encodeKrpc(q);
  const answer = answerQuery(q, from, bytes.length, s, now);
  assert(answer.bytes.length <= 10 * bytes.length, "reply ≤ 10× request (D2)");
  return decodeKrpc(answer.bytes);
}

const base = { kind: "query", transactionId: T, id: ID } as const;

Deno.test("answerQuery() answers ping with our id, the same t and the requester's address (BEP 42)", () => {
  const r = ask(state(), { ...base, method: "ping" });
  assertEquals(r, {
    kind: "response",
    transactionId: T,
    id: new Uint8Array(20),
    requesterAddress: FROM,
  });
});

Deno.test("answerQuery() answers find_node with the 8 closest verified nodes", () => {
  const s = state();
  const target = new Uint8Array(20).fill(0xaa);
  const r = ask(s, { ...base, method: "find_node", target });
  assert(r.kind === "response");
  assertEquals(r.nodes, s.table.closest(target));
  assertEquals(r.nodes?.length, 8);
});

Deno.test("answerQuery() stores an announce only with a valid token for that IP and hash (D3)", () => {
  const s = state();
  const r = ask(s, { ...base, method: "get_peers", infoHash: HASH });
  assert(r.kind === "response" && r.token !== undefined && r.values === undefined);
  const token = r.token;
  const announce = (over: Partial<Extract<KrpcQuery, { method: "announce_peer" }>>, from = FROM) =>
    ask(
      s,
      {
        ...base,
        method: "announce_peer",
        infoHash: HASH,
        port: 6881,
        impliedPort: false,
        token,
        ...over,
      },
      from,
      60_000,
    );
  const cases: [string, KrpcMessage, string | number][] = [
    ["a forged token", announce({ token: new Uint8Array(8) }), 203],
    ["another IP's token", announce({}, { host: "11.1.1.2", port: 4000 }), 203],
    ["another info-hash", announce({ infoHash: new Uint8Array(20) }), 203],
    ["port 0", announce({ port: 0 }), 203],
    ["a valid token", announce({}), "response"],
    ["implied_port", announce({ impliedPort: true, port: 0 }), "response"],
  ];
  for (const [name, reply, want] of cases) {
    assertEquals(reply.kind === "error" ? reply.code : reply.kind, want, name);
  }
  const after = ask(s, { ...base, method: "get_peers", infoHash: HASH });
  assert(after.kind === "response");
  assertEquals(after.values?.map((p) => p.port).sort(), [4000, 6881]);
});

Deno.test("answerQuery() trims a big values list so the reply stays within 10x the query (D2)", () => {
  const s = state();
  for (let i = 0; i < 500; i++) {
    s.peers.announce(HASH, { host: `13.0.${i >> 8}.${i & 255}`, port: 1 }, 0);
  }
  const q: KrpcQuery = { ...base, method: "get_peers", infoHash: HASH };
  const r = ask(s, q);
  assert(r.kind === "response" && r.values !== undefined);
  assert(r.values.length > 50 && r.values.length < 100, `${r.values.length} values`);
});

Deno.test("answerQuery() answers an unknown method with error 204", () => {
  const r = ask(state(), { ...base, method: "unknown", name: "vote" });
  assertEquals(r.kind === "error" && r.code, 204);
});
