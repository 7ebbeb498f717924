/**
 * A uTP connection as a {@linkcode Conn}: the promise side of one
 * {@linkcode UtpConnection}. `read` resolves with bytes in order (landing straight in
 * the caller's buffer when it waits), `write` resolves once its bytes are packetized
 * under the send-buffer bound (backpressure), `close` sends FIN after the queued bytes.
 * The socket calls {@linkcode UtpStream.pump} after each batch; this file only turns the
 * core's flags into settled promises.
 *
 * Layer: driver. Private to `src/net/utp/` (the socket creates streams).
 * @module
 */
import type { Conn, PeerAddress } from "../../runtime/types.ts";
import {
  EV_CLOSED,
  EV_CONNECTED,
  EV_READABLE,
  type UtpCloseReason,
  type UtpConnection,
} from "./connection.ts";

/** A uTP connection failed: reset by the peer, refused, timed out or aborted. */
export class UtpConnectionError extends Error {
  /** Why. */
  readonly reason: UtpCloseReason;
  /**
   * Builds the error.
   * @param reason the close reason
   * @param options the cause
   */
  constructor(reason: UtpCloseReason, options?: ErrorOptions) {
    super(`uTP connection ${REASON_TEXT[reason]}`, options);
    this.name = "UtpConnectionError";
    this.reason = reason;
  }
}

const REASON_TEXT: Record<UtpCloseReason, string> = {
  closed: "closed",
  reset: "reset by the peer",
  refused: "refused: the peer did not answer the SYN",
  timeout: "timed out",
  aborted: "aborted",
};

/** What a stream needs from its socket. */
export interface StreamHost {
  /** Clock reading, ms. */
  now(): number;
  /** Asks for a flush of this stream at the end of the turn. */
  markDirty(stream: UtpStream): void;
}

interface PendingWrite {
  readonly data: Uint8Array;
  offset: number;
  readonly resolve: () => void;
  readonly reject: (e: Error) => void;
}

/** One uTP connection, as a stream. */
export class UtpStream implements Conn {
  /** The peer. */
  readonly remoteAddr: PeerAddress;
  /** Our socket's address. */
  readonly localAddr: PeerAddress;
  /** The state machine. */
  readonly core: UtpConnection;
  /** Whether the socket has it in its flush list. */
  dirty = false;
  /** Whether the socket has it in its delayed-ACK list. */
  owesAck = false;
  /** Whether it came from a SYN (not a dial). */
  readonly incoming: boolean;
  /** An incoming stream got its first DATA (it left the half-open count). */
  confirmed = false;
  readonly #host: StreamHost;
  #readBuf: Uint8Array | undefined;
  #readResolve: ((n: number | null) => void) | undefined;
  #readReject: ((e: Error) => void) | undefined;
  readonly #writes: PendingWrite[] = [];
  #connected: { resolve: (c: Conn) => void; reject: (e: Error) => void } | undefined;
  #closedByUser = false;

  /**
   * Wraps a core.
   * @param core the connection state machine
   * @param addrs the peer and our address
   * @param host the socket's services
   * @param incoming whether it was accepted
   */
  constructor(
    core: UtpConnection,
    addrs: { remote: PeerAddress; local: PeerAddress },
    host: StreamHost,
    incoming: boolean,
  ) {
    this.core = core;
    this.remoteAddr = addrs.remote;
    this.localAddr = addrs.local;
    this.#host = host;
    this.incoming = incoming;
  }

