/**
 * The BEP 11 `ut_pex` message codec: a bencoded dictionary with compact peer lists
 * `added`/`added.f`/`dropped` (IPv4, 6 bytes per peer) and `added6`/`added6.f`/
 * `dropped6` (IPv6, 18 bytes per peer), and one flags byte per added peer.
 *
 * Decoding follows RELIABILITY EX6: a payload over 64 KiB is refused before it is
 * decoded, the dictionary is decoded with `MESSAGE_LIMITS`, a partial compact entry
 * at the end of a list is dropped, fields of the wrong type are ignored, and only the
 * first 50 added (IPv4 first, then IPv6) and 50 dropped peers are read.
 *
 * Private torrents (BEP 27) never enable ut_pex; the session leaves the extension
 * out of its handshake, so nothing here checks for them.
 *
 * Layer: core (no I/O).
 * @module
 */
import {
  BencodeSyntaxError,
  type BencodeValue,
  decode,
  encode,
  isDict,
  MESSAGE_LIMITS,
} from "../bencode/mod.ts";
import type { PeerAddress } from "../runtime/types.ts";
import { COMPACT_V4_LENGTH, COMPACT_V6_LENGTH, compactEntry, readCompact } from "./_compact.ts";
import { ExtensionSyntaxError } from "./errors.ts";

/** The shape of {@linkcode PexFlags}: each BEP 11 `added.f` bit by name. */
export interface PexFlagBits {
  /** 0x01: the peer prefers encrypted connections. */
  readonly prefersEncryption: 0x01;
  /** 0x02: the peer is a seed or upload-only. */
  readonly seed: 0x02;
  /** 0x04: the peer supports uTP. */
  readonly utp: 0x04;
  /** 0x08: the peer supports ut_holepunch. */
  readonly holepunch: 0x08;
  /** 0x10: we connected to the peer (outgoing), so it is reachable. */
  readonly reachable: 0x10;
}

/** The BEP 11 `added.f` flag bits. */
export const PexFlags: PexFlagBits = Object.freeze({
  prefersEncryption: 0x01,
  seed: 0x02,
  utp: 0x04,
  holepunch: 0x08,
  reachable: 0x10,
});

/** At most this many added and this many dropped peers are used per message (EX6). */
export const PEX_MAX_PEERS_PER_MESSAGE = 50;

/** The largest ut_pex payload accepted (RELIABILITY limits table: ≤ 64 KiB). */
export const PEX_MAX_PAYLOAD_BYTES: number = 64 * 1024;

/** What {@linkcode encodePex} sends; every list is optional (empty when left out). */
export interface PexMessageInput {
  /** IPv4 peers that joined since the last message. */
  readonly added?: readonly PeerAddress[];
  /** One flags byte per `added` peer (0 when left out). */
  readonly addedFlags?: readonly number[];
  /** IPv4 peers that left since the last message. */
  readonly dropped?: readonly PeerAddress[];
  /** IPv6 peers that joined. */
  readonly added6?: readonly PeerAddress[];
  /** One flags byte per `added6` peer (0 when left out). */
  readonly added6Flags?: readonly number[];
  /** IPv6 peers that left. */
  readonly dropped6?: readonly PeerAddress[];
}

/** An added peer and its {@linkcode PexFlags}. */
export interface PexAddedPeer {
  /** The peer's listen address. */
  readonly addr: PeerAddress;
  /** The `added.f` byte (0 when the sender sent none). */
  readonly flags: number;
}

/** A decoded ut_pex message (IPv4 and IPv6 lists merged, IPv4 first). */
export interface PexMessage {
  /** At most 50 added peers. */
  readonly added: PexAddedPeer[];
  /** At most 50 dropped peers. */
  readonly dropped: PeerAddress[];
}

function compactList(peers: readonly PeerAddress[], entryLength: number, key: string): Uint8Array {
  const out = new Uint8Array(peers.length * entryLength);
  peers.forEach((addr, i) => {
    const entry = compactEntry(addr);
    if (entry?.length !== entryLength) {
      throw new TypeError(
        `Cannot encode ut_pex "${key}": ${addr.host}:${addr.port} is not an IPv${
          entryLength === COMPACT_V4_LENGTH ? 4 : 6
        } peer with a valid port`,
      );
    }
    out.set(entry, i * entryLength);
  });
  return out;
}

function flagList(peers: readonly PeerAddress[], flags: readonly number[] | undefined): Uint8Array {
  if (flags !== undefined && flags.length !== peers.length) {
    throw new RangeError(`Cannot encode ut_pex: ${flags.length} flags for ${peers.length} peers`);
  }
  const out = new Uint8Array(peers.length);
  flags?.forEach((f, i) => {
    if (!Number.isInteger(f) || f < 0 || f > 0xff) {
      throw new RangeError(`Cannot encode ut_pex: flags ${f} not in 0..255`);
    }
    out[i] = f;
  });
  return out;
}

