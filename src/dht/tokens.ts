/**
 * `get_peers` tokens (BEP 5, RELIABILITY D3): a token is a truncated
 * HMAC-SHA-256(secret, IP ‖ info-hash). The secret rotates every 5 minutes and the
 * current and previous secrets are accepted, so a token lives 5 to 10 minutes and is
 * bound to the requester's IP and to one info-hash.
 *
 * Layer: core (pure; time and randomness are injected).
 * @module
 */
import type { Random } from "../runtime/types.ts";
import { concatBytes, utf8 } from "../util/bytes.ts";
import { hmacSha256 } from "../util/sha1.ts";
import { canonicalHost } from "./_address.ts";

/** Tunables of {@linkcode TokenSecrets}. */
export interface TokenOptions {
  /** Secret rotation period. Default 5 min (BEP 5). */
  readonly rotateEveryMs?: number;
  /** Token length in bytes, 4..32. Default 8. */
  readonly tokenLength?: number;
}

/** Issues and checks announce tokens. */
export class TokenSecrets {
  #random: Random;
  #current: Uint8Array;
  #previous: Uint8Array;
  #rotatedAt: number;
  #rotateEveryMs: number;
  #length: number;

  /**
   * Creates fresh secrets.
   * @param random source of the secrets (use a secure one outside tests)
   * @param now current clock ms
   * @param options tunables
   * @throws {RangeError} when `tokenLength` is outside 4..32 or the period is not positive
   * @example
   * ```ts
   * import { TokenSecrets } from "./tokens.ts";
   * import { SeededRandom } from "../util/prng.ts";
   * import { ok } from "node:assert";
   * const tokens = new TokenSecrets(new SeededRandom(7), 0);
   * const hash = new Uint8Array(20);
   * const token = tokens.issue("1.2.3.4", hash, 0);
   * ok(tokens.verify(token, "1.2.3.4", hash, 9 * 60_000));
   * ok(!tokens.verify(token, "1.2.3.4", hash, 11 * 60_000));
   * ok(!tokens.verify(token, "5.6.7.8", hash, 0));
   * ```
   */
  constructor(random: Random, now: number, options: TokenOptions = {}) {
    this.#length = options.tokenLength ?? 8;
    this.#rotateEveryMs = options.rotateEveryMs ?? 5 * 60_000;
    if (!(this.#length >= 4 && this.#length <= 32)) {
      throw new RangeError(`Cannot use tokens of ${this.#length} bytes`);
    }
    if (!(this.#rotateEveryMs > 0)) throw new RangeError("Cannot rotate secrets that often");
    this.#random = random;
    this.#current = random.bytes(32);
    this.#previous = random.bytes(32);
    this.#rotatedAt = now;
  }

  /** Clock ms of the next due rotation (the driver may arm a timer for it). */
  get nextRotationAt(): number {
    return this.#rotatedAt + this.#rotateEveryMs;
  }

  /**
   * Rotates the secret when a period has passed (twice when two have).
   * @param now current clock ms
   * @returns whether anything rotated
   */
  rotateIfDue(now: number): boolean {
    const periods = Math.floor((now - this.#rotatedAt) / this.#rotateEveryMs);
    if (periods < 1) return false;
    this.#previous = periods === 1 ? this.#current : this.#random.bytes(32);
    this.#current = this.#random.bytes(32);
    this.#rotatedAt += periods * this.#rotateEveryMs;
    return true;
  }

  #token(secret: Uint8Array, host: string, infoHash: Uint8Array): Uint8Array {
    const data = concatBytes([utf8(canonicalHost(host)), new Uint8Array([0]), infoHash]);
    return hmacSha256(secret, data).subarray(0, this.#length);
  }

  /**
   * The token for a requester and info-hash.
   * @param host the requester's IP
   * @param infoHash the info-hash asked about
   * @param now current clock ms
   * @returns the token bytes
   */
  issue(host: string, infoHash: Uint8Array, now: number): Uint8Array {
    this.rotateIfDue(now);
    return this.#token(this.#current, host, infoHash).slice();
  }

  /**
   * Whether `token` was issued to `host` for `infoHash` under the current or previous secret.
   * @param token the token from an `announce_peer`
   * @param host the announcer's IP
   * @param infoHash the info-hash announced
   * @param now current clock ms
   * @returns true when valid
   */
  verify(token: Uint8Array, host: string, infoHash: Uint8Array, now: number): boolean {
    this.rotateIfDue(now);
    if (token.length !== this.#length) return false;
    return [this.#current, this.#previous].some((secret) => {
      const want = this.#token(secret, host, infoHash);
      let diff = 0;
      for (let i = 0; i < want.length; i++) diff |= want[i]! ^ token[i]!;
      return diff === 0;
    });
  }
}
