/**
 * The uTP packet codec (BEP 29): the 20-byte header, the extension chain, the
 * selective-ACK bitmask (extension 1) and libtorrent's close-reason extension (3).
 *
 * The receive path parses in place: {@linkcode parsePacket} fills a caller-owned,
 * reused {@linkcode UtpHeader} with numbers and offsets into the datagram, and allocates
 * nothing. The send path writes headers into caller-owned buffers
 * ({@linkcode writeHeader}); {@linkcode encodePacket} allocates and is for tests and
 * rare packets.
 *
 * Tolerance, as real peers need it: a selective-ACK bitmask of any length is accepted
 * (libtorrent sends ⌈n/8⌉ bytes, not a multiple of 4), unknown extensions are skipped,
 * payload on STATE, SYN and FIN packets is reported and left to the caller to ignore.
 * Limits (RELIABILITY rule 1): the chain holds at most {@linkcode MAX_EXTENSIONS} links and
 * every length is checked against the datagram before it is used.
 *
 * Layer: core (no I/O).
 * @module
 */

/** Bytes in a uTP header. */
export const HEADER_BYTES = 20;
/** The protocol version BEP 29 defines (low nibble of byte 0). */
export const UTP_VERSION = 1;
/** DATA: carries payload. */
export const ST_DATA = 0;
/** FIN: the sender's last sequence number. */
export const ST_FIN = 1;
/** STATE: an ACK without payload. */
export const ST_STATE = 2;
/** RESET: terminates the connection. */
export const ST_RESET = 3;
/** SYN: opens a connection. */
export const ST_SYN = 4;
/** Extension 1: selective ACK bitmask. */
export const EXTENSION_SACK = 1;
/** Extension 3: libtorrent's close reason (2 reserved bytes, then a 16-bit code). */
export const EXTENSION_CLOSE_REASON = 3;
/** Most extension links accepted in one packet; real peers send at most two. */
export const MAX_EXTENSIONS = 8;

/** Type names, for logs and errors. */
export const PACKET_TYPE_NAMES: readonly string[] = ["DATA", "FIN", "STATE", "RESET", "SYN"];

/** A datagram that is not a well-formed uTP packet. */
export class UtpSyntaxError extends SyntaxError {
  /** Byte offset in the datagram where the problem was found. */
  readonly offset: number;
  /**
   * Builds the error.
   * @param message what is wrong
   * @param offset where in the datagram
   */
  constructor(message: string, offset: number) {
    super(message);
    this.name = "UtpSyntaxError";
    this.offset = offset;
  }
}

/**
 * Header fields of a parsed packet: numbers, and offsets into the datagram it came from.
 * The receive path reuses one record for every datagram.
 */
export interface UtpHeader {
  /** Packet type, {@linkcode ST_DATA}..{@linkcode ST_SYN}. */
  type: number;
  /** Connection id (16 bits). */
  connectionId: number;
  /** Sender's clock when sent, µs, wrapped to 32 bits; 0 = none. */
  timestampMicros: number;
  /** Sender's last measured one-way delay sample, µs; 0 = none. */
  timestampDifferenceMicros: number;
  /** Sender's advertised receive window in bytes. */
  windowBytes: number;
  /** Sequence number (16 bits). */
  seq: number;
  /** Last sequence number the sender received in order (16 bits). */
  ack: number;
  /** Offset of the selective-ACK bitmask, or 0 when the packet has none. */
  sackOffset: number;
  /** Bytes in the selective-ACK bitmask (0 when absent). */
  sackLength: number;
  /** libtorrent close reason, or -1 when absent. */
  closeReason: number;
  /** Offset of the payload (the end of the header and its extensions). */
  payloadOffset: number;
}

/**
 * A blank header record to pass to {@linkcode parsePacket}.
 * @returns a record with every field zero (close reason -1)
 */
export function newHeader(): UtpHeader {
  return {
    type: 0,
    connectionId: 0,
    timestampMicros: 0,
    timestampDifferenceMicros: 0,
    windowBytes: 0,
    seq: 0,
    ack: 0,
    sackOffset: 0,
    sackLength: 0,
    closeReason: -1,
    payloadOffset: HEADER_BYTES,
  };
}

/**
 * Whether a datagram's first byte can start a uTP packet: version 1 in the low nibble
 * and a known type in the high one. KRPC messages start with `d` (0x64) and never match.
 * @param firstByte byte 0 of the datagram
 * @returns true for 0x01, 0x11, 0x21, 0x31 and 0x41
 */
export function isUtpFirstByte(firstByte: number): boolean {
  return (firstByte & 0x0f) === UTP_VERSION && firstByte >> 4 <= ST_SYN;
}

function u16(b: Uint8Array, i: number): number {
  return (b[i]! << 8) | b[i + 1]!;
}

function u32(b: Uint8Array, i: number): number {
  return ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
}

/**
 * Parses a datagram's header and extension chain in place.
 * @param data the whole datagram (not retained)
 * @param into the record to fill (reused across calls)
 * @returns `into`
 * @throws {UtpSyntaxError} for a short datagram, a bad version or type, or a broken or
 *   overlong extension chain
 */
