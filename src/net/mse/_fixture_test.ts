/**
 * Fixtures for the MSE tests (test-only; not re-exported): a scripted `Random`,
 * hand-built third and fourth messages (so tests can break one rule at a time), and a
 * loop that lets two cores talk.
 *
 * Layer: core (test support; no I/O).
 * @module
 */
import type { Random } from "../../runtime/types.ts";
import { concatBytes } from "../../util/bytes.ts";
import { HASH_LENGTH, type MseResult, writeHeader } from "./_handshake_common.ts";
import { mseCiphers, req1Hash, req2Hash, req3Hash } from "./keys.ts";
import type { MseInitiator } from "./initiator.ts";
import type { MseResponder } from "./responder.ts";

/**
 * A `Random` that returns queued values: `bytes(n)` the next queued array (which must be
 * n long) or zeros, `int()` the next queued integer or 0.
 */
export class ScriptedRandom implements Random {
  readonly #bytes: Uint8Array[];
  readonly #ints: number[];

  /** Queues the values. */
  constructor(bytes: Uint8Array[], ints: number[]) {
    this.#bytes = [...bytes];
    this.#ints = [...ints];
  }

  /** Always 0. */
  next(): number {
    return 0;
  }

  /** The next queued integer, or 0. */
  int(maxExclusive: number): number {
    const v = this.#ints.shift() ?? 0;
    if (v >= maxExclusive) throw new RangeError(`scripted int ${v} >= ${maxExclusive}`);
    return v;
  }

  /** The next queued array, or zeros. */
  bytes(length: number): Uint8Array {
    const v = this.#bytes.shift() ?? new Uint8Array(length);
    if (v.length !== length) throw new RangeError(`scripted bytes of ${v.length}, asked ${length}`);
    return v.slice();
  }
}

/** Fields of a hand-built third message; each can break one rule. */
export interface ThirdMessage {
  readonly provide: number;
  readonly padLength?: number;
  readonly initialPayload?: Uint8Array;
  /** Declared len(IA), when it should differ from the payload's length. */
  readonly declaredIaLength?: number;
  /** A non-zero verification constant. */
  readonly badVc?: boolean;
  /** Mask req2 with a wrong info-hash. */
  readonly skey?: Uint8Array;
  /** Payload that follows under the same keystream (A sending right behind its IA). */
  readonly after?: Uint8Array;
}

/** The initiator's third message, built from the spec with the given fields. */
export function buildThird(secret: Uint8Array, infoHash: Uint8Array, m: ThirdMessage): Uint8Array {
  const pad = m.padLength ?? 0;
  const ia = m.initialPayload ?? new Uint8Array(0);
  const after = m.after ?? new Uint8Array(0);
  const body = new Uint8Array(14 + pad + 2 + ia.length + after.length);
  let at = writeHeader(body, 0, m.provide, pad);
  const iaLength = m.declaredIaLength ?? ia.length;
  body[at++] = iaLength >>> 8;
  body[at++] = iaLength & 255;
  body.set(ia, at);
  body.set(after, at + ia.length);
  if (m.badVc) body[3] = 1;
  mseCiphers(secret, infoHash, true).encrypt.process(body);
  const masked = req2Hash(m.skey ?? infoHash);
  const req3 = req3Hash(secret);
  for (let i = 0; i < HASH_LENGTH; i++) masked[i]! ^= req3[i]!;
  return concatBytes([req1Hash(secret), masked, body]);
}

/** The responder's fourth message, built from the spec with the given fields. */
export function buildFourth(
  secret: Uint8Array,
  infoHash: Uint8Array,
  m: { select: number; padLength?: number; badVc?: boolean },
): Uint8Array {
  const pad = m.padLength ?? 0;
  const body = new Uint8Array(14 + pad);
  writeHeader(body, 0, m.select, pad);
  if (m.badVc) body[0] = 1;
  mseCiphers(secret, infoHash, false).encrypt.process(body);
  return body;
}

/** Both results of a conversation between two cores. */
export interface Conversation {
  readonly initiator: MseResult;
  readonly responder: MseResult;
  /** Every byte A sent. */
  readonly sentByA: Uint8Array;
  /** Every byte B sent (with `afterB` last). */
  readonly sentByB: Uint8Array;
}

/**
 * Lets `a` and `b` talk, delivering at most `chunk` bytes per `receive` and checking both
 * cores' invariants after every step. `afterB` gives payload bytes B sends right behind
 * its last handshake message, once it has its result (so they reach A in the same read).
 */
export function converse(
  a: MseInitiator,
  b: MseResponder,
  options: { chunk?: number; afterB?: (result: MseResult) => Uint8Array } = {},
): Conversation {
  const chunk = options.chunk ?? 1 << 30;
  const sentA: Uint8Array[] = [];
  const sentB: Uint8Array[] = [];
  let toB = a.start();
  let ra: MseResult | undefined;
  let rb: MseResult | undefined;
  for (let turn = 0; turn < 100 && (ra === undefined || rb === undefined); turn++) {
    sentA.push(toB);
    const toA: Uint8Array[] = [];
    for (let at = 0; at < toB.length; at += chunk) {
      const step = b.receive(toB.subarray(at, at + chunk));
      b.assertInvariants();
      if (step.send) toA.push(step.send);
      if (step.result) {
        rb = step.result;
        if (options.afterB) toA.push(options.afterB(rb));
        break;
      }
    }
    const bytes = concatBytes(toA);
    sentB.push(bytes);
    toB = new Uint8Array(0);
    for (let at = 0; at < bytes.length; at += chunk) {
      const step = a.receive(bytes.subarray(at, at + chunk));
      a.assertInvariants();
      if (step.send) toB = step.send;
      if (step.result) {
        ra = step.result;
        break;
      }
    }
  }
  if (ra === undefined || rb === undefined) throw new Error("conversation did not finish");
  return { initiator: ra, responder: rb, sentByA: concatBytes(sentA), sentByB: concatBytes(sentB) };
}
