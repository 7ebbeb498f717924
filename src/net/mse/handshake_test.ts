import { assert, assertEquals, assertThrows } from "../../../tests/assert.ts";
import { ProtocolError } from "../../errors.ts";
import { SeededRandom } from "../../util/prng.ts";
import { concatBytes, toHex, utf8 } from "../../util/bytes.ts";
import { sha1 } from "../../util/sha1.ts";
import type { MseAllow, MseResult } from "./_handshake_common.ts";
import { dhPublicKey, dhSharedSecret, req2Hash } from "./keys.ts";
import { INITIATOR_MAX_BYTES, MseInitiator } from "./initiator.ts";
import { MseResponder, responderMaxBytes } from "./responder.ts";
import { buildFourth, buildThird, converse, ScriptedRandom } from "./_fixture_test.ts";

const INFO_HASH = sha1(utf8("torrent one"));
const OTHER_HASH = sha1(utf8("torrent two"));
const XA = sha1(utf8("xa"));
const XB = sha1(utf8("xb"));
const IA = utf8("\x13BitTorrent protocol-and-the-rest-of-a-handshake");

function findIn(...hashes: Uint8Array[]) {
  return (req2: Uint8Array) => hashes.find((h) => toHex(req2Hash(h)) === toHex(req2));
}

function initiator(seed: number, allow: MseAllow = "both", preferRc4 = false): MseInitiator {
  return new MseInitiator({
    infoHash: INFO_HASH,
    random: new SeededRandom(seed),
    allow,
    preferRc4,
    initialPayload: IA,
  });
}

function responder(seed: number, allow: MseAllow = "both", preferRc4 = true): MseResponder {
  return new MseResponder({
    random: new SeededRandom(seed),
    allow,
    preferRc4,
    findInfoHash: findIn(OTHER_HASH, INFO_HASH),
  });
}

/** A's payload reaches B through the result ciphers, and the other way round. */
function assertCiphersPair(a: MseResult, b: MseResult): void {
  const message = utf8("payload after the handshake");
  const wire = message.slice();
  a.ciphers!.encrypt.process(wire);
  assert(toHex(wire) !== toHex(message));
  b.ciphers!.decrypt.process(wire);
  assertEquals(toHex(wire), toHex(message));
  b.ciphers!.encrypt.process(wire);
  a.ciphers!.decrypt.process(wire);
  assertEquals(toHex(wire), toHex(message));
}

Deno.test("MseInitiator and MseResponder agree on RC4, the info-hash and the initial payload", () => {
  const c = converse(initiator(1), responder(2));
  assertEquals(c.initiator.selected, "rc4");
  assertEquals(c.responder.selected, "rc4");
  assertEquals(toHex(c.responder.infoHash), toHex(INFO_HASH));
  assertEquals(toHex(c.responder.initialPayload), toHex(IA));
  assertEquals(c.initiator.initialPayload.length, 0);
  assertEquals(c.initiator.leftover.length + c.responder.leftover.length, 0);
  assertCiphersPair(c.initiator, c.responder);
});

Deno.test("MSE cores with fixed seeds produce the same bytes every run", () => {
  const one = converse(initiator(11), responder(12));
  const two = converse(initiator(11), responder(12));
  assertEquals(toHex(one.sentByA), toHex(two.sentByA));
  assertEquals(toHex(one.sentByB), toHex(two.sentByB));
  const other = converse(initiator(13), responder(12));
  assert(toHex(one.sentByA) !== toHex(other.sentByA));
});

Deno.test("MSE cores keep a shared secret with a leading zero byte 96 bytes long", () => {
  let zeroKey: Uint8Array | undefined;
  for (let n = 0; n < 10_000 && zeroKey === undefined; n++) {
    const xb = sha1(utf8(`xb ${n}`));
    if (dhSharedSecret(XA, dhPublicKey(xb))[0] === 0) zeroKey = xb;
  }
  const secret = dhSharedSecret(XA, dhPublicKey(zeroKey!));
  assertEquals([secret.length, secret[0]], [96, 0]);
  assertEquals(toHex(dhSharedSecret(zeroKey!, dhPublicKey(XA))), toHex(secret));
  const c = converse(
    new MseInitiator({
      infoHash: INFO_HASH,
      random: new ScriptedRandom([XA], []),
      allow: "rc4",
      initialPayload: IA,
    }),
    new MseResponder({
      random: new ScriptedRandom([zeroKey!], []),
      allow: "rc4",
      findInfoHash: findIn(INFO_HASH),
    }),
  );
  assertEquals(toHex(c.responder.initialPayload), toHex(IA));
});

