/**
 * One peer connection after the handshake, as a transport: the read loop feeding the wire
 * framer, a coalescing write queue, and the single place that turns a peer's bad bytes
 * into a close (STYLE §6). It knows nothing of pieces, choking or requests: the protocol
 * state of a peer is a record its torrent owns (src/session/peer.ts). The `Conn` beneath
 * may be TCP, MSE/PE encryption over TCP or uTP, or an in-memory pipe in the simulator.
 *
 * Invariants: `onClose` is called exactly once, after which nothing is read, written or
 * delivered; messages queued in one tick leave in one `Conn.write`.
 *
 * Layer: driver.
 * @module
 */
import type { Clock, Conn, PeerAddress } from "../runtime/types.ts";
import { encodeMessage, WireFramer, type WireMessage, WireSyntaxError } from "../wire/mod.ts";
import { concatBytes } from "../util/bytes.ts";
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
  /** A message arrived. A piece block is a view valid only during this call. */
  onMessage(message: WireMessage): void;
  /** The connection closed; called exactly once. */
  onClose(reason: CloseReason, detail: string): void;
  /** Awaited before each socket read: backpressure and download rate limits. */
  beforeRead(): Promise<void> | undefined;
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
  /** Largest message accepted. */
  readonly maxMessageBytes: number;
  /** Read buffer size. */
  readonly readBufferBytes: number;
  /** Flush at once when this many bytes are queued. */
  readonly writeCoalesceBytes: number;
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
  readonly #readBufferBytes: number;
  readonly #coalesceBytes: number;
  #handlers: PeerConnectionHandlers | undefined;
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  #flushing = false;
  #closed = false;
  #lastReceivedAt: number;
  #lastSentAt: number;

  /** Wraps a handshaken connection; call {@linkcode start} to begin reading. */
  constructor(conn: Conn, options: PeerConnectionOptions) {
    this.#conn = conn;
    this.#clock = options.clock;
    this.addr = conn.remoteAddr;
    this.id = formatAddress(conn.remoteAddr);
    this.remote = options.remote;
    this.outgoing = options.outgoing;
    this.#framer = new WireFramer({
      maxMessageLength: options.maxMessageBytes,
      ...(options.pieceCount !== undefined ? { pieceCount: options.pieceCount } : {}),
    });
    this.#readBufferBytes = options.readBufferBytes;
    this.#coalesceBytes = options.writeCoalesceBytes;
    this.connectedAt = this.#lastReceivedAt = this.#lastSentAt = this.#clock.now();
  }

  /** True once closed. */
  get isClosed(): boolean {
    return this.#closed;
  }

  /** Bytes queued and not yet written. */
  get sendBufferBytes(): number {
    return this.#pendingBytes;
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

  /** Queues a message; messages queued in one tick go out in one write. */
  send(message: WireMessage): void {
    this.sendRaw(encodeMessage(message));
  }

  /** Queues encoded bytes (the caller gives them up). */
  sendRaw(bytes: Uint8Array): void {
    if (this.#closed) return;
    this.#pending.push(bytes);
    this.#pendingBytes += bytes.length;
    if (!this.#flushing) {
      this.#flushing = true;
      queueMicrotask(() => this.#flush());
    }
  }

  /** Closes the connection once; the owner hears about it through `onClose`. */
  close(reason: CloseReason, detail = ""): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#conn.close();
    this.#handlers?.onClose(reason, detail);
  }

  async #readLoop(): Promise<void> {
    const buf = new Uint8Array(this.#readBufferBytes);
    while (!this.#closed) {
      const gate = this.#handlers!.beforeRead();
      if (gate) await gate;
      if (this.#closed) return;
      let n: number | null;
      try {
        n = await this.#conn.read(buf);
      } catch (e) {
        this.close("io-error", e instanceof Error ? e.message : String(e));
        return;
      }
      if (n === null) {
        this.close("eof");
        return;
      }
      this.#lastReceivedAt = this.#clock.now();
      this.#feed(buf.subarray(0, n));
    }
  }

  #feed(bytes: Uint8Array): void {
    try {
      this.#framer.feed(bytes, (m) => {
        if (!this.#closed) this.#handlers!.onMessage(m);
      });
    } catch (e) {
      // The one place peer misbehaviour (or a bug its bytes trigger) ends a connection:
      // never the process, and the owner always hears `onClose`.
      if (e instanceof WireSyntaxError) this.close("bad-message", e.message);
      else this.close("protocol", `internal error: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  async #flush(): Promise<void> {
    try {
      while (this.#pending.length > 0 && !this.#closed) {
        const parts = this.#pending;
        this.#pending = [];
        this.#pendingBytes = 0;
        const data = parts.length === 1 ? parts[0]! : concatBytes(parts);
        await this.#conn.write(data);
        this.#lastSentAt = this.#clock.now();
        if (this.#pendingBytes < this.#coalesceBytes) await Promise.resolve();
      }
    } catch (e) {
      this.close("io-error", e instanceof Error ? e.message : String(e));
    } finally {
      this.#flushing = false;
    }
  }
}
