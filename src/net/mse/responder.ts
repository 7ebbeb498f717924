/**
 * The responder's (B's) side of the MSE/PE handshake, sans I/O: `receive(chunk)` takes
 * what the initiator sent (from its first byte, Ya) and returns bytes to send and, at
 * the end, the result. The message sequence is in `initiator.ts`.
 *
 * Synchronisation: PadA has no length field, so B finds its end by scanning for
 * HASH('req1', S) within the 512 + 20 bytes after Ya. The next 20 bytes,
 * HASH('req2', SKEY) ⊕ HASH('req3', S), tell which torrent A wants: B unmasks them and
 * asks `findInfoHash`, which matches them against HASH('req2', infoHash) of each torrent.
 *
 * B answers with ENCRYPT(VC, crypto_select, len(PadD), PadD) as soon as it has read
 * crypto_provide (as libtorrent does), then reads PadC and the initial payload (IA).
 *
 * Limits (checked before anything past them is buffered): Ya is 96 bytes; PadA at most
 * 512 (no req1 by then fails); len(PadC) at most 512; len(IA) at most
 * `maxInitialPayloadBytes` (default 16 KiB; clients send their 68-byte BitTorrent
 * handshake there). So B never holds more than 96 + 532 + 34 + 514 + that cap.
 *
 * Randomness, in order of use: `bytes(20)` for the private key when constructed;
 * `int(513)` and `bytes(n)` for PadB when Ya arrives; `int(513)` for len(PadD) when
 * crypto_provide arrives (PadD is zeros; it is encrypted).
 *
 * Layer: core (no I/O).
 * @module
 */
import type { Random } from "../../runtime/types.ts";
import { bytesEqual } from "../../util/bytes.ts";
import {
  allowBits,
  CRYPTO_PLAINTEXT,
  CRYPTO_RC4,
  fail,
  HASH_LENGTH,
  HEADER_LENGTH,
  keyMessage,
  MAX_PAD_LENGTH,
  type MseAllow,
  type MseMethod,
  type MseStep,
  readU16,
  readU32,
  writeHeader,
} from "./_handshake_common.ts";
import { HandshakeRunner } from "./_handshake_runner.ts";
import {
  DH_KEY_LENGTH,
  dhSharedSecret,
  type MseCiphers,
  mseCiphers,
  PRIVATE_KEY_LENGTH,
  req1Hash,
  req2Hash,
  req3Hash,
} from "./keys.ts";

/** Default cap on the initiator's initial payload (IA). */
export const DEFAULT_MAX_INITIAL_PAYLOAD_BYTES = 16 * 1024;

/**
 * Finds the torrent an incoming MSE connection asks for.
 * @param req2 HASH('req2', SKEY), unmasked: compare with {@linkcode req2Hash} of each torrent
 * @returns that torrent's 20-byte info-hash, or undefined when none matches
 */
export type FindInfoHash = (req2: Uint8Array) => Uint8Array | undefined;

/** Options for {@linkcode MseResponder}. */
export interface MseResponderOptions {
  /** Private key and padding. */
  readonly random: Random;
  /** Methods we may select from the initiator's crypto_provide. */
  readonly allow: MseAllow;
  /** When both are possible, select RC4 (default false: plaintext, as libtorrent does). */
  readonly preferRc4?: boolean;
  /** Maps HASH('req2', SKEY) to a torrent's info-hash. */
  readonly findInfoHash: FindInfoHash;
  /** Cap on len(IA), 0..65,535; default {@linkcode DEFAULT_MAX_INITIAL_PAYLOAD_BYTES}. */
  readonly maxInitialPayloadBytes?: number;
}

type Stage = "ya" | "sync" | "skey" | "pad" | "ia" | "done";

const SYNC_END = DH_KEY_LENGTH + MAX_PAD_LENGTH + HASH_LENGTH;

