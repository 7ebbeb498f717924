import { assert, assertEquals, assertThrows } from "../../tests/assert.ts";
import { fuzzCases, mutate } from "../../tests/fuzz.ts";
import { encode } from "../bencode/mod.ts";
import { fromLatin1, utf8 } from "../util/bytes.ts";
import type { SeededRandom } from "../util/prng.ts";
import { encodeCompactPeers } from "./compact_peers.ts";
import {
  buildAnnounceUrl,
  buildScrapeUrl,
  parseAnnounceResponse,
  parseScrapeResponse,
  percentEncodeBytes,
  scrapeUrlFor,
} from "./http_codec.ts";
import { TrackerSyntaxError } from "./tracker_errors.ts";
import type { AnnounceParams } from "./types.ts";

const HASH = Uint8Array.from({ length: 20 }, (_, i) => i * 13);
const PEER_ID = utf8("-SW0100-abcdefghijkl");

function params(extra: Partial<AnnounceParams> = {}): AnnounceParams {
  return {
    infoHash: HASH,
    peerId: PEER_ID,
    port: 6881,
    uploaded: 1,
    downloaded: 2,
    left: 3,
    ...extra,
  };
}

Deno.test("percentEncodeBytes() keeps unreserved bytes and escapes the rest in upper case", () => {
  assertEquals(percentEncodeBytes(new Uint8Array([0x41, 0x7a, 0x2d, 0x2e, 0x5f, 0x7e])), "Az-._~");
  assertEquals(
    percentEncodeBytes(new Uint8Array([0, 0x20, 0x25, 0x2b, 0xff, 0x26])),
    "%00%20%25%2B%FF%26",
  );
});

Deno.test("buildAnnounceUrl() sends every BEP 3 parameter", () => {
  const url = buildAnnounceUrl(
    "http://t.example/announce",
    params({
      event: "started",
      numwant: 50,
      key: 0xdeadbeef,
      trackerId: utf8("t 1"),
    }),
  );
  assertEquals(
    url,
    `http://t.example/announce?info_hash=${percentEncodeBytes(HASH)}&peer_id=-SW0100-abcdefghijkl` +
      "&port=6881&uploaded=1&downloaded=2&left=3&key=DEADBEEF&event=started&numwant=50&compact=1" +
      "&trackerid=t%201",
  );
});

Deno.test("buildAnnounceUrl() keeps a passkey query and drops a fragment", () => {
  const cases: [string, string][] = [
    ["http://t/a?pk=1", "http://t/a?pk=1&info_hash="],
    ["http://t/a?", "http://t/a?info_hash="],
    ["http://t/a?pk=1&", "http://t/a?pk=1&info_hash="],
    ["http://t/a#frag", "http://t/a?info_hash="],
  ];
  for (const [tracker, prefix] of cases) {
    assert(buildAnnounceUrl(tracker, params()).startsWith(prefix), tracker);
  }
});

Deno.test("buildAnnounceUrl() rejects bad hashes, ports and counters", () => {
  assertThrows(
    () => buildAnnounceUrl("http://t/a", params({ infoHash: new Uint8Array(19) })),
    TypeError,
    "info_hash",
  );
  assertThrows(
    () => buildAnnounceUrl("http://t/a", params({ peerId: new Uint8Array(21) })),
    TypeError,
    "peer_id",
  );
  assertThrows(() => buildAnnounceUrl("http://t/a", params({ port: 0 })), RangeError, "port 0");
  assertThrows(() => buildAnnounceUrl("http://t/a", params({ left: -1 })), RangeError, "left");
});

Deno.test("parseAnnounceResponse() reads compact peers, peers6, counts and tracker id", () => {
  const body = encode({
    interval: 1800,
    "min interval": 900,
    complete: 5,
    incomplete: 7,
    "tracker id": "abc",
    "warning message": "be nice",
    peers: encodeCompactPeers([{ host: "10.0.0.1", port: 1 }, { host: "10.0.0.2", port: 2 }], 4),
    peers6: encodeCompactPeers([{ host: "2001:db8::1", port: 3 }], 6),
  });
  const result = parseAnnounceResponse(body);
  assertEquals(result, {
    kind: "ok",
    response: {
      intervalS: 1800,
      minIntervalS: 900,
      complete: 5,
      incomplete: 7,
      peers: [{ host: "10.0.0.1", port: 1 }, { host: "10.0.0.2", port: 2 }, {
        host: "2001:db8::1",
        port: 3,
      }],
      warning: "be nice",
      trackerId: utf8("abc"),
    },
  });
});

