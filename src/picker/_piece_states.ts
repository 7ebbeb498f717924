/**
 * The piece lifecycle behind the picker: untouched (bucketed when wanted) →
 * partial (blocks requested / received) → verified; a failed hash or released
 * requests send a piece back to untouched. Keeps the wanted counters in step.
 *
 * Invariants: see `_picker_invariants.ts` (`check()` runs it).
 *
 * Layer: core (pure; randomness injected). Private to src/picker/.
 * @module
 */
import type { Random } from "../runtime/types.ts";
import { PieceBuckets } from "./_buckets.ts";
import type { PieceGeometry } from "./_geometry.ts";
import { PartialPiece } from "./_partial.ts";
import { checkPicker } from "./_picker_invariants.ts";
import { DeadlineBook } from "./_deadlines.ts";
import { RequestBook } from "./_request_book.ts";
import {
  type BlockAddress,
  type BlockCancel,
  type BlockRequest,
  DEFAULT_PRIORITY,
} from "./picker_types.ts";

/** Per-piece state and the transitions between piece states. */
export class PieceStates {
  /** Sizes. */
  readonly geo: PieceGeometry;
  /** Availability per piece from bitfields and HAVEs (seeds excluded). */
  readonly avail: Int32Array;
  /** Priority per piece, 0..7. */
  readonly prio: Uint8Array;
  /** 1 for a verified piece. */
  readonly have: Uint8Array;
  /** Untouched wanted pieces, rarest first. */
  readonly buckets: PieceBuckets;
  /** Pieces in progress. */
  readonly partials = new Map<number, PartialPiece>();
  /** Partial pieces with a free block. */
  readonly open = new Set<number>();
  /** Outstanding requests by peer. */
  readonly book = new RequestBook();
  /** Time-critical pieces (someone is waiting to read them). */
  readonly deadlines = new DeadlineBook();
  /** Have-all peers. */
  seeds = 0;
  /** Verified pieces. */
  haveCount = 0;
  /** Wanted pieces not verified. */
  wantedMissing: number;
  /** Bytes of wanted pieces not verified. */
  wantedBytes: number;
  /** Blocks of wanted, unverified pieces neither requested nor received. */
  wantedFree: number;

  /** Every piece untouched, wanted at the default priority, availability 0. */
  constructor(geo: PieceGeometry, random: Random) {
    const n = geo.pieceCount;
    this.geo = geo;
    this.avail = new Int32Array(n);
    this.prio = new Uint8Array(n).fill(DEFAULT_PRIORITY);
    this.have = new Uint8Array(n);
    this.buckets = new PieceBuckets(n, random);
    for (let i = 0; i < n; i++) this.buckets.insert(i, DEFAULT_PRIORITY, 0);
    this.wantedMissing = n;
    this.wantedBytes = geo.totalLength;
    this.wantedFree = geo.totalBlocks;
  }

  /** Changes a piece's availability by `delta`, moving it between buckets. */
  bump(index: number, delta: number): void {
    const a = this.avail[index]!;
    if (this.buckets.contains(index)) {
      const level = this.prio[index]!;
      this.buckets.remove(index, level, a);
      this.buckets.insert(index, level, a + delta);
    }
    this.avail[index] = a + delta;
  }

  /** Marks a (valid) piece verified, forgetting its requests. */
  setHave(index: number): void {
    if (this.have[index]) return;
    this.deadlines.delete(index);
    const p = this.partials.get(index);
    if (p !== undefined) this.#discard(p);
    else if (this.buckets.contains(index)) {
      this.buckets.remove(index, this.prio[index]!, this.avail[index]!);
      this.wantedFree -= this.geo.blockCountOf(index);
    }
    this.have[index] = 1;
    this.haveCount++;
    if (this.prio[index]! > 0) {
      this.wantedMissing--;
      this.wantedBytes -= this.geo.pieceLengthOf(index);
    }
  }

  /** Sets a (valid) piece's (valid) priority. */
  setPriority(index: number, priority: number): void {
    const old = this.prio[index]!;
    if (old === priority) return;
    if (!this.have[index]) {
      const p = this.partials.get(index);
      if (p === undefined) {
        if (old > 0) this.buckets.remove(index, old, this.avail[index]!);
        if (priority > 0) this.buckets.insert(index, priority, this.avail[index]!);
      }
      const sign = old === 0 ? 1 : priority === 0 ? -1 : 0;
      this.wantedMissing += sign;
      this.wantedBytes += sign * this.geo.pieceLengthOf(index);
      this.wantedFree += sign * (p?.free ?? this.geo.blockCountOf(index));
    }
    this.prio[index] = priority;
  }

  /** Requests up to `max` free blocks of piece `index` from `peerId`, appending to `out`. */
  take(index: number, peerId: string, max: number, out: BlockRequest[]): void {
    const p = this.partials.get(index) ?? this.touch(index);
    for (let b = 0; b < p.blockCount && max > 0 && p.free > 0; b++) {
      if (p.owner[b] !== undefined || p.isReceived(b)) continue;
      this.#assign(p, b, peerId, out);
      max--;
    }
    if (p.free === 0) this.open.delete(index);
  }

  /**
   * Requests the free blocks of piece `index` from block `b` on, up to `max` and up to the
   * first block that is not free, from `peerId`, appending to `out`.
   * @returns the block number after the last one taken (`blockCount` at the piece's end)
   */
  takeFrom(index: number, b: number, peerId: string, max: number, out: BlockRequest[]): number {
    const p = this.partials.get(index) ?? this.touch(index);
    for (; b < p.blockCount && max > 0; b++, max--) {
      if (p.owner[b] !== undefined || p.isReceived(b)) break;
      this.#assign(p, b, peerId, out);
    }
    if (p.free === 0) this.open.delete(index);
    if (p.isUntouched) this.reset(p); // nothing taken from an untouched piece
    return b;
  }

