/**
 * Web seeds (BEP 19) through a whole session on a virtual clock, with an in-memory HTTP
 * transport: torrents complete from a web seed alone (single-file, and multi-file with a
 * padding file), a web seed that misbehaves in each way is asked a bounded number of times
 * (back-off, never a loop) while a good one completes the torrent, one that keeps failing
 * alone is dropped after `webSeedMaxFailures`, a web seed whose data fails the hash is
 * dropped like a lying peer, and a local URL is refused unless local addresses are allowed.
 */
import { assert, assertEquals } from "../assert.ts";
import { Session } from "../../src/session/session.ts";
import { testSettings } from "../../src/session/settings.ts";
import type { Settings } from "../../src/session/settings.ts";
import { encode } from "../../src/bencode/mod.ts";
import { type Metainfo, parseTorrent } from "../../src/metainfo/mod.ts";
import { MemoryDiskIo } from "../../src/storage/mod.ts";
import { concatBytes } from "../../src/util/bytes.ts";
import { SeededRandom } from "../../src/util/prng.ts";
import { sha1 } from "../../src/util/sha1.ts";
import type { EngineEvent } from "../../src/session/events.ts";
import type { RangeFetcher, RangeResponse } from "../../src/session/web_seed_transport.ts";
import { VirtualClock } from "./virtual_clock.ts";
import { SimNetwork } from "./sim_network.ts";

const PIECE = 32 * 1024;

/** How a fake server misbehaves. */
type Mode =
  | "ok"
  | "404"
  | "500"
  | "short"
  | "long"
  | "ignore-range"
  | "wrong-range"
  | "corrupt"
  | "redirect-loop"
  | "no-length-long";

/** An in-memory web server: path → bytes, answering range requests per `mode`. */
class FakeServer implements RangeFetcher {
  readonly files = new Map<string, Uint8Array>();
  readonly requests: string[] = [];
  constructor(readonly clock: VirtualClock, readonly modes: Map<string, Mode>) {}

  fetchRange(url: string, o: { start: number; end: number }): Promise<RangeResponse> {
    const u = new URL(url);
    this.requests.push(`${u.host}${u.pathname} ${o.start}-${o.end}`);
    const mode = this.modes.get(u.host) ?? "ok";
    const data = this.files.get(decodeURIComponent(u.pathname));
    const answer = (status: number, body: Uint8Array, headers: Partial<RangeResponse> = {}) => {
      let sent = false;
      return Promise.resolve({
        status,
        contentLength: body.length,
        ...headers,
        read: () => {
          // one chunk, delivered 10 ms later: the clock moves while bodies arrive
          if (sent) return Promise.resolve(undefined);
          sent = true;
          return new Promise<Uint8Array>((r) => this.clock.schedule(10, () => r(body)));
        },
        cancel: () => Promise.resolve(),
      });
    };
    if (mode === "redirect-loop") {
      return answer(302, new Uint8Array(0), { location: `http://${u.host}/loop${u.pathname}` });
    }
    if (data === undefined || mode === "404") return answer(404, new Uint8Array(0));
    if (mode === "500") return answer(503, new Uint8Array(0));
    if (mode === "ignore-range") return answer(200, data);
    let body = data.slice(o.start, o.end + 1);
    const range = { contentRange: `bytes ${o.start}-${o.end}/${data.length}` };
    if (mode === "wrong-range") range.contentRange = `bytes 0-${o.end - o.start}/${data.length}`;
    if (mode === "short") return answer(206, body.slice(0, body.length >> 1), range);
    if (mode === "corrupt") body = body.map((b) => b ^ 0x55);
    if (mode === "long") return answer(206, concatBytes([body, new Uint8Array(100)]), range);
    if (mode === "no-length-long") {
      return answer(206, concatBytes([body, new Uint8Array(100)]), {
        ...range,
        contentLength: undefined,
      });
    }
    return answer(206, body, range);
  }
}