Deno.test("parseAnnounceResponse() reads dictionary peers and skips bad entries", () => {
  const body = encode({
    interval: 60,
    peers: [
      { ip: "1.2.3.4", port: 80, "peer id": "x".repeat(20) },
      { ip: "tracker.example", port: 81 },
      { ip: "1.2.3.5", port: 0 },
      { ip: "1.2.3.6", port: 70000 },
      { port: 1 },
      "junk",
    ],
  });
  const result = parseAnnounceResponse(body);
  assert(result.kind === "ok");
  assertEquals(result.response.peers, [{ host: "1.2.3.4", port: 80 }, {
    host: "tracker.example",
    port: 81,
  }]);
});

Deno.test("parseAnnounceResponse() clamps intervals to [60 s, 6 h] (TC3)", () => {
  const cases: [number | undefined, number][] = [[0, 60], [-5, 60], [59, 60], [1e9, 21600], [
    undefined,
    1800,
  ], [600, 600]];
  for (const [interval, expected] of cases) {
    const result = parseAnnounceResponse(encode({ interval, peers: "" }));
    assert(result.kind === "ok");
    assertEquals(result.response.intervalS, expected, String(interval));
  }
});

Deno.test("parseAnnounceResponse() ignores an odd tail and caps peers (TC3)", () => {
  const peers = new Uint8Array(6 * 170_000 + 5).fill(7); // just under the 1 MiB body cap
  const result = parseAnnounceResponse(encode({ interval: 60, peers }), { maxPeers: 3000 });
  assert(result.kind === "ok");
  assertEquals(result.response.peers.length, 3000);
  const odd = parseAnnounceResponse(encode({ interval: 60, peers: new Uint8Array(6 + 5).fill(9) }));
  assert(odd.kind === "ok");
  assertEquals(odd.response.peers, [{ host: "9.9.9.9", port: 0x909 }]);
});

Deno.test("parseAnnounceResponse() reports failure reason and BEP 31 retry in (TC4)", () => {
  const cases: [object, { reason: string; retryInS: number | undefined; permanent: boolean }][] = [
    [{ "failure reason": "nope" }, { reason: "nope", retryInS: undefined, permanent: false }],
    [{ "failure reason": "later", "retry in": 5 }, {
      reason: "later",
      retryInS: 300,
      permanent: false,
    }],
    [{ "failure reason": "gone", "retry in": "never" }, {
      reason: "gone",
      retryInS: undefined,
      permanent: true,
    }],
  ];
  for (const [dict, expected] of cases) {
    assertEquals(parseAnnounceResponse(encode(dict as Record<string, string>)), {
      kind: "failure",
      ...expected,
    });
  }
});

Deno.test("parseAnnounceResponse() throws TrackerSyntaxError with an offset on bad bytes", () => {
  const cases: [string, number, string][] = [
    ["", 0, "offset 0"],
    ["d8:intervali60e", 15, "offset 15"], // unterminated
    ["li1ee", 0, "not a dictionary"],
    ["d8:intervalle5:peers0:e", 0, `Field "interval" is not an integer`],
  ];
  for (const [text, offset, message] of cases) {
    const e = assertThrows(() => parseAnnounceResponse(utf8(text)), TrackerSyntaxError, message);
    assert(e instanceof SyntaxError, text);
    assertEquals(e.offset, offset, text);
  }
  const deep = utf8("d1:x" + "l".repeat(20) + "e".repeat(20) + "e");
  assertThrows(
    () => parseAnnounceResponse(deep),
    TrackerSyntaxError,
    "offset 11: nesting deeper than 8",
  );
  const big = new Uint8Array(1024 * 1024 + 1).fill(0x30);
  assertThrows(() => parseAnnounceResponse(big), TrackerSyntaxError, "exceeds 1048576");
  const trailing = parseAnnounceResponse(utf8("d8:intervali60e5:peers0:e\n"));
  assertEquals(trailing.kind, "ok");
});

