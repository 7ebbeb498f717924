/**
 * Seeded fuzz test of the MSE handshake cores (STYLE §7): honest transcripts, mutated
 * and cut into random reads, replayed to a fresh core of either role. Every input must
 * complete or throw a `ProtocolError`; no core may hold more than its cap; unmutated
 * transcripts must complete with every trailing byte accounted for.
 * `FUZZ_CASES` sets the count (default 2,000); `FUZZ_SEED` replays one case.
 */
import { assert, assertEquals } from "../../../tests/assert.ts";
import { fuzzCases, mutate } from "../../../tests/fuzz.ts";
import { ProtocolError } from "../../errors.ts";
import { SeededRandom } from "../../util/prng.ts";
import { toHex } from "../../util/bytes.ts";
import { sha1 } from "../../util/sha1.ts";
import type { MseAllow, MseResult } from "./_handshake_common.ts";
import { req2Hash } from "./keys.ts";
import { INITIATOR_MAX_BYTES, MseInitiator } from "./initiator.ts";
import { MseResponder, responderMaxBytes } from "./responder.ts";
import { converse } from "./_fixture_test.ts";

const INFO_HASH = sha1(new TextEncoder().encode("fuzzed torrent"));
const ALLOWS: MseAllow[] = ["rc4", "plaintext", "both"];
const MAX_IA = 300;

function find(req2: Uint8Array): Uint8Array | undefined {
  return toHex(req2) === toHex(req2Hash(INFO_HASH)) ? INFO_HASH : undefined;
}

interface Setup {
  readonly seedA: number;
  readonly seedB: number;
  readonly allowA: MseAllow;
  readonly allowB: MseAllow;
  readonly preferA: boolean;
  readonly preferB: boolean;
  readonly ia: Uint8Array;
}

function makeInitiator(s: Setup): MseInitiator {
  return new MseInitiator({
    infoHash: INFO_HASH,
    random: new SeededRandom(s.seedA),
    allow: s.allowA,
    preferRc4: s.preferA,
    initialPayload: s.ia,
  });
}

function makeResponder(s: Setup): MseResponder {
  return new MseResponder({
    random: new SeededRandom(s.seedB),
    allow: s.allowB,
    preferRc4: s.preferB,
    findInfoHash: find,
    maxInitialPayloadBytes: MAX_IA,
  });
}

type Target = MseInitiator | MseResponder;

/** Feeds `input` in random reads; returns the result (and unfed bytes) or undefined. */
function feed(
  r: SeededRandom,
  target: Target,
  cap: number,
  input: Uint8Array,
): { result: MseResult; unfed: number } | undefined {
  for (let at = 0; at < input.length;) {
    const n = 1 + r.int(r.next() < 0.3 ? 8 : 700);
    const chunk = input.subarray(at, at + n);
    at += chunk.length;
    let result;
    try {
      result = target.receive(chunk).result;
    } catch (e) {
      if (e instanceof ProtocolError) return undefined;
      throw e;
    } finally {
      target.assertInvariants();
      assert(target.bufferedBytes <= cap, `held ${target.bufferedBytes} > ${cap}`);
    }
    if (result) return { result, unfed: input.length - at };
  }
  return undefined;
}

function oneCase(r: SeededRandom): void {
  const s: Setup = {
    seedA: r.int(2 ** 31),
    seedB: r.int(2 ** 31),
    allowA: ALLOWS[r.int(3)]!,
    allowB: ALLOWS[r.int(3)]!,
    preferA: r.next() < 0.5,
    preferB: r.next() < 0.5,
    ia: r.bytes(r.int(r.next() < 0.1 ? MAX_IA + 40 : 100)),
  };
  let honest;
  try {
    honest = converse(makeInitiator(s), makeResponder(s));
  } catch (e) {
    if (!(e instanceof ProtocolError) && !(e instanceof RangeError)) throw e;
    honest = undefined; // no common method or IA over our cap: still fuzz the raw bytes
  }
  const attackResponder = r.next() < 0.5;
  const trailing = r.bytes(r.int(50));
  const base = honest === undefined
    ? r.bytes(r.int(1500))
    : (attackResponder ? honest.sentByA : honest.sentByB);
  const mutated = r.next() < 0.8;
  const input = mutated
    ? mutate(r, base, { maxRun: r.next() < 0.1 ? 2000 : 40 })
    : Uint8Array.from([...base, ...trailing]);
  let target: Target;
  let cap: number;
  if (attackResponder) {
    target = makeResponder(s);
    cap = responderMaxBytes(MAX_IA);
  } else {
    const a = makeInitiator(s);
    a.start();
    target = a;
    cap = INITIATOR_MAX_BYTES;
  }
  const done = feed(r, target, cap, input);
  if (!mutated && honest !== undefined) {
    assert(done !== undefined, "an honest transcript must complete");
    assertEquals(done.result.leftover.length + done.unfed, trailing.length);
    const expected = attackResponder ? honest.responder : honest.initiator;
    assertEquals(done.result.selected, expected.selected);
    assertEquals(toHex(done.result.initialPayload), toHex(expected.initialPayload));
  }
}

function replay(bytes: Uint8Array): void {
  const s: Setup = {
    seedA: 1,
    seedB: 2,
    allowA: "both",
    allowB: "both",
    preferA: false,
    preferB: true,
    ia: new Uint8Array(0),
  };
  feed(new SeededRandom(0), makeResponder(s), responderMaxBytes(MAX_IA), bytes);
  const a = makeInitiator(s);
  a.start();
  feed(new SeededRandom(0), a, INITIATOR_MAX_BYTES, bytes);
}

Deno.test("fuzz: MSE handshake cores complete or throw ProtocolError, within their caps", () => {
  fuzzCases("mse", oneCase, replay);
});
