import { assert, assertEquals, assertRejects } from "../../../tests/assert.ts";
import { memoryConnPair } from "../../../tests/memory_conn.ts";
import { VirtualClock } from "../../../tests/sim/virtual_clock.ts";
import type { Conn } from "../../runtime/types.ts";
import { ProtocolError } from "../../errors.ts";
import { SeededRandom } from "../../util/prng.ts";
import { concatBytes, toHex, utf8 } from "../../util/bytes.ts";
import { sha1 } from "../../util/sha1.ts";
import {
  acceptMse,
  type AcceptOptions,
  initiateMse,
  type InitiateOptions,
  MseRetryError,
} from "./driver.ts";
import { dhPublicKey, dhSharedSecret, req2Hash } from "./keys.ts";
import { MseResponder } from "./responder.ts";
import { buildFourth, buildThird, ScriptedRandom } from "./_fixture_test.ts";
import { PrefixedConn, Rc4Conn } from "./encrypted_conn.ts";
import { Rc4 } from "./rc4.ts";

const INFO_HASH = sha1(utf8("driver torrent"));
const HANDSHAKE_A = utf8("\x13BitTorrent protocol -- A's 68-byte handshake stands here");
const HANDSHAKE_B = utf8("\x13BitTorrent protocol -- B's handshake");
const XA = sha1(utf8("driver xa"));

function findInfoHash(req2: Uint8Array): Uint8Array | undefined {
  return toHex(req2) === toHex(req2Hash(INFO_HASH)) ? INFO_HASH : undefined;
}

function dialOptions(clock: VirtualClock, extra: Partial<InitiateOptions> = {}): InitiateOptions {
  return {
    infoHash: INFO_HASH,
    random: new SeededRandom(1),
    clock,
    timeoutMs: 10_000,
    allow: "both",
    initialPayload: HANDSHAKE_A,
    ...extra,
  };
}

function acceptOptions(clock: VirtualClock, extra: Partial<AcceptOptions> = {}): AcceptOptions {
  return {
    random: new SeededRandom(2),
    clock,
    timeoutMs: 10_000,
    allow: "both",
    preferRc4: true,
    allowPlainBitTorrent: true,
    findInfoHash,
    ...extra,
  };
}

async function readExactly(conn: Conn, length: number): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  let have = 0;
  for (let reads = 0; have < length && reads < length + 8; reads++) {
    const n = await conn.read(out.subarray(have));
    if (n === null) throw new Error(`end of stream after ${have} of ${length} bytes`);
    have += n;
  }
  return out;
}

for (const maxReadBytes of [undefined, 1]) {
  Deno.test(`initiateMse and acceptMse carry RC4 payload both ways (reads cut at ${maxReadBytes ?? "any"})`, async () => {
    const clock = new VirtualClock();
    const [a, b] = memoryConnPair(maxReadBytes === undefined ? {} : { maxReadBytes });
    const [dialed, accepted] = await Promise.all([
      initiateMse(a, dialOptions(clock)),
      acceptMse(b, acceptOptions(clock)),
    ]);
    assertEquals(dialed.selected, "rc4");
    assertEquals([accepted.selected, accepted.encrypted], ["rc4", true]);
    assertEquals(toHex(accepted.infoHash!), toHex(INFO_HASH));
    assertEquals(toHex(accepted.initialPayload), toHex(HANDSHAKE_A));
    const message = utf8("\0\0\0\x01\x02");
    await accepted.conn.write(HANDSHAKE_B);
    await dialed.conn.write(message);
    assertEquals(toHex(message), toHex(utf8("\0\0\0\x01\x02")), "caller's bytes untouched");
    assertEquals(toHex(await readExactly(dialed.conn, HANDSHAKE_B.length)), toHex(HANDSHAKE_B));
    assertEquals(toHex(await readExactly(accepted.conn, message.length)), toHex(message));
    // On the wire, the payload is not in the clear.
    const wire = toHex(concatBytes(b.written));
    assert(!wire.includes(toHex(HANDSHAKE_B)));
    assertEquals(clock.pending, 0, "deadline timers cancelled");
  });
}

Deno.test("initiateMse returns the raw conn when plaintext is selected and nothing is pending", async () => {
  const clock = new VirtualClock();
  const [a, b] = memoryConnPair();
  const [dialed, accepted] = await Promise.all([
    initiateMse(a, dialOptions(clock)),
    acceptMse(b, acceptOptions(clock, { preferRc4: false })),
  ]);
  assertEquals([dialed.selected, accepted.selected, accepted.encrypted], [
    "plaintext",
    "plaintext",
    false,
  ]);
  assert(dialed.conn === a && accepted.conn === b);
  await accepted.conn.write(HANDSHAKE_B);
  assertEquals(toHex(await readExactly(dialed.conn, HANDSHAKE_B.length)), toHex(HANDSHAKE_B));
});

