/**
 * One peer connection after the handshake: the read loop feeding the wire framer,
 * a coalescing write queue, per-peer protocol flags and request bookkeeping, rate
 * meters, and the single place that turns peer misbehaviour into a close
 * (STYLE §6). Protocol decisions are the torrent's; this file moves bytes.
 *
 * Layer: driver.
 * @module
 */
import type { Clock, Conn, PeerAddress } from "../runtime/types.ts";
import { encodeMessage, WireFramer, type WireMessage, WireSyntaxError } from "../wire/mod.ts";
import { RateMeter } from "../choker/mod.ts";
import { Bitfield } from "../util/bitfield.ts";
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

/** A block request, ours or theirs. */
export interface BlockRef {
  /** Piece index. */
  readonly index: number;
  /** Byte offset in the piece. */
  readonly begin: number;
  /** Length in bytes (≤ 16 KiB). */
  readonly length: number;
}

/** What the connection reports to its owner. */
export interface PeerConnectionHandlers {
  /** A message arrived. A piece block is a view valid only during this call. */
  onMessage(peer: PeerConnection, message: WireMessage): void;
  /** The connection closed; called exactly once. */
  onClose(peer: PeerConnection, reason: CloseReason, detail: string): void;
  /** Awaited before each socket read: backpressure and download rate limits. */
  beforeRead(peer: PeerConnection): Promise<void> | undefined;
}

/** Construction options. */
export interface PeerConnectionOptions {
  /** Clock for meters and timestamps. */
  readonly clock: Clock;
  /** The peer's handshake. */
  readonly remote: RemoteHandshake;
  /** We dialled it. */
  readonly outgoing: boolean;
  /** Piece count, when known (enables exact bitfield checks). */
  readonly pieceCount: number | undefined;
  /** Largest message accepted. */
  readonly maxMessageBytes: number;
  /** Read buffer size. */
  readonly readBufferBytes: number;
  /** Flush at once when this many bytes are queued. */
  readonly writeCoalesceBytes: number;
}

/** Key of a block for maps: exact for pieces < 2^21 and begins < 2^32. */
export function blockKey(index: number, begin: number): number {
  return index * 4294967296 + begin;
}

