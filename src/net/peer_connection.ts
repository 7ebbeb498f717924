/**
 * One peer connection after the handshake, as a transport: the read loop feeding the wire
 * framer, a coalescing write queue, and the single place that turns a peer's bad bytes
 * into a close (STYLE §6). It knows nothing of pieces, choking or requests: the protocol
 * state of a peer is a record its torrent owns (src/session/peer.ts). The `Conn` beneath
 * may be TCP, MSE/PE encryption over TCP or uTP, or an in-memory pipe in the simulator.
 *
 * Byte-level timeouts and caps live here too, since only the transport sees bytes
 * (RELIABILITY PW7, PW10; {@linkcode PeerConnection.checkTimeouts}):
 * - idle: nothing received for `idleTimeoutMs`;
 * - a slow message: a message whose first bytes arrived must be whole within
 *   `messageTimeoutMs` plus its length at `minMessageBytesPerSecond` (at most
 *   `idleTimeoutMs`), so a peer that drips one byte a second inside a message is closed
 *   even though it is never idle. Only time spent waiting on the socket counts: while our
 *   own rate limit or disk backpressure holds the read loop, the clock stops;
 * - the send queue: bytes the socket has not taken (queued, or in a write that has not
 *   completed) past `maxSendQueueBytes` close a peer that stopped reading while messages
 *   kept coming. What the engine adds is bounded anyway (the uploader stops at its
 *   watermark, rejects and metadata replies are capped); this is the backstop.
 *
 * Sending: messages are encoded straight into the reused chunks of a
 * {@linkcode SendBuffer} (a piece block is copied once, from the caller's cache into the
 * chunk the socket reads); one write per chunk, one write in flight.
 *
 * Invariants: `onClose` is called exactly once, after which nothing is read, written or
 * delivered; messages queued in one tick leave in one `Conn.write` unless they fill more
 * than a chunk (`writeCoalesceBytes`); `unsentBytes ≤ maxSendQueueBytes` while open.
 *
 * Layer: driver.
 * @module
 */
import type { Clock, Conn, PeerAddress } from "../runtime/types.ts";
import { messageLength, WireFramer, type WireMessage, WireSyntaxError } from "../wire/mod.ts";
import { PIECE_HEADER_LENGTH } from "../wire/mod.ts";
import { SendBuffer } from "../wire/send_buffer.ts";
import { formatAddress } from "../util/address.ts";
import type { RemoteHandshake } from "./handshake_io.ts";

/** Why a connection ended. */
export type CloseReason =
  | "eof"
  | "io-error"
  | "bad-message"
  | "protocol"
  | "timeout"
  | "idle"
  | "hash-fail-ban"
  | "duplicate"
  | "not-needed"
  | "shutdown"
  | "too-many";

/** What the connection reports to its owner. */
export interface PeerConnectionHandlers {
  /**
   * A message arrived. A piece block is a view valid only during this call. `receivedAt`
   * is when its bytes came off the socket (clock ms; the clock is read once per read, not
   * once per message: a 256 KiB read holds 16 blocks).
   */
  onMessage(message: WireMessage, receivedAt: number): void;
  /** The connection closed; called exactly once. */
  onClose(reason: CloseReason, detail: string): void;
  /** Awaited before each socket read: backpressure and download rate limits. */
  beforeRead(): Promise<void> | undefined;
}

/** The transport's limits (the engine's Settings of the same names satisfy it). */
export interface PeerTransportLimits {
  /** Largest message accepted. */
  readonly maxMessageBytes: number;
  /** Read buffer size. */
  readonly readBufferBytes: number;
  /**
   * Largest write: messages are encoded into reused chunks of up to this size, one write
   * each; a flush waits a turn for more while less than this is queued.
   */
  readonly writeCoalesceBytes: number;
  /** Close when nothing was received for this long (ms). */
  readonly idleTimeoutMs: number;
  /** A begun message must be whole within this (ms), plus its length at the floor rate. */
  readonly messageTimeoutMs: number;
  /** The floor rate of a message's bytes (bytes/s). */
  readonly minMessageBytesPerSecond: number;
  /** Close when more than this many bytes wait for the socket. */
  readonly maxSendQueueBytes: number;
}

/** Construction options. */
export interface PeerConnectionOptions {
  /** Clock for timestamps. */
  readonly clock: Clock;
  /** The peer's handshake. */
  readonly remote: RemoteHandshake;
  /** We dialled it. */
  readonly outgoing: boolean;
  /** Piece count, when known (enables exact bitfield and HAVE checks in the framer). */
  readonly pieceCount: number | undefined;
  /** Message, buffer and timeout limits. */
  readonly limits: PeerTransportLimits;
}