Deno.test("scrapeUrlFor() follows the BEP 48 convention", () => {
  const cases: [string, string | undefined][] = [
    ["http://example.com/announce", "http://example.com/scrape"],
    ["http://example.com/x/announce", "http://example.com/x/scrape"],
    ["http://example.com/announce.php", "http://example.com/scrape.php"],
    ["http://example.com/a", undefined],
    ["http://example.com/announce?x2%0644", "http://example.com/scrape?x2%0644"],
    ["http://example.com/announce?x=2/4", "http://example.com/scrape?x=2/4"],
    ["http://example.com/x%064announce", undefined],
    ["http://announce.example.com", undefined],
    ["http://example.com", undefined],
    ["http://example.com/announce/x", undefined],
  ];
  for (const [announce, expected] of cases) {
    assertEquals(scrapeUrlFor(announce), expected, announce);
  }
});

Deno.test("buildScrapeUrl() repeats info_hash and parseScrapeResponse() keeps raw 20-byte keys (B6)", () => {
  const other = new Uint8Array(20).fill(0xff);
  assertEquals(
    buildScrapeUrl("http://t/announce?pk=1", [HASH, other]),
    `http://t/scrape?pk=1&info_hash=${percentEncodeBytes(HASH)}&info_hash=${"%FF".repeat(20)}`,
  );
  assertEquals(buildScrapeUrl("http://t/a", [HASH]), undefined);
  const files = new Map<string, object>([
    [String.fromCharCode(...HASH), { complete: 1, incomplete: 2, downloaded: 3 }],
    ["__proto__", { complete: 9 }],
    ["short", { complete: 9 }],
  ]);
  const result = parseScrapeResponse(
    encode({ files: files as Map<string, Record<string, number>> }),
  );
  assertEquals(result, {
    kind: "ok",
    files: [{ infoHash: HASH, complete: 1, incomplete: 2, downloaded: 3 }],
  });
  assertEquals(parseScrapeResponse(encode({ "failure reason": "no" })).kind, "failure");
  assertThrows(() => parseScrapeResponse(encode({ files: 5 })), TrackerSyntaxError, "files");
});

function randomResponse(random: SeededRandom): Uint8Array {
  if (random.int(5) === 0) return encode({ "failure reason": "x".repeat(random.int(40)) });
  const peerCount = random.int(30);
  return encode({
    interval: random.int(100_000) - 10,
    "min interval": random.int(3) === 0 ? undefined : random.int(5000),
    complete: random.int(1000),
    incomplete: random.int(1000),
    peers: random.int(4) === 0
      ? Array.from(
        { length: peerCount },
        () => ({ ip: `10.0.0.${random.int(256)}`, port: 1 + random.int(65535) }),
      )
      : random.bytes(6 * peerCount + random.int(6)),
    peers6: random.int(2) === 0 ? undefined : random.bytes(18 * random.int(5)),
  });
}

Deno.test("fuzz: http-tracker responses decode or throw a SyntaxError subclass", () => {
  const check = (bytes: Uint8Array) => {
    try {
      const result = parseAnnounceResponse(bytes, { maxPeers: 50 });
      if (result.kind === "ok") {
        assert(result.response.peers.length <= 50);
        assert(result.response.intervalS >= 60 && result.response.intervalS <= 21600);
      }
      parseScrapeResponse(bytes);
    } catch (e) {
      if (!(e instanceof SyntaxError) || typeof (e as TrackerSyntaxError).offset !== "number") {
        throw e;
      }
    }
  };
  fuzzCases("http-tracker", (random) => {
    const valid = randomResponse(random);
    const result = parseAnnounceResponse(valid);
    if (result.kind === "ok") {
      const again = parseAnnounceResponse(
        encode({
          interval: result.response.intervalS,
          peers: encodeCompactPeers(result.response.peers.filter((p) => !p.host.includes(":")), 4),
        }),
      );
      assert(again.kind === "ok");
    }
    check(mutate(random, valid));
    check(random.bytes(random.int(64)));
  }, check);
  check(fromLatin1("d5:peers6:\u0001\u0002\u0003\u0004\u0000\u0001e"));
});
