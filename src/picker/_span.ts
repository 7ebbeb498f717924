/**
 * Picking one contiguous span of blocks, for a source that serves byte ranges (a BEP 19
 * web seed: one HTTP Range request per span, libtorrent's "prefer contiguous blocks").
 * The span starts where the ordinary pick would start and runs on, block after block and
 * into the following pieces, while blocks are free and the source may serve them.
 *
 * Where a span starts, in order:
 * 1. a time-critical piece (earliest deadline first, the same eligibility as
 *    `_time_critical.ts`): its first free block, or, once overdue, a run of blocks other
 *    peers hold alone (duplicates);
 * 2. per priority level, highest first: a partial piece's first free block (this
 *    source's own pieces first), then the first untouched piece in pick order (rarest
 *    first, sequential or random-first as the picker is set);
 * 3. strict endgame: a run of blocks other peers hold alone.
 *
 * Layer: core (pure). Private to src/picker/.
 * @module
 */
import { MAX_PRIORITY } from "./_buckets.ts";
import type { PieceStates } from "./_piece_states.ts";
import {
  type CanUse,
  openPartials,
  requestedPartials,
  type UntouchedOrder,
  untouchedPieces,
} from "./_select.ts";
import { canDuplicate, type TimeCriticalPick } from "./_time_critical.ts";
import type { BlockRequest } from "./picker_types.ts";

/** What a span pick needs besides the picker state. */
export interface SpanPick extends TimeCriticalPick {
  /** Wanted pieces the source may serve (`can` allows any piece it may serve). */
  readonly canWanted: CanUse;
  /** How untouched pieces are ordered. */
  readonly order: UntouchedOrder;
}

/**
 * Chooses one contiguous span of at most `max` blocks and records it as requested.
 * @returns the blocks, in byte order (each starts where the previous one ends)
 */
export function pickSpan(s: PieceStates, pick: SpanPick, max: number): BlockRequest[] {
  const out: BlockRequest[] = [];
  const peerId = pick.peer.id;
  if (max <= 0) return out;
  if (pickDeadlineSpan(s, pick, max, out)) return out;
  const partials = openPartials(s, peerId, pick.peer.isSnubbed === true);
  for (let level = MAX_PRIORITY; level >= 1; level--) {
    for (const i of partials) {
      if (s.prio[i] !== level || !pick.canWanted(i)) continue;
      const b = firstFree(s, i);
      if (b >= 0) return run(s, i, b, { peerId, max, out, next: pick.canWanted });
    }
    const [start] = untouchedPieces(s, level, 1, { ...pick.order, can: pick.canWanted });
    if (start !== undefined) return run(s, start, 0, { peerId, max, out, next: pick.canWanted });
  }
  if (s.wantedFree === 0 && pick.peer.isSnubbed !== true) {
    for (const i of requestedPartials(s, pick.canWanted)) {
      if (duplicateRun(s, i, peerId, max, out)) return out;
    }
  }
  return out;
}

/** A span from a time-critical piece; true when one was found. */
function pickDeadlineSpan(s: PieceStates, pick: SpanPick, max: number, out: BlockRequest[]) {
  const { peer, can, now } = pick;
  if (peer.isSnubbed === true) return false;
  const delivery = peer.deliveryMs;
  for (const [index, deadline] of s.deadlines.ordered()) {
    if (!can(index)) continue;
    const overdue = now >= deadline;
    if (!overdue && delivery !== undefined && now + delivery > deadline) continue;
    const b = firstFree(s, index);
    if (b >= 0) {
      run(s, index, b, { peerId: peer.id, max, out, next: can });
      return true;
    }
    const mayDuplicate = delivery === undefined || delivery <= pick.duplicateWithinMs;
    if (overdue && mayDuplicate && duplicateRun(s, index, peer.id, max, out)) return true;
  }
  return false;
}

/** The first free block of piece `index`, or -1. */
function firstFree(s: PieceStates, index: number): number {
  const p = s.partials.get(index);
  if (p === undefined) return 0;
  if (p.free === 0) return -1;
  for (let b = 0; b < p.blockCount; b++) if (s.isFree(index, b)) return b;
  return -1;
}

/** Takes free blocks from (`index`, `b`) on, into the next pieces while `next` allows. */
function run(
  s: PieceStates,
  index: number,
  b: number,
  o: { peerId: string; max: number; out: BlockRequest[]; next: CanUse },
): BlockRequest[] {
  for (let i = index, from = b; i < s.geo.pieceCount;) {
    const end = s.takeFrom(i, from, o.peerId, o.max - o.out.length, o.out);
    if (o.out.length >= o.max || end < s.geo.blockCountOf(i)) break;
    i++;
    from = 0;
    if (i >= s.geo.pieceCount || !o.next(i) || !s.isFree(i, 0)) break;
  }
  return o.out;
}

/** The first run of blocks of piece `index` that `peerId` may duplicate; true when found. */
function duplicateRun(
  s: PieceStates,
  index: number,
  peerId: string,
  max: number,
  out: BlockRequest[],
): boolean {
  const p = s.partials.get(index);
  if (p === undefined) return false;
  let b = 0;
  while (b < p.blockCount && !canDuplicate(p, b, peerId)) b++;
  for (; b < p.blockCount && out.length < max && canDuplicate(p, b, peerId); b++) {
    out.push(s.duplicate(p, b, peerId));
  }
  return out.length > 0;
}
