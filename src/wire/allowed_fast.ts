/**
 * The BEP 6 canonical allowed fast set: the pieces a peer may request from us while
 * choked, derived from its IPv4 address (/24) and the info-hash, so both sides and
 * every reconnect agree on the set.
 *
 * Layer: core (deterministic; hashing via `node:crypto` has no I/O).
 * @module
 */
import { sha1 } from "../util/sha1.ts";
import { checkPieceCount } from "./_frame.ts";

/** BEP 6 recommends a set of 10 pieces. */
export const DEFAULT_ALLOWED_FAST_COUNT = 10;

/** Options for {@linkcode allowedFastSet}. */
export interface AllowedFastOptions {
  /** The torrent's piece count, 1..2^21. */
  readonly pieceCount: number;
  /** How many pieces to allow (k). Default 10. */
  readonly count?: number;
}

function ipv4Bytes(ip: string | Uint8Array): Uint8Array {
  if (ip instanceof Uint8Array) {
    if (ip.length === 4) return ip;
  } else {
    const parts = ip.split(".");
    if (parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) {
      return Uint8Array.from(parts, Number);
    }
  }
  throw new RangeError(`Cannot compute an allowed fast set for "${String(ip)}": not IPv4`);
}

/**
 * Computes the canonical allowed fast set (BEP 6), in generation order. When
 * `count` ≥ the piece count, every piece is allowed.
 *
 * @param infoHash the torrent's 20-byte info-hash
 * @param ipv4 the peer's IPv4 address, dotted or as 4 bytes
 * @param options the piece count and the set size
 * @returns `count` distinct piece indices
 * @throws {RangeError} for an info-hash not 20 bytes, a non-IPv4 address, a piece
 *   count outside 1..2^21 or a negative count
 * @example
 * ```ts
 * import { allowedFastSet } from "./allowed_fast.ts";
 * import { deepStrictEqual } from "node:assert";
 * // The vector from BEP 6.
 * const infoHash = new Uint8Array(20).fill(0xaa);
 * deepStrictEqual(
 *   allowedFastSet(infoHash, "80.4.4.200", { pieceCount: 1313, count: 7 }),
 *   [1059, 431, 808, 1217, 287, 376, 1188],
 * );
 * ```
 */
export function allowedFastSet(
  infoHash: Uint8Array,
  ipv4: string | Uint8Array,
  options: AllowedFastOptions,
): number[] {
  if (infoHash.length !== 20) {
    throw new RangeError("Cannot compute an allowed fast set: bad info-hash");
  }
  const ip = ipv4Bytes(ipv4);
  const pieceCount = checkPieceCount(options.pieceCount);
  const count = options.count ?? DEFAULT_ALLOWED_FAST_COUNT;
  if (!Number.isInteger(count) || count < 0) {
    throw new RangeError(`Cannot compute an allowed fast set of ${count} pieces`);
  }
  if (count >= pieceCount) return Array.from({ length: pieceCount }, (_, i) => i);
  let x: Uint8Array = new Uint8Array(24);
  x.set([ip[0]!, ip[1]!, ip[2]!, 0]); // BEP 6: only the /24 counts
  x.set(infoHash, 4);
  const set = new Set<number>();
  while (set.size < count) {
    x = sha1(x);
    for (let j = 0; j < 20 && set.size < count; j += 4) {
      const y = ((x[j]! << 24) | (x[j + 1]! << 16) | (x[j + 2]! << 8) | x[j + 3]!) >>> 0;
      set.add(y % pieceCount);
    }
  }
  return [...set];
}
