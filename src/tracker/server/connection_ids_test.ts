import { assertEquals, assertThrows } from "../../../tests/assert.ts";
import { hmacSha256 } from "../../util/sha1.ts";
import { SeededRandom } from "../../util/prng.ts";
import { ShortHmacSha256 } from "./_hmac.ts";
import { ConnectionIds } from "./connection_ids.ts";

const SECRET = new SeededRandom(1).bytes(32);
const ALICE = { host: "192.0.2.1", port: 6881 };

Deno.test("ShortHmacSha256.mac() equals node:crypto HMAC-SHA-256 (RFC 4231 case 2 and random cases)", () => {
  const rfc = new ShortHmacSha256(new TextEncoder().encode("Jefe")).mac(
    new TextEncoder().encode("what do ya want for nothing?"),
  );
  assertEquals(
    Array.from(rfc, (b) => b.toString(16).padStart(2, "0")).join(""),
    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
  );
  const random = new SeededRandom(2);
  for (let i = 0; i < 200; i++) {
    const key = random.bytes(random.int(65));
    const data = random.bytes(random.int(56));
    assertEquals(new ShortHmacSha256(key).mac(data), hmacSha256(key, data));
  }
  assertThrows(() => new ShortHmacSha256(new Uint8Array(65)), RangeError);
  assertThrows(() => new ShortHmacSha256(SECRET).mac(new Uint8Array(56)), RangeError);
});

Deno.test("ConnectionIds.verify() accepts its own ids for at least 2 minutes, then refuses them", () => {
  const ids = new ConnectionIds(SECRET);
  const t0 = 60_000 * 16_666_668 - 1; // the last ms of a window: the worst case
  const id = ids.issue(ALICE, t0);
  const cases: [number, boolean][] = [
    [0, true],
    [60_000, true],
    [120_000, true],
    [120_001, false],
    [600_000, false],
  ];
  for (const [age, ok] of cases) assertEquals(ids.verify(id, ALICE, t0 + age), ok, `age ${age}`);
  const fresh = ids.issue(ALICE, 5_000);
  assertEquals(ids.verify(fresh, ALICE, 5_000 + 120_000), true);
});

Deno.test("ConnectionIds.verify() rejects forged, foreign and replayed-elsewhere ids (TS1)", () => {
  const ids = new ConnectionIds(SECRET);
  const id = ids.issue(ALICE, 0);
  assertEquals(ids.verify(id, { host: "192.0.2.2", port: 6881 }, 0), false);
  assertEquals(ids.verify(id, { host: "192.0.2.1", port: 6882 }, 0), false);
  assertEquals(new ConnectionIds(new SeededRandom(9).bytes(32)).verify(id, ALICE, 0), false);
  const random = new SeededRandom(3);
  let accepted = 0;
  for (let i = 0; i < 10_000; i++) if (ids.verify(random.bytes(8), ALICE, 0)) accepted++;
  assertEquals(accepted, 0);
  for (let bit = 0; bit < 64; bit++) {
    const flipped = id.slice();
    flipped[bit >> 3]! ^= 1 << (bit & 7);
    assertEquals(ids.verify(flipped, ALICE, 0), false, `bit ${bit}`);
  }
  assertEquals(ids.verify(id.subarray(0, 7), ALICE, 0), false);
  assertEquals(ids.issue({ host: "::ffff:192.0.2.1", port: 6881 }, 0), id); // mapped IPv4 is the same sender
  assertThrows(() => new ConnectionIds(new Uint8Array(8)), RangeError, "need 16..64");
});
