import { assert, assertEquals, assertThrows } from "../../tests/assert.ts";
import { SeededRandom } from "../util/prng.ts";
import { TokenSecrets } from "./tokens.ts";

const MIN = 60_000;
const HASH = new Uint8Array(20).fill(7);
const OTHER_HASH = new Uint8Array(20).fill(8);

Deno.test("TokenSecrets.verify() accepts a token for 5 to 10 minutes (D3)", () => {
  const cases: [string, number, boolean][] = [
    ["at once", 0, true],
    ["at 4 min", 4 * MIN, true],
    ["at 5 min (previous secret)", 5 * MIN, true],
    ["at 9 min", 9 * MIN, true],
    ["at 10 min (two rotations)", 10 * MIN, false],
    ["at 11 min", 11 * MIN, false],
  ];
  for (const [name, at, want] of cases) {
    const tokens = new TokenSecrets(new SeededRandom(1), 0);
    const token = tokens.issue("1.2.3.4", HASH, 0);
    assertEquals(tokens.verify(token, "1.2.3.4", HASH, at), want, name);
  }
});

Deno.test("TokenSecrets.verify() rejects another IP, another info-hash, and forged tokens", () => {
  const tokens = new TokenSecrets(new SeededRandom(2), 0);
  const token = tokens.issue("1.2.3.4", HASH, 0);
  assertEquals(token.length, 8);
  const cases: [string, Uint8Array, string, Uint8Array, boolean][] = [
    ["its own", token, "1.2.3.4", HASH, true],
    ["another IP", token, "1.2.3.5", HASH, false],
    ["another info-hash", token, "1.2.3.4", OTHER_HASH, false],
    ["a flipped byte", token.map((x, i) => i === 0 ? x ^ 1 : x), "1.2.3.4", HASH, false],
    ["a short token", token.subarray(0, 4), "1.2.3.4", HASH, false],
    ["an empty token", new Uint8Array(0), "1.2.3.4", HASH, false],
  ];
  for (const [name, t, ip, hash, want] of cases) {
    assertEquals(tokens.verify(t, ip, hash, 1), want, name);
  }
});

Deno.test("TokenSecrets.rotateIfDue() rotates on the 5-minute schedule and not before", () => {
  const tokens = new TokenSecrets(new SeededRandom(3), 1000);
  assertEquals(tokens.nextRotationAt, 1000 + 5 * MIN);
  assert(!tokens.rotateIfDue(1000 + 5 * MIN - 1));
  const before = tokens.issue("1.2.3.4", HASH, 1000);
  assert(tokens.rotateIfDue(1000 + 5 * MIN));
  assertEquals(tokens.nextRotationAt, 1000 + 10 * MIN);
  assert(tokens.verify(before, "1.2.3.4", HASH, 1000 + 5 * MIN));
  assert(tokens.issue("1.2.3.4", HASH, 1000 + 5 * MIN).some((x, i) => x !== before[i]));
  assertThrows(() => new TokenSecrets(new SeededRandom(1), 0, { tokenLength: 2 }), RangeError);
});
