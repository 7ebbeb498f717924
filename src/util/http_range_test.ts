import { assertEquals } from "../../tests/assert.ts";
import { fuzzCases } from "../../tests/fuzz.ts";
import {
  formatContentRange,
  ifRangeAllows,
  parseContentRange,
  parseRangeHeader,
  type RangeRequest,
} from "./http_range.ts";

const WHOLE = { kind: "whole" } as const;
const BAD = { kind: "unsatisfiable" } as const;
const r = (start: number, end: number): RangeRequest => ({ kind: "range", start, end });

// [header, size, expected]
const cases: [string | null, number, RangeRequest][] = [
  [null, 1000, WHOLE],
  ["bytes=0-499", 1000, r(0, 499)],
  ["bytes=500-", 1000, r(500, 999)],
  ["bytes=-500", 1000, r(500, 999)],
  ["bytes=-5000", 1000, r(0, 999)],
  ["bytes=0-0", 1000, r(0, 0)],
  ["bytes=999-999", 1000, r(999, 999)],
  ["bytes=900-5000", 1000, r(900, 999)],
  ["Bytes = 1-2", 1000, r(1, 2)],
  ["bytes=0001-0002", 1000, r(1, 2)],
  ["bytes=0-99999999999999999999999999", 1000, r(0, 999)],
  ["bytes=1000-", 1000, BAD],
  ["bytes=99999999999999999999999999-", 1000, BAD],
  ["bytes=5-2", 1000, BAD],
  ["bytes=-0", 1000, BAD],
  ["bytes=-", 1000, BAD],
  ["bytes=x-1", 1000, BAD],
  ["bytes=--1", 1000, BAD],
  ["bytes=0-1", 0, BAD],
  ["bytes=-1", 0, BAD],
  ["bytes=0-0,-1", 1000, WHOLE],
  ["items=0-1", 1000, WHOLE],
  ["bytes", 1000, WHOLE],
];
for (const [header, size, expected] of cases) {
  Deno.test(`parseRangeHeader(${JSON.stringify(header)}, ${size})`, () => {
    assertEquals(parseRangeHeader(header, size), expected);
  });
}

Deno.test("parseRangeHeader() never returns a range outside the representation", () => {
  fuzzCases("http_range", (random) => {
    const size = random.int(3) === 0 ? 0 : random.int(10_000);
    const alphabet = "bytes=0123456789-, ";
    let header = random.next() < 0.7 ? "bytes=" : "";
    for (let k = random.int(20); k > 0; k--) header += alphabet[random.int(alphabet.length)];
    const got = parseRangeHeader(header, size);
    if (got.kind !== "range") return;
    assertEquals(got.start >= 0 && got.start <= got.end && got.end < size, true, header);
  });
});

Deno.test("ifRangeAllows() lets a range through only for our strong entity tag", () => {
  const etag = '"abc-1"';
  assertEquals(ifRangeAllows(null, etag), true);
  assertEquals(ifRangeAllows('"abc-1"', etag), true);
  assertEquals(ifRangeAllows('W/"abc-1"', etag), false);
  assertEquals(ifRangeAllows('"abc-2"', etag), false);
  assertEquals(ifRangeAllows("Wed, 21 Oct 2015 07:28:00 GMT", etag), false);
});

Deno.test("formatContentRange() and parseContentRange() agree", () => {
  assertEquals(formatContentRange({ start: 0, end: 499 }, 1234), "bytes 0-499/1234");
  assertEquals(formatContentRange(undefined, 1234), "bytes */1234");
  assertEquals(parseContentRange("bytes 0-499/1234"), { start: 0, end: 499, size: 1234 });
  assertEquals(parseContentRange("bytes 7-7/*"), { start: 7, end: 7, size: undefined });
  for (const bad of [null, "", "bytes 5-4/10", "bytes */10", "items 0-1/2", "bytes 0-1/x"]) {
    assertEquals(parseContentRange(bad), undefined, String(bad));
  }
});
