/**
 * Types and constants shared by the piece picker and its callers.
 *
 * Layer: core (types only).
 * @module
 */
import type { Random } from "../runtime/types.ts";
import type { Bitfield } from "../util/bitfield.ts";

/** Request unit every current client uses: 16 KiB (PARAMETERS §2.1). */
export const BLOCK_LENGTH = 16384;
/** Priority of a piece nobody set: normal (0 = skip, 1..7, higher first). */
export const DEFAULT_PRIORITY = 4;

/** A block address: piece index and byte offset inside the piece. */
export interface BlockAddress {
  /** Piece index. */
  readonly index: number;
  /** Byte offset of the block inside the piece. */
  readonly begin: number;
}

/** One block to request (BEP 3 REQUEST fields). */
export interface BlockRequest extends BlockAddress {
  /** Block length in bytes; shorter only for the last block of the last piece. */
  readonly length: number;
}

/** A duplicate request to withdraw with CANCEL, and the peer it went to. */
export interface BlockCancel extends BlockRequest {
  /** Peer the duplicate request was sent to. */
  readonly peerId: string;
}

/** What `PiecePicker.blockReceived` concluded about an arrived block. */
export interface BlockReceipt {
  /** False for a block we already had or that lies outside the torrent: drop it. */
  readonly isNew: boolean;
  /** Whether this peer had the block requested (unsolicited blocks count as misbehaviour). */
  readonly wasRequested: boolean;
  /** Other outstanding requests for this block (endgame copies) to CANCEL. */
  readonly cancel: BlockCancel[];
  /** True when this block completed the piece: hash it now. */
  readonly pieceComplete: boolean;
}

/** A snapshot of one peer, for `PiecePicker.pickBlocks`. */
export interface PickPeer {
  /** Stable peer identity (the same string in every call). */
  readonly id: string;
  /** The peer's pieces, or "all" for a seed (BEP 6 HAVE_ALL). */
  readonly has: Bitfield | "all";
  /** The peer has not sent a requested block for a while (anti-snubbing). */
  readonly isSnubbed?: boolean;
  /** BEP 6 allowed-fast pieces: the only ones requestable while it chokes us. */
  readonly allowedFast?: ReadonlySet<number>;
  /** The peer is choking us. */
  readonly choked?: boolean;
  /** BEP 6 suggested pieces: taken first when wanted (a seed hinting at least-sent pieces). */
  readonly suggested?: ReadonlySet<number>;
  /**
   * Estimated ms for this peer to deliver a block requested now (its queue and round
   * trip at its current rate); undefined when unknown. Decides who may take a
   * time-critical piece before its deadline.
   */
  readonly deliveryMs?: number;
  /** Pieces this peer refused lately (BEP 6 REJECT_REQUEST), keyed by index: not asked of it again yet. */
  readonly refused?: ReadonlyMap<number, unknown>;
}

/** Per-call options of `PiecePicker.pickBlocks` and `pickSpan`. */
export interface PickOptions {
  /** Clock ms now, to compare with piece deadlines. Default 0. */
  readonly now?: number;
}

/** A file's byte range inside the torrent's concatenated content. */
export interface FileRange {
  /** Offset of the file's first byte in the torrent, in bytes. */
  readonly offset: number;
  /** File length in bytes (0 for an empty file). */
  readonly length: number;
}

/** Options of `PiecePicker`. */
export interface PiecePickerOptions {
  /** Number of pieces, = ⌈totalLength / pieceLength⌉. */
  readonly pieceCount: number;
  /** Nominal piece length in bytes. */
  readonly pieceLength: number;
  /** Torrent length in bytes; the last piece holds the remainder. */
  readonly totalLength: number;
  /** Tie-break and random-first source. */
  readonly random: Random;
  /** Request size in bytes; default {@linkcode BLOCK_LENGTH}. */
  readonly blockLength?: number;
  /** Pick random pieces (not rarest) until this many are verified; default 4. */
  readonly randomFirstPieces?: number;
  /**
   * Blocks of an overdue time-critical piece are duplicated only to peers that deliver
   * within this, ms; default 2,000 (a slower copy would not beat the first).
   */
  readonly deadlineDuplicateWithinMs?: number;
}
