import { assert, assertEquals, assertThrows } from "../../../tests/assert.ts";
import { fuzzCases } from "../../../tests/fuzz.ts";
import {
  type HttpRequestHead,
  HttpRequestSyntaxError,
  parseRequestHead,
} from "./http_request_head.ts";

const LIMITS = { maxLineBytes: 64, maxHeadBytes: 128 };
const bytes = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));

function parse(text: string): HttpRequestHead | undefined {
  const b = bytes(text);
  return parseRequestHead(b, b.length, LIMITS);
}

Deno.test("parseRequestHead() reads method, target and keep-alive (RFC 9112)", () => {
  const cases: [string, Partial<HttpRequestHead>][] = [
    ["GET /announce?x=%01 HTTP/1.1\r\nHost: t\r\n\r\n", {
      target: "/announce?x=%01",
      keepAlive: true,
    }],
    ["GET / HTTP/1.1\r\nConnection: close\r\n\r\n", { keepAlive: false }],
    ["GET / HTTP/1.0\r\n\r\n", { keepAlive: false }],
    ["GET / HTTP/1.0\r\nconnection: Keep-Alive\r\n\r\n", { keepAlive: true }],
    ["HEAD /stats HTTP/1.1\n\n", { method: "HEAD", keepAlive: true, length: 22 }],
    ["\r\nGET / HTTP/1.1\r\n\r\n", { length: 20 }], // a stray line end before the request
    ["POST /announce HTTP/1.1\r\nContent-Length: 5\r\n\r\n", { method: "POST", keepAlive: false }],
    ["GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", { keepAlive: false }],
    ["GET http://t/announce HTTP/1.1\r\n\r\n", { target: "http://t/announce" }],
  ];
  for (const [text, expected] of cases) {
    const head = parse(text);
    assert(head, text);
    for (const [k, v] of Object.entries(expected)) {
      assertEquals(head[k as keyof HttpRequestHead], v, `${k} of ${JSON.stringify(text)}`);
    }
  }
});

Deno.test("parseRequestHead() waits for more bytes on every prefix of a head", () => {
  const text = "GET /announce HTTP/1.1\r\nHost: t\r\n\r\nGET /next";
  const b = bytes(text);
  const headEnd = text.indexOf("\r\n\r\n") + 4;
  for (let end = 0; end < headEnd; end++) {
    assertEquals(parseRequestHead(b, end, LIMITS), undefined, `prefix of ${end}`);
  }
  assertEquals(parseRequestHead(b, b.length, LIMITS)?.length, headEnd);
});

Deno.test("parseRequestHead() refuses long lines before the line ends, long heads and bad syntax (TS5)", () => {
  const cases: [string, number][] = [
    [`GET /${"a".repeat(70)}`, 414], // no line end yet, already over the 64-byte cap
    [`GET /${"a".repeat(60)} HTTP/1.1\r\n\r\n`, 414],
    [`GET / HTTP/1.1\r\nX: ${"b".repeat(120)}`, 431], // head still open, over 128 bytes
    [`GET / HTTP/1.1\r\nX: ${"b".repeat(110)}\r\n\r\n`, 431],
    ["GET /\r\n\r\n", 400],
    ["GET / HTTP/1.1 extra\r\n\r\n", 400],
    ["get / HTTP/1.1\r\n\r\n", 400],
    ["GET / HTTP/1.1\r\nno colon here\r\n\r\n", 400],
    ["GET / HTTP/2.0\r\n\r\n", 505],
  ];
  for (const [text, status] of cases) {
    const e = assertThrows(() => parse(text), HttpRequestSyntaxError);
    assertEquals(e.status, status, text.slice(0, 40));
  }
});

Deno.test("fuzz: HTTP request heads parse, wait or throw HttpRequestSyntaxError", () => {
  const alphabet = bytes("GET /a?=% HTTP/1.01\r\n:Connection close keep-alive Content-Length");
  fuzzCases("http_request_head", (random) => {
    const length = random.int(200);
    const b = new Uint8Array(length);
    for (let i = 0; i < length; i++) {
      b[i] = random.next() < 0.9 ? alphabet[random.int(alphabet.length)]! : random.int(256);
    }
    try {
      const head = parseRequestHead(b, length, LIMITS);
      if (head) assert(head.length <= length && head.length <= LIMITS.maxHeadBytes);
    } catch (e) {
      if (!(e instanceof HttpRequestSyntaxError)) throw e;
    }
  });
});
