/**
 * Domain errors shared by the engine (STYLE §6): each sets `name` and passes `cause`.
 *
 * Layer: core (no I/O).
 * @module
 */

/** A peer, tracker or DHT node broke the protocol. */
export class ProtocolError extends Error {
  /** Builds the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ProtocolError";
  }
}

/** A tracker request failed or the tracker answered with a failure. */
export class TrackerError extends Error {
  /** Builds the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "TrackerError";
  }
}

/** A file operation failed. */
export class StorageError extends Error {
  /** The operation that failed, e.g. `"write"`, `"open"`. */
  readonly op: string;
  /** The file path involved, when one is. */
  readonly path: string | undefined;
  /** Builds the error. */
  constructor(message: string, options: ErrorOptions & { op: string; path?: string }) {
    super(message, options);
    this.name = "StorageError";
    this.op = options.op;
    this.path = options.path;
  }
}

/** Metainfo (a .torrent or magnet link) is invalid; `field` names the offending field. */
export class MetainfoError extends Error {
  /** The offending field, e.g. `"info.pieces"`. */
  readonly field: string;
  /** Builds the error. */
  constructor(field: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "MetainfoError";
    this.field = field;
  }
}