/**
 * Encodes a ut_pex payload; all six keys are always present, as libtorrent sends them.
 * Callers cap the lists (see {@linkcode PexSender}); the encoder does not.
 * @param message the peer lists
 * @returns the bencoded payload
 * @throws {TypeError} when a peer is not an IP literal of the list's family or has an invalid port
 * @throws {RangeError} when a flags list does not match its peers or a flag is not a byte
 * @example
 * ```ts
 * import { decodePex, encodePex, PexFlags } from "./ut_pex.ts";
 * import { deepStrictEqual } from "node:assert";
 * const payload = encodePex({
 *   added: [{ host: "203.0.113.5", port: 6881 }],
 *   addedFlags: [PexFlags.seed | PexFlags.reachable],
 *   dropped6: [{ host: "2001:db8::1", port: 51413 }],
 * });
 * deepStrictEqual(decodePex(payload), {
 *   added: [{ addr: { host: "203.0.113.5", port: 6881 }, flags: 0x12 }],
 *   dropped: [{ host: "2001:db8::1", port: 51413 }],
 * });
 * ```
 */
export function encodePex(message: PexMessageInput): Uint8Array {
  const added = message.added ?? [], added6 = message.added6 ?? [];
  return encode({
    added: compactList(added, COMPACT_V4_LENGTH, "added"),
    "added.f": flagList(added, message.addedFlags),
    dropped: compactList(message.dropped ?? [], COMPACT_V4_LENGTH, "dropped"),
    added6: compactList(added6, COMPACT_V6_LENGTH, "added6"),
    "added6.f": flagList(added6, message.added6Flags),
    dropped6: compactList(message.dropped6 ?? [], COMPACT_V6_LENGTH, "dropped6"),
  });
}

const WHAT = "ut_pex message";

function bytesOf(value: BencodeValue | undefined): Uint8Array {
  return value instanceof Uint8Array ? value : new Uint8Array(0); // wrong type: ignored
}

function decodeDict(payload: Uint8Array): Map<string, BencodeValue> {
  if (payload.length > PEX_MAX_PAYLOAD_BYTES) {
    throw new ExtensionSyntaxError(WHAT, `payload of ${payload.length} bytes exceeds 65536`, 0);
  }
  let value: BencodeValue;
  try {
    value = decode(payload, MESSAGE_LIMITS);
  } catch (e) {
    if (e instanceof BencodeSyntaxError) {
      throw new ExtensionSyntaxError(WHAT, e.message, e.offset, { cause: e });
    }
    throw e;
  }
  if (!isDict(value)) throw new ExtensionSyntaxError(WHAT, "payload is not a dictionary", 0);
  return value;
}

function addedPeers(dict: Map<string, BencodeValue>, v6: boolean, max: number): PexAddedPeer[] {
  const key = v6 ? "added6" : "added";
  const flags = bytesOf(dict.get(`${key}.f`));
  const peers = readCompact(
    bytesOf(dict.get(key)),
    v6 ? COMPACT_V6_LENGTH : COMPACT_V4_LENGTH,
    max,
  );
  return peers.map((addr, i) => ({ addr, flags: flags[i] ?? 0 }));
}

/**
 * Decodes a ut_pex payload (the extended message body after its id byte).
 * @param payload the payload bytes
 * @returns the first 50 added peers (with flags) and the first 50 dropped peers;
 *   addresses are not filtered here (see {@linkcode PexReceiver})
 * @throws {ExtensionSyntaxError} when the payload exceeds 64 KiB, is not bencode
 *   within `MESSAGE_LIMITS`, or is not a dictionary
 * @example
 * ```ts
 * import { decodePex } from "./ut_pex.ts";
 * import { deepStrictEqual } from "node:assert";
 * // 7 bytes of "added": one 6-byte peer and an odd tail, which is dropped
 * const added = new Uint8Array([198, 51, 100, 7, 0x1a, 0xe1, 9]);
 * const payload = new Uint8Array([...new TextEncoder().encode("d5:added7:"), ...added, 0x65]);
 * deepStrictEqual(decodePex(payload), {
 *   added: [{ addr: { host: "198.51.100.7", port: 6881 }, flags: 0 }],
 *   dropped: [],
 * });
 * ```
 */
export function decodePex(payload: Uint8Array): PexMessage {
  const dict = decodeDict(payload);
  const max = PEX_MAX_PEERS_PER_MESSAGE;
  const added = addedPeers(dict, false, max);
  added.push(...addedPeers(dict, true, max - added.length));
  const dropped = readCompact(bytesOf(dict.get("dropped")), COMPACT_V4_LENGTH, max);
  dropped.push(
    ...readCompact(bytesOf(dict.get("dropped6")), COMPACT_V6_LENGTH, max - dropped.length),
  );
  return { added, dropped };
}
