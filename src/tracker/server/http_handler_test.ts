import { assert, assertEquals } from "../../../tests/assert.ts";
import { type BencodeDict, decode, getBytes, getInt, getList, getText } from "../../bencode/mod.ts";
import { fromLatin1 } from "../../util/bytes.ts";
import { SeededRandom } from "../../util/prng.ts";
import { decodeCompactPeers } from "../compact_peers.ts";
import { percentEncodeBytes } from "../http_codec.ts";
import { createHttpTrackerHandler } from "./http_handler.ts";
import { SwarmStore } from "./swarm_store.ts";

const HASH = Uint8Array.from({ length: 20 }, (_, i) => 0xf0 + (i % 16));
const H = percentEncodeBytes(HASH);

function setup(allowlist?: string[]) {
  const store = new SwarmStore({
    random: new SeededRandom(1),
    intervalS: 900,
    ...(allowlist ? { allowlist } : {}),
  });
  const handler = createHttpTrackerHandler({
    store,
    now: () => 0,
    extraStats: () => ({ udp_connects: 4 }),
  });
  const get = async (path: string, host = "198.51.100.7") => {
    const response = handler(new Request(`http://tracker.test${path}`), { host, port: 50000 });
    return {
      status: response.status,
      type: response.headers.get("content-type"),
      body: new Uint8Array(await response.arrayBuffer()),
    };
  };
  return { store, get };
}

function dict(body: Uint8Array): BencodeDict {
  return decode(body) as BencodeDict;
}

function announcePath(n: number, extra = ""): string {
  const id = percentEncodeBytes(new Uint8Array(20).fill(n));
  return `/announce?info_hash=${H}&peer_id=${id}&port=${6000 + n}&uploaded=0&downloaded=0&left=${
    n % 2
  }${extra}`;
}

Deno.test("HTTP /announce answers compact peers, counts and intervals; ip= is ignored (TS3)", async () => {
  const { get } = setup();
  await get(announcePath(1, "&ip=203.0.113.9&ipv4=203.0.113.9"), "198.51.100.1");
  await get(announcePath(2), "2001:db8::2");
  const r = await get(announcePath(3, "&event=started&key=abc"), "198.51.100.3");
  assertEquals([r.status, r.type], [200, "text/plain; charset=utf-8"]);
  const d = dict(r.body);
  assertEquals([
    getInt(d, "interval"),
    getInt(d, "min interval"),
    getInt(d, "complete"),
    getInt(d, "incomplete"),
  ], [900, 60, 1, 2]);
  assertEquals(decodeCompactPeers(getBytes(d, "peers")!, 4, 10), [{
    host: "198.51.100.1",
    port: 6001,
  }]);
  assertEquals(decodeCompactPeers(getBytes(d, "peers6")!, 6, 10), [{
    host: "2001:db8::2",
    port: 6002,
  }]);
});

Deno.test("HTTP /announce with compact=0 answers dictionary peers", async () => {
  const { get } = setup();
  await get(announcePath(1), "198.51.100.1");
  const d = dict((await get(announcePath(2, "&compact=0"), "198.51.100.2")).body);
  const [peer] = getList(d, "peers") as BencodeDict[];
  assertEquals([getText(peer!, "ip"), getInt(peer!, "port"), getBytes(peer!, "peer id")], [
    "198.51.100.1",
    6001,
    new Uint8Array(20).fill(1),
  ]);
  const d2 = dict((await get(announcePath(2, "&compact=0&no_peer_id=1"), "198.51.100.2")).body);
  assertEquals((getList(d2, "peers") as BencodeDict[])[0]!.has("peer id"), false);
});

