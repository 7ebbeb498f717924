/**
 * Streaming read windows: where each reader of a torrent is, and which piece deadlines
 * that implies (libtorrent's streaming use of `set_piece_deadline`). A reader at byte
 * `from`, reading up to `to`, needs the pieces from `from` to `from + readAheadBytes`
 * (capped at `to` and at `maxWindowPieces`); the first of them not yet verified is due
 * now, the next one `deadlineStepMs` later, and so on. Several readers may want one piece:
 * the earliest deadline wins. A reader that moves (reads on, or seeks) moves its window; a
 * reader that closes releases it. Each change returns the deadlines to set and the pieces
 * whose deadline to clear, so the driver applies exactly the difference to the picker.
 *
 * Invariants (`assertInvariants()`): at most `maxReaders` readers; each window holds at
 * most `maxWindowPieces` pieces; the applied deadlines are exactly the earliest deadline
 * per piece over all windows.
 *
 * Layer: core (pure; time is a `now` argument).
 * @module
 */

/** Sizes and limits of {@linkcode ReadWindows}. */
export interface ReadWindowsOptions {
  /** Nominal piece length in bytes. */
  readonly pieceLength: number;
  /** Torrent length in bytes. */
  readonly totalLength: number;
  /** Bytes past a reader's position that get deadlines. */
  readonly readAheadBytes: number;
  /** Each further missing piece of a window is due this much later, ms. */
  readonly deadlineStepMs: number;
  /** Readers at once; {@linkcode ReadWindows.open} refuses more. */
  readonly maxReaders: number;
  /** Pieces in one window at most (small pieces make long windows). */
  readonly maxWindowPieces: number;
}

/** What a change means for the picker's deadlines. */
export interface DeadlineChanges {
  /** `[piece, deadline ms]` to set (new or moved). */
  readonly set: readonly (readonly [number, number])[];
  /** Pieces that no window needs any more. */
  readonly clear: readonly number[];
}

/** The readers of one torrent and the deadlines they imply. */
export class ReadWindows {
  readonly #o: ReadWindowsOptions;
  readonly #windows = new Map<number, Map<number, number>>();
  #applied = new Map<number, number>();
  #nextId = 1;

  /**
   * @param options sizes and limits
   * @throws {RangeError} for a size or limit that is not a positive integer
   */
  constructor(options: ReadWindowsOptions) {
    for (const [key, value] of Object.entries(options)) {
      if (!Number.isSafeInteger(value) || value <= 0) {
        throw new RangeError(`ReadWindows: ${key} must be a positive integer, got ${value}`);
      }
    }
    this.#o = options;
  }

  /** Readers open now. */
  get readerCount(): number {
    return this.#windows.size;
  }

  /**
   * Registers a reader (with an empty window until it moves).
   * @returns its id, or undefined when `maxReaders` readers are open
   */
  open(): number | undefined {
    if (this.#windows.size >= this.#o.maxReaders) return undefined;
    const id = this.#nextId++;
    this.#windows.set(id, new Map());
    return id;
  }

  /**
   * Puts reader `id` at byte `from`, reading up to byte `to` (exclusive).
   * @param isVerified whether a piece is verified already (it needs no deadline)
   * @returns the deadline changes; none for an unknown reader
   */
  move(
    id: number,
    range: { readonly from: number; readonly to: number },
    now: number,
    isVerified: (index: number) => boolean,
  ): DeadlineChanges {
    const window = this.#windows.get(id);
    if (window === undefined) return { set: [], clear: [] };
    window.clear();
    const { pieceLength, totalLength, readAheadBytes, deadlineStepMs } = this.#o;
    const from = Math.max(0, Math.min(range.from, totalLength));
    const to = Math.min(range.to, from + readAheadBytes, totalLength);
    if (to > from) {
      const first = Math.floor(from / pieceLength);
      const last = Math.min(
        Math.floor((to - 1) / pieceLength),
        first + this.#o.maxWindowPieces - 1,
      );
      let due = now;
      for (let i = first; i <= last; i++) {
        if (isVerified(i)) continue;
        window.set(i, due);
        due += deadlineStepMs;
      }
    }
    return this.#update();
  }

  /**
   * Removes reader `id` and its window.
   * @returns the deadline changes
   */
  close(id: number): DeadlineChanges {
    if (!this.#windows.delete(id)) return { set: [], clear: [] };
    return this.#update();
  }

  /** Pieces with a deadline now, and their deadlines. */
  deadlines(): ReadonlyMap<number, number> {
    return this.#applied;
  }

  /** Checks the header's invariants; throws on a violation. */
  assertInvariants(): void {
    if (this.#windows.size > this.#o.maxReaders) {
      throw new Error(`ReadWindows: ${this.#windows.size} readers`);
    }
    for (const w of this.#windows.values()) {
      if (w.size > this.#o.maxWindowPieces) throw new Error(`ReadWindows: window of ${w.size}`);
    }
    const merged = this.#merge();
    if (merged.size !== this.#applied.size) throw new Error("ReadWindows: applied set differs");
    for (const [i, d] of merged) {
      if (this.#applied.get(i) !== d) throw new Error(`ReadWindows: piece ${i} deadline differs`);
    }
  }

  #merge(): Map<number, number> {
    const merged = new Map<number, number>();
    for (const window of this.#windows.values()) {
      for (const [i, d] of window) {
        const had = merged.get(i);
        if (had === undefined || d < had) merged.set(i, d);
      }
    }
    return merged;
  }

  #update(): DeadlineChanges {
    const merged = this.#merge();
    const set: [number, number][] = [];
    const clear: number[] = [];
    for (const [i, d] of merged) if (this.#applied.get(i) !== d) set.push([i, d]);
    for (const i of this.#applied.keys()) if (!merged.has(i)) clear.push(i);
    this.#applied = merged;
    return { set, clear };
  }
}