export function parsePacket(data: Uint8Array, into: UtpHeader = newHeader()): UtpHeader {
  if (data.length < HEADER_BYTES) {
    throw new UtpSyntaxError(`Cannot parse uTP packet: ${data.length} bytes is too short`, 0);
  }
  const b0 = data[0]!;
  if ((b0 & 0x0f) !== UTP_VERSION) {
    throw new UtpSyntaxError(`Cannot parse uTP packet: version ${b0 & 0x0f}`, 0);
  }
  if (b0 >> 4 > ST_SYN) throw new UtpSyntaxError(`Cannot parse uTP packet: type ${b0 >> 4}`, 0);
  into.type = b0 >> 4;
  into.connectionId = u16(data, 2);
  into.timestampMicros = u32(data, 4);
  into.timestampDifferenceMicros = u32(data, 8);
  into.windowBytes = u32(data, 12);
  into.seq = u16(data, 16);
  into.ack = u16(data, 18);
  into.sackOffset = 0;
  into.sackLength = 0;
  into.closeReason = -1;
  let extension = data[1]!;
  let at = HEADER_BYTES;
  for (let links = 0; extension !== 0; links++) {
    if (links === MAX_EXTENSIONS) {
      throw new UtpSyntaxError(`Cannot parse uTP packet: over ${MAX_EXTENSIONS} extensions`, at);
    }
    if (at + 2 > data.length) {
      throw new UtpSyntaxError("Cannot parse uTP packet: extension header past the end", at);
    }
    const next = data[at]!, length = data[at + 1]!;
    if (at + 2 + length > data.length) {
      throw new UtpSyntaxError(`Cannot parse uTP packet: extension of ${length} bytes`, at);
    }
    if (extension === EXTENSION_SACK && into.sackOffset === 0) {
      into.sackOffset = at + 2;
      into.sackLength = length;
    } else if (extension === EXTENSION_CLOSE_REASON && length === 4) {
      into.closeReason = u16(data, at + 4);
    } // other extensions (2 = extension bits) are skipped, as libutp and libtorrent do
    at += 2 + length;
    extension = next;
  }
  into.payloadOffset = at;
  return into;
}

/** Fixed header fields for {@linkcode writeHeader}. */
export interface HeaderFields {
  /** Packet type. */
  readonly type: number;
  /** First extension type (0 = none). */
  readonly extension: number;
  /** Connection id. */
  readonly connectionId: number;
  /** Send time, µs wrapped to 32 bits. */
  readonly timestampMicros: number;
  /** Last delay sample, µs. */
  readonly timestampDifferenceMicros: number;
  /** Advertised window, bytes. */
  readonly windowBytes: number;
  /** Sequence number. */
  readonly seq: number;
  /** Ack number. */
  readonly ack: number;
}

/**
 * Writes the 20 header bytes at the start of `buf`.
 * @param buf the packet buffer (at least 20 bytes)
 * @param h the fields; numbers are truncated to their field widths
 */
export function writeHeader(buf: Uint8Array, h: HeaderFields): void {
  buf[0] = (h.type << 4) | UTP_VERSION;
  buf[1] = h.extension;
  putU16(buf, 2, h.connectionId);
  putU32(buf, 4, h.timestampMicros);
  putU32(buf, 8, h.timestampDifferenceMicros);
  putU32(buf, 12, h.windowBytes);
  putU16(buf, 16, h.seq);
  putU16(buf, 18, h.ack);
}

/**
 * Writes a 16-bit big-endian value.
 * @param buf target
 * @param at offset
 * @param value truncated to 16 bits
 */
export function putU16(buf: Uint8Array, at: number, value: number): void {
  buf[at] = value >>> 8;
  buf[at + 1] = value;
}

/**
 * Writes a 32-bit big-endian value.
 * @param buf target
 * @param at offset
 * @param value truncated to 32 bits
 */
export function putU32(buf: Uint8Array, at: number, value: number): void {
  buf[at] = value >>> 24;
  buf[at + 1] = value >>> 16;
  buf[at + 2] = value >>> 8;
  buf[at + 3] = value;
}

/** A whole packet for {@linkcode encodePacket}. */
export interface PacketFields extends Omit<HeaderFields, "extension"> {
  /** Selective-ACK bitmask (any length up to 255). */
  readonly sack?: Uint8Array;
  /** libtorrent close reason (16 bits). */
  readonly closeReason?: number;
  /** Payload bytes. */
  readonly payload?: Uint8Array;
}

/**
 * Encodes a packet into a fresh buffer (tests, fuzzing and rare control packets).
 * @param p the fields
 * @returns the datagram
 * @throws {RangeError} when the bitmask is longer than 255 bytes
 */
export function encodePacket(p: PacketFields): Uint8Array {
  const sack = p.sack, reason = p.closeReason, payload = p.payload;
  if (sack && sack.length > 255) throw new RangeError(`SACK of ${sack.length} bytes`);
  const size = HEADER_BYTES + (sack ? 2 + sack.length : 0) + (reason === undefined ? 0 : 6) +
    (payload?.length ?? 0);
  const out = new Uint8Array(size);
  const first = sack ? EXTENSION_SACK : reason === undefined ? 0 : EXTENSION_CLOSE_REASON;
  writeHeader(out, { ...p, extension: first });
  let at = HEADER_BYTES;
  if (sack) {
    out[at] = reason === undefined ? 0 : EXTENSION_CLOSE_REASON;
    out[at + 1] = sack.length;
    out.set(sack, at + 2);
    at += 2 + sack.length;
  }
  if (reason !== undefined) {
    out[at + 1] = 4;
    putU16(out, at + 4, reason);
    at += 6;
  }
  if (payload) out.set(payload, at);
  return out;
}
