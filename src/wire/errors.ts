/**
 * The peer wire syntax error (STYLE §6: malformed bytes throw a `SyntaxError`
 * subclass carrying `offset`).
 *
 * Layer: core (no I/O).
 * @module
 */

/**
 * Malformed peer wire bytes. The connection driver closes the connection with
 * `"bad-message"` when it sees one (RELIABILITY rule 3).
 */
export class WireSyntaxError extends SyntaxError {
  /**
   * Byte offset of the failure: into the handshake or payload for the one-shot
   * decoders, or the stream offset of the offending frame's length prefix for
   * `WireFramer`.
   */
  readonly offset: number;

  /**
   * Builds the error.
   * @param message what is wrong, e.g. `have message has length 6, expected 5`
   * @param offset byte offset of the failure
   * @param options the `cause`, when another error was wrapped
   */
  constructor(message: string, offset: number, options?: ErrorOptions) {
    super(`Cannot decode peer wire data at offset ${offset}: ${message}`, options);
    this.name = "WireSyntaxError";
    this.offset = offset;
  }
}