Deno.test("initiateMse yields the bytes that came with the fourth message first", async () => {
  const clock = new VirtualClock();
  const [a, b] = memoryConnPair();
  const dialing = initiateMse(a, dialOptions(clock, { allow: "rc4" }));
  // A hand-driven responder sends step 4 and its handshake in one write.
  const responder = new MseResponder({ random: new SeededRandom(3), allow: "rc4", findInfoHash });
  let result;
  for (let reads = 0; reads < 10 && result === undefined; reads++) {
    const buf = new Uint8Array(4096);
    const n = await b.read(buf);
    const step = responder.receive(buf.subarray(0, n!));
    result = step.result;
    let out = step.send ?? new Uint8Array(0);
    if (result) {
      const hs = HANDSHAKE_B.slice();
      result.ciphers!.encrypt.process(hs);
      out = concatBytes([out, hs]);
    }
    if (out.length > 0) await b.write(out);
  }
  const dialed = await dialing;
  assert(dialed.conn instanceof PrefixedConn);
  assertEquals(toHex(await readExactly(dialed.conn, HANDSHAKE_B.length)), toHex(HANDSHAKE_B));
});

Deno.test("acceptMse yields the bytes that came behind the initial payload first", async () => {
  const clock = new VirtualClock();
  const [a, b] = memoryConnPair();
  const accepting = acceptMse(b, acceptOptions(clock, { allow: "rc4" }));
  await a.write(dhPublicKey(XA));
  const yb = await readExactly(a, 96);
  const secret = dhSharedSecret(XA, yb);
  const after = utf8("\0\0\0\x01\x02");
  await a.write(
    buildThird(secret, INFO_HASH, { provide: 2, initialPayload: HANDSHAKE_A, after }),
  );
  const accepted = await accepting;
  assertEquals(toHex(accepted.initialPayload), toHex(HANDSHAKE_A));
  assertEquals(toHex(await readExactly(accepted.conn, after.length)), toHex(after));
});

Deno.test("acceptMse hands over a plain BitTorrent handshake untouched, or refuses it when required", async () => {
  const clock = new VirtualClock();
  const plain = concatBytes([HANDSHAKE_A, utf8("\0\0\0\x01\x02")]);
  {
    const [a, b] = memoryConnPair({ maxReadBytes: 3 });
    await a.write(plain);
    const accepted = await acceptMse(b, acceptOptions(clock));
    assertEquals([accepted.selected, accepted.encrypted, accepted.infoHash], [
      undefined,
      false,
      undefined,
    ]);
    assertEquals(accepted.initialPayload.length, 0);
    assertEquals(toHex(await readExactly(accepted.conn, plain.length)), toHex(plain));
  }
  {
    const [a, b] = memoryConnPair();
    await a.write(plain);
    await assertRejects(
      () => acceptMse(b, acceptOptions(clock, { allowPlainBitTorrent: false })),
      ProtocolError,
      "encryption is required",
    );
    assert(b.closed);
  }
});

Deno.test("initiateMse and acceptMse give up at the deadline and close the connection", async () => {
  for (const side of ["dial", "accept"] as const) {
    const clock = new VirtualClock();
    const [a, b] = memoryConnPair();
    const running = side === "dial"
      ? initiateMse(a, dialOptions(clock, { timeoutMs: 5000 }))
      : acceptMse(a, acceptOptions(clock, { timeoutMs: 5000 }));
    let error: unknown;
    running.catch((e) => error = e);
    await clock.advance(4999);
    assertEquals(error, undefined);
    await clock.advance(1);
    assert(error instanceof ProtocolError && error.message.includes("not done within 5000 ms"));
    assert(a.closed, side);
    b.close();
  }
});

Deno.test("acceptMse gives up at the deadline on a peer that drips a byte a second", async () => {
  const clock = new VirtualClock();
  const [a, b] = memoryConnPair();
  let error: unknown;
  acceptMse(b, acceptOptions(clock, { timeoutMs: 5000 })).catch((e) => error = e);
  for (let second = 0; second < 6 && error === undefined; second++) {
    await a.write(new Uint8Array([0x42]));
    await clock.advance(1000);
  }
  assert(error instanceof ProtocolError && error.message.includes("not done within 5000 ms"));
  assert(b.closed);
});

