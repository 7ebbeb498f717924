/**
 * Everything a uTP connection sends, and what the peer's ACKs say about it (BEP 29):
 * DATA, SYN and FIN packets out of the {@linkcode SendWindow} as far as
 * min(congestion window, peer's window) admits, STATE packets (with a selective ACK when
 * packets are held out of order) and RESETs; ACK processing, LEDBAT updates, fast
 * resends (duplicate ACKs, SACK holes, RACK) with at most one window cut per window of
 * packets, and the retransmission timer with exponential backoff.
 *
 * ACK policy: the in-order DATA count since our last ACK makes an ACK urgent at
 * `ackEveryPackets`; below that it waits for the driver's delayed-ACK timer. Anything
 * unusual (a packet out of order or repeated, a FIN, a SYN, a window update) is urgent.
 * Any DATA we send carries the ACK.
 *
 * Layer: core (no I/O). Owned by {@linkcode UtpConnection}.
 * @module
 */
import type { BufferPool } from "./buffer_pool.ts";
import type { PacketSink, UtpConnectionStats } from "./connection_types.ts";
import { Ledbat } from "./ledbat.ts";
import {
  EXTENSION_SACK,
  HEADER_BYTES,
  ST_FIN,
  ST_RESET,
  ST_STATE,
  ST_SYN,
  type UtpHeader,
  writeHeader,
} from "./packet.ts";
import type { PathMetrics } from "./path_metrics.ts";
import { MAX_SACK_BYTES, type ReceiveWindow } from "./receive_window.ts";
import { type OutPacket, SendWindow } from "./send_window.ts";
import { microStamp, seqAdd, seqLess } from "./seq.ts";
import type { UtpSettings } from "./settings.ts";

/** What {@linkcode Transmitter} needs. */
export interface TransmitterOptions {
  /** Id on packets we send. */
  readonly sendId: number;
  /** Id a SYN carries (our receive id). */
  readonly recvId: number;
  /** Resolved settings. */
  readonly settings: Readonly<UtpSettings>;
  /** Payload bytes per packet. */
  readonly payloadBytes: number;
  /** Packet buffers. */
  readonly pool: BufferPool;
  /** The transmit function. */
  readonly sink: PacketSink;
  /** The receive side (ack_nr, window, SACK bitmask). */
  readonly recv: ReceiveWindow;
  /** Delay and RTT. */
  readonly path: PathMetrics;
  /** Counters shared with the connection. */
  readonly stats: UtpConnectionStats;
}

/** What a retransmission timeout led to. */
export type TimeoutOutcome = "resent" | "give-up" | "fin-unacknowledged";

