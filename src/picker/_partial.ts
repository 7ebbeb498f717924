/**
 * Block bookkeeping of one piece in progress (some block requested or received).
 *
 * Each block is free, requested (one `owner`, plus at most one endgame `dup`) or
 * received (with its `sender`, kept for smart-ban). Block data never lives here.
 *
 * Invariants: `free + requested + receivedCount === blockCount`; a received block
 * has no owner or dup; a dup implies an owner different from it.
 *
 * Layer: core (pure). Private to src/picker/.
 * @module
 */

/** One piece being downloaded: who has which block requested, who sent which block. */
export class PartialPiece {
  /** Piece index. */
  readonly index: number;
  /** Blocks in this piece. */
  readonly blockCount: number;
  /** Primary requester of each block, or undefined. */
  readonly owner: (string | undefined)[];
  /** Endgame second requester of each block, or undefined. */
  readonly dup: (string | undefined)[];
  /** Peer that delivered each received block, or undefined. */
  readonly sender: (string | undefined)[];
  /** Blocks neither requested nor received. */
  free: number;
  /** Blocks with an owner (so not received). */
  requested = 0;
  /** Blocks received. */
  receivedCount = 0;

  /**
   * A piece with every block free.
   * @param index piece index
   * @param blockCount blocks in the piece (≥ 1)
   */
  constructor(index: number, blockCount: number) {
    this.index = index;
    this.blockCount = blockCount;
    this.owner = new Array<string | undefined>(blockCount).fill(undefined);
    this.dup = new Array<string | undefined>(blockCount).fill(undefined);
    this.sender = new Array<string | undefined>(blockCount).fill(undefined);
    this.free = blockCount;
  }

  /** True when no block is requested or received: the piece can go back to the pool. */
  get isUntouched(): boolean {
    return this.requested === 0 && this.receivedCount === 0;
  }

  /** True when every block has arrived. */
  get isFull(): boolean {
    return this.receivedCount === this.blockCount;
  }

  /** Whether block `block` was received. */
  isReceived(block: number): boolean {
    return this.sender[block] !== undefined;
  }

  /** Peers that delivered at least one block. */
  contributors(): Set<string> {
    const out = new Set<string>();
    for (const s of this.sender) if (s !== undefined) out.add(s);
    return out;
  }

  /** A description of the first broken invariant, or undefined. */
  check(): string | undefined {
    let free = 0, requested = 0, received = 0;
    for (let b = 0; b < this.blockCount; b++) {
      const owner = this.owner[b], dup = this.dup[b];
      if (this.sender[b] !== undefined) {
        received++;
        if (owner !== undefined || dup !== undefined) return `block ${b} received yet requested`;
      } else if (owner !== undefined) {
        requested++;
        if (dup === owner) return `block ${b} requested twice from "${owner}"`;
      } else {
        free++;
        if (dup !== undefined) return `block ${b} has a dup but no owner`;
      }
    }
    if (free !== this.free || requested !== this.requested || received !== this.receivedCount) {
      return `counts ${this.free}/${this.requested}/${this.receivedCount} ` +
        `but blocks say ${free}/${requested}/${received}`;
    }
    return undefined;
  }
}