/** A torrent of `files` (path, length, padding?) with random content, and its bytes. */
function makeTorrent(
  files: [string[], number, boolean?][],
  urlList: string[],
  multi = true,
): { meta: Metainfo; content: Uint8Array; fileBytes: Uint8Array[] } {
  const random = new SeededRandom(9);
  const fileBytes = files.map(([, length, pad]) =>
    pad ? new Uint8Array(length) : random.bytes(length)
  );
  const content = concatBytes(fileBytes);
  const hashes: Uint8Array[] = [];
  for (let at = 0; at < content.length; at += PIECE) {
    hashes.push(sha1(content.subarray(at, at + PIECE)));
  }
  const info: Record<string, unknown> = {
    name: multi ? "set" : files[0]![0].at(-1)!,
    "piece length": PIECE,
    pieces: concatBytes(hashes),
  };
  if (multi) {
    info.files = files.map(([path, length, pad]) => ({
      length,
      path,
      ...(pad ? { attr: "p" } : {}),
    }));
  } else info.length = files[0]![1];
  const bytes = encode({ info, "url-list": urlList } as Parameters<typeof encode>[0]);
  return { meta: parseTorrent(bytes), content, fileBytes };
}

async function run(
  t: { meta: Metainfo },
  server: FakeServer,
  settings: Partial<Settings> = {},
  maxMs = 120_000,
) {
  const net = new SimNetwork(server.clock, { latencyMs: 5, uploadBytesPerSecond: 0 });
  const disk = new MemoryDiskIo();
  const session = new Session({
    settings: testSettings({ webSeedRetryBaseMs: 1_000, ...settings }),
    network: net.host("10.0.0.1"),
    clock: server.clock,
    random: new SeededRandom(5),
    disk,
    webSeedFetcher: server,
  });
  const events: EngineEvent[] = [];
  void (async () => {
    for await (const e of session.events()) events.push(e);
  })();
  await session.listen();
  const torrent = await server.clock.runUntil(session.add(t.meta, { dir: "/d" }), 10_000);
  let complete = false;
  torrent.done.then(() => complete = true, () => {});
  await server.clock.runUntil(() => complete, maxMs);
  torrent.assertInvariants();
  const closing = session.close();
  await server.clock.runUntil(closing, 60_000);
  return { complete, events, disk };
}

function serve(server: FakeServer, t: ReturnType<typeof makeTorrent>, base: string[]) {
  for (const [i, f] of t.meta.files.entries()) {
    server.files.set(`/${[...base, ...f.rawPath].join("/")}`, t.fileBytes[i]!);
  }
}

Deno.test("web seed: a single-file torrent completes from a web seed alone", async () => {
  const clock = new VirtualClock();
  const t = makeTorrent([[["movie.mkv"], 300_000]], ["http://seed.example/media/"], false);
  const server = new FakeServer(clock, new Map());
  server.files.set("/media/movie.mkv", t.fileBytes[0]!);
  const { complete, events } = await run(t, server);
  assert(complete, `incomplete; requests: ${server.requests.join(", ")}`);
  assertEquals(events.filter((e) => e.type === "web-seed-warning"), []);
  // 19 blocks in contiguous spans (starting at random pieces while none is verified)
  assert(server.requests.length <= 6, server.requests.join(", "));
});

Deno.test("web seed: a multi-file torrent with padding completes, paths percent-encoded", async () => {
  const clock = new VirtualClock();
  const t = makeTorrent(
    [[["a b.txt"], 40_000], [["pad"], 25_536, true], [["sub", "ü#?.bin"], 200_000], [["e"], 0]],
    ["http://seed.example/files"],
  );
  const server = new FakeServer(clock, new Map());
  serve(server, t, ["files"]);
  const { complete } = await run(t, server, { webSeedRequestBytes: 64 * 1024 });
  assert(complete, `incomplete; requests: ${server.requests.join(", ")}`);
  assert(!server.requests.some((r) => r.includes("pad")), "padding was fetched");
  assert(server.requests.some((r) => r.includes("/files/set/sub/%C3%BC%23%3F.bin")));
});

