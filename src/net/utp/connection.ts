/**
 * One uTP connection as a sans-I/O state machine (BEP 29): packets and clock readings
 * go in, packets come out through a sink, and the driver reads flags saying what changed.
 * The receive side is a {@linkcode ReceiveWindow}; everything sent (and the ACKs,
 * losses and timeouts about it) is the {@linkcode Transmitter}'s; this file is the life
 * cycle: handshake, data in, timers, close.
 *
 * The handshake as libtorrent and libutp do it (BEP 29's diagram differs): the dialer
 * sends SYN with `connection_id = recv_id` and its sequence number S; the acceptor
 * answers STATE with `ack_nr = S` and `seq_nr = T`, its initial sequence number, and its
 * first DATA carries T again (a STATE takes no sequence number), so the dialer sets
 * `ack_nr = T − 1` from the STATE. A FIN takes the next sequence number F; STATEs sent
 * after it carry F, as libtorrent expects.
 *
 * States: `idle` → `syn-sent` (dialer) or `syn-recv` (acceptor, half-open until the
 * peer's first DATA) → `connected` → `fin-sent` (our FIN is out) → `closed`. Closing ends
 * when our FIN is acknowledged and the peer's FIN has arrived, when the linger time after
 * the ACK of our FIN runs out, or after the FIN resends; RESET, timeouts, the idle limit
 * and `abort` end it at once.
 *
 * Invariants (checked by {@linkcode UtpConnection.assertInvariants}): those of the send
 * side, the receive side and LEDBAT; a closed connection holds no buffers.
 *
 * Layer: core (no I/O).
 * @module
 */
import {
  EV_CLOSED,
  EV_CONFIRMED,
  EV_CONNECTED,
  EV_READABLE,
  type UtpCloseReason,
  type UtpConnectionOptions,
  type UtpConnectionStats,
  type UtpState,
} from "./connection_types.ts";
import { HEADER_BYTES, ST_DATA, ST_FIN, ST_RESET, ST_SYN, type UtpHeader } from "./packet.ts";
import { PathMetrics } from "./path_metrics.ts";
import { DATA_IN_ORDER, DATA_REORDERED, ReceiveWindow } from "./receive_window.ts";
import { seqAdd } from "./seq.ts";
import type { UtpSettings } from "./settings.ts";
import { Transmitter } from "./transmitter.ts";

export * from "./connection_types.ts";

/** A uTP connection's state machine. */
export class UtpConnection {
  /** Id on packets we send. */
  readonly sendId: number;
  /** Id on packets we accept. */
  readonly recvId: number;
  /** Life-cycle state. */
  state: UtpState = "idle";
  /** Why it closed, once closed. */
  closeReason: UtpCloseReason | undefined;
  /** `EV_*` bits set since the driver last cleared them. */
  events = 0;
  /** Counters. */
  readonly stats: UtpConnectionStats = {
    packetsSent: 0,
    packetsReceived: 0,
    bytesAcked: 0,
    bytesReceived: 0,
    fastResends: 0,
    timeouts: 0,
    probes: 0,
  };
  readonly #s: Readonly<UtpSettings>;
  readonly #recv: ReceiveWindow;
  readonly #path = new PathMetrics();
  readonly #tx: Transmitter;
  #lastHeardAt = 0;
  #deadline = Infinity; // half-open expiry, or the linger end once our FIN is acknowledged
  #closing = false; // the application closed: FIN after the queued bytes

