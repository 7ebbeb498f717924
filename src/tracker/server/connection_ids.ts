/**
 * Stateless, unforgeable UDP connection ids (BEP 15; RELIABILITY TS1, TS2): byte 0 is the
 * low byte of the time window, bytes 1..7 a truncated HMAC-SHA-256 of (sender IP, sender
 * port, window) under a random secret (`_hmac.ts`: the same bytes as `hmacSha256`, 20×
 * cheaper). An id is accepted in its own window and the next
 * `acceptWindows - 1` ones, so with 60 s windows and 3 windows it lives at least 2 min
 * (BEP 15 asks servers for ≥ 2 min). Verifying costs one HMAC; nothing is stored.
 *
 * Layer: core (pure; `now` passed in, secret injected).
 * @module
 */
import type { PeerAddress } from "../../runtime/types.ts";
import { ipKeyOf } from "../../util/ip.ts";
import { ShortHmacSha256 } from "./_hmac.ts";

/** Options of {@linkcode ConnectionIds}. */
export interface ConnectionIdOptions {
  /** Window length in ms (default 60 s). */
  readonly windowMs?: number;
  /** Windows an id stays valid, counting its own (default 3, so ≥ 2 min; at most 255). */
  readonly acceptWindows?: number;
}

/**
 * Issues and verifies connection ids bound to a sender address and a time window.
 * @example
 * ```ts
 * import { ConnectionIds } from "./mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const ids = new ConnectionIds(new Uint8Array(32).fill(9));
 * const alice = { host: "192.0.2.1", port: 6881 };
 * const id = ids.issue(alice, 0);
 * assertEquals(ids.verify(id, alice, 120_000), true);
 * assertEquals(ids.verify(id, { host: "192.0.2.66", port: 6881 }, 0), false); // spoofed sender
 * ```
 */
export class ConnectionIds {
  readonly #hmac: ShortHmacSha256;
  readonly #macOut = new Uint8Array(32);
  readonly #windowMs: number;
  readonly #accept: number;
  readonly #input = new Uint8Array(16 + 2 + 4);
  readonly #view = new DataView(this.#input.buffer);

  /**
   * Builds the issuer.
   * @param secret 16 to 64 random bytes (from a secure source in production)
   * @param options window length and acceptance
   * @throws {RangeError} when the secret is not 16..64 bytes or `acceptWindows` is not 1..255
   */
  constructor(secret: Uint8Array, options: ConnectionIdOptions = {}) {
    if (secret.length < 16 || secret.length > 64) {
      throw new RangeError(`Connection id secret of ${secret.length} bytes, need 16..64`);
    }
    this.#hmac = new ShortHmacSha256(secret);
    this.#windowMs = options.windowMs ?? 60_000;
    this.#accept = options.acceptWindows ?? 3;
    if (!(this.#accept >= 1 && this.#accept <= 255)) {
      throw new RangeError(`acceptWindows ${this.#accept}`);
    }
  }

  /**
   * The connection id for a sender now.
   * @param from the sender's address (an IP literal)
   * @param now current time, ms
   * @returns 8 bytes
   */
  issue(from: PeerAddress, now: number): Uint8Array {
    const window = Math.floor(now / this.#windowMs);
    const out = new Uint8Array(8);
    out[0] = window & 0xff;
    out.set(this.#mac(from, window), 1);
    return out;
  }

  /**
   * Whether `id` was issued to this sender within the acceptance period.
   * @param id the 8 bytes from the request
   * @param from the sender's address
   * @param now current time, ms
   * @returns true when valid
   */
  verify(id: Uint8Array, from: PeerAddress, now: number): boolean {
    if (id.length !== 8) return false;
    const current = Math.floor(now / this.#windowMs);
    for (let age = 0; age < this.#accept; age++) {
      const window = current - age;
      if ((window & 0xff) !== id[0]) continue;
      const mac = this.#mac(from, window);
      let diff = 0;
      for (let i = 0; i < 7; i++) diff |= mac[i]! ^ id[i + 1]!;
      return diff === 0;
    }
    return false;
  }

  #mac(from: PeerAddress, window: number): Uint8Array {
    const input = this.#input;
    input.fill(0);
    const ip = ipKeyOf(from.host) ?? "";
    for (let i = 0, at = 16 - ip.length; i < ip.length; i++) input[at + i] = ip.charCodeAt(i);
    input[16] = from.port >> 8;
    input[17] = from.port & 0xff;
    this.#view.setInt32(18, window | 0);
    return this.#hmac.mac(input, this.#macOut).subarray(0, 7);
  }
}