Deno.test("MSE cores complete when every byte arrives on its own", () => {
  for (const chunk of [1, 7, 95, 97, 533]) {
    const c = converse(initiator(chunk), responder(chunk + 1), { chunk });
    assertEquals(toHex(c.responder.initialPayload), toHex(IA), `chunk ${chunk}`);
    assertCiphersPair(c.initiator, c.responder);
  }
});

Deno.test("MSE method selection follows both policies", () => {
  // [initiator allow, initiator preferRc4, responder allow, responder preferRc4, expected]
  const table: [MseAllow, boolean, MseAllow, boolean, string][] = [
    ["both", false, "both", true, "rc4"],
    ["both", false, "both", false, "plaintext"],
    ["both", true, "both", false, "rc4"], // offered RC4 alone
    ["both", false, "rc4", false, "rc4"],
    ["both", false, "plaintext", true, "plaintext"],
    ["rc4", false, "both", false, "rc4"],
    ["plaintext", false, "both", true, "plaintext"],
    ["rc4", false, "plaintext", false, "error"],
    ["plaintext", false, "rc4", true, "error"],
    ["both", true, "plaintext", false, "error"],
  ];
  for (const [aAllow, aPrefer, bAllow, bPrefer, expected] of table) {
    const name = `${aAllow}/${aPrefer} -> ${bAllow}/${bPrefer}`;
    const run = () => converse(initiator(5, aAllow, aPrefer), responder(6, bAllow, bPrefer));
    if (expected === "error") {
      assertThrows(run, ProtocolError, "offers no method we accept");
      continue;
    }
    const c = run();
    assertEquals([c.initiator.selected, c.responder.selected], [expected, expected], name);
    assertEquals(c.initiator.ciphers === undefined, expected === "plaintext", name);
    assertEquals(toHex(c.responder.initialPayload), toHex(IA), name); // IA is always RC4
  }
});

Deno.test("MseInitiator returns the responder's first payload bytes, decrypted, as leftover", () => {
  const payload = utf8("\x13BitTorrent protocol from B");
  for (const [allow, prefer] of [["both", true], ["plaintext", false]] as const) {
    const c = converse(initiator(3), responder(4, allow, prefer), {
      afterB: (result) => {
        const wire = payload.slice();
        result.ciphers?.encrypt.process(wire);
        return wire;
      },
    });
    assertEquals(toHex(c.initiator.leftover), toHex(payload), allow);
  }
});

Deno.test("MseResponder returns bytes after the initial payload, decrypted, as leftover", () => {
  const { b, secret } = answered({ allow: "rc4" });
  const after = utf8("\0\0\0\x01\x02 interested");
  const third = buildThird(secret, INFO_HASH, { provide: 0x02, initialPayload: IA, after });
  const result = b.receive(third).result!;
  assertEquals(toHex(result.initialPayload), toHex(IA));
  assertEquals(toHex(result.leftover), toHex(after));
});

Deno.test("MseResponder accepts PadA of exactly 512 bytes and refuses 513", () => {
  for (const padLength of [0, 512, 513]) {
    const b = responder(9);
    const yb = b.receive(concatBytes([dhPublicKey(XA), new Uint8Array(padLength)])).send!;
    const secret = dhSharedSecret(XA, yb.subarray(0, 96));
    const third = buildThird(secret, INFO_HASH, { provide: 0x02, initialPayload: IA });
    if (padLength <= 512) {
      assertEquals(toHex(b.receive(third).result!.initialPayload), toHex(IA));
    } else {
      assertThrows(() => b.receive(third), ProtocolError, "no req1 hash within 532 bytes");
    }
  }
});

Deno.test("MseResponder refuses garbage before bounded buffering: no req1 in the window", () => {
  const b = responder(10);
  const garbage = new SeededRandom(99).bytes(4096);
  assertThrows(() => b.receive(garbage), ProtocolError, "no req1 hash");
  assert(b.bufferedBytes <= 96 + 532);
  // Dead after a failure: the same error again.
  assertThrows(() => b.receive(new Uint8Array(1)), ProtocolError, "no req1 hash");
});

/** A responder that has answered Ya, and the secret its peer would compute. */
function answered(options: { allow?: MseAllow; maxIa?: number } = {}) {
  const b = new MseResponder({
    random: new ScriptedRandom([XB], []),
    allow: options.allow ?? "both",
    findInfoHash: findIn(INFO_HASH),
    ...(options.maxIa === undefined ? {} : { maxInitialPayloadBytes: options.maxIa }),
  });
  const yb = b.receive(dhPublicKey(XA)).send!;
  return { b, secret: dhSharedSecret(XA, yb.subarray(0, 96)) };
}

