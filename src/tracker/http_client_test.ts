import { assert, assertEquals, assertRejects } from "../../tests/assert.ts";
import { TrackerError } from "../errors.ts";
import { encode } from "../bencode/mod.ts";
import { utf8 } from "../util/bytes.ts";
import { encodeCompactPeers } from "./compact_peers.ts";
import {
  type HttpFetcher,
  type HttpFetchOptions,
  type HttpFetchResult,
  HttpTrackerClient,
} from "./http_client.ts";
import { TrackerFailureError } from "./tracker_errors.ts";
import type { AnnounceParams } from "./types.ts";

const PARAMS: AnnounceParams = {
  infoHash: new Uint8Array(20).fill(1),
  peerId: new Uint8Array(20).fill(2),
  port: 6881,
  uploaded: 0,
  downloaded: 0,
  left: 10,
};
const OK = encode({ interval: 900, peers: encodeCompactPeers([{ host: "1.2.3.4", port: 5 }], 4) });

/** Answers from a script of responses, recording the URLs it was asked for. */
class FakeFetcher implements HttpFetcher {
  readonly urls: string[] = [];
  readonly options: HttpFetchOptions[] = [];
  constructor(readonly answer: (url: string, n: number) => HttpFetchResult | Error) {}
  fetch(url: string, options: HttpFetchOptions): Promise<HttpFetchResult> {
    this.urls.push(url);
    this.options.push(options);
    const a = this.answer(url, this.urls.length - 1);
    return a instanceof Error ? Promise.reject(a) : Promise.resolve(a);
  }
}

Deno.test("HttpTrackerClient.announce() returns the peers and passes the caps to the fetcher", async () => {
  const fetcher = new FakeFetcher(() => ({ status: 200, body: OK }));
  const client = new HttpTrackerClient({ fetcher, timeoutMs: 1234 });
  const response = await client.announce("http://t.example/announce", PARAMS);
  assertEquals(response.peers, [{ host: "1.2.3.4", port: 5 }]);
  assertEquals(response.intervalS, 900);
  assert(fetcher.urls[0]!.startsWith("http://t.example/announce?info_hash=%01%01"));
  assertEquals([fetcher.options[0]!.maxBytes, fetcher.options[0]!.timeoutMs], [1024 * 1024, 1234]);
});

Deno.test("HttpTrackerClient.announce() follows at most 5 redirects (TC6)", async () => {
  const loop = new FakeFetcher((_url, n) => ({
    status: 302,
    body: new Uint8Array(0),
    location: `/announce?hop=${n}`,
  }));
  await assertRejects(
    () => new HttpTrackerClient({ fetcher: loop }).announce("http://t.example/announce", PARAMS),
    TrackerError,
    "Too many redirects",
  );
  assertEquals(loop.urls.length, 6);
  const twice = new FakeFetcher((_url, n) =>
    n < 2
      ? { status: 301, body: new Uint8Array(0), location: "https://mirror.example/announce?x" }
      : { status: 200, body: OK }
  );
  await new HttpTrackerClient({ fetcher: twice }).announce("http://t.example/announce", PARAMS);
  assertEquals(twice.urls.slice(1), [
    "https://mirror.example/announce?x",
    "https://mirror.example/announce?x",
  ]);
});

Deno.test("HttpTrackerClient.announce() refuses redirects to file: or from global to private (TC6, M4)", async () => {
  for (
    const location of [
      "file:///etc/passwd",
      "http://192.168.0.1/announce",
      "http://127.0.0.1/announce",
    ]
  ) {
    const fetcher = new FakeFetcher(() => ({ status: 307, body: new Uint8Array(0), location }));
    const e = await assertRejects(
      () => new HttpTrackerClient({ fetcher }).announce("http://t.example/announce", PARAMS),
      TrackerFailureError,
    );
    assertEquals(e.permanent, true, location);
    assertEquals(fetcher.urls.length, 1, location);
  }
  const local = new FakeFetcher(() => ({ status: 200, body: OK }));
  await assertRejects(
    () => new HttpTrackerClient({ fetcher: local }).announce("http://127.0.0.1:8080/admin", PARAMS),
    TrackerFailureError,
    "/announce",
  );
  assertEquals(local.urls.length, 0);
  await new HttpTrackerClient({ fetcher: local, allowLocalAnyPath: true }).announce(
    "http://127.0.0.1:8080/admin",
    PARAMS,
  );
});

Deno.test("HttpTrackerClient.announce() maps 410, failure reason and retry-in-never to TrackerFailureError (TC4)", async () => {
  const cases: [HttpFetchResult, string, boolean][] = [
    [{ status: 410, body: new Uint8Array(0) }, "HTTP 410", true],
    [
      { status: 200, body: encode({ "failure reason": "unregistered torrent" }) },
      "unregistered torrent",
      false,
    ],
    [
      { status: 200, body: encode({ "failure reason": "go away", "retry in": "never" }) },
      "go away",
      true,
    ],
    [{ status: 403, body: encode({ "failure reason": "banned client" }) }, "banned client", false],
  ];
  for (const [result, message, permanent] of cases) {
    const client = new HttpTrackerClient({ fetcher: new FakeFetcher(() => result) });
    const e = await assertRejects(
      () => client.announce("http://t.example/announce", PARAMS),
      TrackerFailureError,
      message,
    );
    assertEquals(e.permanent, permanent, message);
  }
});

Deno.test("HttpTrackerClient.announce() wraps network errors, bad status and bad bodies in TrackerError", async () => {
  const cases: [HttpFetchResult | Error, string][] = [
    [new Error("connection refused"), "connection refused"],
    [{ status: 500, body: utf8("oops") }, "HTTP 500"],
    [{ status: 200, body: utf8("<html>") }, "Cannot read tracker response"],
  ];
  for (const [answer, message] of cases) {
    const client = new HttpTrackerClient({ fetcher: new FakeFetcher(() => answer) });
    await assertRejects(
      () => client.announce("http://t.example/announce", PARAMS),
      TrackerError,
      message,
    );
  }
});

Deno.test("HttpTrackerClient.scrape() uses the BEP 48 URL and refuses trackers without one", async () => {
  const hash = PARAMS.infoHash;
  const body = encode({
    files: new Map([[String.fromCharCode(...hash), { complete: 4, incomplete: 5, downloaded: 6 }]]),
  });
  const fetcher = new FakeFetcher(() => ({ status: 200, body }));
  const client = new HttpTrackerClient({ fetcher });
  assertEquals(await client.scrape("http://t.example/x/announce", [hash]), [{
    infoHash: hash,
    complete: 4,
    incomplete: 5,
    downloaded: 6,
  }]);
  assert(fetcher.urls[0]!.startsWith("http://t.example/x/scrape?info_hash="));
  await assertRejects(
    () => client.scrape("http://t.example/tracker", [hash]),
    TrackerFailureError,
    "does not support scrape",
  );
});
