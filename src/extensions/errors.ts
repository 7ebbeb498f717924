/**
 * The extension-message syntax error (STYLE §6: malformed bytes throw a `SyntaxError`
 * subclass carrying `offset`), shared by the ut_metadata (BEP 9) and ut_pex (BEP 11)
 * decoders.
 *
 * Layer: core (no I/O).
 * @module
 */

/**
 * A malformed ut_metadata or ut_pex payload. The connection driver closes the
 * connection with `"bad-message"` when it sees one (RELIABILITY rule 3).
 *
 * @example
 * ```ts
 * import { decodePex, ExtensionSyntaxError } from "./mod.ts";
 * import { ok, strictEqual } from "node:assert";
 * try {
 *   decodePex(new TextEncoder().encode("i42e"));
 * } catch (e) {
 *   ok(e instanceof ExtensionSyntaxError && e instanceof SyntaxError);
 *   strictEqual(e.offset, 0);
 * }
 * ```
 */
export class ExtensionSyntaxError extends SyntaxError {
  /** Byte offset of the failure within the extended-message payload. */
  readonly offset: number;

  /**
   * Builds the error.
   * @param what the payload kind, e.g. `"ut_metadata message"`
   * @param message what is wrong, e.g. `data of 16385 bytes exceeds 16384`
   * @param offset byte offset of the failure within the payload
   * @param options the `cause`, when another error was wrapped
   */
  constructor(what: string, message: string, offset: number, options?: ErrorOptions) {
    super(`Cannot decode ${what} at offset ${offset}: ${message}`, options);
    this.name = "ExtensionSyntaxError";
    this.offset = offset;
  }
}