Deno.test("HTTP /announce answers malformed requests with a bencoded failure reason and HTTP 200", async () => {
  const { get } = setup(["00".repeat(20)]);
  const id = percentEncodeBytes(new Uint8Array(20));
  const cases: [string, string][] = [
    ["/announce", "Invalid info_hash"],
    [`/announce?info_hash=${H}`, "Invalid peer_id"],
    [`/announce?info_hash=${H}&peer_id=${id}`, "Missing port"],
    [`/announce?info_hash=${H}&peer_id=${id}&port=x`, "Invalid port"],
    [`/announce?info_hash=${H}&peer_id=${id}&port=0`, "Invalid port 0"],
    [`/announce?info_hash=${H}&peer_id=${id}&port=1&event=paused`, "Invalid event"],
    [`/announce?info_hash=${H}&peer_id=${id}&port=1`, "not authorized"],
    [`/announce?info_hash=%zz`, "bad percent escape"],
    [`/announce?x=${"a".repeat(9000)}`, "Request too long"],
  ];
  for (const [path, reason] of cases) {
    const r = await get(path);
    assertEquals(r.status, 200, path);
    const text = getText(dict(r.body), "failure reason")!;
    assert(text.includes(reason), `${path}: ${text}`);
  }
});

Deno.test("HTTP /scrape keys files by raw 20-byte info-hashes", async () => {
  const { get } = setup();
  await get(announcePath(1), "198.51.100.1");
  await get(announcePath(2, "&event=completed"), "198.51.100.2");
  const other = new Uint8Array(20).fill(9);
  const d = dict((await get(`/scrape?info_hash=${H}&info_hash=${percentEncodeBytes(other)}`)).body);
  const files = d.get("files") as BencodeDict;
  const entry = files.get(String.fromCharCode(...HASH)) as BencodeDict;
  assertEquals([
    getInt(entry, "complete"),
    getInt(entry, "incomplete"),
    getInt(entry, "downloaded"),
  ], [1, 1, 1]);
  assertEquals([...files.keys()].map(fromLatin1), [other, HASH]); // raw keys, sorted as bytes
  assertEquals(
    getText(dict((await get("/scrape")).body), "failure reason"),
    "Full scrape is disabled",
  );
});

Deno.test("HTTP /stats serves HTML and JSON; other paths get 404 and other methods 405", async () => {
  const { get, store } = setup();
  await get(announcePath(1), "198.51.100.1");
  const json = await get("/stats?format=json");
  assertEquals(json.type, "application/json");
  const stats = JSON.parse(new TextDecoder().decode(json.body));
  assertEquals([stats.swarms, stats.peers, stats.seeders, stats.leechers, stats.udp_connects], [
    1,
    1,
    0,
    1,
    4,
  ]);
  assertEquals(stats.top[0].infoHash, Array.from(HASH, (b) => b.toString(16)).join(""));
  const html = await get("/stats");
  assertEquals(html.type, "text/html; charset=utf-8");
  assert(new TextDecoder().decode(html.body).includes("<th>peers</th><td>1</td>"));
  assertEquals((await get("/admin")).status, 404);
  const handler = createHttpTrackerHandler({ store, now: () => 0 });
  assertEquals(
    handler(new Request("http://t/announce", { method: "POST" }), { host: "1.1.1.1", port: 1 })
      .status,
    405,
  );
});

Deno.test("HTTP /stats scans the store at most once per refresh and lists at most 20 swarms", async () => {
  // Five /stats requests over 100,000 swarms once took the tracker to 753 MiB: each built,
  // hex-encoded and sorted an object per swarm.
  let t = 0;
  const store = new SwarmStore({ random: new SeededRandom(1) });
  for (let n = 0; n < 500; n++) {
    const hash = new Uint8Array(20);
    new DataView(hash.buffer).setUint32(0, n);
    for (let p = 0; p <= n % 7; p++) {
      store.announce(0, hash, { ip: `10.0.${p}.1`, port: 1 + n, peerId: hash, left: 1 });
    }
  }
  let scans = 0;
  const topSwarms = store.topSwarms.bind(store);
  store.topSwarms = (limit) => {
    scans++;
    return topSwarms(limit);
  };
  const handler = createHttpTrackerHandler({ store, now: () => t });
  const remote = { host: "192.0.2.1", port: 1 };
  for (let i = 0; i < 50; i++) {
    const r = handler(new Request("http://t/stats?format=json"), remote);
    const page = await r.json();
    assertEquals(page.top.length, 20);
    assert(page.top.every((s: { incomplete: number }) => s.incomplete === 7));
    t += 100;
  }
  assertEquals(scans, 5); // 50 requests over 5 s, one scan a second
});
