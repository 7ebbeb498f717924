/**
 * The send side of one uTP connection (BEP 29): bytes from `write` are cut into packets
 * at once (so a small write joins the unsent tail packet: Nagle-like coalescing), queued
 * until the window admits them, then kept in a ring indexed by sequence number until
 * acknowledged, cumulatively or selectively. Also the loss detection libtorrent uses:
 * three duplicate ACKs, or a hole with three selectively acknowledged packets above it,
 * marks a packet for one fast resend; a timeout marks every packet in flight for resend.
 *
 * Copies: user bytes are copied once, into a pooled packet buffer with room for the
 * header; resends reuse the buffer.
 *
 * Limits: queued (unsent) payload stays under `sendBufferBytes` plus one packet; the ring
 * holds at most `RING_SIZE − 1` packets.
 *
 * Invariants (checked by {@linkcode SendWindow.assertInvariants}): ring slots outside
 * (ackedSeq, nextSeq) are empty; `inFlight` is the payload of ring packets not marked for
 * resend; `resendCount` counts the marked ones; `queuedBytes` is the queue's payload.
 *
 * Layer: core (no I/O).
 * @module
 */
import type { BufferPool } from "./buffer_pool.ts";
import { HEADER_BYTES, ST_DATA } from "./packet.ts";
import { seqAdd, seqDistance, seqLess } from "./seq.ts";

/** Packets the ring can index (a power of two). */
export const RING_SIZE = 4096;
const RING_MASK = RING_SIZE - 1;
/** A hole is lost once this many packets above it are acknowledged (RFC 6675 DupThresh). */
export const DUP_ACK_LIMIT = 3;
/** How far behind our last acknowledged packet a peer's ack_nr may lag (reordering). */
const STALE_ACKS = 1024;
const MAX_FAST_RESENDS_PER_ACK = 16; // libtorrent resends at most 5 per SACK

/** One packet on the send side; the header is written at each transmission. */
export class OutPacket {
  /** Pooled buffer: header at 0, payload at {@linkcode HEADER_BYTES}. */
  buf: Uint8Array;
  /** Packet type (DATA, SYN or FIN). */
  type: number = ST_DATA;
  /** Payload bytes. */
  payload = 0;
  /** Sequence number, assigned at the first transmission. */
  seq = 0;
  /** Clock at the last transmission, ms. */
  sentAt = 0;
  /** Transmissions so far. */
  transmissions = 0;
  /** Marked lost by a timeout; not counted in flight until resent. */
  needResend = false;

  /**
   * Wraps a buffer.
   * @param buf pooled buffer
   */
  constructor(buf: Uint8Array) {
    this.buf = buf;
  }
}

/** Sent and unsent packets of one connection. */
export class SendWindow {
  readonly #pool: BufferPool;
  readonly #maxPayload: number;
  readonly #bufferBytes: number;
  readonly #ring: (OutPacket | undefined)[] = new Array(RING_SIZE).fill(undefined);
  readonly #queue: OutPacket[] = [];
  #queueHead = 0;
  readonly #spare: OutPacket[] = [];
  /** Sequence number the next new packet gets. */
  nextSeq = 0;
  /** Last sequence number acknowledged cumulatively. */
  ackedSeq = 0xffff;
  /** Payload bytes in flight. */
  inFlight = 0;
  /** Packets in the ring. */
  packetsInFlight = 0;
  /** Payload bytes queued, not yet sent. */
  queuedBytes = 0;
  /** Packets marked for resend after a timeout. */
  resendCount = 0;
  #resendCursor = 0;
  /** Packets before this are never fast-resent (again). */
  fastResendSeq = 0;
  /** Duplicate ACKs in a row. */
  dupAcks = 0;
  /** Losses at or before this sequence number were already reacted to. */
  lossSeq = 0;
  #nagleSeq = -1; // the undersized packet in flight, or -1
  /** Payload bytes the last {@linkcode onAck} / {@linkcode onSack} acknowledged. */
  ackedBytes = 0;
  /** Smallest RTT sample (ms) from packets acknowledged after one transmission. */
  minRttMs: number = Infinity;
  /** Sequence numbers judged lost by the last ACK (fast resend candidates). */
  readonly lost: number[] = [];
  /** Latest send time of a packet acknowledged after one transmission (RACK), ms. */
  #deliveredSentAt = -Infinity;

