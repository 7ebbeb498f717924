import { assert, assertEquals } from "../../../tests/assert.ts";
import { fuzzCases, mutate } from "../../../tests/fuzz.ts";
import { CoreLink } from "../../../tests/utp_core_link.ts";
import type { SeededRandom } from "../../util/prng.ts";
import {
  encodePacket,
  HEADER_BYTES,
  newHeader,
  type PacketFields,
  parsePacket,
  ST_DATA,
  ST_SYN,
  type UtpHeader,
  UtpSyntaxError,
} from "./packet.ts";

function randomPacket(r: SeededRandom): PacketFields {
  const type = r.int(ST_SYN + 1);
  const u32 = () => r.int(2 ** 32);
  return {
    type,
    connectionId: r.int(65536),
    timestampMicros: u32(),
    timestampDifferenceMicros: u32(),
    windowBytes: u32(),
    seq: r.int(65536),
    ack: r.int(65536),
    ...(r.next() < 0.3 ? { sack: r.bytes(1 + r.int(40)) } : {}),
    ...(r.next() < 0.1 ? { closeReason: r.int(65536) } : {}),
    ...(type === ST_DATA ? { payload: r.bytes(r.int(1500)) } : {}),
  };
}

/** The shared byte mutations, plus two that know uTP's extension chain. */
function mutatePacket(r: SeededRandom, bytes: Uint8Array): Uint8Array {
  switch (r.int(4)) {
    case 0: { // corrupt the extension chain
      const out = bytes.slice();
      out[1] = r.int(256);
      if (out.length > HEADER_BYTES + 1) out[HEADER_BYTES + 1] = r.int(256);
      return out;
    }
    case 1: { // a long chain of empty extensions
      const out = new Uint8Array(HEADER_BYTES + 2 * r.int(40));
      out.set(bytes.subarray(0, HEADER_BYTES));
      out[1] = 2;
      for (let i = HEADER_BYTES; i < out.length; i += 2) out[i] = 2;
      return out;
    }
    case 2:
      return r.bytes(r.int(64));
    default:
      return mutate(r, bytes);
  }
}

/** Parses; only a UtpSyntaxError may escape, and a parse stays inside the datagram. */
function parseOrReject(bytes: Uint8Array, h: UtpHeader): void {
  try {
    parsePacket(bytes, h);
  } catch (e) {
    if (!(e instanceof UtpSyntaxError)) throw e;
    assert(e.offset >= 0 && e.offset <= bytes.length);
    return;
  }
  assert(h.payloadOffset >= HEADER_BYTES && h.payloadOffset <= bytes.length);
  if (h.sackOffset !== 0) assert(h.sackOffset + h.sackLength <= h.payloadOffset);
}

Deno.test("fuzz: uTP packets round-trip; mutated datagrams parse or throw UtpSyntaxError", () => {
  const h = newHeader();
  fuzzCases("utp", (r) => {
    const fields = randomPacket(r);
    const bytes = encodePacket(fields);
    parsePacket(bytes, h);
    assertEquals(
      [h.type, h.connectionId, h.timestampMicros, h.timestampDifferenceMicros, h.windowBytes],
      [
        fields.type,
        fields.connectionId,
        fields.timestampMicros,
        fields.timestampDifferenceMicros,
        fields.windowBytes,
      ],
    );
    assertEquals([h.seq, h.ack, h.closeReason], [fields.seq, fields.ack, fields.closeReason ?? -1]);
    assertEquals(
      h.sackOffset ? bytes.slice(h.sackOffset, h.sackOffset + h.sackLength) : undefined,
      fields.sack,
    );
    assertEquals(bytes.slice(h.payloadOffset), fields.payload ?? new Uint8Array(0));
    for (let k = 0; k < 4; k++) parseOrReject(mutatePacket(r, bytes), h);
  }, (bytes) => parseOrReject(bytes, h));
});

/** A packet from `log` with a few fields or bytes changed. */
function mutateLive(r: SeededRandom, bytes: Uint8Array): Uint8Array {
  const out = bytes.slice();
  for (let k = 1 + r.int(3); k > 0; k--) {
    const field = [16, 18, 12, 0, 1, 8, r.int(out.length)][r.int(7)]!;
    out[field] = r.int(256);
    if (field === 0) out[0] = (out[0]! & 0xf0) | 1; // keep version 1 (else it never parses)
  }
  return out;
}

Deno.test("fuzz: connection cores survive mutated and replayed packets with invariants intact", () => {
  fuzzCases("utp_connection", (r) => {
    const link = new CoreLink({ initialWindowPackets: 4 });
    link.connect(r.int(65536), r.int(65536));
    const data = r.bytes(1 + r.int(12_000));
    let at = 0;
    for (let round = 0; round < 12; round++) {
      at += link.a.write(data, at);
      if (r.next() < 0.3) link.b?.write(data.subarray(0, 1 + r.int(3000)), 0);
      link.flush();
      link.run({ limit: 1 });
      for (let k = r.int(3); k > 0 && link.log.length > 0; k--) {
        const victim = link.log[r.int(link.log.length)]!;
        const bytes = r.next() < 0.2 ? victim.bytes : mutateLive(r, victim.bytes);
        try {
          parsePacket(bytes, newHeader());
        } catch (e) {
          if (e instanceof UtpSyntaxError) continue; // the socket drops these before a core
          throw e;
        }
        link.inject(victim.from === "a" ? "a" : "b", bytes); // back to its sender, or
        link.inject(victim.from === "a" ? "b" : "a", bytes); // on to its receiver
      }
      if (r.next() < 0.05) link.tick(600);
      link.drain("b");
      link.drain("a");
    }
  });
});
