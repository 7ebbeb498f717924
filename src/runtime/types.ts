/**
 * The small interfaces every driver talks through (core-free platform contract).
 *
 * Only `src/runtime/deno_*.ts`, `workers/` and `src/cli/` bind these to `Deno.*`;
 * everything else receives them by injection, so a whole swarm can run on a
 * virtual clock, an in-memory network and an in-memory disk.
 *
 * Layer: platform contract (types only).
 * @module
 */

/** A cancellable scheduled callback. */
export interface Timer {
  /** Cancels the callback; calling it twice, or after the callback ran, does nothing. */
  cancel(): void;
}

/** Monotonic time and timers. All engine timeouts use this clock (RELIABILITY rule 6). */
export interface Clock {
  /** Monotonic milliseconds; only differences are meaningful. */
  now(): number;
  /** Wall-clock milliseconds since the Unix epoch, for display and persisted timestamps only. */
  wallNow(): number;
  /** Runs `fn` once after `delayMs` milliseconds. */
  schedule(delayMs: number, fn: () => void): Timer;
}

/** A seedable or secure source of randomness. */
export interface Random {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, maxExclusive). */
  int(maxExclusive: number): number;
  /** `length` random bytes. */
  bytes(length: number): Uint8Array;
}

/** A network endpoint. `host` is an IPv4 dotted quad, an IPv6 literal without brackets, or a name. */
export interface PeerAddress {
  /** Host address. */
  readonly host: string;
  /** Port, 1..65535. */
  readonly port: number;
}

/** A reliable byte stream (TCP or an in-memory pipe). */
export interface Conn {
  /** The other end of the connection. */
  readonly remoteAddr: PeerAddress;
  /** The local end of the connection. */
  readonly localAddr: PeerAddress;
  /** Reads into `buffer`; resolves to the byte count, or `null` at end of stream. */
  read(buffer: Uint8Array): Promise<number | null>;
  /** Writes every byte of `data`; resolves once the bytes are handed to the transport. */
  write(data: Uint8Array): Promise<void>;
  /** Closes both directions; pending reads resolve `null`. Idempotent. */
  close(): void;
}

/** Options for {@linkcode Dialer.dial}. */
export interface DialOptions {
  /** Local address to bind before connecting, when the platform supports it. */
  readonly localHost?: string;
  /** Aborts the connection attempt. */
  readonly signal?: AbortSignal;
}

/** Opens outgoing stream connections. */
export interface Dialer {
  /** Connects to `addr`; rejects on refusal, abort or failure. */
  dial(addr: PeerAddress, options?: DialOptions): Promise<Conn>;
}

/** A listening stream socket. */
export interface Listener extends AsyncIterable<Conn> {
  /** The bound address (port resolved when 0 was asked for). */
  readonly addr: PeerAddress;
  /** Stops accepting; the async iterator ends. Idempotent. */
  close(): void;
}

/** Dials and listens: what a session needs from the network. */
export interface Network extends Dialer {
  /** Listens on `addr`; rejects when the address is in use. */
  listen(addr: PeerAddress): Promise<Listener>;
  /** Binds a datagram socket on `addr`. */
  bindUdp(addr: PeerAddress): Promise<UdpSocketLike>;
}

/** One received datagram. */
export interface Datagram {
  /** Payload bytes (owned by the receiver). */
  readonly data: Uint8Array;
  /** Sender address. */
  readonly from: PeerAddress;
}

/** A datagram socket (UDP or in-memory). */
export interface UdpSocketLike {
  /** The bound address. */
  readonly addr: PeerAddress;
  /** Sends one datagram; errors for unreachable hosts are swallowed by the platform binding. */
  send(data: Uint8Array, to: PeerAddress): Promise<void>;
  /** Resolves with the next datagram, or `null` once closed. */
  receive(): Promise<Datagram | null>;
  /** Closes the socket; a pending `receive` resolves `null`. Idempotent. */
  close(): void;
}