  /** Whether block `b` of piece `index` is neither requested nor received (untouched: yes). */
  isFree(index: number, b: number): boolean {
    const p = this.partials.get(index);
    return p === undefined || (p.owner[b] === undefined && !p.isReceived(b));
  }

  /** Requests block `b` of partial piece `p` a second time, from `peerId` (endgame). */
  duplicate(p: PartialPiece, b: number, peerId: string): BlockRequest {
    p.dup[b] = peerId;
    this.book.add(peerId, p.index, b);
    return this.geo.request(p.index, b);
  }

  /**
   * Records block `b` of (unverified) piece `index` as received from `peerId`.
   * @returns undefined when it was already received, else the copies to cancel
   */
  receive(peerId: string, index: number, b: number): BlockCancel[] | undefined {
    const p = this.partials.get(index) ?? this.touch(index);
    if (p.isReceived(b)) return undefined;
    const owner = p.owner[b], dup = p.dup[b];
    const cancel: BlockCancel[] = [];
    for (const r of [owner, dup]) {
      if (r === undefined) continue;
      this.book.delete(r, index, b);
      if (r !== peerId) cancel.push({ peerId: r, ...this.geo.request(index, b) });
    }
    if (owner !== undefined) p.requested--;
    else {
      p.free--;
      if (this.prio[index]! > 0) this.wantedFree--;
      if (p.free === 0) this.open.delete(index);
    }
    p.owner[b] = p.dup[b] = undefined;
    p.sender[b] = peerId;
    p.receivedCount++;
    return cancel;
  }

  /**
   * Returns `peerId`'s requests to the pool: `blocks` of them, or all when omitted.
   * @returns the requests actually released
   */
  release(peerId: string, blocks?: readonly BlockAddress[]): BlockRequest[] {
    const released: BlockRequest[] = [];
    if (blocks === undefined) {
      for (const [index, set] of this.book.take(peerId) ?? []) {
        for (const b of set) {
          released.push(this.geo.request(index, b));
          this.unassign(peerId, index, b);
        }
      }
      return released;
    }
    for (const { index, begin } of blocks) {
      const b = this.geo.blockAt(index, begin);
      if (b < 0 || !this.book.holds(peerId, index, b)) continue;
      this.book.delete(peerId, index, b);
      released.push(this.geo.request(index, b));
      this.unassign(peerId, index, b);
    }
    return released;
  }

  /** Drops `peerId`'s hold on block `b` of piece `index` (its book entry already gone). */
  unassign(peerId: string, index: number, b: number): void {
    const p = this.partials.get(index)!;
    if (p.owner[b] === peerId) {
      p.owner[b] = p.dup[b];
      p.dup[b] = undefined;
      if (p.owner[b] === undefined) {
        p.requested--;
        p.free++;
        if (this.prio[index]! > 0) this.wantedFree++;
        this.open.add(index);
      }
    } else if (p.dup[b] === peerId) p.dup[b] = undefined;
    if (p.isUntouched) this.reset(p);
  }

  /** Partial → untouched: forgets its requests and received blocks. */
  reset(p: PartialPiece): void {
    this.#discard(p);
    const level = this.prio[p.index]!;
    if (level === 0) return;
    this.wantedFree += p.blockCount;
    this.buckets.insert(p.index, level, this.avail[p.index]!);
  }

  /** Untouched → partial (every block still free). */
  touch(index: number): PartialPiece {
    if (this.buckets.contains(index)) {
      this.buckets.remove(index, this.prio[index]!, this.avail[index]!);
    }
    const p = new PartialPiece(index, this.geo.blockCountOf(index));
    this.partials.set(index, p);
    this.open.add(index);
    return p;
  }

  /** Recounts everything. @throws {Error} naming the first broken invariant */
  check(): void {
    const geo = this.geo;
    this.book.assertCounts();
    const broken = this.deadlines.check(this.have);
    if (broken !== undefined) throw new Error(`PiecePicker invariant broken: ${broken}`);
    checkPicker({
      pieceCount: geo.pieceCount,
      avail: this.avail,
      prio: this.prio,
      have: this.have,
      buckets: this.buckets,
      partials: this.partials,
      open: this.open,
      requests: this.book.peers,
      seeds: this.seeds,
      counters: {
        haveCount: this.haveCount,
        wantedMissing: this.wantedMissing,
        wantedBytes: this.wantedBytes,
        wantedFree: this.wantedFree,
      },
      pieceLengthOf: (i) => geo.pieceLengthOf(i),
      blockCountOf: (i) => geo.blockCountOf(i),
    });
  }

  /** Free block `b` of `p` becomes requested from `peerId`, appended to `out`. */
  #assign(p: PartialPiece, b: number, peerId: string, out: BlockRequest[]): void {
    p.owner[b] = peerId;
    p.free--;
    p.requested++;
    if (this.prio[p.index]! > 0) this.wantedFree--;
    this.book.add(peerId, p.index, b);
    out.push(this.geo.request(p.index, b));
  }

  /** Forgets a partial piece and its requests, removing its free blocks from the count. */
  #discard(p: PartialPiece): void {
    for (let b = 0; b < p.blockCount; b++) {
      const owner = p.owner[b], dup = p.dup[b];
      if (owner !== undefined) this.book.delete(owner, p.index, b);
      if (dup !== undefined) this.book.delete(dup, p.index, b);
    }
    if (this.prio[p.index]! > 0) this.wantedFree -= p.free;
    this.partials.delete(p.index);
    this.open.delete(p.index);
  }
}
