/**
 * The initiator's (A's) side of the MSE/PE handshake, sans I/O: `start()` gives the
 * first bytes to send, `receive(chunk)` takes what the peer sent and returns bytes to
 * send and, at the end, the result.
 *
 * ```
 * A→B  Ya, PadA
 * B→A  Yb, PadB
 * A→B  HASH('req1', S), HASH('req2', SKEY) ⊕ HASH('req3', S),
 *      ENCRYPT(VC, crypto_provide, len(PadC), PadC, len(IA)), ENCRYPT(IA)
 * B→A  ENCRYPT(VC, crypto_select, len(PadD), PadD), ENCRYPT2(payload)
 * ```
 *
 * Synchronisation: PadB has no length field, so A finds the end of it by scanning for
 * ENCRYPT(VC), the first 8 bytes of B's keystream, within the 512 + 8 bytes after Yb.
 *
 * Limits (checked before anything past them is buffered): Yb is 96 bytes; PadB at most
 * 512 (no VC by then fails); len(PadD) at most 512; so A never holds more than
 * 96 + 520 + 6 + 512 bytes.
 *
 * Randomness, in order of use (tests replay it): `bytes(20)` for the private key when
 * constructed; `int(513)` and `bytes(n)` for PadA in `start()`; `int(513)` for
 * len(PadC) when Yb arrives (PadC is zeros, as the spec suggests; it is encrypted).
 *
 * Layer: core (no I/O).
 * @module
 */
