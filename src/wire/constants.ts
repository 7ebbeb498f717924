/**
 * Peer wire constants: block size, protocol string, message ids and the caps the
 * framer enforces (BEP 3, BEP 5 `port`, BEP 6 fast extension, BEP 10 extended).
 *
 * Layer: core (no I/O).
 * @module
 */

/** The request unit: every client requests 16 KiB blocks (BEP 3; PARAMETERS §2.1). */
export const BLOCK_LENGTH = 16384;

/** The protocol string in the handshake (BEP 3); its length, 19, is `pstrlen`. */
export const PROTOCOL = "BitTorrent protocol";

/** The largest piece count accepted, before and after metadata (libtorrent `max_piece_count`). */
export const MAX_PIECE_COUNT = 2 ** 21;

/** The largest extended (BEP 10) message payload accepted, after the extended id: 1 MiB. */
export const MAX_EXTENDED_PAYLOAD_LENGTH = 1024 * 1024;

/**
 * Default cap on a length prefix: the largest extended message (id, extended id and
 * 1 MiB of payload). The framer never holds more than this plus 4 bytes for one peer,
 * within RELIABILITY PW2's 1 MiB + 16 KiB.
 */
export const DEFAULT_MAX_MESSAGE_LENGTH: number = MAX_EXTENDED_PAYLOAD_LENGTH + 2;

/** The largest piece message body: id, index, begin and one 16 KiB block. */
export const MAX_PIECE_MESSAGE_LENGTH: number = BLOCK_LENGTH + 9;

/** The shape of {@linkcode MessageId}: each message name and its id byte. */
export interface MessageIds {
  /** BEP 3: the sender will not serve requests. */
  readonly choke: 0;
  /** BEP 3: the sender will serve requests. */
  readonly unchoke: 1;
  /** BEP 3: the sender wants pieces we have. */
  readonly interested: 2;
  /** BEP 3: the sender wants nothing from us. */
  readonly notInterested: 3;
  /** BEP 3: the sender has verified a piece. */
  readonly have: 4;
  /** BEP 3: the pieces the sender has, sent first. */
  readonly bitfield: 5;
  /** BEP 3: asks for a block. */
  readonly request: 6;
  /** BEP 3: a block of data. */
  readonly piece: 7;
  /** BEP 3: withdraws a request. */
  readonly cancel: 8;
  /** BEP 5: the sender's DHT port. */
  readonly port: 9;
  /** BEP 6: a piece the sender suggests we download. */
  readonly suggest: 13;
  /** BEP 6: the sender has every piece. */
  readonly haveAll: 14;
  /** BEP 6: the sender has no piece. */
  readonly haveNone: 15;
  /** BEP 6: a request the sender will not serve. */
  readonly reject: 16;
  /** BEP 6: a piece we may request while choked. */
  readonly allowedFast: 17;
  /** BEP 10: an extension message. */
  readonly extended: 20;
}

/**
 * Message ids (BEP 3; `port` BEP 5; `suggest` to `allowedFast` BEP 6; `extended` BEP 10).
 *
 * @example
 * ```ts
 * import { MessageId } from "./constants.ts";
 * import { deepStrictEqual } from "node:assert";
 * deepStrictEqual([MessageId.piece, MessageId.haveAll, MessageId.extended], [7, 14, 20]);
 * ```
 */
export const MessageId: MessageIds = Object.freeze({
  choke: 0,
  unchoke: 1,
  interested: 2,
  notInterested: 3,
  have: 4,
  bitfield: 5,
  request: 6,
  piece: 7,
  cancel: 8,
  port: 9,
  suggest: 13,
  haveAll: 14,
  haveNone: 15,
  reject: 16,
  allowedFast: 17,
  extended: 20,
});

/** A message id value, e.g. `MessageId.piece` (7). */
export type MessageId = MessageIds[keyof MessageIds];
