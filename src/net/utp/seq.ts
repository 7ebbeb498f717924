/**
 * Wrapping arithmetic for uTP's 16-bit sequence numbers and 32-bit microsecond
 * timestamps (BEP 29): "less than" means "closer walking up than walking down", as in
 * libtorrent's `compare_less_wrap`.
 *
 * Layer: core (no I/O).
 * @module
 */

/** Sequence and ack numbers wrap at 2^16. */
export const SEQ_MASK = 0xffff;

/**
 * Whether sequence number `a` comes before `b`, modulo 2^16.
 * @param a a sequence number
 * @param b a sequence number
 * @returns true when walking up from `a` reaches `b` sooner than walking down
 */
export function seqLess(a: number, b: number): boolean {
  const up = (b - a) & SEQ_MASK;
  return up !== 0 && up < 0x8000;
}

/**
 * `a + delta`, wrapped to 16 bits.
 * @param a a sequence number
 * @param delta any integer
 * @returns the wrapped sum
 */
export function seqAdd(a: number, delta: number): number {
  return (a + delta) & SEQ_MASK;
}

/**
 * How many steps up from `from` reach `to`, modulo 2^16 (0..65535).
 * @param to the later sequence number
 * @param from the earlier sequence number
 * @returns the forward distance
 */
export function seqDistance(to: number, from: number): number {
  return (to - from) & SEQ_MASK;
}

/**
 * Whether 32-bit timestamp `a` comes before `b`, modulo 2^32.
 * @param a a wrapped microsecond value
 * @param b a wrapped microsecond value
 * @returns true when walking up from `a` reaches `b` sooner
 */
export function stampLess(a: number, b: number): boolean {
  const up = (b - a) >>> 0;
  return up !== 0 && up < 0x80000000;
}

/**
 * Microseconds of a millisecond clock reading, wrapped to 32 bits (uTP timestamps).
 * @param nowMs milliseconds, fractional allowed
 * @returns the low 32 bits of the microsecond count
 */
export function microStamp(nowMs: number): number {
  return Math.floor(nowMs * 1000) >>> 0;
}