/**
 * The most B holds with an IA cap of `maxInitialPayloadBytes`.
 * @param maxInitialPayloadBytes the IA cap
 * @returns bytes
 */
export function responderMaxBytes(maxInitialPayloadBytes: number): number {
  return SYNC_END + HASH_LENGTH + HEADER_LENGTH + MAX_PAD_LENGTH + 2 + maxInitialPayloadBytes;
}

/**
 * The responder's handshake state machine. After it throws, every later call rethrows.
 *
 * Invariants ({@linkcode MseResponder.assertInvariants}): the buffer never holds more
 * than its stage's limit, and no limit exceeds {@linkcode responderMaxBytes}.
 */
export class MseResponder {
  readonly #random: Random;
  readonly #allow: number;
  readonly #preferRc4: boolean;
  readonly #findInfoHash: FindInfoHash;
  readonly #maxIa: number;
  readonly #privateKey: Uint8Array;
  readonly #runner: HandshakeRunner;
  #stage: Stage = "ya";
  #secret: Uint8Array | undefined = undefined;
  #req1: Uint8Array | undefined = undefined;
  #infoHash: Uint8Array | undefined = undefined;
  #ciphers: MseCiphers | undefined = undefined;
  #selected: MseMethod = "rc4";
  #padLength = 0;
  #iaLength = 0;

  /**
   * Prepares a handshake; draws the private key from `random`.
   * @param options randomness, policy, torrent lookup, IA cap
   * @throws {RangeError} for an IA cap outside 0..65,535
   * @throws {TypeError} for an unknown policy
   */
  constructor(options: MseResponderOptions) {
    const maxIa = options.maxInitialPayloadBytes ?? DEFAULT_MAX_INITIAL_PAYLOAD_BYTES;
    if (!Number.isInteger(maxIa) || maxIa < 0 || maxIa > 0xffff) {
      throw new RangeError(`Cannot accept MSE: initial payload cap ${maxIa}, expected 0..65535`);
    }
    this.#allow = allowBits(options.allow);
    this.#preferRc4 = options.preferRc4 ?? false;
    this.#findInfoHash = options.findInfoHash;
    this.#maxIa = maxIa;
    this.#random = options.random;
    this.#privateKey = options.random.bytes(PRIVATE_KEY_LENGTH);
    this.#runner = new HandshakeRunner("MseResponder", DH_KEY_LENGTH, responderMaxBytes(maxIa));
  }

  /** Bytes of the peer's handshake held, waiting for more. */
  get bufferedBytes(): number {
    return this.#runner.bufferedBytes;
  }

  /**
   * Takes bytes from the initiator.
   * @param chunk the next bytes received; copied, not retained
   * @returns bytes to send, and the result once the handshake is complete
   * @throws {ProtocolError} when the peer breaks the handshake (this side is then dead)
   * @throws {Error} after completion
   */
  receive(chunk: Uint8Array): MseStep {
    return this.#runner.receive(chunk, () => this.#advance());
  }

  /**
   * Checks the invariants in the class header.
   * @throws {Error} naming the broken invariant
   */
  assertInvariants(): void {
    this.#runner.buffer.assertInvariants();
  }

