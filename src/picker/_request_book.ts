/**
 * Which blocks each peer has outstanding: peer → piece → block numbers.
 * The per-block owner/dup fields of `PartialPiece` are the other half; the picker
 * keeps both in step, and `assertInvariants()` checks they agree.
 *
 * Layer: core (pure). Private to src/picker/.
 * @module
 */

/** One peer's outstanding blocks: piece index → block numbers. */
export type PeerRecord = Map<number, Set<number>>;

/**
 * Outstanding requests by peer. Invariants: no empty record, no empty block set; a peer's
 * count equals the blocks in its record.
 */
export class RequestBook {
  readonly #peers = new Map<string, PeerRecord>();
  readonly #counts = new Map<string, number>();

  /** All records (read-only use). */
  get peers(): ReadonlyMap<string, ReadonlyMap<number, ReadonlySet<number>>> {
    return this.#peers;
  }

  /** The record of `peerId`, if it has requests. */
  get(peerId: string): PeerRecord | undefined {
    return this.#peers.get(peerId);
  }

  /** How many blocks `peerId` has outstanding, O(1). */
  count(peerId: string): number {
    return this.#counts.get(peerId) ?? 0;
  }

  /** Whether `peerId` has block `b` of piece `index` outstanding. */
  holds(peerId: string, index: number, b: number): boolean {
    return this.#peers.get(peerId)?.get(index)?.has(b) ?? false;
  }

  /** Removes and returns the whole record of `peerId`. */
  take(peerId: string): PeerRecord | undefined {
    const record = this.#peers.get(peerId);
    this.#peers.delete(peerId);
    this.#counts.delete(peerId);
    return record;
  }

  /** Records block `b` of piece `index` as requested from `peerId`. */
  add(peerId: string, index: number, b: number): void {
    let record = this.#peers.get(peerId);
    if (record === undefined) this.#peers.set(peerId, record = new Map());
    let set = record.get(index);
    if (set === undefined) record.set(index, set = new Set());
    if (set.has(b)) return;
    set.add(b);
    this.#counts.set(peerId, this.count(peerId) + 1);
  }

  /** Forgets block `b` of piece `index` for `peerId`; absent entries are fine. */
  delete(peerId: string, index: number, b: number): void {
    const record = this.#peers.get(peerId);
    const set = record?.get(index);
    if (record === undefined || set === undefined || !set.delete(b)) return;
    const left = this.count(peerId) - 1;
    if (left > 0) this.#counts.set(peerId, left);
    else this.#counts.delete(peerId);
    if (set.size > 0) return;
    record.delete(index);
    if (record.size === 0) this.#peers.delete(peerId);
  }

  /** Checks that every count matches its record; throws on a mismatch. */
  assertCounts(): void {
    for (const [peerId, record] of this.#peers) {
      let n = 0;
      for (const set of record.values()) n += set.size;
      if (n !== this.count(peerId)) {
        throw new Error(`RequestBook: ${peerId} counts ${this.count(peerId)}, holds ${n}`);
      }
    }
    for (const peerId of this.#counts.keys()) {
      if (!this.#peers.has(peerId)) throw new Error(`RequestBook: count without record: ${peerId}`);
    }
  }
}
