import { assertEquals } from "../../tests/assert.ts";
import {
  checkRangeAnswer,
  checkWebSeedRedirect,
  checkWebSeedUrl,
  spanParts,
  webSeedBackoffMs,
  webSeedFileUrl,
  webSeedsWanted,
} from "./web_seed_rules.ts";

// [base, rawPath, multi-file, expected URL]
const urlCases: [string, string[], boolean, string | undefined][] = [
  ["http://h/files/movie.mkv", ["movie.mkv"], false, "http://h/files/movie.mkv"],
  ["http://h/files/", ["movie.mkv"], false, "http://h/files/movie.mkv"],
  ["http://h/files/", ["a b#?%.mkv"], false, "http://h/files/a%20b%23%3F%25.mkv"],
  ["http://h/files", ["dir", "sub", "x.bin"], true, "http://h/files/dir/sub/x.bin"],
  ["http://h/files/", ["dir", "sub", "x.bin"], true, "http://h/files/dir/sub/x.bin"],
  ["http://h/", ["Ünï", "ç/d", "é"], true, "http://h/%C3%9Cn%C3%AF/%C3%A7%2Fd/%C3%A9"],
  ["http://h/f/?token=1", ["dir", "x"], true, "http://h/f/dir/x?token=1"],
  ["http://h/f/", ["dir", "..", "x"], true, undefined],
  ["http://h/f/", ["dir", ".", "x"], true, undefined],
  ["http://h/f/", ["dir", "", "x"], true, undefined],
  ["http://h/f/", [".."], false, undefined],
];
for (const [base, rawPath, multi, expected] of urlCases) {
  Deno.test(`webSeedFileUrl(${base}, ${JSON.stringify(rawPath)}) is ${expected}`, () => {
    assertEquals(webSeedFileUrl(new URL(base), { rawPath }, multi), expected);
  });
}

// [URL, allow local, refusal fragment or "" when accepted]
const policyCases: [string, boolean, string][] = [
  ["http://seed.example/f", false, ""],
  ["https://203.0.113.5/f", false, ""],
  ["http://127.0.0.1:8080/f", false, "local address (loopback)"],
  ["http://localhost/f", false, "local address"],
  ["http://192.168.1.2/f", false, "local address (private)"],
  ["http://[::1]/f", false, "local address"],
  ["http://127.0.0.1:8080/f", true, ""],
  ["ftp://seed.example/f", false, "scheme"],
  ["file:///etc/passwd", true, "scheme"],
  ["http://u:p@seed.example/f", false, "credentials"],
  ["http://xn--80ak6aa92e.com/f", false, "IDNA"],
  ["not a url", false, "malformed"],
];
for (const [url, allowLocal, refusal] of policyCases) {
  Deno.test(`checkWebSeedUrl(${url}, allowLocal ${allowLocal})`, () => {
    const verdict = checkWebSeedUrl(url, allowLocal);
    if (refusal === "") assertEquals("url" in verdict, true, JSON.stringify(verdict));
    else assertEquals("refused" in verdict && verdict.refused.includes(refusal), true);
  });
}

Deno.test("checkWebSeedRedirect() refuses a global host sending us to a local one", () => {
  const from = new URL("http://seed.example/f");
  assertEquals("refused" in checkWebSeedRedirect(from, "http://10.0.0.1/f", true), true);
  assertEquals("refused" in checkWebSeedRedirect(from, "file:///x", true), true);
  const ok = checkWebSeedRedirect(from, "/mirror/f", false);
  assertEquals("url" in ok && ok.url.href, "http://seed.example/mirror/f");
  const local = new URL("http://127.0.0.1:1/f");
  assertEquals("url" in checkWebSeedRedirect(local, "http://127.0.0.1:2/g", true), true);
});

// [name, status, Content-Range, Content-Length, asked start-end of a fileLength, verdict]
const answers: [string, number, string | undefined, number | undefined, number[], string][] = [
  ["a 206 with the range asked", 206, "bytes 10-19/100", 10, [10, 19, 100], ""],
  ["a 206 without a length", 206, "bytes 10-19/*", undefined, [10, 19, 100], ""],
  ["a 206 of other bytes", 206, "bytes 0-9/100", 10, [10, 19, 100], "sent bytes 0-9"],
  ["a 206 without Content-Range", 206, undefined, 10, [10, 19, 100], "without a valid"],
  ["a longer body than asked", 206, "bytes 10-19/100", 90, [10, 19, 100], "declares 90"],
  ["a 200 for the whole file", 200, undefined, 100, [0, 99, 100], ""],
  ["a 200 when a range was asked", 200, undefined, 100, [10, 19, 100], "ignores Range"],
  ["a 404", 404, undefined, 9, [10, 19, 100], "not found"],
  ["a 503", 503, undefined, 9, [10, 19, 100], "server error"],
  ["a 416", 416, "bytes */100", 0, [10, 19, 100], "HTTP 416"],
];
for (const [name, status, contentRange, contentLength, [start, end, fileLength], want] of answers) {
  Deno.test(`checkRangeAnswer() ${want === "" ? "accepts" : "refuses"} ${name}`, () => {
    const verdict = checkRangeAnswer({ status, contentRange, contentLength }, {
      start: start!,
      end: end!,
      fileLength: fileLength!,
    });
    if (want === "") assertEquals(verdict, undefined);
    else assertEquals(verdict?.includes(want), true, verdict);
  });
}

Deno.test("spanParts() maps a span onto files, padding marked, empty files skipped", () => {
  const f = (offset: number, length: number, isPadding = false) => ({
    rawPath: ["t", "x"],
    offset,
    length,
    isPadding,
  });
  const files = [f(0, 100), f(100, 0), f(100, 28, true), f(128, 50)];
  assertEquals(spanParts(files, 90, 140), [
    { fileIndex: 0, fileOffset: 90, length: 10, isPadding: false },
    { fileIndex: 2, fileOffset: 0, length: 28, isPadding: true },
    { fileIndex: 3, fileOffset: 0, length: 12, isPadding: false },
  ]);
  assertEquals(spanParts(files, 0, 50), [{
    fileIndex: 0,
    fileOffset: 0,
    length: 50,
    isPadding: false,
  }]);
});

Deno.test("webSeedsWanted() helps a slow or small swarm and a waiting reader only", () => {
  const limits = { webSeedWhenPeersBelow: 5, webSeedWhenRateBelowBps: 1000 };
  const healthy = { unchokingPeers: 8, swarmBps: 5000, readerWaiting: false };
  assertEquals(webSeedsWanted(healthy, limits), false);
  assertEquals(webSeedsWanted({ ...healthy, unchokingPeers: 2 }, limits), true);
  assertEquals(webSeedsWanted({ ...healthy, swarmBps: 10 }, limits), true);
  assertEquals(webSeedsWanted({ ...healthy, readerWaiting: true }, limits), true);
});

Deno.test("webSeedBackoffMs() doubles from the base, at most 64 times it", () => {
  assertEquals([1, 2, 3, 7, 30].map((n) => webSeedBackoffMs(n, 5000)), [
    5000,
    10_000,
    20_000,
    320_000,
    320_000,
  ]);
});
