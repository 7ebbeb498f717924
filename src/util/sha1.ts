/**
 * SHA-1 of small inputs on the calling thread (info dictionaries, metadata, DHT tokens).
 * Piece data is never hashed here: that is the worker pool's job (DESIGN principle 3).
 *
 * Layer: core (deterministic; `node:crypto` hashing has no I/O).
 * @module
 */
import { createHash, createHmac } from "node:crypto";

/** SHA-1 digest of `data` (20 bytes). */
export function sha1(data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash("sha1").update(data).digest());
}

/** HMAC-SHA-256 of `data` under `key` (32 bytes), for unforgeable tokens and ids. */
export function hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array {
  return new Uint8Array(createHmac("sha256", key).update(data).digest());
}