/** A live connection to one peer: bytes in, messages out, and the other way round. */
export class PeerConnection {
  /** `host:port` of the socket's far end. */
  readonly id: string;
  /** Socket's far end. */
  readonly addr: PeerAddress;
  /** The peer's handshake. */
  readonly remote: RemoteHandshake;
  /** We dialled it. */
  readonly outgoing: boolean;
  /** When the handshake completed (clock ms). */
  readonly connectedAt: number;

  readonly #conn: Conn;
  readonly #clock: Clock;
  readonly #framer: WireFramer;
  readonly #o: PeerTransportLimits;
  readonly #out: SendBuffer;
  #handlers: PeerConnectionHandlers | undefined;
  /** Bytes of the write in progress (handed to the `Conn`, not yet taken). */
  #writingBytes = 0;
  #flushing = false;
  #closed = false;
  /** Set when the send queue overflowed: later sends are dropped until the close. */
  #overflowed = false;
  #lastReceivedAt: number;
  #lastSentAt: number;
  /** Clock ms the pending socket read began; undefined while not waiting on the socket. */
  #readStartedAt: number | undefined;
  /** Ms spent waiting on the socket since the held partial message began. */
  #partialWaitMs = 0;
  /** Messages delivered so far (a new partial message restarts its clock). */
  #delivered = 0;