  /**
   * Makes a send side.
   * @param pool packet buffers (header + one packet's payload)
   * @param maxPayload payload bytes per packet
   * @param bufferBytes queued bytes accepted beyond the window
   */
  constructor(pool: BufferPool, maxPayload: number, bufferBytes: number) {
    this.#pool = pool;
    this.#maxPayload = maxPayload;
    this.#bufferBytes = bufferBytes;
  }

  /**
   * Sets the first sequence number.
   * @param seq the sequence number of our first packet
   */
  init(seq: number): void {
    this.nextSeq = this.fastResendSeq = this.#resendCursor = seq;
    this.ackedSeq = this.lossSeq = seqAdd(seq, -1);
  }

  /** Whether nothing is in flight or queued. */
  get isIdle(): boolean {
    return this.packetsInFlight === 0 && this.#queueHead === this.#queue.length;
  }

  /** Packets waiting for the window. */
  get queuedPackets(): number {
    return this.#queue.length - this.#queueHead;
  }

  /**
   * Packetizes bytes from `data[offset..]` into the queue, as far as the buffer bound allows.
   * @param data user bytes (copied; not retained)
   * @param offset first byte to take
   * @returns bytes taken
   */
  append(data: Uint8Array, offset: number): number {
    let at = offset;
    while (at < data.length && this.queuedBytes < this.#bufferBytes) {
      let tail = this.#queue.length > this.#queueHead
        ? this.#queue[this.#queue.length - 1]!
        : undefined;
      if (!tail || tail.type !== ST_DATA || tail.payload === this.#maxPayload) {
        if (this.packetsInFlight + this.queuedPackets >= RING_SIZE - 2) break;
        tail = this.#packet(ST_DATA);
        this.#queue.push(tail);
      }
      const take = Math.min(this.#maxPayload - tail.payload, data.length - at);
      tail.buf.set(data.subarray(at, at + take), HEADER_BYTES + tail.payload);
      tail.payload += take;
      this.queuedBytes += take;
      at += take;
    }
    return at - offset;
  }

  /**
   * Queues a payload-less SYN or FIN (it takes a sequence number and is resent until
   * acknowledged).
   * @param type ST_SYN or ST_FIN
   */
  pushControl(type: number): void {
    this.#queue.push(this.#packet(type));
  }

  /**
   * The next packet to transmit: a packet marked for resend, else the queue head, if the
   * window admits it (one packet always goes when nothing is in flight).
   * @param windowBytes min(congestion window, peer's window)
   * @param flush send an undersized tail packet even while another is in flight
   * @returns the packet, or undefined when nothing may go now
   */
  next(windowBytes: number, flush: boolean): OutPacket | undefined {
    if (this.resendCount > 0) {
      for (
        ;
        this.#resendCursor !== this.nextSeq;
        this.#resendCursor = seqAdd(this.#resendCursor, 1)
      ) {
        const p = this.#ring[this.#resendCursor & RING_MASK];
        if (!p || !p.needResend) continue;
        return this.inFlight > 0 && this.inFlight + p.payload > windowBytes ? undefined : p;
      }
    }
    if (this.#queueHead === this.#queue.length) return undefined;
    const p = this.#queue[this.#queueHead]!;
    if (this.inFlight > 0 && this.inFlight + p.payload > windowBytes) return undefined;
    const undersized = p.type === ST_DATA && p.payload < this.#maxPayload;
    if (undersized && !flush && this.#nagleSeq >= 0) {
      return undefined; // Nagle: one undersized packet in flight at a time
    }
    return p;
  }

  /**
   * Records a transmission of `p` (from {@linkcode next} or a fast resend); a new packet
   * gets its sequence number here.
   * @param p the packet
   * @param nowMs the clock
   */
  commit(p: OutPacket, nowMs: number): void {
    if (p.transmissions === 0) {
      p.seq = this.nextSeq;
      this.nextSeq = seqAdd(this.nextSeq, 1);
      this.#ring[p.seq & RING_MASK] = p;
      this.packetsInFlight++;
      this.#queueHead++;
      if (this.#queueHead === this.#queue.length) this.#queue.length = this.#queueHead = 0;
      else if (this.#queueHead >= 1024) {
        this.#queue.splice(0, this.#queueHead);
        this.#queueHead = 0;
      }
      this.queuedBytes -= p.payload;
      this.inFlight += p.payload;
      if (p.type === ST_DATA && p.payload < this.#maxPayload) this.#nagleSeq = p.seq;
    } else if (p.needResend) {
      p.needResend = false;
      this.resendCount--;
      this.inFlight += p.payload;
    }
    p.transmissions++;
    p.sentAt = nowMs;
  }

  /**
   * The packet with sequence number `seq`, if in flight.
   * @param seq a sequence number
   * @returns the packet or undefined
   */
  at(seq: number): OutPacket | undefined {
    const p = this.#ring[seq & RING_MASK];
    return p && p.seq === seq ? p : undefined;
  }

  /**
   * Whether `ack` could come from our peer: it acknowledges nothing we have not sent and
   * is not far behind what it already acknowledged (a late packet may lag a little).
   * @param ack the peer's ack_nr
   * @returns false for a spoofed or corrupt ack_nr
   */
  isPlausibleAck(ack: number): boolean {
    return seqDistance(seqAdd(this.nextSeq, -1), ack) <=
      seqDistance(this.nextSeq, this.ackedSeq) + STALE_ACKS;
  }

  /**
   * Processes a cumulative ACK; sets `ackedBytes`, `minRttMs` and `lost`.
   * @param ack the peer's ack_nr (plausible)
   * @param isState whether the packet was a STATE (only those count as duplicate ACKs)
   * @param nowMs the clock
   */
  onAck(ack: number, isState: boolean, nowMs: number): void {
    this.ackedBytes = 0;
    this.minRttMs = Infinity;
    this.lost.length = 0;
    if (seqLess(this.ackedSeq, ack)) {
      for (let s = seqAdd(this.ackedSeq, 1);; s = seqAdd(s, 1)) {
        this.#remove(s, nowMs);
        if (s === ack) break;
      }
      this.ackedSeq = ack;
      this.dupAcks = 0;
      this.#advance();
      return;
    }
    if (ack === this.ackedSeq && isState && this.packetsInFlight > 0) {
      this.dupAcks++;
      const next = seqAdd(ack, 1);
      if (this.dupAcks >= DUP_ACK_LIMIT && !seqLess(next, this.fastResendSeq) && this.at(next)) {
        this.lost.push(next);
      }
    }
  }

  /**
   * Processes a selective-ACK bitmask (bit i = `ack + 2 + i` received), after
   * {@linkcode onAck}; adds to `ackedBytes`, `minRttMs` and `lost`.
   * @param ack the packet's ack_nr
   * @param data the datagram
   * @param offset bitmask start
   * @param length bitmask bytes (any length)
   * @param nowMs the clock
   */
  onSack(ack: number, data: Uint8Array, offset: number, length: number, nowMs: number): void {
    const span = Math.min(length * 8, seqDistance(this.nextSeq, ack) - 2);
    if (span <= 0) return;
    let above = 0;
    for (let i = 0; i < span; i++) {
      if ((data[offset + (i >> 3)]! >> (i & 7)) & 1) {
        above++;
        this.#remove(seqAdd(ack, 2 + i), nowMs);
      }
    }
    this.#advance();
    const candidate = (seq: number) => {
      if (
        above >= DUP_ACK_LIMIT && this.lost.length < MAX_FAST_RESENDS_PER_ACK &&
        !seqLess(seq, this.fastResendSeq) && this.at(seq) && !this.lost.includes(seq)
      ) {
        this.lost.push(seq);
      }
    };
    candidate(seqAdd(ack, 1));
    for (let i = 0; i < span && above >= DUP_ACK_LIMIT; i++) {
      if ((data[offset + (i >> 3)]! >> (i & 7)) & 1) above--;
      else candidate(seqAdd(ack, 2 + i));
    }
  }

  /**
   * Time-based loss detection (RACK, RFC 8985, simplified): a packet is lost when a packet
   * sent more than `reorderWindowMs` after it was acknowledged. Unlike duplicate ACKs this
   * also finds a lost resend, which would otherwise wait for the timeout. Adds to `lost`.
   * @param reorderWindowMs tolerated reordering, ms
   */
  detectLost(reorderWindowMs: number): void {
    const horizon = this.#deliveredSentAt - reorderWindowMs;
    let seq = seqAdd(this.ackedSeq, 1);
    for (let scanned = 0; seq !== this.nextSeq && scanned < 512; seq = seqAdd(seq, 1), scanned++) {
      const p = this.#ring[seq & RING_MASK];
      if (!p || p.needResend) continue;
      if (p.sentAt >= horizon) {
        if (p.transmissions === 1) break; // later first transmissions were sent later still
        continue;
      }
      if (this.lost.length >= MAX_FAST_RESENDS_PER_ACK) break;
      if (!this.lost.includes(seq)) this.lost.push(seq);
    }
  }

  /** Marks every packet in flight for resend (a retransmission timeout). */
  onTimeout(): void {
    for (let s = seqAdd(this.ackedSeq, 1); s !== this.nextSeq; s = seqAdd(s, 1)) {
      const p = this.#ring[s & RING_MASK];
      if (!p || p.needResend) continue;
      p.needResend = true;
      this.resendCount++;
      this.inFlight -= p.payload;
    }
    this.#resendCursor = seqAdd(this.ackedSeq, 1);
    this.dupAcks = 0;
  }

  /** Returns every pooled buffer (the connection is gone). */
  release(): void {
    for (let i = 0; i < RING_SIZE; i++) {
      const p = this.#ring[i];
      if (p) this.#pool.give(p.buf);
      this.#ring[i] = undefined;
    }
    for (let i = this.#queueHead; i < this.#queue.length; i++) this.#pool.give(this.#queue[i]!.buf);
    this.#queue.length = this.#queueHead = 0;
    this.packetsInFlight =
      this.inFlight =
      this.queuedBytes =
      this.resendCount =
        0;
  }

  /**
   * Checks the invariants in the module header.
   * @throws {Error} naming the broken invariant
   */
  assertInvariants(): void {
    // scanning only (ackedSeq, nextSeq) suffices: a packet elsewhere would make the
    // counts disagree, since commit and remove keep them independently of the span
    let count = 0, bytes = 0, marked = 0;
    for (let s = seqAdd(this.ackedSeq, 1); s !== this.nextSeq; s = seqAdd(s, 1)) {
      const p = this.#ring[s & RING_MASK];
      if (!p) continue;
      if (p.seq !== s) throw new Error(`SendWindow: slot of ${s} holds ${p.seq}`);
      count++;
      if (p.needResend) marked++;
      else bytes += p.payload;
    }
    let queued = 0;
    for (let i = this.#queueHead; i < this.#queue.length; i++) queued += this.#queue[i]!.payload;
    if (count !== this.packetsInFlight || bytes !== this.inFlight || marked !== this.resendCount) {
      throw new Error(`SendWindow: ${count}/${bytes}/${marked} in (ackedSeq, nextSeq) != counters`);
    }
    if (queued !== this.queuedBytes) {
      throw new Error(`SendWindow: queued ${queued} != ${this.queuedBytes}`);
    }
  }

  #packet(type: number): OutPacket {
    const p = this.#spare.pop() ?? new OutPacket(this.#pool.take());
    if (p.buf.length === 0) p.buf = this.#pool.take();
    p.type = type;
    p.payload = p.transmissions = 0;
    p.needResend = false;
    return p;
  }

  #remove(seq: number, nowMs: number): void {
    const slot = seq & RING_MASK, p = this.#ring[slot];
    if (!p || p.seq !== seq) return;
    this.#ring[slot] = undefined;
    if (seq === this.#nagleSeq) this.#nagleSeq = -1; // (a stale number would look unacked again after a wrap)
    this.packetsInFlight--;
    this.ackedBytes += p.payload;
    if (p.needResend) this.resendCount--;
    else this.inFlight -= p.payload;
    if (p.transmissions === 1) {
      this.minRttMs = Math.min(this.minRttMs, nowMs - p.sentAt);
      if (p.sentAt > this.#deliveredSentAt) this.#deliveredSentAt = p.sentAt;
    }
    this.#pool.give(p.buf);
    p.buf = EMPTY;
    if (this.#spare.length < 64) this.#spare.push(p);
  }

  /** Moves `ackedSeq` over packets acknowledged selectively; updates loss bookkeeping. */
  #advance(): void {
    const last = seqAdd(this.nextSeq, -1), before = this.ackedSeq;
    while (this.ackedSeq !== last && !this.#ring[seqAdd(this.ackedSeq, 1) & RING_MASK]) {
      this.ackedSeq = seqAdd(this.ackedSeq, 1);
    }
    if (this.ackedSeq !== before) this.dupAcks = 0;
    if (seqLess(this.fastResendSeq, seqAdd(this.ackedSeq, 1))) {
      this.fastResendSeq = seqAdd(this.ackedSeq, 1);
    }
    if (seqLess(this.lossSeq, this.ackedSeq)) this.lossSeq = this.ackedSeq;
    if (seqLess(this.#resendCursor, seqAdd(this.ackedSeq, 1))) {
      this.#resendCursor = seqAdd(this.ackedSeq, 1);
    }
  }
}

const EMPTY = new Uint8Array(0);