const BAD: Mode[] = [
  "404",
  "500",
  "short",
  "long",
  "no-length-long",
  "ignore-range",
  "wrong-range",
  "redirect-loop",
];
for (const mode of BAD) {
  Deno.test(`web seed: one that answers ${mode} backs off within bounds while a good one completes`, async () => {
    const clock = new VirtualClock();
    const t = makeTorrent([[["x.bin"], 200_000]], [
      "http://bad.example/x.bin",
      "http://good.example/x.bin",
    ], false);
    const server = new FakeServer(clock, new Map([["bad.example", mode], ["good.example", "ok"]]));
    server.files.set("/x.bin", t.fileBytes[0]!);
    server.files.set("/loop/x.bin", t.fileBytes[0]!);
    // one request at a time, small spans: the bad seed gets asked again and again
    const { complete } = await run(t, server, {
      webSeedRequestBytes: 32 * 1024,
      webSeedRequestsPerSeed: 1,
      webSeedMaxFailures: 3,
    });
    assert(complete, `incomplete; requests: ${server.requests.join(", ")}`);
    const bad = server.requests.filter((r) => r.startsWith("bad.example"));
    // ≤ 3 failures (each up to 6 hops of a redirect loop), then dropped
    assert(bad.length >= 1 && bad.length <= 3 * 6, `${bad.length} requests to the bad seed`);
  });
}

Deno.test("web seed: alone and failing, it stops after webSeedMaxFailures with a warning", async () => {
  const clock = new VirtualClock();
  const t = makeTorrent([[["x.bin"], 100_000]], ["http://bad.example/x.bin"], false);
  const server = new FakeServer(clock, new Map([["bad.example", "500"]]));
  server.files.set("/x.bin", t.fileBytes[0]!);
  const { complete, events } = await run(t, server, { webSeedMaxFailures: 4 }, 10 * 60_000);
  assert(!complete);
  // two requests in flight when the first failure comes, then one at a time
  assert(server.requests.length >= 4 && server.requests.length <= 5, server.requests.join(", "));
  const warnings = events.filter((e) => e.type === "web-seed-warning");
  assertEquals(warnings.length, 4);
  assert(warnings.at(-1)!.type === "web-seed-warning" && warnings.at(-1)!.dropped);
});

Deno.test("web seed: one whose data fails the hash is dropped like a lying peer", async () => {
  const clock = new VirtualClock();
  const t = makeTorrent([[["x.bin"], 200_000]], [
    "http://liar.example/x.bin",
    "http://good.example/x.bin",
  ], false);
  const server = new FakeServer(clock, new Map([["liar.example", "corrupt"]]));
  server.files.set("/x.bin", t.fileBytes[0]!);
  const { complete, events } = await run(t, server, { webSeedRequestBytes: 32 * 1024 });
  assert(complete);
  const failed = events.filter((e) => e.type === "piece-hash-failed");
  assert(failed.length >= 1, "no hash failure seen");
  const dropped = events.find((e) => e.type === "web-seed-warning" && e.dropped);
  assert(
    dropped?.type === "web-seed-warning" && dropped.url.includes("liar"),
    JSON.stringify(dropped),
  );
});

Deno.test("web seed: a local URL from a torrent is refused unless local addresses are allowed", async () => {
  const clock = new VirtualClock();
  const t = makeTorrent([[["x.bin"], 50_000]], ["http://127.0.0.1:8080/x.bin"], false);
  const server = new FakeServer(clock, new Map());
  server.files.set("/x.bin", t.fileBytes[0]!);
  const refused = await run(t, server, { allowLocalPeers: false }, 10_000);
  assert(!refused.complete);
  assertEquals(server.requests, []);
  const warning = refused.events.find((e) => e.type === "web-seed-warning");
  assert(warning?.type === "web-seed-warning" && warning.message.includes("local address"));
  const open = new FakeServer(clock, new Map());
  open.files.set("/x.bin", t.fileBytes[0]!);
  assert((await run(t, open, { allowLocalPeers: true }, 10_000)).complete);
});
