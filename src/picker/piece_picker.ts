/**
 * Piece picker: which blocks to request from which peer (BEP 3 rarest first,
 * BEP 6 allowed-fast while choked, strict endgame, piece and file priorities).
 *
 * Time-critical pieces (a deadline: someone waits to read them) come first, for peers
 * that can deliver in time, duplicated once overdue (`_time_critical.ts`). Then, highest
 * priority level (7) down to 1:
 * 1. partial pieces (some block requested or received): first those this peer is
 *    already working on, then the others (snubbed peers only continue their own);
 * 2. untouched pieces, rarest first with a random tie-break (see `_buckets.ts`);
 *    until `randomFirstPieces` pieces are verified, random pieces instead, so we
 *    soon have something to trade; a snubbed peer takes the most common pieces,
 *    so a slow peer does not sit on rare ones (as libtorrent does);
 * 3. strict endgame: only once every wanted block is received or requested, a
 *    block requested from another peer may be requested once more (one extra copy
 *    per block, never twice from one peer, never from a snubbed peer); whichever
 *    copy arrives first wins and the other is returned for CANCEL.
 *
 * Availability counts bitfields and HAVEs per piece; have-all peers (BEP 6
 * HAVE_ALL) are one shared counter. Block data never lives here.
 *
 * Invariants (`assertInvariants()`): every requested block belongs to a partial
 * piece we don't have and is recorded under exactly its requesters; an untouched
 * piece is bucketed iff it is wanted; the wanted-missing, wanted-bytes, free-block
 * and have counters match a recount; availability ≥ 0; no verified piece has a deadline.
 *
 * Layer: core (pure; randomness injected, the time passed in).
 * @module
 */
import type { Random } from "../runtime/types.ts";
import type { Bitfield } from "../util/bitfield.ts";
import { MAX_PRIORITY } from "./_buckets.ts";
import { checkPriority, piecePrioritiesForFiles } from "./_file_priorities.ts";
import { forEachSetBit, PieceGeometry } from "./_geometry.ts";
import { PieceStates } from "./_piece_states.ts";
import {
  openPartials,
  peerFilter,
  pickEndgame,
  type UntouchedOrder,
  untouchedPieces,
} from "./_select.ts";
import { pickSpan } from "./_span.ts";
import { pickTimeCritical } from "./_time_critical.ts";
import {
  BLOCK_LENGTH,
  type BlockAddress,
  type BlockReceipt,
  type BlockRequest,
  type FileRange,
  type PickOptions,
  type PickPeer,
  type PiecePickerOptions,
} from "./picker_types.ts";

/**
 * Block-level download planner for one torrent. See the module doc for the rules.
 *
 * @example
 * ```ts
 * import { PiecePicker } from "./mod.ts";
 * import { Bitfield } from "../util/bitfield.ts";
 * import { SeededRandom } from "../util/prng.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const picker = new PiecePicker({
 *   pieceCount: 3, pieceLength: 32768, totalLength: 70000,
 *   random: new SeededRandom(1), randomFirstPieces: 0,
 * });
 * const has = Bitfield.full(3);
 * picker.addPeer(has);
 * picker.peerHave(0); picker.peerHave(1); // piece 2 is now the rarest
 * const [first] = picker.pickBlocks({ id: "a", has }, 1);
 * assertEquals(first, { index: 2, begin: 0, length: 4464 }); // short last piece
 * assertEquals(picker.blockReceived("a", 2, 0).pieceComplete, true);
 * picker.pieceVerified(2);
 * assertEquals(picker.haveCount, 1);
 * ```
 */
export class PiecePicker {
  readonly #geo: PieceGeometry;
  readonly #s: PieceStates;
  readonly #randomFirst: number;
  readonly #random: Random;
  readonly #duplicateWithinMs: number;
  #sequential = false;

  /**
   * A picker with nothing verified, every piece at priority 4 and no peers.
   * @param options sizes, randomness and tuning
   * @throws {RangeError} when the sizes are not positive integers or disagree
   */
  constructor(options: PiecePickerOptions) {
    const { pieceCount, pieceLength, totalLength, random } = options;
    const blockLength = options.blockLength ?? BLOCK_LENGTH;
    const randomFirst = options.randomFirstPieces ?? 4;
    if (!Number.isInteger(randomFirst) || randomFirst < 0) {
      throw new RangeError(`randomFirstPieces must be ≥ 0, got ${randomFirst}`);
    }
    this.#geo = new PieceGeometry(pieceCount, pieceLength, totalLength, blockLength);
    this.#s = new PieceStates(this.#geo, random);
    this.#randomFirst = randomFirst;
    this.#random = random;
    this.#duplicateWithinMs = options.deadlineDuplicateWithinMs ?? 2_000;
  }