import type { Random } from "../../runtime/types.ts";
import {
  allowBits,
  classifyIncoming,
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
  VC_LENGTH,
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

/** Options for {@linkcode MseInitiator}. */
export interface MseInitiatorOptions {
  /** The torrent's 20-byte info-hash (SKEY). */
  readonly infoHash: Uint8Array;
  /** Private key and padding. */
  readonly random: Random;
  /** Methods we offer in crypto_provide and accept in crypto_select. */
  readonly allow: MseAllow;
  /**
   * With `allow: "both"`, offer RC4 alone (Transmission's "prefer encryption"): a
   * responder picks plaintext when offered both unless it prefers RC4 (libtorrent's
   * default picks plaintext). Falling back to plain BitTorrent is the caller's retry.
   * Default false: offer both and let the responder choose.
   */
  readonly preferRc4?: boolean;
  /** IA, sent encrypted in our third message: usually our BitTorrent handshake. */
  readonly initialPayload?: Uint8Array;
}

type Stage = "start" | "yb" | "sync" | "select" | "pad" | "done";

const EMPTY = new Uint8Array(0);
/** The most A ever holds: Yb, PadB and VC, then select, len(PadD), PadD. */
export const INITIATOR_MAX_BYTES: number = DH_KEY_LENGTH + MAX_PAD_LENGTH + HEADER_LENGTH +
  MAX_PAD_LENGTH;

/**
 * The initiator's handshake state machine. After it throws, every later call rethrows.
 *
 * Invariants ({@linkcode MseInitiator.assertInvariants}): the buffer never holds more
 * than its stage's limit, and no limit exceeds {@linkcode INITIATOR_MAX_BYTES}.
 */
export class MseInitiator {
  readonly #infoHash: Uint8Array;
  readonly #random: Random;
  readonly #provide: number;
  readonly #initialPayload: Uint8Array;
  readonly #privateKey: Uint8Array;
  readonly #runner = new HandshakeRunner("MseInitiator", DH_KEY_LENGTH, INITIATOR_MAX_BYTES);
  #stage: Stage = "start";
  /** ENCRYPT(VC): the first 8 bytes of B's keystream. */
  #encryptedVc: Uint8Array = EMPTY;
  #ciphers: MseCiphers | undefined = undefined;
  #selected: MseMethod = "rc4";
  #padLength = 0;
  #secretStartsWithZero = false;

  /**
   * Prepares a handshake; draws the private key from `random`.
   * @param options info-hash, randomness, policy, initial payload
   * @throws {RangeError} when the info-hash is not 20 bytes or the IA is over 65,535
   * @throws {TypeError} for an unknown policy
   */
  constructor(options: MseInitiatorOptions) {
    if (options.infoHash.length !== HASH_LENGTH) {
      throw new RangeError(`Cannot start MSE: info-hash of ${options.infoHash.length} bytes`);
    }
    const ia = options.initialPayload ?? EMPTY;
    if (ia.length > 0xffff) {
      throw new RangeError(`Cannot start MSE: initial payload of ${ia.length} bytes`);
    }
    const bits = allowBits(options.allow);
    this.#provide = options.allow === "both" && options.preferRc4 ? CRYPTO_RC4 : bits;
    this.#infoHash = options.infoHash.slice();
    this.#initialPayload = ia.slice();
    this.#random = options.random;
    this.#privateKey = options.random.bytes(PRIVATE_KEY_LENGTH);
  }

  /** Bytes of the peer's handshake held, waiting for more. */
  get bufferedBytes(): number {
    return this.#runner.bufferedBytes;
  }

  /**
   * True once Yb arrived and S begins with a zero byte (1 handshake in 256). libtorrent
   * (checked: 2.0.8) hashes its req3 mask over S without its leading zero bytes, so as a
   * responder it cannot find the torrent and closes; a new connection has new keys.
   */
  get secretStartsWithZero(): boolean {
    return this.#secretStartsWithZero;
  }

  /**
   * Our first message: Ya and PadA.
   * @returns the bytes to send
   * @throws {Error} when called twice
   */
  start(): Uint8Array {
    if (this.#stage !== "start") throw new Error("MseInitiator.start() called twice");
    this.#stage = "yb";
    return keyMessage(this.#privateKey, this.#random);
  }

  /**
   * Takes bytes from the peer.
   * @param chunk the next bytes received; copied, not retained
   * @returns bytes to send, and the result once the handshake is complete
   * @throws {ProtocolError} when the peer breaks the handshake (this side is then dead)
   * @throws {Error} before `start()` or after completion
   */
  receive(chunk: Uint8Array): MseStep {
    if (this.#stage === "start") throw new Error("MseInitiator.receive() before start()");
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
      case "yb": {
        // A peer without MSE that answers with its own handshake: fail now, not at the deadline.
        if (classifyIncoming(bytes.subarray(0, buf.length)) === "plain") {
          fail("the peer answered with a plain BitTorrent handshake");
        }
        if (buf.length < DH_KEY_LENGTH) return false;
        this.#runner.send(this.#third(bytes.subarray(0, DH_KEY_LENGTH)));
        buf.pos = DH_KEY_LENGTH;
        buf.setLimit(DH_KEY_LENGTH + MAX_PAD_LENGTH + VC_LENGTH);
        this.#stage = "sync";
        return true;
      }
      case "sync": {
        const found = buf.scan(
          this.#encryptedVc,
          "no verification constant within 520 bytes of Yb",
        );
        if (found < 0) return false;
        // The decrypt keystream is already past VC (it produced #encryptedVc).
        buf.pos = found + VC_LENGTH;
        buf.setLimit(Math.max(buf.length, buf.pos + 6));
        this.#stage = "select";
        return true;
      }
      case "select": {
        if (buf.length < buf.pos + 6) return false;
        const field = bytes.subarray(buf.pos, buf.pos + 6);
        this.#ciphers!.decrypt.process(field);
        const select = readU32(field, 0);
        this.#padLength = readU16(field, 4);
        if ((select !== CRYPTO_RC4 && select !== CRYPTO_PLAINTEXT) || !(select & this.#provide)) {
          fail(`crypto_select 0x${select.toString(16)} was not offered`);
        }
        if (this.#padLength > MAX_PAD_LENGTH) fail(`PadD of ${this.#padLength} bytes`);
        this.#selected = select === CRYPTO_RC4 ? "rc4" : "plaintext";
        buf.pos += 6;
        buf.setLimit(Math.max(buf.length, buf.pos + this.#padLength));
        this.#stage = "pad";
        return true;
      }
      case "pad": {
        if (buf.length < buf.pos + this.#padLength) return false;
        this.#ciphers!.decrypt.process(bytes, buf.pos, buf.pos + this.#padLength);
        buf.pos += this.#padLength;
        this.#stage = "done";
        this.#runner.complete({
          selected: this.#selected,
          infoHash: this.#infoHash.slice(),
          initialPayload: EMPTY,
          ciphers: this.#ciphers!,
        });
        return false;
      }
      default:
        return false;
    }
  }

  /** Our third message, once Yb is known; sets up both keystreams. */
  #third(peerKey: Uint8Array): Uint8Array {
    const secret = dhSharedSecret(this.#privateKey, peerKey);
    this.#secretStartsWithZero = secret[0] === 0;
    const ciphers = mseCiphers(secret, this.#infoHash, true);
    this.#ciphers = ciphers;
    this.#encryptedVc = new Uint8Array(VC_LENGTH);
    ciphers.decrypt.process(this.#encryptedVc);
    const padLength = this.#random.int(MAX_PAD_LENGTH + 1);
    const ia = this.#initialPayload;
    const out = new Uint8Array(2 * HASH_LENGTH + HEADER_LENGTH + padLength + 2 + ia.length);
    out.set(req1Hash(secret));
    const req2 = req2Hash(this.#infoHash);
    const req3 = req3Hash(secret);
    for (let i = 0; i < HASH_LENGTH; i++) out[HASH_LENGTH + i] = req2[i]! ^ req3[i]!;
    let at = writeHeader(out, 2 * HASH_LENGTH, this.#provide, padLength);
    out[at++] = ia.length >>> 8;
    out[at++] = ia.length & 255;
    out.set(ia, at);
    ciphers.encrypt.process(out.subarray(2 * HASH_LENGTH));
    return out;
  }
}
