/**
 * Message Stream Encryption / Protocol Encryption (MSE/PE), the obfuscated handshake
 * and RC4 payload stream that Vuze, libtorrent, Transmission and µTorrent speak.
 *
 * - {@linkcode initiateMse}: run the handshake on a connection we dialled; on
 *   {@linkcode MseRetryError}, dial again (libtorrent hangs up on 1 secret in 256).
 * - {@linkcode acceptMse}: tell plain BitTorrent from MSE on an accepted connection and
 *   run the responder's side; {@linkcode req2Hash} gives the value its `findInfoHash`
 *   callback matches for each torrent.
 * - {@linkcode MseInitiator}, {@linkcode MseResponder}: the sans-I/O cores.
 * - {@linkcode Rc4Conn}, {@linkcode PrefixedConn}, {@linkcode Rc4}: the payload stream.
 *
 * Spec: "Message Stream Encryption" (Vuze wiki); there is no BEP.
 * @module
 */
export type { Clock, Conn, PeerAddress, Random, Timer } from "../../runtime/types.ts";
export { ProtocolError } from "../../errors.ts";
export {
  classifyIncoming,
  CRYPTO_PLAINTEXT,
  CRYPTO_RC4,
  MAX_PAD_LENGTH,
  type MseAllow,
  type MseMethod,
  type MseResult,
  type MseStep,
} from "./_handshake_common.ts";
export {
  acceptMse,
  type AcceptOptions,
  type AcceptResult,
  initiateMse,
  type InitiateOptions,
  type InitiateResult,
  MseRetryError,
} from "./driver.ts";
export {
  DEFAULT_MAX_WRITE_CHUNK_BYTES,
  PrefixedConn,
  Rc4Conn,
  type Rc4ConnOptions,
} from "./encrypted_conn.ts";
export { INITIATOR_MAX_BYTES, MseInitiator, type MseInitiatorOptions } from "./initiator.ts";
export { type MseCiphers, req2Hash } from "./keys.ts";
export { Rc4 } from "./rc4.ts";
export {
  DEFAULT_MAX_INITIAL_PAYLOAD_BYTES,
  type FindInfoHash,
  MseResponder,
  type MseResponderOptions,
  responderMaxBytes,
} from "./responder.ts";