  /**
   * Sequential mode (libtorrent's `sequential_download`): untouched pieces are picked
   * in index order instead of rarest first, for streaming. It hurts the swarm, so it
   * is off by default.
   */
  get sequential(): boolean {
    return this.#sequential;
  }

  /** Turns sequential mode on or off. */
  set sequential(on: boolean) {
    this.#sequential = on;
  }

  /** Number of pieces. */
  get pieceCount(): number {
    return this.#geo.pieceCount;
  }

  /**
   * Length of piece `index` in bytes (the last piece may be shorter).
   * @param index piece index
   * @returns the piece length
   * @throws {RangeError} for an index outside the torrent
   */
  pieceLengthOf(index: number): number {
    this.#geo.checkIndex(index);
    return this.#geo.pieceLengthOf(index);
  }

  // ---- availability ------------------------------------------------------------

  /**
   * Counts a peer's bitfield (every set bit). O(pieces); a full bitfield is cheaper
   * counted with `addSeed`.
   * @param has the peer's pieces
   * @throws {RangeError} when the bitfield length is not `pieceCount`
   */
  addPeer(has: Bitfield): void {
    forEachSetBit(has, this.pieceCount, (i) => this.#s.bump(i, 1));
  }

  /**
   * Uncounts a peer's bitfield: pass its final state (after its HAVEs). O(pieces).
   * @param has the peer's pieces
   * @throws {RangeError} for a wrong length, or a bit that was never counted
   */
  removePeer(has: Bitfield): void {
    const avail = this.#s.avail;
    forEachSetBit(has, this.pieceCount, (i) => {
      if (avail[i]! <= 0) throw new RangeError(`Piece ${i} availability would go negative`);
    });
    forEachSetBit(has, this.pieceCount, (i) => this.#s.bump(i, -1));
  }

  /**
   * Counts one HAVE. O(1).
   * @param index piece index (the driver has checked it; PW5)
   * @throws {RangeError} for an index outside the torrent
   */
  peerHave(index: number): void {
    this.#geo.checkIndex(index);
    this.#s.bump(index, 1);
  }

  /** Counts a have-all peer (a seed or BEP 6 HAVE_ALL). O(1). */
  addSeed(): void {
    this.#s.seeds++;
  }

  /**
   * Uncounts a have-all peer. O(1).
   * @throws {RangeError} when no seed is counted
   */
  removeSeed(): void {
    if (this.#s.seeds === 0) throw new RangeError("Cannot remove a seed: none counted");
    this.#s.seeds--;
  }

  /**
   * How many known peers have piece `index` (bitfields, HAVEs and seeds).
   * @param index piece index
   * @returns the peer count
   * @throws {RangeError} for an index outside the torrent
   */
  availabilityOf(index: number): number {
    this.#geo.checkIndex(index);
    return this.#s.avail[index]! + this.#s.seeds;
  }

  // ---- our state ---------------------------------------------------------------

  /** Number of verified pieces. */
  get haveCount(): number {
    return this.#s.haveCount;
  }

  /** True when every wanted piece (priority > 0) is verified. */
  get isComplete(): boolean {
    return this.#s.wantedMissing === 0;
  }

  /** Bytes of wanted pieces not yet verified. */
  get wantedRemainingBytes(): number {
    return this.#s.wantedBytes;
  }

  /** True when every wanted block is received or requested, yet a wanted piece is missing. */
  get inEndgame(): boolean {
    return this.#s.wantedFree === 0 && this.#s.wantedMissing > 0;
  }

  /**
   * Whether piece `index` is verified.
   * @param index piece index
   * @returns true once `setHave` or `pieceVerified` ran for it
   */
  has(index: number): boolean {
    return this.#s.have[index] === 1;
  }

  /**
   * Marks a piece verified (hash checked, on disk), e.g. from resume data. Requests
   * still out for it are forgotten (after `blockReceived` completed a piece, none are).
   * @param index piece index
   * @throws {RangeError} for an index outside the torrent
   */
  setHave(index: number): void {
    this.#geo.checkIndex(index);
    this.#s.setHave(index);
  }

  /**
   * Same as `setHave`: the piece passed its hash check and is on disk.
   * @param index piece index
   * @throws {RangeError} for an index outside the torrent
   */
  pieceVerified(index: number): void {
    this.setHave(index);
  }

  /**
   * Sets a piece's priority: 0 = skip, 1..7 (4 = normal); higher is picked first.
   * Requests already out for a newly skipped piece stay valid.
   * @param index piece index
   * @param priority 0..7
   * @throws {RangeError} for a bad index or priority
   */
  setPiecePriority(index: number, priority: number): void {
    this.#geo.checkIndex(index);
    checkPriority(priority);
    this.#s.setPriority(index, priority);
  }

  /**
   * Priority of piece `index`.
   * @param index piece index
   * @returns 0..7 (0 outside the torrent)
   */
  priorityOf(index: number): number {
    return this.#s.prio[index] ?? 0;
  }

  /**
   * Sets piece priorities from file priorities: a piece gets the highest priority
   * among the files it overlaps; pieces no file overlaps get 0.
   * @param fileRanges every file's byte range in the torrent
   * @param priorities 0..7 per file
   * @throws {RangeError} for mismatched lists, bad priorities or ranges
   */
  setFilePriorities(fileRanges: readonly FileRange[], priorities: readonly number[]): void {
    const { pieceLength, totalLength } = this.#geo;
    const perPiece = piecePrioritiesForFiles(fileRanges, priorities, pieceLength, totalLength);
    perPiece.forEach((priority, index) => this.#s.setPriority(index, priority));
  }

  // ---- picking -----------------------------------------------------------------

  /**
   * Chooses up to `maxBlocks` new requests for `peer` and records them as requested:
   * time-critical pieces first (see {@linkcode setPieceDeadline}), then the rules above.
   * @param peer a snapshot of the peer
   * @param maxBlocks how many more requests the peer's pipeline takes now
   * @param options the clock, for deadlines
   * @returns the requests to send, in order
   * @throws {RangeError} when `peer.has` is a bitfield of the wrong length
   */
  pickBlocks(peer: PickPeer, maxBlocks: number, options: PickOptions = {}): BlockRequest[] {
    const out: BlockRequest[] = [];
    const s = this.#s;
    const can = peerFilter(peer, this.pieceCount, s.prio, s.have);
    if (can === undefined || !(maxBlocks > 0)) return out;
    if (s.deadlines.size > 0) {
      const canAny = peerFilter(peer, this.pieceCount, undefined, s.have)!;
      const now = options.now ?? 0;
      const pick = { peer, can: canAny, now, duplicateWithinMs: this.#duplicateWithinMs };
      pickTimeCritical(s, pick, maxBlocks, out);
    }
    const snubbed = peer.isSnubbed === true;
    if (peer.suggested && !snubbed && !this.#sequential) {
      for (const i of peer.suggested) {
        if (out.length >= maxBlocks) break;
        if (can(i)) s.take(i, peer.id, maxBlocks - out.length, out);
      }
    }
    const partials = openPartials(s, peer.id, snubbed);
    for (let level = MAX_PRIORITY; level >= 1 && out.length < maxBlocks; level--) {
      for (const i of partials) {
        if (out.length >= maxBlocks) break;
        if (s.prio[i] === level && can(i)) s.take(i, peer.id, maxBlocks - out.length, out);
      }
      if (out.length >= maxBlocks || s.buckets.levelSize(level) === 0) continue;
      const need = maxBlocks - out.length;
      const pieces = untouchedPieces(s, level, need, { ...this.#order(snubbed), can });
      for (const i of pieces) s.take(i, peer.id, maxBlocks - out.length, out);
    }
    if (out.length < maxBlocks && s.wantedFree === 0 && !snubbed) {
      pickEndgame(s, peer.id, can, maxBlocks - out.length, out);
    }
    return out;
  }

  /**
   * Chooses one contiguous span of up to `maxBlocks` blocks for a source that serves byte
   * ranges (a BEP 19 web seed), and records it as requested. The span starts where
   * {@linkcode pickBlocks} would start (time-critical pieces, partial pieces, then
   * untouched ones in pick order; endgame copies last) and runs on into the following
   * pieces while their blocks are free.
   * @param peer a snapshot of the source (usually `has: "all"`)
   * @param maxBlocks the most blocks in the span
   * @param options the clock, for deadlines
   * @returns the blocks in byte order (each begins where the previous one ends)
   * @throws {RangeError} when `peer.has` is a bitfield of the wrong length
   */
  pickSpan(peer: PickPeer, maxBlocks: number, options: PickOptions = {}): BlockRequest[] {
    const s = this.#s;
    const canWanted = peerFilter(peer, this.pieceCount, s.prio, s.have);
    const can = peerFilter(peer, this.pieceCount, undefined, s.have);
    if (canWanted === undefined || can === undefined) return [];
    return pickSpan(s, {
      peer,
      can,
      canWanted,
      now: options.now ?? 0,
      duplicateWithinMs: this.#duplicateWithinMs,
      order: this.#order(peer.isSnubbed === true),
    }, maxBlocks);
  }

  // ---- deadlines -----------------------------------------------------------------

  /**
   * Makes piece `index` time-critical (libtorrent's `set_piece_deadline`; the rules are in
   * `_time_critical.ts`). A verified piece is ignored; verifying a piece drops its deadline.
   * @param index piece index
   * @param deadlineMs clock ms by which it should be verified
   * @throws {RangeError} for an index outside the torrent or a non-finite deadline
   */
  setPieceDeadline(index: number, deadlineMs: number): void {
    this.#geo.checkIndex(index);
    if (!Number.isFinite(deadlineMs)) throw new RangeError(`Deadline ${deadlineMs} is not finite`);
    if (!this.#s.have[index]) this.#s.deadlines.set(index, deadlineMs);
  }

  /**
   * Makes piece `index` ordinary again (its reader moved on or went away).
   * @param index piece index; one without a deadline is fine
   */
  clearPieceDeadline(index: number): void {
    this.#s.deadlines.delete(index);
  }

  /**
   * The deadline of piece `index`.
   * @param index piece index
   * @returns clock ms, or undefined when the piece is not time-critical
   */
  deadlineOf(index: number): number | undefined {
    return this.#s.deadlines.get(index);
  }

  /** Number of time-critical pieces. */
  get deadlineCount(): number {
    return this.#s.deadlines.size;
  }

  // ---- bookkeeping -------------------------------------------------------------

  /**
   * Records an arrived block. Peer-controlled coordinates never throw.
   * @param peerId the sender
   * @param index piece index from the PIECE message
   * @param begin offset from the PIECE message
   * @returns whether to keep it, CANCELs to send, and whether the piece is complete
   */
  blockReceived(peerId: string, index: number, begin: number): BlockReceipt {
    const b = this.#geo.blockAt(index, begin);
    if (b < 0 || this.#s.have[index]) {
      return { isNew: false, wasRequested: false, cancel: [], pieceComplete: false };
    }
    const wasRequested = this.#s.book.holds(peerId, index, b);
    const cancel = this.#s.receive(peerId, index, b);
    if (cancel === undefined) {
      return { isNew: false, wasRequested, cancel: [], pieceComplete: false };
    }
    const pieceComplete = this.#s.partials.get(index)!.isFull;
    return { isNew: true, wasRequested, cancel, pieceComplete };
  }

  /**
   * Returns a peer's requests to the pool (it choked us, left, or a request timed out).
   * An endgame copy held by another peer becomes that peer's own request.
   * @param peerId the peer
   * @param blocks the blocks to release; all of the peer's when omitted
   * @returns the requests actually released
   */
  releaseRequests(peerId: string, blocks?: readonly BlockAddress[]): BlockRequest[] {
    return this.#s.release(peerId, blocks);
  }

  /**
   * A piece failed its hash check: every block becomes free again.
   * @param index piece index
   * @returns the peers that sent its blocks (for smart-ban)
   * @throws {RangeError} for an index outside the torrent
   */
  pieceFailed(index: number): Set<string> {
    this.#geo.checkIndex(index);
    const p = this.#s.partials.get(index);
    if (p === undefined) return new Set();
    const contributors = p.contributors();
    this.#s.reset(p);
    return contributors;
  }

  /**
   * A peer's outstanding requests, endgame copies included.
   * @param peerId the peer
   * @returns its requests, grouped by piece
   */
  requestsOf(peerId: string): BlockRequest[] {
    const out: BlockRequest[] = [];
    for (const [index, set] of this.#s.book.get(peerId) ?? []) {
      for (const b of set) out.push(this.#geo.request(index, b));
    }
    return out;
  }

  /**
   * Whether a block is requested from a peer (its own request or an endgame copy).
   * @param peerId the peer
   * @param index piece index
   * @param begin offset in the piece
   * @returns false too for coordinates outside the torrent
   */
  isRequestedFrom(peerId: string, index: number, begin: number): boolean {
    const b = this.#geo.blockAt(index, begin);
    return b >= 0 && this.#s.book.holds(peerId, index, b);
  }

  /**
   * How many requests a peer has outstanding, endgame copies included; O(1).
   * @param peerId the peer
   * @returns the count
   */
  requestCount(peerId: string): number {
    return this.#s.book.count(peerId);
  }

  /**
   * Peers that sent blocks of a piece in progress (read it before `pieceVerified`).
   * @param index piece index
   * @returns the senders; empty for an untouched or verified piece
   */
  contributorsOf(index: number): ReadonlySet<string> {
    return this.#s.partials.get(index)?.contributors() ?? new Set();
  }

  /**
   * Recounts everything and compares with the running state. O(pieces + blocks).
   * @throws {Error} naming the first broken invariant
   */
  assertInvariants(): void {
    this.#s.check();
  }

  // ---- private -----------------------------------------------------------------

  #order(snubbed: boolean): UntouchedOrder {
    const random = this.#s.haveCount < this.#randomFirst ? this.#random : undefined;
    return { sequential: this.#sequential, random, reverse: snubbed };
  }
}
