/**
 * The receive side of one uTP connection (BEP 29): in-order delivery, the reorder
 * buffer, the FIN position, the advertised window and the selective-ACK bitmask.
 *
 * Copies: an in-order payload goes straight into the reader's buffer when one is
 * waiting and nothing older is queued; otherwise it is copied once into a pooled chunk.
 * An out-of-order payload is copied once into a pooled chunk, which later joins the
 * in-order queue without another copy.
 *
 * Limits: unread plus reordered bytes never exceed `capacityBytes` (the window we
 * advertise; a peer that ignores it has packets dropped) by more than one packet, kept
 * for the next expected packet, and at most `maxReorder` packets ahead of it are held.
 *
 * Invariants (checked by {@linkcode ReceiveWindow.assertInvariants}): `unread` is the sum
 * of queued chunk lengths; `reorderBytes` and `reorderCount` match the occupied slots,
 * all of which lie 2..maxReorder ahead of `ackNr`; the slot of `ackNr + 1` is empty.
 *
 * Layer: core (no I/O).
 * @module
 */
import type { BufferPool } from "./buffer_pool.ts";
import { seqAdd, seqDistance } from "./seq.ts";

/** What {@linkcode ReceiveWindow.onData} did with a packet. */
export const DATA_IN_ORDER = 0;
/** Held in the reorder buffer. */
export const DATA_REORDERED = 1;
/** Already received (the peer missed our ACK: ACK again). */
export const DATA_DUPLICATE = 2;
/** Outside the window or over capacity: dropped. */
export const DATA_DROPPED = 3;

/** Most SACK bitmask bytes we write (1,024 packets). */
export const MAX_SACK_BYTES = 128;

/** In-order and out-of-order received data of one connection. */
export class ReceiveWindow {
  readonly #pool: BufferPool;
  readonly #capacity: number;
  readonly #maxReorder: number;
  readonly #slackBytes: number;
  readonly #mask: number;
  /** Last sequence number received in order (the ack_nr we send). */
  ackNr = 0;
  // in-order queue: pooled chunks with [start, end)
  #chunks: Uint8Array[] = [];
  #starts: number[] = [];
  #ends: number[] = [];
  #head = 0;
  /** Bytes queued in order, not yet read. */
  unread = 0;
  // reorder ring, indexed by seq & mask
  readonly #slots: (Uint8Array | undefined)[];
  readonly #lengths: Int32Array;
  /** Packets held out of order. */
  reorderCount = 0;
  /** Payload bytes held out of order. */
  reorderBytes = 0;
  #farthest = 0; // largest distance from ackNr of an occupied slot
  // a waiting reader's buffer
  #target: Uint8Array | undefined;
  /** Bytes written into the reader's buffer since it was set. */
  targetFilled = 0;
  /** Sequence number of the peer's FIN, or -1. */
  finSeq: number = -1;
  /** True once every byte before the FIN is queued or delivered. */
  eof = false;

  /**
   * Makes a receive side.
   * @param pool chunk buffers (at least one packet's payload each)
   * @param capacityBytes the window we advertise
   * @param maxReorder most packets held ahead of the next expected one (≤ 2048)
   * @param slackBytes room beyond the capacity for the next expected packet (one packet)
   */
  constructor(pool: BufferPool, capacityBytes: number, maxReorder: number, slackBytes: number) {
    this.#pool = pool;
    this.#capacity = capacityBytes;
    this.#maxReorder = maxReorder;
    this.#slackBytes = slackBytes;
    let size = 1;
    while (size < maxReorder + 2) size <<= 1;
    this.#mask = size - 1;
    this.#slots = new Array(size).fill(undefined);
    this.#lengths = new Int32Array(size);
  }

