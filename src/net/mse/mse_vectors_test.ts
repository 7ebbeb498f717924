/**
 * Our MSE cores against vectors from an independent, from-the-spec implementation
 * (`tests/fixtures/mse/mse_vectors.py`: Python's hashlib, `pow` and a small RC4):
 * every handshake byte both ways and the first payload bytes must match exactly.
 */
import { assertEquals } from "../../../tests/assert.ts";
import { fromHex, toHex } from "../../util/bytes.ts";
import { dhPublicKey, dhSharedSecret, req1Hash, req2Hash } from "./keys.ts";
import { MseInitiator } from "./initiator.ts";
import { MseResponder } from "./responder.ts";
import { ScriptedRandom } from "./_fixture_test.ts";

interface Vectors {
  xa: string;
  xb: string;
  infoHash: string;
  padA: string;
  padB: string;
  padCLength: number;
  padDLength: number;
  initialPayload: string;
  provide: number;
  select: number;
  payloadAB: string;
  payloadBA: string;
  secret: string;
  req1: string;
  req2: string;
  step1: string;
  step2: string;
  step3: string;
  step4: string;
  encryptedAB: string;
  encryptedBA: string;
}

const V: Vectors = JSON.parse(
  await Deno.readTextFile(new URL("../../../tests/fixtures/mse/vectors.json", import.meta.url)),
);

Deno.test("MSE keys match the independent vectors: Ya, S, req1, req2", () => {
  assertEquals(toHex(dhPublicKey(fromHex(V.xa))), V.step1.slice(0, 192));
  assertEquals(toHex(dhPublicKey(fromHex(V.xb))), V.step2.slice(0, 192));
  const yb = fromHex(V.step2).subarray(0, 96);
  assertEquals(toHex(dhSharedSecret(fromHex(V.xa), yb)), V.secret);
  assertEquals(toHex(req1Hash(fromHex(V.secret))), V.req1);
  assertEquals(toHex(req2Hash(fromHex(V.infoHash))), V.req2);
});

Deno.test("MSE handshake bytes match the independent vectors, both roles", () => {
  const padA = fromHex(V.padA);
  const padB = fromHex(V.padB);
  const a = new MseInitiator({
    infoHash: fromHex(V.infoHash),
    random: new ScriptedRandom([fromHex(V.xa), padA], [padA.length, V.padCLength]),
    allow: V.provide === 3 ? "both" : "rc4",
    initialPayload: fromHex(V.initialPayload),
  });
  const b = new MseResponder({
    random: new ScriptedRandom([fromHex(V.xb), padB], [padB.length, V.padDLength]),
    allow: "both",
    preferRc4: V.select === 2,
    findInfoHash: (req2) => toHex(req2) === V.req2 ? fromHex(V.infoHash) : undefined,
  });
  assertEquals(toHex(a.start()), V.step1);
  const second = b.receive(fromHex(V.step1));
  assertEquals(toHex(second.send!), V.step2);
  const third = a.receive(second.send!);
  assertEquals(toHex(third.send!), V.step3);
  const fourth = b.receive(third.send!);
  assertEquals(toHex(fourth.send!), V.step4);
  const done = a.receive(fourth.send!);

  const ab = fromHex(V.payloadAB);
  done.result!.ciphers!.encrypt.process(ab);
  assertEquals(toHex(ab), V.encryptedAB);
  const ba = fromHex(V.payloadBA);
  fourth.result!.ciphers!.encrypt.process(ba);
  assertEquals(toHex(ba), V.encryptedBA);
});