Deno.test("MseResponder closes on each broken rule of the third message", () => {
  const cases: [string, Parameters<typeof buildThird>[2], string, number?][] = [
    ["wrong VC", { provide: 2, badVc: true }, "wrong verification constant"],
    ["unknown SKEY", { provide: 2, skey: OTHER_HASH }, "no torrent matches"],
    ["PadC 513", { provide: 2, padLength: 513 }, "PadC of 513 bytes"],
    ["no common method", { provide: 0x04 }, "offers no method we accept"],
    ["IA over the cap", { provide: 2, declaredIaLength: 101 }, "initial payload of 101", 100],
  ];
  for (const [name, message, error, maxIa] of cases) {
    const { b, secret } = answered(maxIa === undefined ? {} : { maxIa });
    const third = buildThird(secret, INFO_HASH, message);
    assertThrows(() => b.receive(third), ProtocolError, error);
    b.assertInvariants();
    assert(b.bufferedBytes <= responderMaxBytes(maxIa ?? 16384), name);
  }
});

Deno.test("MseResponder refuses a degenerate Diffie-Hellman key", () => {
  const one = new Uint8Array(96);
  one[95] = 1;
  assertThrows(() => responder(1).receive(one), ProtocolError, "degenerate");
});

/** An initiator that has sent its third message, and the secret its peer would compute. */
function dialled(allow: MseAllow = "both") {
  const a = new MseInitiator({
    infoHash: INFO_HASH,
    random: new ScriptedRandom([XA], []),
    allow,
  });
  const ya = a.start();
  assert(a.receive(dhPublicKey(XB)).send !== undefined);
  return { a, secret: dhSharedSecret(XB, ya.subarray(0, 96)) };
}

Deno.test("MseInitiator closes on each broken rule of the fourth message", () => {
  const cases: [string, MseAllow, Parameters<typeof buildFourth>[2], string][] = [
    ["select both bits", "both", { select: 3 }, "crypto_select 0x3 was not offered"],
    ["select unknown", "both", { select: 4 }, "crypto_select 0x4 was not offered"],
    ["select RC4 not offered", "plaintext", { select: 2 }, "crypto_select 0x2 was not offered"],
    ["PadD 513", "both", { select: 2, padLength: 513 }, "PadD of 513 bytes"],
    ["wrong VC", "both", { select: 2, badVc: true }, "no verification constant"],
  ];
  for (const [name, allow, message, error] of cases) {
    const { a, secret } = dialled(allow);
    const fourth = buildFourth(secret, INFO_HASH, message);
    // A wrong VC is only noticed once the sync window is full: pad past it.
    const bytes = message.badVc ? concatBytes([fourth, new Uint8Array(600)]) : fourth;
    assertThrows(() => a.receive(bytes), ProtocolError, error);
    assert(a.bufferedBytes <= INITIATOR_MAX_BYTES, name);
  }
});

Deno.test("MseInitiator finds the VC after PadB of 512 bytes, not after 513", () => {
  for (const padLength of [0, 512, 513]) {
    const { a, secret } = dialled();
    const fourth = buildFourth(secret, INFO_HASH, { select: 2, padLength: 3 });
    const bytes = concatBytes([new Uint8Array(padLength).fill(0x5a), fourth]);
    // PadB sits between Yb and the fourth message; Yb was already fed.
    if (padLength <= 512) assertEquals(a.receive(bytes).result!.selected, "rc4");
    else assertThrows(() => a.receive(bytes), ProtocolError, "no verification constant");
  }
});

Deno.test("MseInitiator fails at once when the peer answers in plain BitTorrent", () => {
  const a = initiator(1);
  a.start();
  assertThrows(
    () => a.receive(utf8("\x13BitTorrent protocol\0\0\0\0\0\0\0\0")),
    ProtocolError,
    "plain BitTorrent handshake",
  );
});

Deno.test("MSE cores refuse misuse", () => {
  const a = initiator(1);
  assertThrows(() => a.receive(new Uint8Array(1)), Error, "before start");
  a.start();
  assertThrows(() => a.start(), Error, "twice");
  assertThrows(
    () =>
      new MseInitiator({ infoHash: new Uint8Array(19), random: new SeededRandom(1), allow: "rc4" }),
    RangeError,
  );
  assertThrows(
    () =>
      new MseResponder({
        random: new SeededRandom(1),
        allow: "rc4",
        findInfoHash: () => undefined,
        maxInitialPayloadBytes: 70000,
      }),
    RangeError,
  );
  const c = converse(initiator(2), responder(3));
  assert(c.initiator.selected === "rc4");
});
