import { assert, assertEquals, assertThrows } from "../../tests/assert.ts";
import { fromHex, toHex, utf8 } from "../util/bytes.ts";
import { SeededRandom } from "../util/prng.ts";
import {
  bep42NodeId,
  commonPrefixBits,
  compareDistance,
  crc32c,
  isBep42Valid,
  randomIdInBucket,
  xorDistance,
} from "./node_id.ts";

Deno.test("crc32c() matches the Castagnoli check values", () => {
  const cases: [string, number][] = [["", 0], ["a", 0xc1d04330], ["123456789", 0xe3069283]];
  for (const [text, crc] of cases) assertEquals(crc32c(utf8(text)), crc, text);
  assertEquals(crc32c(new Uint8Array(32)), 0x8a9136aa);
});

// BEP 42 "Test vectors": IP, rand, example node id.
const BEP42: [string, number, string][] = [
  ["124.31.75.21", 1, "5fbfbff10c5d6a4ec8a88e4c6ab4c28b95eee401"],
  ["21.75.31.124", 86, "5a3ce9c14e7a08645677bbd1cfe7d8f956d53256"],
  ["65.23.51.170", 22, "a5d43220bc8f112a3d426c84764f8c2a1150e616"],
  ["84.124.73.14", 65, "1b0321dd1bb1fe518101ceef99462b947a01ff41"],
  ["43.213.53.83", 90, "e56f6cbf5b7c4be0237986d5243b87aa6d51305a"],
];

for (const [ip, rand, example] of BEP42) {
  Deno.test(`bep42NodeId() reproduces the BEP 42 vector for ${ip}`, () => {
    const id = bep42NodeId(ip, new SeededRandom(rand), rand);
    const want = fromHex(example);
    assertEquals([id[0], id[1], id[2]! & 0xf8, id[19]], [
      want[0],
      want[1],
      want[2]! & 0xf8,
      want[19],
    ]);
    assert(isBep42Valid(want, ip));
    assert(isBep42Valid(id, ip));
  });
}

Deno.test("isBep42Valid() rejects a foreign IP, a flipped prefix bit, and exempts local IPs", () => {
  const [ip, , example] = BEP42[0]!;
  const id = fromHex(example);
  assert(!isBep42Valid(id, "124.31.75.99"));
  const flipped = id.slice();
  flipped[2]! ^= 0x08;
  assert(!isBep42Valid(flipped, ip));
  assert(isBep42Valid(new Uint8Array(20), "192.168.1.1"));
  assert(!isBep42Valid(new Uint8Array(19), ip));
  assertThrows(() => bep42NodeId("example.com", new SeededRandom(1)), TypeError);
});

Deno.test("xorDistance() and compareDistance() order ids by XOR metric", () => {
  const t = new Uint8Array(20);
  const ids = [
    "00".repeat(19) + "01",
    "00".repeat(19) + "03",
    "80" + "00".repeat(19),
    "7f".repeat(20),
  ]
    .map(fromHex);
  const shuffled = [ids[3]!, ids[0]!, ids[2]!, ids[1]!];
  shuffled.sort((a, b) => compareDistance(t, a, b));
  assertEquals(shuffled.map(toHex), [ids[0]!, ids[1]!, ids[3]!, ids[2]!].map(toHex));
  assertEquals(toHex(xorDistance(ids[0]!, ids[1]!)), "00".repeat(19) + "02");
  assertEquals(compareDistance(t, ids[0]!, ids[0]!), 0);
  assertThrows(() => xorDistance(new Uint8Array(3), t), RangeError);
});

Deno.test("commonPrefixBits() counts shared leading bits", () => {
  const a = new Uint8Array(20);
  const cases: [string, number][] = [["80", 0], ["40", 1], ["01", 7], ["0001", 15]];
  for (const [head, bits] of cases) {
    const b = new Uint8Array(20);
    b.set(fromHex(head));
    assertEquals(commonPrefixBits(a, b), bits, head);
  }
  assertEquals(commonPrefixBits(a, a), 160);
});

Deno.test("randomIdInBucket() shares exactly the bucket's prefix with the base id", () => {
  const random = new SeededRandom(3);
  const base = random.bytes(20);
  for (const bits of [0, 1, 7, 8, 9, 63, 100, 159]) {
    for (let i = 0; i < 20; i++) {
      assertEquals(commonPrefixBits(base, randomIdInBucket(base, bits, random)), bits);
    }
  }
  assertEquals(toHex(randomIdInBucket(base, 160, random)), toHex(base));
  assertThrows(() => randomIdInBucket(base, 161, random), RangeError);
});
