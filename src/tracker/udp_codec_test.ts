import { assert, assertEquals, assertThrows } from "../../tests/assert.ts";
import { fuzzCases, mutate } from "../../tests/fuzz.ts";
import { fromHex, toHex } from "../util/bytes.ts";
import type { SeededRandom } from "../util/prng.ts";
import { TrackerSyntaxError } from "./tracker_errors.ts";
import {
  decodeUdpRequest,
  decodeUdpResponse,
  encodeUdpRequest,
  encodeUdpResponse,
  MAX_UDP_SCRAPE_HASHES,
  type UdpAnnounceRequest,
  type UdpRequest,
  type UdpResponse,
} from "./udp_codec.ts";

const CID = fromHex("0102030405060708");
const HASH = new Uint8Array(20).fill(0xab);
const PEER = new Uint8Array(20).fill(0xcd);

function announce(extra: Partial<UdpAnnounceRequest> = {}): UdpAnnounceRequest {
  return {
    action: "announce",
    connectionId: CID,
    transactionId: 0x11223344,
    infoHash: HASH,
    peerId: PEER,
    downloaded: 2 ** 40 + 5,
    left: 7,
    uploaded: 9,
    event: "started",
    ip: 0,
    key: 0xcafebabe,
    numwant: -1,
    port: 6881,
    ...extra,
  };
}

Deno.test("encodeUdpRequest() writes the BEP 15 connect and announce layouts", () => {
  assertEquals(
    toHex(encodeUdpRequest({ action: "connect", transactionId: 0xdeadbeef })),
    "0000041727101980" + "00000000" + "deadbeef",
  );
  const bytes = encodeUdpRequest(announce());
  assertEquals(bytes.length, 98);
  assertEquals(toHex(bytes.subarray(0, 16)), "0102030405060708" + "00000001" + "11223344");
  assertEquals(toHex(bytes.subarray(56, 64)), "0000010000000005");
  assertEquals(
    toHex(bytes.subarray(80, 98)),
    "00000002" + "00000000" + "cafebabe" + "ffffffff" + "1ae1",
  );
});

Deno.test("decodeUdpRequest() round-trips every request kind", () => {
  const requests: UdpRequest[] = [
    { action: "connect", transactionId: 7 },
    announce(),
    announce({ event: undefined, numwant: 50, left: 0 }),
    announce({ event: "stopped" }),
    announce({ event: "completed" }),
    { action: "scrape", connectionId: CID, transactionId: 9, infoHashes: [HASH, PEER] },
  ];
  for (const request of requests) {
    assertEquals(decodeUdpRequest(encodeUdpRequest(request)), request, request.action);
  }
});

Deno.test("decodeUdpRequest() ignores BEP 41 options after an announce and saturates huge counters", () => {
  const bytes = new Uint8Array(110);
  bytes.set(encodeUdpRequest(announce()));
  bytes.fill(0xff, 56, 64); // downloaded = 2^64 - 1
  const decoded = decodeUdpRequest(bytes);
  assert(decoded.action === "announce");
  assertEquals(decoded.downloaded, Number.MAX_SAFE_INTEGER);
});

Deno.test("decodeUdpRequest() rejects short, unknown and oversized requests", () => {
  const scrape75 = new Uint8Array(16 + 20 * 75);
  scrape75.set(CID);
  scrape75[11] = 2;
  const cases: [Uint8Array, string][] = [
    [new Uint8Array(15), "need 16"],
    [new Uint8Array(16), "bad protocol id"],
    [encodeUdpRequest(announce()).subarray(0, 97), "need 98"],
    [fromHex("0102030405060708" + "00000009" + "00000000"), "unknown action 9"],
    [fromHex("0102030405060708" + "00000002" + "00000000"), "scrape of 0"],
    [fromHex("0102030405060708" + "00000002" + "00000000" + "00"), "not 16 + 20·n"],
    [scrape75, `scrape of 75`],
  ];
  for (const [bytes, message] of cases) {
    assertThrows(() => decodeUdpRequest(bytes), TrackerSyntaxError, message);
  }
  const badEvent = encodeUdpRequest(announce());
  badEvent[83] = 4;
  assertThrows(() => decodeUdpRequest(badEvent), TrackerSyntaxError, "unknown event 4");
});

