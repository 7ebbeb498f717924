/**
 * What the two MSE handshake roles share: the result and step types, the
 * crypto_provide / crypto_select bits, the spec's size limits, plain-handshake
 * detection and the encoders of the key message and the encrypted header.
 *
 * Layer: core (no I/O).
 * @module
 */
import { ProtocolError } from "../../errors.ts";
import type { Random } from "../../runtime/types.ts";
import { DH_KEY_LENGTH, dhPublicKey, type MseCiphers } from "./keys.ts";

/** The payload method both sides agreed on: RC4 or plaintext after the handshake. */
export type MseMethod = "rc4" | "plaintext";

/** The methods a side accepts: RC4 only ("require"), plaintext only, or both. */
export type MseAllow = "rc4" | "plaintext" | "both";

/** crypto_provide / crypto_select bit for plaintext after the handshake. */
export const CRYPTO_PLAINTEXT = 0x01;
/** crypto_provide / crypto_select bit for RC4 after the handshake. */
export const CRYPTO_RC4 = 0x02;
/** Longest PadA, PadB, PadC or PadD the spec allows. */
export const MAX_PAD_LENGTH = 512;
/** Bytes of the verification constant (zeros, sent encrypted). */
export const VC_LENGTH = 8;
/** Bytes of an info-hash, of req1 and of req2 ⊕ req3. */
export const HASH_LENGTH = 20;
/** Bytes of `VC, crypto_provide/select, len(Pad)` at the start of each encrypted header. */
export const HEADER_LENGTH = VC_LENGTH + 4 + 2;

const PLAIN_HEADER = Uint8Array.from("\x13BitTorrent protocol", (c) => c.charCodeAt(0));
/** Bytes that identify a plain BitTorrent handshake: 19, then "BitTorrent protocol". */
export const PLAIN_HEADER_LENGTH = PLAIN_HEADER.length;

/**
 * Tells a plain BitTorrent handshake from MSE by its first bytes: a plain one starts
 * with 19 and "BitTorrent protocol"; an MSE public key does so with chance 2^-160.
 * @param head the first bytes received
 * @returns "plain", "mse", or undefined while `head` is a proper prefix of the header
 */
export function classifyIncoming(head: Uint8Array): "plain" | "mse" | undefined {
  const n = Math.min(head.length, PLAIN_HEADER_LENGTH);
  for (let i = 0; i < n; i++) if (head[i] !== PLAIN_HEADER[i]) return "mse";
  return n === PLAIN_HEADER_LENGTH ? "plain" : undefined;
}

/** A finished handshake. */
export interface MseResult {
  /** The method for the payload stream. */
  readonly selected: MseMethod;
  /** The torrent's info-hash (SKEY): ours when initiating, the matched one when responding. */
  readonly infoHash: Uint8Array;
  /** The initiator's initial payload (IA), decrypted; empty on the initiator's side. */
  readonly initialPayload: Uint8Array;
  /** Payload-stream bytes that arrived with the handshake, decrypted when RC4 (a copy). */
  readonly leftover: Uint8Array;
  /** The keystreams, positioned for the payload stream, when `selected` is "rc4". */
  readonly ciphers: MseCiphers | undefined;
}

/** What one call into a handshake core produced. */
export interface MseStep {
  /** Bytes to send to the peer now, in order, or undefined. */
  readonly send: Uint8Array | undefined;
  /** The result once the handshake is complete, else undefined. */
  readonly result: MseResult | undefined;
}

/** The bits of a policy. */
export function allowBits(allow: MseAllow): number {
  switch (allow) {
    case "rc4":
      return CRYPTO_RC4;
    case "plaintext":
      return CRYPTO_PLAINTEXT;
    case "both":
      return CRYPTO_RC4 | CRYPTO_PLAINTEXT;
    default:
      throw new TypeError(`Unknown MSE policy: "${String(allow)}"`);
  }
}

/** Index of `needle` in `hay[from, to)`, or −1. */
export function indexOf(hay: Uint8Array, needle: Uint8Array, from: number, to: number): number {
  const first = needle[0]!;
  const last = to - needle.length;
  outer: for (let i = from; i <= last; i++) {
    if (hay[i] !== first) continue;
    for (let k = 1; k < needle.length; k++) {
      if (hay[i + k] !== needle[k]) continue outer;
    }
    return i;
  }
  return -1;
}

/** Big-endian u16 at `at`. */
export function readU16(bytes: Uint8Array, at: number): number {
  return (bytes[at]! << 8) | bytes[at + 1]!;
}

/** Big-endian u32 at `at`. */
export function readU32(bytes: Uint8Array, at: number): number {
  return ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>>
    0;
}

/** Writes `VC, bits (u32), len(pad) (u16), pad (zeros)` at `at`; returns the end. */
export function writeHeader(out: Uint8Array, at: number, bits: number, padLength: number): number {
  out.fill(0, at, at + VC_LENGTH);
  const p = at + VC_LENGTH;
  out[p] = bits >>> 24;
  out[p + 1] = (bits >>> 16) & 255;
  out[p + 2] = (bits >>> 8) & 255;
  out[p + 3] = bits & 255;
  out[p + 4] = padLength >>> 8;
  out[p + 5] = padLength & 255;
  out.fill(0, p + 6, p + 6 + padLength);
  return p + 6 + padLength;
}

/**
 * Our first message, Y and a random pad: draws `int(513)` then `bytes(n)` from `random`.
 * @param privateKey our private key
 * @param random the pad's source
 * @returns Ya, PadA (initiator) or Yb, PadB (responder)
 */
export function keyMessage(privateKey: Uint8Array, random: Random): Uint8Array {
  const padLength = random.int(MAX_PAD_LENGTH + 1);
  const out = new Uint8Array(DH_KEY_LENGTH + padLength);
  out.set(dhPublicKey(privateKey));
  out.set(random.bytes(padLength), DH_KEY_LENGTH);
  return out;
}

/** Fails the handshake with a `ProtocolError` naming the broken rule. */
export function fail(detail: string): never {
  throw new ProtocolError(`Cannot complete MSE handshake: ${detail}`);
}