/** A live connection to one peer and its protocol state. */
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
  /** Listen address the peer told us (BEP 10 `p`), or the dialled address. */
  listenAddr: PeerAddress | undefined;
  /** Client name from BEP 10 `v` or the peer id. */
  clientName = "";

  /** BEP 3 flags. */
  amChoking = true;
  /** BEP 3 flags. */
  amInterested = false;
  /** BEP 3 flags. */
  peerChoking = true;
  /** BEP 3 flags. */
  peerInterested = false;
  /** Pieces the peer has. */
  has: Bitfield;
  /** The peer sent HAVE ALL (or a full bitfield). */
  isSeed = false;
  /** Requests we sent and are waiting for, by {@linkcode blockKey}. */
  readonly requested: Map<number, BlockRef & { sentAt: number }> = new Map();
  /** Requests the peer sent that we will serve. */
  readonly incoming: BlockRef[] = [];
  /** Pieces the peer suggested (BEP 6), newest last; at most 16. */
  readonly suggested: Set<number> = new Set();
  /** Clock ms of our last UNCHOKE to it. */
  unchokedAt = 0;
  /** Clock ms of the last request we accepted from it. */
  lastRequestAt = 0;
  /** Pieces the peer refused (BEP 6 REJECT while unchoking us), with the clock ms. */
  readonly refused: Map<number, number> = new Map();
  /** Pieces the peer allows us to request while choked (BEP 6). */
  readonly allowedFast: Set<number> = new Set();
  /** Payload download meter (their upload to us). */
  readonly downloadMeter: RateMeter = new RateMeter();
  /** Payload upload meter (ours to them). */
  readonly uploadMeter: RateMeter = new RateMeter();
  /** Clock ms of the last byte received. */
  lastReceivedAt: number;
  /** Clock ms of the last byte written. */
  lastSentAt: number;
  /** Clock ms of the last block received. */
  lastBlockAt: number;
  /** Requests queue target (adapted to the peer's rate). */
  queueTarget = 4;
  /**
   * Round trip to the peer in ms, when known: how long our TCP connect to it took (a
   * kernel exchange, not delayed behind anyone's data), or on an incoming connection the
   * time from our handshake to the peer's first bitfield or extension handshake.
   */
  rttMs: number | undefined;
  /** Incoming connection: clock ms we sent our handshake, until the peer's first message. */
  rttSince: number | undefined;
  /** No block for the snub timeout while requests were out. */
  isSnubbed = false;
  /** Extension ids the peer assigned (BEP 10 `m`). */
  extensionIds: Map<string, number> = new Map();
  /** Requests the peer may queue (BEP 10 `reqq`). */
  peerRequestQueue = 250;
  /** Requests sent to us that were invalid while we choked them. */
  invalidRequests = 0;
  /** Blocks received that we never asked for. */
  unsolicitedBlocks = 0;

  readonly #conn: Conn;
  readonly #clock: Clock;
  readonly #handlers: PeerConnectionHandlers;
  readonly #framer: WireFramer;
  readonly #readBufferBytes: number;
  readonly #coalesceBytes: number;
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  #flushing = false;
  #closed = false;

  /** Wraps a handshaken connection; call {@linkcode start} to begin reading. */
  constructor(conn: Conn, handlers: PeerConnectionHandlers, options: PeerConnectionOptions) {
    this.#conn = conn;
    this.#clock = options.clock;
    this.#handlers = handlers;
    this.addr = conn.remoteAddr;
    this.id = formatAddress(conn.remoteAddr);
    this.remote = options.remote;
    this.outgoing = options.outgoing;
    if (options.outgoing) this.listenAddr = conn.remoteAddr;
    this.#framer = new WireFramer({
      maxMessageLength: options.maxMessageBytes,
      ...(options.pieceCount !== undefined ? { pieceCount: options.pieceCount } : {}),
    });
    this.has = new Bitfield(options.pieceCount ?? 0);
    this.#readBufferBytes = options.readBufferBytes;
    this.#coalesceBytes = options.writeCoalesceBytes;
    const now = this.#clock.now();
    this.connectedAt =
      this.lastReceivedAt =
      this.lastSentAt =
      this.lastBlockAt =
        now;
  }

  /** True once closed. */
  get isClosed(): boolean {
    return this.#closed;
  }

  /** Bytes queued and not yet written. */
  get sendBufferBytes(): number {
    return this.#pendingBytes;
  }

  /** Sets the piece count once metadata is known (magnet links). */
  setPieceCount(count: number): void {
    this.#framer.setPieceCount(count);
    if (this.has.length !== count) {
      const next = new Bitfield(count);
      for (const i of this.has.indices()) if (i < count) next.set(i);
      this.has = next;
    }
  }

  /** Starts the read loop; `leftover` holds bytes that followed the handshake. */
  start(leftover: Uint8Array): void {
    if (leftover.length > 0) this.#feed(leftover);
    this.#readLoop().catch((e) => this.close("io-error", String(e)));
  }

  /** Queues a message; messages queued in one tick go out in one write. */
  send(message: WireMessage): void {
    this.sendRaw(encodeMessage(message));
  }

  /** Queues encoded bytes. */
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
    this.#handlers.onClose(this, reason, detail);
  }

  async #readLoop(): Promise<void> {
    const buf = new Uint8Array(this.#readBufferBytes);
    while (!this.#closed) {
      const gate = this.#handlers.beforeRead(this);
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
      this.lastReceivedAt = this.#clock.now();
      this.#feed(buf.subarray(0, n));
    }
  }

  #feed(bytes: Uint8Array): void {
    try {
      this.#framer.feed(bytes, (m) => {
        if (!this.#closed) this.#handlers.onMessage(this, m);
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
        const size = this.#pendingBytes;
        this.#pending = [];
        this.#pendingBytes = 0;
        const data = parts.length === 1 ? parts[0]! : joinParts(parts, size);
        await this.#conn.write(data);
        this.lastSentAt = this.#clock.now();
        if (this.#pendingBytes < this.#coalesceBytes) await Promise.resolve();
      }
    } catch (e) {
      this.close("io-error", e instanceof Error ? e.message : String(e));
    } finally {
      this.#flushing = false;
    }
  }
}

function joinParts(parts: Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** `host:port`, with IPv6 hosts bracketed. */
export function formatAddress(addr: PeerAddress): string {
  return addr.host.includes(":") ? `[${addr.host}]:${addr.port}` : `${addr.host}:${addr.port}`;
}