  /**
   * The window to advertise, bytes: what `limit` (at most the capacity) leaves after the
   * unread and reordered bytes.
   * @param limit the window offered when nothing is buffered
   * @returns bytes
   */
  windowBytes(limit: number = this.#capacity): number {
    return Math.max(0, Math.min(limit, this.#capacity) - this.unread - this.reorderBytes);
  }

  /** Whether out-of-order packets are held (a SACK is due). */
  get hasReorder(): boolean {
    return this.reorderCount > 0;
  }

  /**
   * Lends the reader's buffer: in-order payload is copied straight into it.
   * @param target the buffer, or undefined to stop
   */
  setTarget(target: Uint8Array | undefined): void {
    this.#target = target;
    this.targetFilled = 0;
  }

  /**
   * Takes a DATA payload.
   * @param seq its sequence number
   * @param data the datagram
   * @param offset payload start in `data`
   * @param length payload bytes
   * @returns one of the `DATA_*` codes
   */
  onData(seq: number, data: Uint8Array, offset: number, length: number): number {
    const ahead = seqDistance(seq, this.ackNr);
    if (ahead === 0 || ahead >= 0x8000) return DATA_DUPLICATE;
    if (this.finSeq >= 0 && seqDistance(seq, this.finSeq) < 0x8000) return DATA_DROPPED;
    if (ahead > this.#maxReorder) return DATA_DROPPED;
    // the next expected packet may use one packet of slack: it is what drains the reorder
    // buffer, and refusing it when reordered packets filled the window would deadlock
    const slack = ahead === 1 ? this.#slackBytes : 0;
    if (this.unread + this.reorderBytes + length > this.#capacity + slack) return DATA_DROPPED;
    if (ahead === 1) {
      this.#deliver(data, offset, length);
      this.ackNr = seq;
      if (this.#farthest > 0) this.#farthest--;
      this.#drainReorder();
      this.#checkEof();
      return DATA_IN_ORDER;
    }
    const slot = seq & this.#mask;
    if (this.#slots[slot] !== undefined) return DATA_DUPLICATE;
    const chunk = this.#pool.take();
    chunk.set(data.subarray(offset, offset + length));
    this.#slots[slot] = chunk;
    this.#lengths[slot] = length;
    this.reorderCount++;
    this.reorderBytes += length;
    if (ahead > this.#farthest) this.#farthest = ahead;
    return DATA_REORDERED;
  }

  /**
   * Notes the peer's FIN (a repeated or out-of-window FIN changes nothing).
   * @param seq the FIN's sequence number
   */
  onFin(seq: number): void {
    const ahead = seqDistance(seq, this.ackNr);
    if (this.finSeq >= 0 || ahead === 0 || ahead > this.#maxReorder) return;
    this.finSeq = seq;
    for (let d = ahead; d <= this.#farthest; d++) {
      this.#dropSlot(seqAdd(this.ackNr, d) & this.#mask);
    }
    if (this.#farthest >= ahead) this.#farthest = ahead - 1;
    if (this.reorderCount === 0) this.#farthest = 0;
    this.#checkEof();
  }

  /**
   * Moves queued in-order bytes into `into`.
   * @param into the reader's buffer
   * @returns bytes copied
   */
  read(into: Uint8Array): number {
    let n = 0;
    while (n < into.length && this.#head < this.#chunks.length) {
      const i = this.#head, start = this.#starts[i]!, end = this.#ends[i]!;
      const take = Math.min(end - start, into.length - n);
      into.set(this.#chunks[i]!.subarray(start, start + take), n);
      n += take;
      if (start + take === end) {
        this.#pool.give(this.#chunks[i]!);
        this.#head++;
      } else this.#starts[i] = start + take;
    }
    this.unread -= n;
    if (this.#head === this.#chunks.length) this.#resetQueue();
    else if (this.#head > 64) this.#compact();
    return n;
  }

  /**
   * Writes the selective-ACK bitmask (bit i = packet `ackNr + 2 + i` held) into `buf`.
   * Its length is a multiple of 4 bytes (BEP 29), at most {@linkcode MAX_SACK_BYTES}.
   * @param buf target
   * @param at offset in `buf`
   * @returns bytes written (0 when nothing is held)
   */
  writeSack(buf: Uint8Array, at: number): number {
    if (this.reorderCount === 0) return 0;
    const bits = Math.min(this.#farthest - 1, MAX_SACK_BYTES * 8);
    const bytes = Math.min(MAX_SACK_BYTES, Math.max(4, Math.ceil(bits / 32) * 4));
    buf.fill(0, at, at + bytes);
    for (let i = 0; i < bits; i++) {
      if (this.#slots[seqAdd(this.ackNr, 2 + i) & this.#mask] !== undefined) {
        buf[at + (i >> 3)]! |= 1 << (i & 7);
      }
    }
    return bytes;
  }

  /** Returns every pooled buffer (the connection is gone). */
  release(): void {
    for (let i = this.#head; i < this.#chunks.length; i++) this.#pool.give(this.#chunks[i]!);
    this.#resetQueue();
    this.unread = 0;
    for (let i = 0; i < this.#slots.length; i++) {
      const s = this.#slots[i];
      if (s) this.#pool.give(s);
      this.#slots[i] = undefined;
    }
    this.reorderCount = this.reorderBytes = this.#farthest = 0;
    this.#target = undefined;
  }

  /**
   * Checks the invariants in the module header.
   * @throws {Error} naming the broken invariant
   */
  assertInvariants(): void {
    let queued = 0;
    for (let i = this.#head; i < this.#chunks.length; i++) {
      queued += this.#ends[i]! - this.#starts[i]!;
    }
    if (queued !== this.unread) {
      throw new Error(`ReceiveWindow: unread ${this.unread} != ${queued}`);
    }
    // slots 2..farthest ahead of ackNr; one held anywhere else would break the counts
    let count = 0, bytes = 0;
    if (this.#slots[seqAdd(this.ackNr, 1) & this.#mask] !== undefined) {
      throw new Error("ReceiveWindow: the next expected packet is held out of order");
    }
    for (let d = 2; d <= this.#farthest; d++) {
      const slot = seqAdd(this.ackNr, d) & this.#mask;
      if (this.#slots[slot] === undefined) continue;
      count++;
      bytes += this.#lengths[slot]!;
    }
    if (count !== this.reorderCount || bytes !== this.reorderBytes) {
      throw new Error(
        `ReceiveWindow: reorder ${count}/${bytes} != ${this.reorderCount}/${this.reorderBytes}`,
      );
    }
  }

  #deliver(data: Uint8Array, offset: number, length: number): void {
    let from = offset, left = length;
    const target = this.#target;
    if (target && this.unread === 0 && this.targetFilled < target.length) {
      const take = Math.min(left, target.length - this.targetFilled);
      target.set(data.subarray(from, from + take), this.targetFilled);
      this.targetFilled += take;
      from += take;
      left -= take;
    }
    while (left > 0) {
      const last = this.#chunks.length - 1;
      let chunk: Uint8Array, end: number;
      if (last >= this.#head && this.#ends[last]! < this.#chunks[last]!.length) {
        chunk = this.#chunks[last]!;
        end = this.#ends[last]!;
      } else {
        chunk = this.#pool.take();
        end = 0;
        this.#chunks.push(chunk);
        this.#starts.push(0);
        this.#ends.push(0);
      }
      const take = Math.min(left, chunk.length - end);
      chunk.set(data.subarray(from, from + take), end);
      this.#ends[this.#chunks.length - 1] = end + take;
      this.unread += take;
      from += take;
      left -= take;
    }
  }

  #drainReorder(): void {
    if (this.reorderCount === 0) return;
    for (;;) {
      const next = seqAdd(this.ackNr, 1), slot = next & this.#mask;
      const chunk = this.#slots[slot];
      if (chunk === undefined) break;
      const length = this.#lengths[slot]!;
      this.#slots[slot] = undefined;
      this.reorderCount--;
      this.reorderBytes -= length;
      this.ackNr = next;
      this.#farthest--;
      this.#deliver(chunk, 0, length);
      this.#pool.give(chunk);
    }
    if (this.reorderCount === 0) this.#farthest = 0;
  }

  #dropSlot(slot: number): void {
    const chunk = this.#slots[slot];
    if (chunk === undefined) return;
    this.#slots[slot] = undefined;
    this.reorderCount--;
    this.reorderBytes -= this.#lengths[slot]!;
    this.#pool.give(chunk);
  }

  #checkEof(): void {
    if (this.finSeq >= 0 && !this.eof && seqAdd(this.ackNr, 1) === this.finSeq) {
      this.ackNr = this.finSeq;
      this.eof = true;
    }
  }

  #resetQueue(): void {
    this.#chunks.length = this.#starts.length = this.#ends.length = 0;
    this.#head = 0;
  }

  #compact(): void {
    this.#chunks.splice(0, this.#head);
    this.#starts.splice(0, this.#head);
    this.#ends.splice(0, this.#head);
    this.#head = 0;
  }
}
