/**
 * Seeded fuzz of the tracker server's decoders of remote bytes (STYLE §7): HTTP announce
 * and scrape queries (parseQuery and the whole handler) and UDP requests (the handler,
 * whose codec udp_codec_test.ts fuzzes on its own). Every input is answered or refused;
 * none throws, none reaches the handler's "Internal error" guard, and a UDP sender without
 * a valid connection id never gets more than a 16-byte connect reply (TS1).
 */
import { assert, assertEquals } from "../../../tests/assert.ts";
import { fuzzCases, fuzzCasesAsync, mutate } from "../../../tests/fuzz.ts";
import { type BencodeDict, decode, getText } from "../../bencode/mod.ts";
import { toLatin1 } from "../../util/bytes.ts";
import { SeededRandom } from "../../util/prng.ts";
import { percentEncodeBytes } from "../http_codec.ts";
import { TrackerSyntaxError } from "../tracker_errors.ts";
import { encodeUdpRequest } from "../udp_codec.ts";
import { ConnectionIds } from "./connection_ids.ts";
import { createHttpTrackerHandler } from "./http_handler.ts";
import { parseQuery } from "./query.ts";
import { SwarmStore } from "./swarm_store.ts";
import { UdpTrackerHandler } from "./udp_handler.ts";

const QUERY_TOKENS = new TextEncoder().encode("&=%+0123456789abcdefABCDEF");

function randomQuery(r: SeededRandom): string {
  const hash = percentEncodeBytes(r.bytes(20));
  const id = percentEncodeBytes(r.bytes(20));
  const fields = [`info_hash=${hash}`, `peer_id=${id}`, `port=${r.int(70_000)}`];
  if (r.int(2)) fields.push(`left=${r.int(1e9)}`, `uploaded=0`, `downloaded=${r.int(100)}`);
  if (r.int(2)) fields.push(`event=${["started", "stopped", "completed", "x"][r.int(4)]}`);
  if (r.int(2)) fields.push(`numwant=${r.int(2000) - 10}`, `compact=${r.int(2)}`);
  if (r.int(3) === 0) fields.push(`info_hash=${percentEncodeBytes(r.bytes(20))}`);
  return fields.join("&");
}

/** Makes a mutated query a valid URL tail: bytes outside printable ASCII, and `#`, escaped. */
function urlSafe(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) {
    out += b > 0x20 && b < 0x7f && b !== 0x23 ? String.fromCharCode(b) : `%${b.toString(16)}`;
  }
  return out;
}

Deno.test("fuzz: tracker server HTTP queries are answered or refused, never an internal error", async () => {
  const store = new SwarmStore({ random: new SeededRandom(1), intervalS: 900 });
  const handler = createHttpTrackerHandler({ store, now: () => 0 });
  const check = async (query: string) => {
    try {
      parseQuery(query);
    } catch (e) {
      if (!(e instanceof TrackerSyntaxError)) throw e;
    }
    for (const path of ["/announce", "/scrape"]) {
      const response = handler(new Request(`http://tracker.test${path}?${query}`), {
        host: "198.51.100.7",
        port: 50000,
      });
      assertEquals(response.status, 200);
      const body = decode(new Uint8Array(await response.arrayBuffer())) as BencodeDict;
      assert(getText(body, "failure reason") !== "Internal error", `${path}?${query}`);
    }
  };
  await fuzzCasesAsync("tracker-server-http", async (r) => {
    const query = randomQuery(r);
    await check(query);
    await check(urlSafe(mutate(r, new TextEncoder().encode(query), { tokens: QUERY_TOKENS })));
  }, (bytes) => check(urlSafe(bytes)));
});

Deno.test("fuzz: tracker server UDP requests are answered or dropped; without a valid id, at most 16 bytes", () => {
  const ids = new ConnectionIds(new SeededRandom(2).bytes(32));
  const store = new SwarmStore({ random: new SeededRandom(3), intervalS: 900 });
  const handler = new UdpTrackerHandler({ store, ids, connectsPerSecondPerPrefix: 1e9 });
  const from = { host: "198.51.100.9", port: 6881 };
  const check = (bytes: Uint8Array, validId: boolean) => {
    const reply = handler.handle(bytes, from, 0);
    if (!validId) assert(reply === undefined || reply.length <= 16, `${reply?.length} bytes`);
  };
  fuzzCases("tracker-server-udp", (r) => {
    const valid = r.int(2) === 1;
    const connectionId = valid ? ids.issue(from, 0) : r.bytes(8);
    const kind = r.int(3);
    const request = kind === 0
      ? encodeUdpRequest({ action: "connect", transactionId: r.int(2 ** 31) })
      : kind === 1
      ? encodeUdpRequest({
        action: "announce",
        connectionId,
        transactionId: r.int(2 ** 31),
        infoHash: r.bytes(20),
        peerId: r.bytes(20),
        downloaded: r.int(1e6),
        left: r.int(1e6),
        uploaded: 0,
        event: (["started", "stopped", "completed", undefined] as const)[r.int(4)],
        ip: 0,
        key: r.int(1000),
        numwant: r.int(300) - 1,
        port: r.int(65536),
      })
      : encodeUdpRequest({
        action: "scrape",
        connectionId,
        transactionId: r.int(2 ** 31),
        infoHashes: Array.from({ length: 1 + r.int(74) }, () => r.bytes(20)),
      });
    check(request, valid && kind !== 0);
    const bad = mutate(r, request, { maxRun: 8 });
    const keepsId = toLatin1(bad.subarray(0, 8)) === toLatin1(ids.issue(from, 0));
    check(bad, keepsId);
    check(r.bytes(r.int(120)), false);
  }, (bytes) => check(bytes, false));
});