Deno.test("initiateMse fails fast when the peer closes (a plaintext-only client)", async () => {
  const clock = new VirtualClock();
  const [a, b] = memoryConnPair();
  const running = initiateMse(a, dialOptions(clock));
  b.close();
  await assertRejects(() => running, ProtocolError, "closed by the peer");
  assertEquals(clock.pending, 0);
});

/** A responder key that makes S start with a zero byte with XA (or not, when `zero` is false). */
function responderKey(zero: boolean): Uint8Array {
  for (let n = 0; n < 10_000; n++) {
    const xb = sha1(utf8(`xb ${n}`));
    if ((dhSharedSecret(XA, dhPublicKey(xb))[0] === 0) === zero) return xb;
  }
  throw new Error("no key found");
}

Deno.test("initiateMse asks for a redial when the peer closes on a secret with a leading zero", async () => {
  for (const zero of [true, false]) {
    const clock = new VirtualClock();
    const [a, b] = memoryConnPair();
    const dialing = initiateMse(a, dialOptions(clock, { random: new ScriptedRandom([XA], []) }));
    await readExactly(b, 96);
    await b.write(dhPublicKey(responderKey(zero)));
    await readExactly(b, 40); // req1 and the masked req2: what libtorrent reads, then hangs up
    b.close();
    const error = await assertRejects(() => dialing, ProtocolError);
    assertEquals(error instanceof MseRetryError, zero);
  }
});

Deno.test("acceptMse closes a connection asking for an unknown torrent", async () => {
  const clock = new VirtualClock();
  const [a, b] = memoryConnPair();
  const [dialed, accepted] = await Promise.allSettled([
    initiateMse(a, dialOptions(clock, { infoHash: sha1(utf8("unknown")) })),
    acceptMse(b, acceptOptions(clock)),
  ]);
  assert(accepted.status === "rejected" && accepted.reason instanceof ProtocolError);
  assert(String(accepted.reason.message).includes("no torrent matches"));
  assert(dialed.status === "rejected" && dialed.reason instanceof ProtocolError);
  assert(a.closed && b.closed);
});

Deno.test("initiateMse refuses a crypto_select it did not offer", async () => {
  const clock = new VirtualClock();
  const [a, b] = memoryConnPair();
  const dialing = initiateMse(
    a,
    dialOptions(clock, { allow: "plaintext", random: new ScriptedRandom([XA], []) }),
  );
  const ya = await readExactly(b, 96);
  const xb = sha1(utf8("driver xb"));
  await b.write(dhPublicKey(xb));
  const secret = dhSharedSecret(xb, ya);
  await b.write(buildFourth(secret, INFO_HASH, { select: 2 }));
  await assertRejects(() => dialing, ProtocolError, "crypto_select 0x2 was not offered");
  assert(a.closed);
});

Deno.test("initiateMse turns a failed write into a ProtocolError with its cause", async () => {
  const clock = new VirtualClock();
  const [a] = memoryConnPair();
  a.close();
  const error = await assertRejects(() => initiateMse(a, dialOptions(clock)), ProtocolError);
  assert(error.cause instanceof Error);
});

Deno.test("Rc4Conn serialises concurrent writes, chunks large ones and keeps write errors", async () => {
  const [a] = memoryConnPair();
  const key = sha1(utf8("k"));
  const conn = new Rc4Conn(a, { encrypt: new Rc4(key), decrypt: new Rc4(key) }, {
    maxWriteChunkBytes: 1024,
  });
  const big = new SeededRandom(4).bytes(5000);
  const small = utf8("small");
  await Promise.all([conn.write(big), conn.write(small)]);
  assertEquals(a.written.map((w) => w.length), [1024, 1024, 1024, 1024, 904, 5]);
  const wire = concatBytes(a.written);
  new Rc4(key).process(wire);
  assertEquals(toHex(wire), toHex(concatBytes([big, small])));
  // Overlapping reads are refused.
  const pending = conn.read(new Uint8Array(8));
  await assertRejects(() => conn.read(new Uint8Array(8)), Error, "pending");
  a.close();
  assertEquals(await pending, null);
  await assertRejects(() => conn.write(small), Error, "closed");
  await assertRejects(() => conn.write(small), Error, "closed");
});

Deno.test("Rc4Conn with inPlaceWrites encrypts the caller's buffer where it lies", async () => {
  const [a] = memoryConnPair();
  const key = sha1(utf8("k"));
  const conn = new Rc4Conn(a, { encrypt: new Rc4(key), decrypt: new Rc4(key) }, {
    inPlaceWrites: true,
  });
  const data = utf8("given up");
  await conn.write(data);
  assertEquals(toHex(data), toHex(a.written[0]!));
  assert(toHex(data) !== toHex(utf8("given up")));
});