  /** Wraps a handshaken connection; call {@linkcode start} to begin reading. */
  constructor(conn: Conn, options: PeerConnectionOptions) {
    this.#conn = conn;
    this.#clock = options.clock;
    this.addr = conn.remoteAddr;
    this.id = formatAddress(conn.remoteAddr);
    this.remote = options.remote;
    this.outgoing = options.outgoing;
    this.#framer = new WireFramer({
      maxMessageLength: options.limits.maxMessageBytes,
      ...(options.pieceCount !== undefined ? { pieceCount: options.pieceCount } : {}),
    });
    this.#o = options.limits;
    this.#out = new SendBuffer({ maxChunkBytes: Math.max(32 * 1024, this.#o.writeCoalesceBytes) });
    this.connectedAt = this.#lastReceivedAt = this.#lastSentAt = this.#clock.now();
  }

  /** True once closed. */
  get isClosed(): boolean {
    return this.#closed;
  }

  /**
   * Bytes queued and not yet handed to the socket (the uploader's watermark is on these:
   * a write in progress is the kernel's, on a link that drains).
   */
  get sendBufferBytes(): number {
    return this.#out.bytes;
  }

  /**
   * Bytes the socket has not taken yet: queued, or in a write that has not completed
   * (for a peer that stopped reading, everything we ever queued past its socket buffer).
   */
  get unsentBytes(): number {
    return this.#out.bytes + this.#writingBytes;
  }

  /** Clock ms of the last bytes received. */
  get lastReceivedAt(): number {
    return this.#lastReceivedAt;
  }

  /** Clock ms of the last write handed to the transport. */
  get lastSentAt(): number {
    return this.#lastSentAt;
  }

  /** Sets the piece count once a magnet's metadata is known (exact bitfield checks). */
  setPieceCount(count: number): void {
    this.#framer.setPieceCount(count);
  }

  /**
   * Starts the read loop; `leftover` holds bytes that followed the handshake.
   * @param handlers where messages and the close go (the owner's record of this peer)
   */
  start(handlers: PeerConnectionHandlers, leftover: Uint8Array): void {
    this.#handlers = handlers;
    if (leftover.length > 0) this.#feed(leftover);
    this.#readLoop().catch((e) => this.close("io-error", String(e)));
  }

  /**
   * Queues a message; messages queued in one tick go out in one write.
   * @throws {RangeError} when a field does not fit its wire width (nothing is queued)
   */
  send(message: WireMessage): void {
    if (this.#admit(messageLength(message))) this.#out.message(message);
  }

  /**
   * Queues a piece message of `block` (copied once, straight into the send buffer).
   * @param index the piece index
   * @param begin the block's offset in the piece
   * @param block the bytes; not retained
   */
  sendPiece(index: number, begin: number, block: Uint8Array): void {
    if (this.#admit(PIECE_HEADER_LENGTH + block.length)) this.#out.piece(index, begin, block);
  }

  /**
   * Queues a copy of encoded bytes. Past `maxSendQueueBytes` (as for every send) the peer
   * is closed (in a microtask, so no caller sees its peer vanish mid-call) and the bytes
   * are dropped.
   * @param bytes the bytes; not retained
   */
  sendRaw(bytes: Uint8Array): void {
    if (this.#admit(bytes.length)) this.#out.raw(bytes);
  }

  /** Whether `n` more bytes may be queued; schedules the flush. Closes a peer over its cap. */
  #admit(n: number): boolean {
    if (this.#closed || this.#overflowed) return false;
    if (this.unsentBytes + n > this.#o.maxSendQueueBytes) {
      this.#overflowed = true;
      const detail = `send queue over ${this.#o.maxSendQueueBytes} bytes: the peer does not read`;
      queueMicrotask(() => this.close("timeout", detail));
      return false;
    }
    if (!this.#flushing) {
      this.#flushing = true;
      queueMicrotask(() => this.#flush());
    }
    return true;
  }

  /**
   * How long the peer has kept us waiting inside one message: socket-wait ms since its
   * first bytes arrived (0 when no partial message is held).
   * @param now clock ms
   * @returns the age in ms
   */
  partialMessageAgeMs(now: number): number {
    if (this.#framer.bufferedBytes === 0) return 0;
    const reading = this.#readStartedAt === undefined ? 0 : Math.max(0, now - this.#readStartedAt);
    return this.#partialWaitMs + reading;
  }

  /**
   * Closes a peer that went quiet (`"idle"`) or keeps a message unfinished past its time
   * (`"timeout"`); the owner calls it once a tick.
   * @param now clock ms
   * @returns true when the connection is closed
   */
  checkTimeouts(now: number): boolean {
    if (this.#closed) return true;
    const o = this.#o;
    if (this.unsentBytes === 0) this.#out.trim(); // an idle sender keeps no chunks
    if (now - this.#lastReceivedAt > o.idleTimeoutMs) {
      this.close("idle");
      return true;
    }
    const age = this.partialMessageAgeMs(now);
    if (age === 0) return false;
    const size = this.#framer.heldFrameBytes;
    const allowed = Math.min(
      o.idleTimeoutMs,
      o.messageTimeoutMs + (size * 1000) / o.minMessageBytesPerSecond,
    );
    if (age <= allowed) return false;
    const have = this.#framer.bufferedBytes;
    this.close("timeout", `message stalled: ${have} of ${size || "?"} bytes in ${age} ms`);
    return true;
  }

  /** Closes the connection once; the owner hears about it through `onClose`. */
  close(reason: CloseReason, detail = ""): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#out.clear();
    this.#writingBytes = 0;
    this.#conn.close();
    this.#handlers?.onClose(reason, detail);
  }

  async #readLoop(): Promise<void> {
    const buf = new Uint8Array(this.#o.readBufferBytes);
    while (!this.#closed) {
      const gate = this.#handlers!.beforeRead();
      if (gate) await gate;
      if (this.#closed) return;
      let n: number | null;
      const startedAt = this.#readStartedAt = this.#clock.now();
      try {
        n = await this.#conn.read(buf);
      } catch (e) {
        this.close("io-error", e instanceof Error ? e.message : String(e));
        return;
      } finally {
        this.#readStartedAt = undefined;
      }
      if (n === null) {
        this.close("eof");
        return;
      }
      const now = this.#lastReceivedAt = this.#clock.now();
      if (this.#framer.bufferedBytes > 0) this.#partialWaitMs += now - startedAt;
      this.#feed(buf.subarray(0, n));
    }
  }

  #feed(bytes: Uint8Array): void {
    const delivered = this.#delivered;
    try {
      this.#framer.feed(bytes, (m) => {
        this.#delivered++;
        if (!this.#closed) this.#handlers!.onMessage(m, this.#lastReceivedAt);
      });
      // A message completed (or none is held): the held one, if any, is new.
      if (this.#delivered !== delivered || this.#framer.bufferedBytes === 0) {
        this.#partialWaitMs = 0;
      }
    } catch (e) {
      // The one place peer misbehaviour (or a bug its bytes trigger) ends a connection:
      // never the process, and the owner always hears `onClose`.
      if (e instanceof WireSyntaxError) this.close("bad-message", e.message);
      else this.close("protocol", `internal error: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  async #flush(): Promise<void> {
    const out = this.#out;
    try {
      for (let chunk = out.take(); chunk !== undefined && !this.#closed; chunk = out.take()) {
        this.#writingBytes = chunk.length;
        await this.#conn.write(chunk);
        this.#writingBytes = 0;
        out.release(chunk);
        this.#lastSentAt = this.#clock.now();
        if (out.bytes < this.#o.writeCoalesceBytes) await Promise.resolve();
      }
    } catch (e) {
      this.close("io-error", e instanceof Error ? e.message : String(e));
    } finally {
      this.#flushing = false;
    }
  }
}
