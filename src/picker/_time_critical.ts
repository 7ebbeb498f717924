/**
 * Picking time-critical pieces (libtorrent's `request_time_critical_pieces`), before any
 * other pick: pieces with a deadline, earliest first.
 *
 * - A peer takes free blocks of a deadline piece when it can deliver in time
 *   (`now + deliveryMs ≤ deadline`; a peer whose delivery time is unknown gets the
 *   benefit of the doubt), or when the deadline has passed (then any peer that is not
 *   snubbed: someone must fetch it).
 * - Once a piece's deadline has passed, its blocks requested from other peers may be
 *   requested once more from a peer that can deliver within `duplicateWithinMs`: an
 *   endgame for those pieces only (one extra copy per block, never twice from one peer);
 *   whichever copy arrives first wins and the other is cancelled, as in the endgame.
 * - Snubbed peers get no time-critical requests.
 *
 * Deadline pieces need not be wanted (a reader may read a skipped file): only verified
 * pieces, pieces the peer lacks and pieces it refuses are passed over.
 *
 * Layer: core (pure). Private to src/picker/.
 * @module
 */
import type { CanUse } from "./_select.ts";
import type { PartialPiece } from "./_partial.ts";
import type { PieceStates } from "./_piece_states.ts";
import type { BlockRequest, PickPeer } from "./picker_types.ts";

/** What one time-critical pick needs besides the picker state. */
export interface TimeCriticalPick {
  /** The peer asking. */
  readonly peer: PickPeer;
  /** Pieces the peer may be asked for, whatever their priority. */
  readonly can: CanUse;
  /** Clock ms now. */
  readonly now: number;
  /** Duplicates go only to peers that deliver within this, ms. */
  readonly duplicateWithinMs: number;
}

/**
 * Appends time-critical requests for `pick.peer` to `out`, up to `max` in total.
 * @param s the picker state
 * @param pick the peer, its filter, the time and the duplicate rule
 * @param max the most requests `out` may hold afterwards
 * @param out requests chosen so far
 */
export function pickTimeCritical(
  s: PieceStates,
  pick: TimeCriticalPick,
  max: number,
  out: BlockRequest[],
): void {
  const { peer, can, now } = pick;
  if (peer.isSnubbed === true) return;
  const delivery = peer.deliveryMs;
  const mayDuplicate = delivery === undefined || delivery <= pick.duplicateWithinMs;
  for (const [index, deadline] of s.deadlines.ordered()) {
    if (out.length >= max) return;
    if (!can(index)) continue;
    const overdue = now >= deadline;
    if (!overdue && delivery !== undefined && now + delivery > deadline) continue;
    s.take(index, peer.id, max - out.length, out);
    if (overdue && mayDuplicate) duplicateBlocks(s, index, peer.id, max, out);
  }
}

/**
 * Requests from `peerId` blocks of piece `index` that other peers hold alone, until `out`
 * holds `max` requests.
 */
function duplicateBlocks(
  s: PieceStates,
  index: number,
  peerId: string,
  max: number,
  out: BlockRequest[],
): void {
  const p = s.partials.get(index);
  if (p === undefined) return;
  for (let b = 0; b < p.blockCount && out.length < max; b++) {
    if (canDuplicate(p, b, peerId)) out.push(s.duplicate(p, b, peerId));
  }
}

/**
 * Whether block `b` of `p` may get a second request, from `peerId`: it is requested from
 * one other peer only.
 * @returns false for a free or received block, or one `peerId` holds already
 */
export function canDuplicate(p: PartialPiece, b: number, peerId: string): boolean {
  const owner = p.owner[b];
  return owner !== undefined && owner !== peerId && p.dup[b] === undefined;
}
