/**
 * Piece deadlines (libtorrent's `set_piece_deadline`, its "time-critical pieces"): a
 * piece someone is waiting for, with the clock ms by which it should be verified. The
 * picker serves these first (`_time_critical.ts`); everything else stays rarest first.
 *
 * Invariants: a deadline is a finite number; verified pieces have none (the picker drops
 * a piece's deadline when it is verified); `ordered()` lists every entry once, earliest
 * deadline first, ties by piece index.
 *
 * Layer: core (pure). Private to src/picker/.
 * @module
 */

/** Deadlines by piece index, with a cached deadline order. */
export class DeadlineBook {
  readonly #byPiece = new Map<number, number>();
  #ordered: (readonly [number, number])[] | undefined = [];

  /** Pieces with a deadline. */
  get size(): number {
    return this.#byPiece.size;
  }

  /** The deadline of piece `index`, or undefined. */
  get(index: number): number | undefined {
    return this.#byPiece.get(index);
  }

  /** Sets (or moves) the deadline of piece `index`. */
  set(index: number, deadlineMs: number): void {
    if (this.#byPiece.get(index) === deadlineMs) return;
    this.#byPiece.set(index, deadlineMs);
    this.#ordered = undefined;
  }

  /** Forgets the deadline of piece `index`; absent entries are fine. */
  delete(index: number): void {
    if (this.#byPiece.delete(index)) this.#ordered = undefined;
  }

  /** `[index, deadline]` pairs, earliest deadline first (ties: lower index first). */
  ordered(): readonly (readonly [number, number])[] {
    this.#ordered ??= [...this.#byPiece].sort((x, y) => x[1] - y[1] || x[0] - y[0]);
    return this.#ordered;
  }

  /** A description of the first broken invariant, or undefined. */
  check(have: ArrayLike<number>): string | undefined {
    for (const [index, deadline] of this.#byPiece) {
      if (!Number.isFinite(deadline)) return `piece ${index} has deadline ${deadline}`;
      if (have[index]) return `verified piece ${index} still has a deadline`;
    }
    if (this.ordered().length !== this.#byPiece.size) return "deadline order out of date";
    return undefined;
  }
}
