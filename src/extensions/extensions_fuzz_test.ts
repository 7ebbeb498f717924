import { assert, assertEquals } from "../../tests/assert.ts";
import { fuzzCases, mutate } from "../../tests/fuzz.ts";
import type { PeerAddress } from "../runtime/types.ts";
import type { SeededRandom } from "../util/prng.ts";
import { formatIp, parseIpv6 } from "./_compact.ts";
import {
  decodeMetadataMessage,
  decodePex,
  encodeMetadataData,
  encodeMetadataReject,
  encodeMetadataRequest,
  encodePex,
  ExtensionSyntaxError,
  MetadataAssembler,
  type MetadataMessage,
  MetadataServer,
  type PexMessage,
  type PexMessageInput,
  PexReceiver,
} from "./mod.ts";

const TOKENS = new TextEncoder().encode("deil:0123456789-e");

/** Flips, truncates, inserts bencode tokens or deletes bytes, 1–4 times. */

/** Decodes, or proves the failure is an ExtensionSyntaxError (a SyntaxError). */
function tryDecode<T>(decode: (b: Uint8Array) => T, payload: Uint8Array): T | undefined {
  try {
    return decode(payload);
  } catch (e) {
    if (e instanceof ExtensionSyntaxError && e instanceof SyntaxError) return undefined;
    throw e;
  }
}

function randomMetadataMessage(r: SeededRandom): MetadataMessage {
  const piece = r.next() < 0.5 ? r.int(4) : r.int(2 ** 31);
  switch (r.int(3)) {
    case 0:
      return { type: "request", piece };
    case 1:
      return { type: "reject", piece };
    default:
      return { type: "data", piece, totalSize: 1 + r.int(40_000), data: r.bytes(r.int(300)) };
  }
}

function encodeMetadata(m: MetadataMessage): Uint8Array {
  if (m.type === "request") return encodeMetadataRequest(m.piece);
  if (m.type === "reject") return encodeMetadataReject(m.piece);
  if (m.type === "data") return encodeMetadataData(m.piece, m.totalSize, m.data);
  throw new Error("unreachable");
}

/** The stateful cores must take any decoded message without throwing. */
function feedMetadata(m: MetadataMessage | undefined): void {
  if (m?.type === "data") {
    const asm = new MetadataAssembler({ infoHash: new Uint8Array(20) });
    asm.offerSize("p", m.totalSize);
    asm.nextRequests("p", 4);
    asm.onData("p", m.piece, m.totalSize, m.data);
    asm.assertInvariants();
  } else if (m?.type === "request") {
    new MetadataServer(new Uint8Array(40_000)).request("p", m.piece);
  }
}

Deno.test("fuzz: decodeMetadataMessage() decodes or throws ExtensionSyntaxError", () => {
  fuzzCases("ut_metadata", (r) => {
    const valid = randomMetadataMessage(r);
    const bytes = encodeMetadata(valid);
    assertEquals(decodeMetadataMessage(bytes), valid); // decode(encode(x)) = x
    const payload = r.next() < 0.2 ? r.bytes(r.int(64)) : mutate(r, bytes, { tokens: TOKENS });
    feedMetadata(tryDecode(decodeMetadataMessage, payload));
  }, (bytes) => feedMetadata(tryDecode(decodeMetadataMessage, bytes)));
});

function randomHost(r: SeededRandom, v6: boolean): string {
  if (!v6) return [1 + r.int(223), r.int(256), r.int(256), r.int(256)].join(".");
  const words = Array.from({ length: 8 }, () => (r.next() < 0.4 ? 0 : r.int(0x10000)));
  words[0] = 0x2000 | r.int(0x1000); // global unicast, never IPv4-mapped
  return words.map((w) => w.toString(16)).join(":");
}

function randomPeers(r: SeededRandom, v6: boolean): PeerAddress[] {
  return Array.from(
    { length: r.int(r.next() < 0.2 ? 60 : 12) },
    () => ({ host: randomHost(r, v6), port: 1 + r.int(65535) }),
  );
}

/** What decodePex must return for `input`: IPv4 first, 50 of each, canonical IPv6 text. */
function expectedPex(input: Required<PexMessageInput>): PexMessage {
  const canonical = (a: PeerAddress) => ({ host: formatIp(parseIpv6(a.host)!), port: a.port });
  const added = [
    ...input.added.map((addr, i) => ({ addr, flags: input.addedFlags[i]! })),
    ...input.added6.map((a, i) => ({ addr: canonical(a), flags: input.added6Flags[i]! })),
  ];
  const dropped = [...input.dropped, ...input.dropped6.map(canonical)];
  return { added: added.slice(0, 50), dropped: dropped.slice(0, 50) };
}

function randomPex(r: SeededRandom): Required<PexMessageInput> {
  const added = randomPeers(r, false), added6 = randomPeers(r, true);
  return {
    added,
    addedFlags: added.map(() => r.int(256)),
    dropped: randomPeers(r, false),
    added6,
    added6Flags: added6.map(() => r.int(32)),
    dropped6: randomPeers(r, true),
  };
}

function checkPex(m: PexMessage | undefined): void {
  if (!m) return;
  assert(m.added.length <= 50 && m.dropped.length <= 50);
  for (const { addr, flags } of m.added) {
    assert(flags >= 0 && flags <= 255 && addr.port >= 0 && addr.port <= 65535);
  }
}

function feedPex(payload: Uint8Array): void {
  checkPex(tryDecode(decodePex, payload));
  const r = new PexReceiver().accept(0, payload); // never throws on peer input
  assert("disconnect" in r || r.added.length <= 50);
}

Deno.test("fuzz: decodePex() decodes or throws ExtensionSyntaxError", () => {
  fuzzCases("ut_pex", (r) => {
    const input = randomPex(r);
    const bytes = encodePex(input);
    assertEquals(decodePex(bytes), expectedPex(input)); // decode(encode(x)) = x, capped
    feedPex(r.next() < 0.2 ? r.bytes(r.int(80)) : mutate(r, bytes, { tokens: TOKENS }));
  }, feedPex);
});