Deno.test("encodeUdpRequest() refuses a scrape of more than 74 hashes", () => {
  const hashes = Array.from({ length: MAX_UDP_SCRAPE_HASHES + 1 }, () => HASH);
  assertThrows(
    () =>
      encodeUdpRequest({
        action: "scrape",
        connectionId: CID,
        transactionId: 1,
        infoHashes: hashes,
      }),
    RangeError,
    "75",
  );
  assertThrows(
    () => encodeUdpRequest(announce({ connectionId: new Uint8Array(7) })),
    TypeError,
    "connection id",
  );
});

Deno.test("decodeUdpResponse() round-trips IPv4 and IPv6 announce, scrape and error responses", () => {
  const responses: [UdpResponse, 4 | 6][] = [
    [{ action: "connect", transactionId: 1, connectionId: CID }, 4],
    [{
      action: "announce",
      transactionId: 2,
      intervalS: 1800,
      leechers: 3,
      seeders: 4,
      peers: [{ host: "1.2.3.4", port: 5 }],
    }, 4],
    [{
      action: "announce",
      transactionId: 3,
      intervalS: 60,
      leechers: 0,
      seeders: 1,
      peers: [{ host: "2001:db8::1", port: 6 }],
    }, 6],
    [
      { action: "scrape", transactionId: 4, entries: [{ seeders: 1, completed: 2, leechers: 3 }] },
      4,
    ],
    [{ action: "error", transactionId: 5, message: "Connection ID missmatch" }, 4],
  ];
  for (const [response, family] of responses) {
    assertEquals(
      decodeUdpResponse(encodeUdpResponse(response, family), family),
      response,
      response.action,
    );
  }
});

Deno.test("decodeUdpResponse() rejects short packets and ignores partial peer entries (TC5)", () => {
  const cases: [string, string][] = [
    ["000000", "need 8"],
    ["00000000" + "00000001", "need 16"],
    ["00000001" + "00000001" + "0000", "need 20"],
    ["00000007" + "00000001", "unknown action 7"],
  ];
  for (const [hex, message] of cases) {
    assertThrows(() => decodeUdpResponse(fromHex(hex)), TrackerSyntaxError, message);
  }
  const partial = fromHex(
    "00000001" + "00000001" + "0000003c" + "00000000" + "00000000" + "0102030400050607",
  );
  const decoded = decodeUdpResponse(partial);
  assert(decoded.action === "announce");
  assertEquals(decoded.peers, [{ host: "1.2.3.4", port: 5 }]);
});

function randomRequest(random: SeededRandom): UdpRequest {
  const kind = random.int(3);
  if (kind === 0) return { action: "connect", transactionId: random.int(2 ** 32) };
  if (kind === 1) {
    return announce({
      connectionId: random.bytes(8),
      transactionId: random.int(2 ** 32),
      infoHash: random.bytes(20),
      peerId: random.bytes(20),
      downloaded: random.int(2 ** 53),
      left: random.int(2 ** 40),
      uploaded: random.int(2 ** 30),
      event: [
        undefined,
        "started",
        "completed",
        "stopped",
      ][random.int(4)] as UdpAnnounceRequest["event"],
      ip: random.int(2 ** 32),
      key: random.int(2 ** 32),
      numwant: random.int(2 ** 32) - 2 ** 31,
      port: random.int(65536),
    });
  }
  const n = 1 + random.int(MAX_UDP_SCRAPE_HASHES);
  return {
    action: "scrape",
    connectionId: random.bytes(8),
    transactionId: random.int(2 ** 32),
    infoHashes: Array.from({ length: n }, () => random.bytes(20)),
  };
}

Deno.test("fuzz: udp-tracker packets decode or throw a SyntaxError subclass", () => {
  const check = (bytes: Uint8Array) => {
    for (
      const decode of [
        decodeUdpRequest,
        (b: Uint8Array) => decodeUdpResponse(b, 4, 100),
        (b: Uint8Array) => decodeUdpResponse(b, 6, 100),
      ]
    ) {
      try {
        decode(bytes);
      } catch (e) {
        if (!(e instanceof TrackerSyntaxError)) throw e;
      }
    }
  };
  fuzzCases("udp-tracker", (random) => {
    const request = randomRequest(random);
    const bytes = encodeUdpRequest(request);
    assertEquals(decodeUdpRequest(bytes), request);
    check(mutate(random, bytes));
    check(random.bytes(random.int(120)));
  }, check);
});
