import { assertEquals, assertThrows } from "../../../tests/assert.ts";
import { SeededRandom } from "../../util/prng.ts";
import { fromHex, toHex, utf8 } from "../../util/bytes.ts";
import { sha1 } from "../../util/sha1.ts";
import { Rc4 } from "./rc4.ts";

/** A plain byte-at-a-time RC4, written from the algorithm, to check the fast path against. */
function referenceKeystream(key: Uint8Array, length: number): Uint8Array {
  const s = Array.from({ length: 256 }, (_, k) => k);
  let j = 0;
  for (let k = 0; k < 256; k++) {
    j = (j + s[k]! + key[k % key.length]!) % 256;
    [s[k], s[j]] = [s[j]!, s[k]!];
  }
  const out = new Uint8Array(length);
  let i = 0;
  j = 0;
  for (let k = 0; k < length; k++) {
    i = (i + 1) % 256;
    j = (j + s[i]!) % 256;
    [s[i], s[j]] = [s[j]!, s[i]!];
    out[k] = s[(s[i]! + s[j]!) % 256]!;
  }
  return out;
}

Deno.test("Rc4.process() matches the published Key/Wiki/Secret vectors", () => {
  const cases: [string, string, string][] = [
    ["Key", "Plaintext", "bbf316e8d940af0ad3"],
    ["Wiki", "pedia", "1021bf0420"],
    ["Secret", "Attack at dawn", "45a01f645fc35b383552544b9bf5"],
  ];
  for (const [key, plain, cipher] of cases) {
    const data = utf8(plain);
    new Rc4(utf8(key)).process(data);
    assertEquals(toHex(data), cipher, key);
  }
});

Deno.test("Rc4 keystream matches OpenSSL's RC4 at offsets 0, 1024 and 4080", () => {
  // `head -c 4096 /dev/zero | openssl enc -rc4 -provider legacy -provider default
  //   -K 000102030405060708090a0b0c0d0e0f -nosalt`
  const key = fromHex("000102030405060708090a0b0c0d0e0f");
  const stream = new Uint8Array(4096);
  new Rc4(key).process(stream);
  assertEquals(toHex(stream.subarray(0, 16)), "e99c40f947e219cc06db97c60edd2a4f");
  assertEquals(toHex(stream.subarray(1024, 1040)), "8a01a816392e7199a1d086a379282e68");
  assertEquals(toHex(stream.subarray(4080)), "f5edfc032ede17e3030a16707a090272");
  assertEquals(toHex(sha1(stream)), "540e64635d5b07135c975f4f460c43026b872c6a");
});

Deno.test("Rc4.process() equals the byte-at-a-time reference for any split, offset and range", () => {
  const random = new SeededRandom(7);
  for (let round = 0; round < 200; round++) {
    const key = random.bytes(1 + random.int(40));
    const total = random.int(3000);
    const expected = referenceKeystream(key, total);
    // Misaligned views of one shared buffer, as a read loop reuses its buffer.
    const backing = new Uint8Array(total + 16);
    const offset = random.int(8);
    const data = backing.subarray(offset, offset + total);
    const rc4 = new Rc4(key);
    let at = 0;
    while (at < total) {
      const n = Math.min(total - at, random.next() < 0.3 ? random.int(8) : random.int(700));
      if (random.next() < 0.5) rc4.process(data, at, at + n);
      else rc4.process(data.subarray(at, at + n));
      at += n;
    }
    assertEquals(toHex(data), toHex(expected), `round ${round}`);
  }
});

Deno.test("Rc4.discard() skips exactly the keystream process() would use", () => {
  const key = utf8("discard");
  const a = new Rc4(key);
  a.discard(1024);
  const tail = new Uint8Array(64);
  a.process(tail);
  assertEquals(toHex(tail), toHex(referenceKeystream(key, 1088).subarray(1024)));
});

Deno.test("Rc4.process() follows a buffer that changes or grows between calls", () => {
  const key = utf8("views");
  const expected = referenceKeystream(key, 300);
  const rc4 = new Rc4(key);
  const small = new Uint8Array(100);
  rc4.process(small);
  const large = new Uint8Array(200);
  rc4.process(large); // a different ArrayBuffer: the cached word view must be rebuilt
  assertEquals(toHex(small) + toHex(large), toHex(expected));
});

Deno.test("Rc4 refuses bad keys and ranges", () => {
  assertThrows(() => new Rc4(new Uint8Array(0)), RangeError);
  assertThrows(() => new Rc4(new Uint8Array(257)), RangeError);
  const rc4 = new Rc4(utf8("k"));
  assertThrows(() => rc4.process(new Uint8Array(4), 2, 5), RangeError);
  assertThrows(() => rc4.process(new Uint8Array(4), 3, 2), RangeError);
  assertThrows(() => rc4.discard(-1), RangeError);
});
