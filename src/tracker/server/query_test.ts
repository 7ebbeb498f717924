import { assertEquals, assertThrows } from "../../../tests/assert.ts";
import { TrackerSyntaxError } from "../tracker_errors.ts";
import { MAX_QUERY_PARAMS, parseQuery, percentDecodeLatin1 } from "./query.ts";

Deno.test("parseQuery() percent-decodes raw bytes and keeps repeated keys", () => {
  const q = parseQuery("info_hash=%00%FFab&info_hash=x+y&flag&&e=&k%3D=v%26");
  assertEquals([...q], [["info_hash", ["\u0000\u00ffab", "x y"]], ["flag", [""]], ["e", [""]], [
    "k=",
    ["v&"],
  ]]);
});

Deno.test("percentDecodeLatin1() rejects bad escapes with their offset", () => {
  const cases: [string, number][] = [["%", 0], ["ab%zz", 2], ["%4", 0], ["\u0100", 0]];
  for (const [text, offset] of cases) {
    const e = assertThrows(() => percentDecodeLatin1(text), TrackerSyntaxError);
    assertEquals(e.offset, offset, text);
  }
  assertThrows(() => parseQuery("a=%4&b=1"), TrackerSyntaxError, "bad percent escape");
  assertThrows(
    () => parseQuery("a=1&".repeat(MAX_QUERY_PARAMS + 1)),
    TrackerSyntaxError,
    "too many parameters",
  );
});