  /** Runs the current stage; true when it moved on and should run again. */
  #advance(): boolean {
    const buf = this.#runner.buffer;
    const bytes = buf.bytes;
    switch (this.#stage) {
      case "ya": {
        if (buf.length < DH_KEY_LENGTH) return false;
        this.#secret = dhSharedSecret(this.#privateKey, bytes.subarray(0, DH_KEY_LENGTH));
        this.#req1 = req1Hash(this.#secret);
        this.#runner.send(keyMessage(this.#privateKey, this.#random));
        buf.pos = DH_KEY_LENGTH;
        buf.setLimit(SYNC_END);
        this.#stage = "sync";
        return true;
      }
      case "sync": {
        const found = buf.scan(this.#req1!, "no req1 hash within 532 bytes of Ya");
        if (found < 0) return false;
        buf.pos = found + HASH_LENGTH;
        buf.setLimit(Math.max(buf.length, buf.pos + HASH_LENGTH + HEADER_LENGTH));
        this.#stage = "skey";
        return true;
      }
      case "skey":
        if (buf.length < buf.pos + HASH_LENGTH + HEADER_LENGTH) return false;
        this.#readSkeyAndHeader(bytes);
        return true;
      case "pad": {
        const end = buf.pos + this.#padLength + 2;
        if (buf.length < end) return false;
        this.#ciphers!.decrypt.process(bytes.subarray(buf.pos, end));
        this.#iaLength = readU16(bytes, end - 2);
        if (this.#iaLength > this.#maxIa) {
          fail(`initial payload of ${this.#iaLength} bytes, at most ${this.#maxIa}`);
        }
        buf.pos = end;
        buf.setLimit(Math.max(buf.length, end + this.#iaLength));
        this.#stage = "ia";
        return true;
      }
      case "ia": {
        const end = buf.pos + this.#iaLength;
        if (buf.length < end) return false;
        const ia = bytes.slice(buf.pos, end);
        this.#ciphers!.decrypt.process(ia);
        buf.pos = end;
        this.#stage = "done";
        this.#runner.complete({
          selected: this.#selected,
          infoHash: this.#infoHash!.slice(),
          initialPayload: ia,
          ciphers: this.#ciphers!,
        });
        return false;
      }
      default:
        return false;
    }
  }

  /** The unmasked SKEY hash, then VC, crypto_provide and len(PadC); answers with step 4. */
  #readSkeyAndHeader(bytes: Uint8Array): void {
    const buf = this.#runner.buffer;
    const secret = this.#secret!;
    const req2 = req3Hash(secret);
    for (let i = 0; i < HASH_LENGTH; i++) req2[i]! ^= bytes[buf.pos + i]!;
    const infoHash = this.#findInfoHash(req2);
    if (infoHash === undefined) fail("no torrent matches the requested info-hash");
    if (infoHash.length !== HASH_LENGTH || !bytesEqual(req2Hash(infoHash), req2)) {
      throw new TypeError("findInfoHash returned an info-hash whose req2 hash does not match");
    }
    this.#infoHash = infoHash.slice();
    const ciphers = mseCiphers(secret, infoHash, false);
    this.#ciphers = ciphers;
    buf.pos += HASH_LENGTH;
    const header = bytes.subarray(buf.pos, buf.pos + HEADER_LENGTH);
    ciphers.decrypt.process(header);
    for (let i = 0; i < 8; i++) if (header[i] !== 0) fail("wrong verification constant");
    const provide = readU32(header, 8);
    this.#padLength = readU16(header, 12);
    if (this.#padLength > MAX_PAD_LENGTH) fail(`PadC of ${this.#padLength} bytes`);
    const select = this.#select(provide);
    this.#selected = select === CRYPTO_RC4 ? "rc4" : "plaintext";
    const padD = this.#random.int(MAX_PAD_LENGTH + 1);
    const out = new Uint8Array(HEADER_LENGTH + padD);
    writeHeader(out, 0, select, padD);
    ciphers.encrypt.process(out);
    this.#runner.send(out);
    buf.pos += HEADER_LENGTH;
    buf.setLimit(Math.max(buf.length, buf.pos + this.#padLength + 2));
    this.#stage = "pad";
  }

  /** One method from crypto_provide ∩ ours, RC4 first only when preferred. */
  #select(provide: number): number {
    const common = provide & this.#allow;
    if (common === 0) {
      fail(`crypto_provide 0x${provide.toString(16)} offers no method we accept`);
    }
    if (common === (CRYPTO_RC4 | CRYPTO_PLAINTEXT)) {
      return this.#preferRc4 ? CRYPTO_RC4 : CRYPTO_PLAINTEXT;
    }
    return common;
  }
}
