/**
 * MSE/PE benchmarks (STYLE §8): RC4 throughput in place, the encrypted Conn's read and
 * write paths (copy into the reused scratch buffer against in place), and the cost of
 * one whole handshake.
 *
 * Run: `deno bench -A bench/mse_bench.ts`. Every throughput iteration moves 1 MiB, so
 * MB/s = 1,048,576 ÷ the average time in µs. Results: the comment at the end.
 * @module
 */
import type { Conn } from "../src/runtime/types.ts";
import { Rc4 } from "../src/net/mse/rc4.ts";
import { Rc4Conn } from "../src/net/mse/encrypted_conn.ts";
import { mseCiphers } from "../src/net/mse/keys.ts";
import { MseInitiator } from "../src/net/mse/initiator.ts";
import { MseResponder } from "../src/net/mse/responder.ts";
import { req2Hash } from "../src/net/mse/keys.ts";
import { converse } from "../src/net/mse/_fixture_test.ts";
import { SeededRandom } from "../src/util/prng.ts";

const MIB = 1024 * 1024;
const KEY = new Uint8Array(20).map((_, i) => i * 7 + 1);
const data = new Uint8Array(MIB).map((_, i) => i * 13);

/** The textbook loop: one byte per step, state in fields (the ~260 MB/s reference). */
class NaiveRc4 {
  s = new Uint8Array(256);
  i = 0;
  j = 0;
  constructor(key: Uint8Array) {
    for (let k = 0; k < 256; k++) this.s[k] = k;
    let j = 0;
    for (let k = 0; k < 256; k++) {
      j = (j + this.s[k]! + key[k % key.length]!) & 255;
      [this.s[k], this.s[j]] = [this.s[j]!, this.s[k]!];
    }
  }
  process(buf: Uint8Array): void {
    for (let k = 0; k < buf.length; k++) {
      this.i = (this.i + 1) & 255;
      this.j = (this.j + this.s[this.i]!) & 255;
      const t = this.s[this.i]!;
      this.s[this.i] = this.s[this.j]!;
      this.s[this.j] = t;
      buf[k]! ^= this.s[(this.s[this.i]! + this.s[this.j]!) & 255]!;
    }
  }
}

const fast = new Rc4(KEY);
const naive = new NaiveRc4(KEY);

Deno.bench("Rc4.process(), 1 MiB in 256 KiB calls", { group: "rc4", baseline: true }, () => {
  for (let at = 0; at < MIB; at += 256 * 1024) fast.process(data, at, at + 256 * 1024);
});

Deno.bench("Rc4.process(), 1 MiB in 16 KiB + 13 calls (one piece frame each)", {
  group: "rc4",
}, () => {
  for (let at = 0; at + 16397 <= MIB; at += 16397) fast.process(data, at, at + 16397);
});

Deno.bench("textbook RC4 (byte loop, state in fields), 1 MiB", { group: "rc4" }, () => {
  naive.process(data);
});

const keystream = new Uint8Array(MIB).map((_, i) => i * 29);
const keystreamWords = new Uint32Array(keystream.buffer);
const dataWords = new Uint32Array(data.buffer);

Deno.bench("XOR with a keystream made elsewhere (a worker could run RC4 ahead), 1 MiB", {
  group: "rc4",
}, () => {
  for (let w = 0; w < dataWords.length; w++) dataWords[w]! ^= keystreamWords[w]!;
});

/** An inner Conn that costs nothing: reads return a full buffer, writes drop the bytes. */
const nullConn: Conn = {
  remoteAddr: { host: "127.0.0.1", port: 1 },
  localAddr: { host: "127.0.0.1", port: 2 },
  read: (buffer) => Promise.resolve(buffer.length),
  write: () => Promise.resolve(),
  close() {},
};

function rc4Conn(inPlaceWrites: boolean): Rc4Conn {
  return new Rc4Conn(nullConn, { encrypt: new Rc4(KEY), decrypt: new Rc4(KEY) }, {
    inPlaceWrites,
  });
}

const copying = rc4Conn(false);
const inPlace = rc4Conn(true);
const reader = rc4Conn(false);
const writes = Array.from(
  { length: 4 },
  (_, i) => data.subarray(i * 256 * 1024, (i + 1) * 256 * 1024),
);
const readBuffer = new Uint8Array(64 * 1024);

Deno.bench("Rc4Conn.write(), 4 × 256 KiB, copy into the scratch buffer", {
  group: "conn",
  baseline: true,
}, async () => {
  for (const w of writes) await copying.write(w);
});

Deno.bench(
  "Rc4Conn.write(), 4 × 256 KiB, in place (inPlaceWrites)",
  { group: "conn" },
  async () => {
    for (const w of writes) await inPlace.write(w);
  },
);

Deno.bench("Rc4Conn.read(), 16 × 64 KiB, decrypt in the caller's buffer", {
  group: "conn",
}, async () => {
  for (let i = 0; i < 16; i++) await reader.read(readBuffer);
});

const infoHash = new Uint8Array(20).fill(3);
let seed = 1;

Deno.bench("whole handshake, both roles in memory (4 modexps, 4 RC4 keys)", {
  group: "handshake",
}, () => {
  seed += 2;
  converse(
    new MseInitiator({ infoHash, random: new SeededRandom(seed), allow: "both" }),
    new MseResponder({
      random: new SeededRandom(seed + 1),
      allow: "both",
      preferRc4: true,
      findInfoHash: (req2) => req2[0] === req2Hash(infoHash)[0] ? infoHash : undefined,
    }),
  );
});

Deno.bench("mseCiphers(): two RC4 keys, 1,024 bytes dropped each", { group: "handshake" }, () => {
  mseCiphers(data.subarray(0, 96), infoHash, true);
});

// Results, `deno bench -A --json bench/mse_bench.ts` × 5, Deno 2.9.6, 2-vCPU AMD EPYC VM
// (shared, noisy); average per iteration, min / median / max of the 5 runs; 1 MiB each:
//   rc4        Rc4.process(), 256 KiB calls ............ 1,412 / 1,419 / 1,514 µs = 693 / 739 / 743 MB/s
//              Rc4.process(), 16,397-byte calls ......... 1,408 / 1,417 / 1,486 µs = 705 / 740 / 745 MB/s
//              textbook byte loop ....................... 2,385 / 2,472 / 4,908 µs = 214 / 424 / 440 MB/s
//              XOR with a ready keystream ............... 99 / 100 / 113 µs ≈ 10,500 MB/s
//              (OpenSSL's native RC4 here: `openssl speed -evp rc4` with the legacy
//              provider, ≈ 930 MB/s at 16 KiB; ours is ~80 % of it)
//   conn       write, copy into the scratch buffer ...... 1,471 / 1,499 / 1,669 µs = 628 / 700 / 713 MB/s
//              write, in place .......................... 1,438 / 1,447 / 1,898 µs = 552 / 725 / 729 MB/s
//              read, decrypt in the caller's buffer ..... 1,428 / 1,446 / 1,594 µs = 658 / 725 / 735 MB/s
//   handshake  both roles in memory ..................... 457 / 478 / 511 µs per handshake
//              mseCiphers() ............................. 12 / 13 / 18 µs
// So RC4 costs ≈ 1.45 CPU-s per GiB each way on the isolate that runs it; copying writes
// through the scratch buffer adds ≈ 3.5 % (52 µs per MiB), which buys an unchanged
// `Conn.write` contract.