  /**
   * Resolves once the dial completes (or rejects when it fails).
   * @returns the connected stream
   */
  whenConnected(): Promise<Conn> {
    return new Promise((resolve, reject) => (this.#connected = { resolve, reject }));
  }

  /**
   * Reads in-order bytes into `buffer`.
   * @param buffer where the bytes go
   * @returns the byte count, or `null` at end of stream (or after `close()`)
   * @throws {UtpConnectionError} when the connection was reset or timed out
   */
  read(buffer: Uint8Array): Promise<number | null> {
    if (this.#readResolve) return Promise.reject(new Error("Cannot read: a read is pending"));
    const core = this.core;
    if (this.#closedByUser) return Promise.resolve(null);
    if (buffer.length === 0 && !core.atEof && core.state !== "closed") return Promise.resolve(0);
    if (core.readableBytes > 0 && buffer.length > 0) {
      const n = core.read(buffer);
      this.#host.markDirty(this); // a window update may be due
      return Promise.resolve(n);
    }
    if (core.atEof) return Promise.resolve(null);
    if (core.state === "closed") return this.#closedResult();
    this.#readBuf = buffer;
    core.setReadTarget(buffer);
    return new Promise((resolve, reject) => {
      this.#readResolve = resolve;
      this.#readReject = reject;
    });
  }

  /**
   * Writes every byte of `data`; resolves once they are packetized (the caller may then
   * reuse `data`), which waits while the send buffer is full.
   * @param data the bytes
   * @returns when handed to the transport
   * @throws {UtpConnectionError} when the connection is closed or fails first
   */
  write(data: Uint8Array): Promise<void> {
    const core = this.core;
    if (this.#closedByUser || core.closing || core.state === "closed") {
      return Promise.reject(new UtpConnectionError(core.closeReason ?? "closed"));
    }
    const taken = this.#writes.length === 0 ? core.write(data, 0) : 0;
    this.#host.markDirty(this);
    if (taken === data.length) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.#writes.push({ data, offset: taken, resolve, reject });
    });
  }

  /** Closes gracefully: pending reads resolve `null`, pending writes reject, FIN follows. */
  close(): void {
    if (this.#closedByUser) return;
    this.#closedByUser = true;
    this.core.close(this.#host.now());
    this.#settleRead(null);
    this.#failWrites(new UtpConnectionError("closed"));
    this.#host.markDirty(this);
  }

  /**
   * Settles promises from the core's flags; the socket calls it after each flush.
   * @returns true once the connection is closed (the socket forgets it)
   */
  pump(): boolean {
    const core = this.core, events = core.events;
    core.events = 0;
    if (events & EV_CONNECTED && this.#connected) {
      this.#connected.resolve(this);
      this.#connected = undefined;
    }
    if (this.#writes.length > 0) this.#continueWrites();
    if (events & EV_READABLE && this.#readResolve) {
      const filled = core.readTargetFilled;
      if (filled > 0) {
        core.setReadTarget(undefined);
        core.consumedTarget();
        this.#settleRead(filled);
      } else if (core.readableBytes > 0) {
        core.setReadTarget(undefined);
        this.#settleRead(core.read(this.#readBuf!));
      } else if (core.atEof) this.#settleRead(null);
    }
    if (events & EV_CLOSED || core.state === "closed") {
      const error = new UtpConnectionError(core.closeReason ?? "aborted");
      this.#connected?.reject(error);
      this.#connected = undefined;
      if (this.#readResolve) {
        if (core.closeReason === "closed" || core.atEof) this.#settleRead(null);
        else {
          const reject = this.#readReject!;
          this.#clearRead();
          reject(error);
        }
      }
      this.#failWrites(error);
      return true;
    }
    return false;
  }

  /**
   * Fails pending promises because the socket closed.
   * @param nowMs the clock
   */
  abort(nowMs: number): void {
    this.core.abort("aborted", nowMs);
    this.pump();
  }

  #continueWrites(): void {
    const core = this.core;
    let taken = 0;
    while (this.#writes.length > 0 && core.writable) {
      const w = this.#writes[0]!;
      const n = core.write(w.data, w.offset);
      if (n === 0) break;
      taken += n;
      w.offset += n;
      if (w.offset < w.data.length) break;
      this.#writes.shift();
      w.resolve();
    }
    if (taken > 0) this.#host.markDirty(this);
  }

  #closedResult(): Promise<number | null> {
    const reason = this.core.closeReason;
    return reason === "closed"
      ? Promise.resolve(null)
      : Promise.reject(new UtpConnectionError(reason ?? "aborted"));
  }

  #settleRead(value: number | null): void {
    const resolve = this.#readResolve;
    this.#clearRead();
    resolve?.(value);
  }

  #clearRead(): void {
    if (this.#readBuf) this.core.setReadTarget(undefined);
    this.#readBuf = this.#readResolve = this.#readReject = undefined;
  }

  #failWrites(error: Error): void {
    for (const w of this.#writes.splice(0)) w.reject(error);
  }
}