/** The sending half of a connection. */
export class Transmitter {
  /** The send side. */
  readonly send: SendWindow;
  /** The congestion controller. */
  readonly cc: Ledbat;
  /** The peer's advertised window, bytes. */
  peerWindow: number;
  /** Sequence number of our FIN once sent, else -1. */
  finSeq: number = -1;
  /** When the retransmission timer fires, ms (Infinity when nothing is in flight). */
  rtoAt: number = Infinity;
  /** Consecutive timeouts. */
  timeouts = 0;
  /** When a tail-loss probe is due, ms (Infinity when none is). */
  probeAt: number = Infinity;
  /** When we last sent anything, ms. */
  lastSentAt = 0;
  /** Something is owed an ACK. */
  ackPending = false;
  readonly #o: TransmitterOptions;
  readonly #s: Readonly<UtpSettings>;
  readonly #control: Uint8Array[] = [
    new Uint8Array(HEADER_BYTES + 2 + MAX_SACK_BYTES),
    new Uint8Array(HEADER_BYTES + 2 + MAX_SACK_BYTES),
  ];
  #controlIndex = 0;
  #ackUrgent = false;
  #heardSinceTimeout = false;
  #unacked = 0;
  #advertised = 0;

  /**
   * Makes the sending half.
   * @param o ids, settings, buffers, the sink and the shared receive side and metrics
   */
  constructor(o: TransmitterOptions) {
    this.#o = o;
    const s = this.#s = o.settings;
    this.send = new SendWindow(o.pool, o.payloadBytes, s.sendBufferBytes);
    this.cc = new Ledbat({
      targetDelayMicros: s.targetDelayMs * 1000,
      gainBytesPerRtt: s.gainBytesPerRtt,
      lossFactor: s.lossFactorPercent / 100,
      cwndReduceIntervalMs: s.cwndReduceIntervalMs,
      initialWindowBytes: s.initialWindowPackets * o.payloadBytes,
      maxWindowBytes: s.maxWindowBytes,
    }, o.payloadBytes);
    this.peerWindow = o.payloadBytes;
  }

  /** Makes the next flush send an ACK. */
  ackNow(): void {
    this.ackPending = this.#ackUrgent = true;
  }

  /** Counts an in-order DATA packet toward the next ACK. */
  ackLater(): void {
    this.ackPending = true;
    if (++this.#unacked >= this.#s.ackEveryPackets) this.#ackUrgent = true;
  }

  /** Whether reading opened the window from under half to over half (a window update). */
  get windowReopened(): boolean {
    const half = this.#windowLimit() / 2;
    return this.#advertised < half && this.#window() >= half;
  }

  /**
   * Sends queued packets the window admits, then an urgent ACK.
   * @param nowMs the clock
   * @param flushTail send an undersized last packet regardless of Nagle (closing)
   * @returns true when a non-urgent ACK is still owed
   */
  flush(nowMs: number, flushTail: boolean): boolean {
    this.pump(nowMs, flushTail);
    if (this.ackPending && this.#ackUrgent) this.sendState(nowMs);
    return this.ackPending;
  }

  /**
   * Processes the acknowledgement fields of a packet (cumulative ACK, SACK, timers,
   * LEDBAT, fast resends).
   * @param h its header (its ack_nr is plausible)
   * @param data the datagram
   * @param nowMs the clock
   */
  onAcks(h: UtpHeader, data: Uint8Array, nowMs: number): void {
    this.#heardSinceTimeout = true;
    const send = this.send, path = this.#o.path;
    const before = send.inFlight, hadPackets = send.packetsInFlight > 0;
    send.onAck(h.ack, h.type === ST_STATE, nowMs);
    let acked = send.ackedBytes, rtt = send.minRttMs;
    if (h.sackOffset !== 0) {
      send.onSack(h.ack, data, h.sackOffset, h.sackLength, nowMs);
      acked += send.ackedBytes;
      rtt = Math.min(rtt, send.minRttMs);
    }
    if (rtt !== Infinity) path.rtt.sample(rtt);
    if (acked > 0 && send.packetsInFlight > 0) send.detectLost(Math.max(1, path.rtt.srttMs / 4));
    if (acked > 0 || (hadPackets && send.packetsInFlight === 0) || rtt !== Infinity) {
      this.timeouts = 0; // progress: restart the retransmission timer and the probe
      this.rtoAt = send.packetsInFlight > 0 ? nowMs + this.#rto() : Infinity;
      this.probeAt = send.packetsInFlight > 0 ? nowMs + this.#probeTimeout() : Infinity;
    }
    if (acked > 0) {
      this.#o.stats.bytesAcked += acked;
      const delay = path.queuingDelayMicros(rtt);
      if (delay >= 0 && before > 0) this.cc.onAck(acked, delay, before);
    }
    for (const seq of send.lost) this.#fastResend(seq, nowMs);
  }

  /**
   * Tail-loss probe (after RFC 8985): when a flight ends in a loss, no later packet
   * arrives to reveal it, and only the retransmission timeout (500 ms at least) would
   * resend it. After max(2·srtt, 10 ms) without progress, resend the oldest unacknowledged
   * packet once, without touching the window; its ACK (or SACK) restarts recovery.
   * @param nowMs the clock
   */
  maybeProbe(nowMs: number): void {
    if (nowMs < this.probeAt || nowMs >= this.rtoAt) return;
    this.probeAt = Infinity; // once per flight
    const p = this.send.at(seqAdd(this.send.ackedSeq, 1));
    if (!p || p.needResend) return;
    this.#o.stats.probes++;
    this.#transmit(p, nowMs);
  }

  /** Whether our FIN was sent and acknowledged. */
  get finAcked(): boolean {
    return this.finSeq >= 0 && !this.send.at(this.finSeq);
  }

  /**
   * The retransmission timer fired: give up after the resends allowed for what is in
   * flight, else collapse the window, mark everything in flight lost and resend.
   * @param nowMs the clock
   * @param synSent whether we are still waiting for the SYN's answer
   * @returns what happened
   */
  onTimeout(nowMs: number, synSent: boolean): TimeoutOutcome {
    const send = this.send;
    if (send.packetsInFlight === 0) {
      this.rtoAt = Infinity;
      return "resent";
    }
    this.timeouts++;
    this.#o.stats.timeouts++;
    this.probeAt = Infinity;
    const onlyFin = this.finSeq >= 0 && send.packetsInFlight === 1 && !!send.at(this.finSeq);
    const s = this.#s;
    const limit = synSent ? s.synResends : onlyFin ? s.finResends : s.dataResends;
    // A closed window is not a dead peer: while it answers our window probes (TCP's
    // persist timer), keep probing with backoff instead of giving up; the idle limit
    // still ends a silent one.
    const persisting = this.peerWindow < this.#o.payloadBytes && this.#heardSinceTimeout;
    this.#heardSinceTimeout = false;
    if (this.timeouts > limit && !persisting) return onlyFin ? "fin-unacknowledged" : "give-up";
    this.cc.onTimeout(send.inFlight === 0);
    send.onTimeout();
    send.lossSeq = seqAdd(send.nextSeq, -1); // these losses are already answered
    this.rtoAt = nowMs + this.#rto();
    this.pump(nowMs, false);
    return "resent";
  }

  /**
   * Transmits what the window admits.
   * @param nowMs the clock
   * @param flushTail send an undersized last packet regardless of Nagle
   */
  pump(nowMs: number, flushTail: boolean): void {
    const window = Math.min(this.cc.cwnd, this.peerWindow);
    for (let p = this.send.next(window, flushTail); p; p = this.send.next(window, flushTail)) {
      this.#transmit(p, nowMs);
    }
  }

  /**
   * Sends a STATE: our ack_nr, window and, when packets are held out of order, a SACK.
   * @param nowMs the clock
   */
  sendState(nowMs: number): void {
    const buf = this.#nextControl(), recv = this.#o.recv;
    const sack = recv.hasReorder;
    this.#header(buf, ST_STATE, sack ? EXTENSION_SACK : 0, nowMs);
    let length = HEADER_BYTES;
    if (sack) {
      buf[HEADER_BYTES] = 0;
      const n = recv.writeSack(buf, HEADER_BYTES + 2);
      buf[HEADER_BYTES + 1] = n;
      length += 2 + n;
    }
    this.#ackDone();
    this.#emit(buf, length, nowMs);
  }

  /**
   * Sends a RESET.
   * @param nowMs the clock
   */
  sendReset(nowMs: number): void {
    const buf = this.#nextControl();
    this.#header(buf, ST_RESET, 0, nowMs);
    this.#emit(buf, HEADER_BYTES, nowMs);
  }

  #nextControl(): Uint8Array {
    this.#controlIndex ^= 1;
    return this.#control[this.#controlIndex]!;
  }

  /** Writes a STATE or RESET header (seq: the next DATA's, or our FIN's once sent). */
  #header(buf: Uint8Array, type: number, extension: number, nowMs: number): void {
    writeHeader(buf, {
      type,
      extension,
      connectionId: this.#o.sendId,
      timestampMicros: microStamp(nowMs),
      timestampDifferenceMicros: this.#o.path.replyMicro,
      windowBytes: type === ST_RESET ? 0 : this.#advertise(),
      seq: this.finSeq >= 0 ? this.finSeq : this.send.nextSeq,
      ack: this.#o.recv.ackNr,
    });
  }

  #fastResend(seq: number, nowMs: number): void {
    const send = this.send, p = send.at(seq);
    if (!p) return;
    if (seqLess(send.lossSeq, seq) && this.cc.onLoss(nowMs)) {
      send.lossSeq = seqAdd(send.nextSeq, -1); // one cut per window of packets
    }
    if (seqLess(send.fastResendSeq, seqAdd(seq, 1))) send.fastResendSeq = seqAdd(seq, 1);
    this.#o.stats.fastResends++;
    this.#transmit(p, nowMs);
  }

  #transmit(p: OutPacket, nowMs: number): void {
    const send = this.send;
    if (send.packetsInFlight === 0 || this.rtoAt === Infinity) {
      this.rtoAt = nowMs + this.#rto();
      this.probeAt = nowMs + this.#probeTimeout();
    }
    send.commit(p, nowMs);
    if (p.type === ST_FIN && this.finSeq < 0) this.finSeq = p.seq;
    const syn = p.type === ST_SYN;
    writeHeader(p.buf, {
      type: p.type,
      extension: 0,
      connectionId: syn ? this.#o.recvId : this.#o.sendId,
      timestampMicros: microStamp(nowMs),
      timestampDifferenceMicros: this.#o.path.replyMicro,
      windowBytes: this.#advertise(),
      seq: p.seq,
      ack: syn ? 0 : this.#o.recv.ackNr,
    });
    this.#emit(p.buf, HEADER_BYTES + p.payload, nowMs);
    if (!this.#o.recv.hasReorder) this.#ackDone(); // DATA carries the ACK (a SACK needs a STATE)
  }

  #emit(buf: Uint8Array, length: number, nowMs: number): void {
    this.#o.stats.packetsSent++;
    this.lastSentAt = nowMs;
    this.#o.sink(buf, length);
  }

  #advertise(): number {
    return this.#advertised = this.#window();
  }

  #window(): number {
    return this.#o.recv.windowBytes(this.#windowLimit());
  }

  /**
   * The receive window we offer: the bandwidth-delay product at `receiveRateBytesPerSecond`
   * over the path's least RTT, within [minReceiveWindowBytes, receiveWindowBytes]. On
   * loopback or a LAN, nothing paces a sender's bursts, and a window bigger than the
   * kernel's UDP receive buffer (135 KB of payload by default here) overflows it whenever
   * we are a little slow; libtorrent then loses its resends too and stalls for its
   * timeout. Long paths still get the full window. Before any RTT sample: the full window.
   */
  #windowLimit(): number {
    const s = this.#s, rtt = this.#o.path.rtt;
    if (!rtt.hasSample) return s.receiveWindowBytes;
    const bdp = s.receiveRateBytesPerSecond * rtt.minRttMs / 1000;
    return Math.min(s.receiveWindowBytes, Math.max(s.minReceiveWindowBytes, bdp));
  }

  #ackDone(): void {
    this.ackPending = this.#ackUrgent = false;
    this.#unacked = 0;
  }

  #probeTimeout(): number {
    const rtt = this.#o.path.rtt;
    return rtt.hasSample ? Math.max(2 * rtt.srttMs, 10) + this.#s.delayedAckMs : Infinity;
  }

  #rto(): number {
    return this.#o.path.timeoutMs(this.timeouts, this.#s);
  }
}
