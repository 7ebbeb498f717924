/**
 * A TCP-Reno-like bulk flow over simulator datagrams, for congestion tests: slow start,
 * additive increase, halving on three duplicate ACKs (fast retransmit, NewReno-style
 * recovery), a one-packet window and go-back-N after a retransmission timeout. It is
 * loss-based: it fills a bottleneck queue until it overflows, as TCP does, which is what
 * a LEDBAT flow must yield to.
 * @module
 */
import type { PeerAddress, Timer, UdpSocketLike } from "../../src/runtime/types.ts";
import type { VirtualClock } from "./virtual_clock.ts";

/** Payload bytes per segment (one uTP packet's worth). */
export const SEGMENT_BYTES = 1452;

/** One sender and one receiver, started by {@linkcode TcpRenoFlow.start}. */
export class TcpRenoFlow {
  /** Payload bytes the receiver got in order. */
  delivered = 0;
  /** Segments retransmitted. */
  retransmits = 0;
  /** Congestion window, segments. */
  cwnd = 1;
  #ssthresh = 64;
  #next = 0; // next segment to send
  #highest = 0; // one past the highest segment ever sent
  #acked = 0; // segments acknowledged cumulatively
  #dupAcks = 0;
  #recoverUntil = -1;
  #rtoMs = 1000;
  #timer: Timer | undefined;
  #running = false;
  #expected = 0; // receiver: next segment in order
  readonly #received = new Set<number>();
  readonly #clock: VirtualClock;
  readonly #tx: UdpSocketLike;
  readonly #rx: UdpSocketLike;

  /**
   * Makes a flow between two bound sockets.
   * @param clock the virtual clock
   * @param sockets the sender's and the receiver's socket
   */
  constructor(clock: VirtualClock, sockets: { tx: UdpSocketLike; rx: UdpSocketLike }) {
    this.#clock = clock;
    this.#tx = sockets.tx;
    this.#rx = sockets.rx;
  }

  /** Starts sending (forever, until {@linkcode stop}). */
  start(): void {
    this.#running = true;
    void this.#receiveLoop(this.#rx, (d, from) => this.#onSegment(d, from));
    void this.#receiveLoop(this.#tx, (d) => this.#onAck(d));
    this.#pump();
  }

  /** Stops sending and closes both sockets. */
  stop(): void {
    this.#running = false;
    this.#timer?.cancel();
    this.#tx.close();
    this.#rx.close();
  }

  async #receiveLoop(socket: UdpSocketLike, on: (d: DataView, from: PeerAddress) => void) {
    for (;;) {
      const d = await socket.receive();
      if (!d) return;
      on(new DataView(d.data.buffer, d.data.byteOffset, d.data.byteLength), d.from);
    }
  }

  #onSegment(d: DataView, from: PeerAddress): void {
    const seq = d.getUint32(0);
    if (seq >= this.#expected) this.#received.add(seq);
    while (this.#received.delete(this.#expected)) {
      this.#expected++;
      this.delivered += SEGMENT_BYTES;
    }
    const ack = new Uint8Array(4);
    new DataView(ack.buffer).setUint32(0, this.#expected);
    void this.#rx.send(ack, from);
  }

  #onAck(d: DataView): void {
    if (!this.#running) return;
    const ack = d.getUint32(0);
    if (ack > this.#acked) {
      const newly = ack - this.#acked;
      this.#acked = ack;
      this.#dupAcks = 0;
      this.#rtoMs = 1000;
      if (this.#recoverUntil >= 0) {
        if (ack >= this.#recoverUntil) {
          this.#recoverUntil = -1;
          this.cwnd = this.#ssthresh;
        } else this.#send(ack); // partial ACK: the next hole is lost too
      } else if (this.cwnd < this.#ssthresh) this.cwnd += newly;
      else this.cwnd += newly / this.cwnd;
      this.#arm();
    } else if (ack === this.#acked && this.#next > this.#acked && ++this.#dupAcks === 3) {
      if (this.#recoverUntil < 0) {
        this.#ssthresh = Math.max(2, this.cwnd / 2);
        this.cwnd = this.#ssthresh;
        this.#recoverUntil = this.#next;
      }
      this.#send(ack);
    }
    this.#pump();
  }

  #pump(): void {
    while (this.#running && this.#next < this.#acked + Math.floor(this.cwnd)) {
      this.#send(this.#next++);
    }
    if (!this.#timer) this.#arm();
  }

  #send(seq: number): void {
    if (seq < this.#highest) this.retransmits++;
    else this.#highest = seq + 1;
    const segment = new Uint8Array(SEGMENT_BYTES + 8);
    new DataView(segment.buffer).setUint32(0, seq);
    void this.#tx.send(segment, this.#rx.addr);
  }

  #arm(): void {
    this.#timer?.cancel();
    this.#timer = this.#clock.schedule(this.#rtoMs, () => this.#onTimeout());
  }

  #onTimeout(): void {
    this.#timer = undefined;
    if (!this.#running || this.#next === this.#acked) return;
    this.#ssthresh = Math.max(2, this.cwnd / 2);
    this.cwnd = 1;
    this.#recoverUntil = -1;
    this.#next = this.#acked; // go back N
    this.#rtoMs = Math.min(60_000, this.#rtoMs * 2);
    this.#pump();
    this.#arm();
  }
}