/** Structured log sink. Library code never calls `console` directly. */
export interface Logger {
  /** Diagnostic detail. */
  debug(message: string, fields?: Record<string, unknown>): void;
  /** Normal operation. */
  info(message: string, fields?: Record<string, unknown>): void;
  /** Recovered problem. */
  warn(message: string, fields?: Record<string, unknown>): void;
  /** Unrecovered problem. */
  error(message: string, fields?: Record<string, unknown>): void;
}

/** A logger that drops everything. */
export const SILENT_LOGGER: Logger = Object.freeze({
  debug() {},
  info() {},
  warn() {},
  error() {},
});

/** One file of a torrent's storage, in torrent order. */
export interface StorageFile {
  /** Sanitised path components below the storage root (never empty, never `..`). */
  readonly path: readonly string[];
  /** Length in bytes. */
  readonly length: number;
}

/** Everything a disk backend needs to map pieces onto files. */
export interface StorageSpec {
  /** Directory all files live under. */
  readonly root: string;
  /** Files in torrent order. */
  readonly files: readonly StorageFile[];
  /** Nominal piece length in bytes (the last piece may be shorter). */
  readonly pieceLength: number;
  /** Sum of file lengths in bytes. */
  readonly totalLength: number;
  /** Concatenated 20-byte SHA-1 piece hashes; empty when hashing to create a torrent. */
  readonly pieceHashes: Uint8Array;
}

/** Handle of a storage opened on a {@linkcode DiskIo}. */
export type StorageId = number;

/**
 * SHA-1 and file I/O, off the main isolate (the worker pool) or in memory (tests).
 *
 * Buffers passed in are transferred: the caller must not touch them after the call.
 */
export interface DiskIo {
  /** Registers a storage; no file is created until the first write. */
  open(spec: StorageSpec): Promise<StorageId>;
  /**
   * Hashes a whole piece and writes it only when the hash matches.
   * Resolves `true` when verified and written, `false` on a hash mismatch;
   * rejects with a `StorageError` when the write fails.
   */
  writePiece(id: StorageId, index: number, data: Uint8Array): Promise<boolean>;
  /** Reads `length` bytes of piece `index` from `begin`; rejects with `StorageError`. */
  read(id: StorageId, index: number, begin: number, length: number): Promise<Uint8Array>;
  /**
   * Reads and hashes `count` pieces from `first`. Resolves their concatenated
   * 20-byte SHA-1 digests; a piece that cannot be read in full gets 20 zero bytes.
   */
  hashPieces(id: StorageId, first: number, count: number): Promise<Uint8Array>;
  /** Flushes and closes a storage's files. */
  close(id: StorageId): Promise<void>;
  /** Closes every storage and stops the backend. */
  shutdown(): Promise<void>;
  /** Bytes of submitted jobs (writes, reads, hashes) not finished yet. */
  queuedBytes(): number;
  /**
   * Resolves once {@linkcode DiskIo.queuedBytes} is under the backend's high-water mark.
   * Backpressure: the session stops reading sockets until then.
   */
  waitForCapacity(): Promise<void>;
  /**
   * Size and modification time of each file of a storage, in torrent order
   * (`undefined` for a missing file), for resume data. Rejects with `StorageError`.
   */
  statFiles(id: StorageId): Promise<(FileStat | undefined)[]>;
  /** Jobs the backend runs at once (worker count); verification keeps twice this many in flight. */
  readonly parallelism?: number;
  /**
   * A buffer of `length` bytes for assembling a piece, recycled from finished writes
   * when possible (fresh buffers cost page faults). Contents are unspecified.
   */
  allocatePieceBuffer?(length: number): Uint8Array;
}

/** What {@linkcode DiskIo.statFiles} reports for a file that exists. */
export interface FileStat {
  /** Size in bytes. */
  readonly length: number;
  /** Last modification, milliseconds since the Unix epoch. */
  readonly mtimeMs: number;
}