  /**
   * Makes a connection in state `idle`; call {@linkcode connect} or {@linkcode acceptSyn}.
   * @param o ids, settings, buffers and the sink
   */
  constructor(o: UtpConnectionOptions) {
    this.sendId = o.sendId;
    this.recvId = o.recvId;
    const s = this.#s = o.settings;
    const payloadBytes = o.packetBytes - HEADER_BYTES;
    this.#recv = new ReceiveWindow(o.pool, s.receiveWindowBytes, s.maxReorderPackets, payloadBytes);
    this.#tx = new Transmitter({
      ...o,
      payloadBytes,
      recv: this.#recv,
      path: this.#path,
      stats: this.stats,
    });
  }

  /** Congestion window, bytes. */
  get cwnd(): number {
    return this.#tx.cc.cwnd;
  }

  /** Payload bytes in flight. */
  get bytesInFlight(): number {
    return this.#tx.send.inFlight;
  }

  /** Smoothed RTT, ms (0 before a sample). */
  get rttMs(): number {
    return this.#path.rtt.srttMs;
  }

  /** Unread in-order bytes. */
  get readableBytes(): number {
    return this.#recv.unread;
  }

  /** Whether the peer's FIN was reached and everything before it was read. */
  get atEof(): boolean {
    return this.#recv.eof && this.#recv.unread === 0;
  }

  /** Whether `write` would take bytes now. */
  get writable(): boolean {
    return this.state !== "closed" && !this.#closing &&
      this.#tx.send.queuedBytes < this.#s.sendBufferBytes;
  }

  /** Whether the application closed its side. */
  get closing(): boolean {
    return this.#closing;
  }

  /** Bytes written into the lent reader's buffer so far. */
  get readTargetFilled(): number {
    return this.#recv.targetFilled;
  }

  /**
   * Starts a dial: queues the SYN and sends it.
   * @param seq our initial sequence number (random)
   * @param nowMs the clock
   */
  connect(seq: number, nowMs: number): void {
    this.state = "syn-sent";
    this.#lastHeardAt = nowMs;
    this.#tx.send.init(seq);
    this.#tx.send.pushControl(ST_SYN);
    this.#tx.pump(nowMs, false);
  }

  /**
   * Answers a SYN (the STATE goes at the next {@linkcode flush}); the connection is
   * half-open until the peer's first DATA.
   * @param h the SYN's header
   * @param seq our initial sequence number (random)
   * @param nowMs the clock
   */
  acceptSyn(h: UtpHeader, seq: number, nowMs: number): void {
    this.state = "syn-recv";
    this.#recv.ackNr = h.seq;
    this.#tx.send.init(seq);
    this.#tx.peerWindow = h.windowBytes;
    this.#deadline = nowMs + this.#s.halfOpenTimeoutMs;
    this.#path.onPacket(h, nowMs);
    this.#lastHeardAt = nowMs;
    this.#tx.ackNow();
  }

  /**
   * Processes one packet addressed to this connection (its id and sender already matched).
   * @param h its parsed header
   * @param data the datagram (payload at `h.payloadOffset`; not retained)
   * @param nowMs the clock
   */
  onPacket(h: UtpHeader, data: Uint8Array, nowMs: number): void {
    if (this.state === "closed" || this.state === "idle") return;
    const send = this.#tx.send;
    if (h.type === ST_RESET) {
      if (send.isPlausibleAck(h.ack)) this.#close(this.state === "syn-sent" ? "refused" : "reset");
      return;
    }
    if (h.type === ST_SYN) { // a resent SYN: its STATE was lost
      if (this.state === "syn-recv" && h.seq === this.#recv.ackNr) this.#tx.ackNow();
      return;
    }
    if (!send.isPlausibleAck(h.ack)) return; // acknowledges what we never sent: spoofed
    if (this.state === "syn-sent") {
      if (h.ack !== seqAdd(send.ackedSeq, 1)) return; // must acknowledge our SYN
      this.state = "connected";
      this.#recv.ackNr = seqAdd(h.seq, -1); // the STATE's seq is the acceptor's first DATA's
      this.events |= EV_CONNECTED;
    } else if (this.state === "syn-recv") {
      if (h.type !== ST_DATA && h.type !== ST_FIN) return;
      this.state = "connected";
      this.#deadline = Infinity;
      this.events |= EV_CONFIRMED;
    }
    this.stats.packetsReceived++;
    this.#lastHeardAt = nowMs;
    this.#tx.peerWindow = h.windowBytes;
    this.#path.onPacket(h, nowMs);
    this.#tx.onAcks(h, data, nowMs);
    if (this.#isClosed()) return;
    if (this.#tx.finAcked && this.#deadline === Infinity) this.#deadline = nowMs + this.#s.lingerMs;
    const payload = data.length - h.payloadOffset;
    if (h.type === ST_DATA && payload > 0) this.#onData(h, data, payload);
    else if (h.type === ST_FIN) {
      this.#recv.onFin(h.seq);
      this.#tx.ackNow();
      if (this.#recv.eof) this.events |= EV_READABLE;
    }
    if (this.state === "fin-sent" && this.#recv.eof && this.#tx.finAcked) {
      if (this.#tx.ackPending) this.#tx.sendState(nowMs); // the peer's FIN gets its ACK
      this.#close("closed");
    }
  }

  /**
   * Sends what is due: queued packets the window admits, then an ACK if one is urgent.
   * The driver calls it after each batch of datagrams and after writes.
   * @param nowMs the clock
   * @returns true when an ACK is still owed: call {@linkcode flushAck} after `delayedAckMs`
   */
  flush(nowMs: number): boolean {
    if (this.state === "closed" || this.state === "idle") return false;
    if (this.state === "syn-sent") {
      this.#tx.pump(nowMs, false);
      return false;
    }
    const owed = this.#tx.flush(nowMs, this.#closing);
    if (this.#tx.finSeq >= 0 && this.state === "connected") this.state = "fin-sent";
    return owed;
  }

  /**
   * Sends an owed ACK now (the delayed-ACK timer fired).
   * @param nowMs the clock
   */
  flushAck(nowMs: number): void {
    if (this.#tx.ackPending && this.state !== "closed" && this.state !== "syn-sent") {
      this.#tx.sendState(nowMs);
    }
  }

  /**
   * Runs timers: retransmission timeout, keep-alive, idle and half-open expiry, linger.
   * @param nowMs the clock
   */
  onTick(nowMs: number): void {
    if (this.state === "closed" || this.state === "idle") return;
    if (nowMs >= this.#deadline) {
      return this.#close(this.state === "syn-recv" ? "timeout" : "closed");
    }
    if (nowMs - this.#lastHeardAt >= this.#s.idleTimeoutMs) return this.abort("timeout", nowMs);
    if (nowMs >= this.#tx.rtoAt) {
      const outcome = this.#tx.onTimeout(nowMs, this.state === "syn-sent");
      if (outcome === "fin-unacknowledged") return this.#close("closed");
      if (outcome === "give-up") {
        return this.abort(this.state === "syn-sent" ? "refused" : "timeout", nowMs);
      }
    }
    this.#tx.maybeProbe(nowMs);
    const live = this.state === "connected" || this.state === "fin-sent";
    if (live && nowMs - this.#tx.lastSentAt >= this.#s.keepAliveIntervalMs) {
      this.#tx.sendState(nowMs);
    }
  }

  /**
   * Takes bytes for sending (copied into packets at once).
   * @param data the bytes
   * @param offset first byte to take
   * @returns bytes taken (0 when the send buffer is full or the connection is closing)
   */
  write(data: Uint8Array, offset: number): number {
    if (this.state === "closed" || this.#closing || this.state === "syn-sent") return 0;
    return this.#tx.send.append(data, offset);
  }

  /**
   * Lends the reader's buffer so in-order payload lands in it directly.
   * @param buf the buffer, or undefined to take it back
   */
  setReadTarget(buf: Uint8Array | undefined): void {
    this.#recv.setTarget(buf);
  }

  /**
   * Copies queued in-order bytes into `into`.
   * @param into the reader's buffer
   * @returns bytes copied
   */
  read(into: Uint8Array): number {
    const n = this.#recv.read(into);
    this.consumedTarget();
    return n;
  }

  /** Notes that the reader took bytes (they may reopen the window: a window update). */
  consumedTarget(): void {
    if (this.#tx.windowReopened) this.#tx.ackNow();
  }

  /**
   * Closes gracefully: queued bytes go out, then a FIN; incoming data is acknowledged
   * and dropped.
   * @param nowMs the clock
   */
  close(nowMs: number): void {
    if (this.#closing || this.state === "closed") return;
    this.#closing = true;
    this.#recv.setTarget(undefined);
    this.#discardUnread();
    if (this.state !== "connected") return this.abort("aborted", nowMs);
    this.#tx.send.pushControl(ST_FIN);
  }

  /**
   * Ends the connection at once, sending a RESET unless it never got going.
   * @param reason the close reason to report
   * @param nowMs the clock
   */
  abort(reason: UtpCloseReason, nowMs: number): void {
    if (this.state === "closed") return;
    if (this.state !== "idle" && this.state !== "syn-sent") this.#tx.sendReset(nowMs);
    this.#close(reason);
  }

  /**
   * A snapshot of the numbers that explain a stall (tests and diagnostics).
   * @returns sequence numbers, window and buffer levels
   */
  snapshot(): Record<string, number | string | boolean> {
    const tx = this.#tx, send = tx.send, recv = this.#recv;
    return {
      state: this.state,
      nextSeq: send.nextSeq,
      ackedSeq: send.ackedSeq,
      inFlight: send.inFlight,
      packetsInFlight: send.packetsInFlight,
      queuedBytes: send.queuedBytes,
      cwnd: Math.round(tx.cc.cwnd),
      slowStart: tx.cc.slowStart,
      peerWindow: tx.peerWindow,
      rttMs: Math.round(this.#path.rtt.srttMs * 10) / 10,
      timeouts: tx.timeouts,
      ackNr: recv.ackNr,
      unread: recv.unread,
      reorderCount: recv.reorderCount,
      finSeq: tx.finSeq,
      eof: recv.eof,
    };
  }

  /**
   * Checks the invariants in the module header.
   * @throws {Error} naming the broken invariant
   */
  assertInvariants(): void {
    this.#tx.send.assertInvariants();
    this.#recv.assertInvariants();
    this.#tx.cc.assertInvariants();
    if (this.state === "closed" && (this.#tx.send.packetsInFlight > 0 || this.#recv.unread > 0)) {
      throw new Error("UtpConnection: a closed connection holds buffers");
    }
  }

  #onData(h: UtpHeader, data: Uint8Array, payload: number): void {
    const code = this.#recv.onData(h.seq, data, h.payloadOffset, payload);
    if (code === DATA_IN_ORDER || code === DATA_REORDERED) this.stats.bytesReceived += payload;
    if (code !== DATA_IN_ORDER || this.#recv.hasReorder) return this.#tx.ackNow();
    this.#tx.ackLater();
    if (this.#closing) this.#discardUnread();
    else this.events |= EV_READABLE;
  }

  #discardUnread(): void {
    while (this.#recv.unread > 0) this.#recv.read(DISCARD);
  }

  #isClosed(): boolean {
    return this.state === "closed";
  }

  #close(reason: UtpCloseReason): void {
    if (this.state === "closed") return;
    this.state = "closed";
    this.closeReason = reason;
    this.events |= EV_CLOSED | EV_READABLE;
    this.#tx.send.release();
    this.#recv.release();
    this.#tx.rtoAt = this.#deadline = Infinity;
  }
}

const DISCARD = new Uint8Array(16 * 1024);
