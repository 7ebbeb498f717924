/**
 * DHT hot paths: routing-table insert and closest-k with 10,000 candidate nodes,
 * and KRPC decode of typical datagrams.
 * Run: `deno bench -A bench/dht_bench.ts`.
 * @module
 */
import { decodeKrpc, encodeKrpc, type KrpcMessage, RoutingTable } from "../src/dht/mod.ts";
import type { DhtContact } from "../src/dht/mod.ts";
import { SeededRandom } from "../src/util/prng.ts";

const random = new SeededRandom(1);
const SELF = random.bytes(20);
const CANDIDATES: DhtContact[] = Array.from({ length: 10_000 }, (_, i) => ({
  id: random.bytes(20),
  address: { host: `11.${i >> 16 & 255}.${i >> 8 & 255}.${i & 255}`, port: 6881 },
}));
const TARGETS = Array.from({ length: 256 }, () => random.bytes(20));

function filledTable(): RoutingTable {
  const table = new RoutingTable(SELF);
  for (const c of CANDIDATES) table.insert(c, 0);
  return table;
}

Deno.bench(
  "RoutingTable.insert() x 10,000 random nodes",
  { group: "routing", baseline: true },
  () => {
    filledTable();
  },
);

const FULL = filledTable();
let t = 0;
Deno.bench(`RoutingTable.closest(k = 8) over ${FULL.size} nodes (10,000 offered)`, {
  group: "routing",
}, () => {
  FULL.closest(TARGETS[t++ & 255]!, 8);
});

const nodes = CANDIDATES.slice(0, 8);
const samples: [string, KrpcMessage][] = [
  ["get_peers query", {
    kind: "query",
    method: "get_peers",
    transactionId: random.bytes(4),
    id: SELF,
    infoHash: random.bytes(20),
    version: random.bytes(4),
  }],
  ["find_node response (8 nodes)", {
    kind: "response",
    transactionId: random.bytes(4),
    id: SELF,
    nodes,
    requesterAddress: { host: "1.2.3.4", port: 6881 },
  }],
  ["get_peers response (50 values + 8 nodes)", {
    kind: "response",
    transactionId: random.bytes(4),
    id: SELF,
    token: random.bytes(8),
    nodes,
    values: CANDIDATES.slice(0, 50).map((c) => c.address),
  }],
];
for (const [name, message] of samples) {
  const bytes = encodeKrpc(message);
  Deno.bench(`decodeKrpc() ${name}, ${bytes.length} B`, {
    group: "krpc",
    baseline: name.endsWith("query"),
  }, () => {
    decodeKrpc(bytes);
  });
}
