/**
 * RPC passwords, kept only as salted scrypt hashes (RELIABILITY C4: never in logs, never
 * in memory as plaintext longer than it takes to hash; compared in constant time).
 * Format: `scrypt$N$r$p$<salt b64>$<hash b64>`.
 *
 * Layer: platform.
 * @module
 */
import { randomBytes, scryptSync, timingSafeEqual } from "node:crypto";

const N = 16384, R = 8, P = 1, KEY_BYTES = 32;

/**
 * Hashes a password with a fresh random salt.
 * @param password the plaintext
 * @returns the encoded hash
 */
export function hashPassword(password: string): string {
  const salt = randomBytes(16);
  const hash = scryptSync(password, salt, KEY_BYTES, { N, r: R, p: P });
  return `scrypt$${N}$${R}$${P}$${salt.toString("base64")}$${hash.toString("base64")}`;
}

/**
 * Whether `password` matches an encoded hash (false for a malformed hash).
 * @param encoded from {@linkcode hashPassword}
 * @param password the candidate
 * @returns true on a match
 */
export function verifyPassword(encoded: string, password: string): boolean {
  const [kind, n, r, p, salt, hash] = encoded.split("$");
  if (kind !== "scrypt" || !salt || !hash) return false;
  const expected = Buffer.from(hash, "base64");
  const cost = { N: Number(n), r: Number(r), p: Number(p), maxmem: 256 * 1024 * 1024 };
  if (![cost.N, cost.r, cost.p].every((x) => Number.isSafeInteger(x) && x > 0)) return false;
  try {
    const got = scryptSync(password, Buffer.from(salt, "base64"), expected.length, cost);
    return got.length === expected.length && timingSafeEqual(got, expected);
  } catch {
    return false;
  }
}

/** Whether text already is an encoded hash (a password file may hold one). */
export function isPasswordHash(text: string): boolean {
  return /^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/.test(text);
}
