/**
 * The BitTorrent peer wire protocol, as a pure codec: the handshake and its reserved
 * bits, every message's encoder, an incremental framer for the receive path, the
 * extension handshake and the fast extension's allowed fast set.
 *
 * - BEP 3: handshake, length-prefixed messages, `have`/`bitfield`/`request`/`piece`/`cancel`
 * - BEP 5: the `port` message and the DHT reserved bit
 * - BEP 6: fast extension (`suggest`, `have-all`, `have-none`, `reject`, `allowed-fast`;
 *   the canonical allowed fast set)
 * - BEP 10: extension protocol (`extended` messages and the extension handshake)
 * - BEP 20: peer id conventions
 *
 * Every decoder of remote bytes checks lengths before it buffers or allocates
 * (RELIABILITY PW1-PW5, EX1) and throws {@linkcode WireSyntaxError} on bad input.
 *
 * @example
 * ```ts
 * import { encodeMessage, WireFramer, type WireMessage } from "./mod.ts";
 * import { deepStrictEqual } from "node:assert";
 * const stream = encodeMessage({ type: "request", index: 1, begin: 0, length: 16384 });
 * const framer = new WireFramer();
 * const seen: WireMessage[] = [];
 * for (const byte of stream) framer.feed(new Uint8Array([byte]), (m) => seen.push(m));
 * deepStrictEqual(seen, [{ type: "request", index: 1, begin: 0, length: 16384 }]);
 * ```
 * @module
 */
export {
  BLOCK_LENGTH,
  DEFAULT_MAX_MESSAGE_LENGTH,
  MAX_EXTENDED_PAYLOAD_LENGTH,
  MAX_PIECE_COUNT,
  MAX_PIECE_MESSAGE_LENGTH,
  MessageId,
  type MessageIds,
  PROTOCOL,
} from "./constants.ts";
export type { Random } from "../runtime/types.ts";
export { WireSyntaxError } from "./errors.ts";
export {
  decodeHandshake,
  encodeHandshake,
  type Handshake,
  HANDSHAKE_LENGTH,
  type HandshakeOptions,
} from "./handshake.ts";
export { CLIENT_CODE, describePeerId, generatePeerId } from "./peer_id.ts";
export {
  type BareMessage,
  type BitfieldMessage,
  type BlockRequestMessage,
  encodeMessage,
  encodeMessageInto,
  encodePieceHeaderInto,
  type ExtendedMessage,
  MESSAGE_ID_OF,
  messageLength,
  PIECE_HEADER_LENGTH,
  type PieceIndexMessage,
  type PieceMessage,
  type PortMessage,
  type WireMessage,
  type WireMessageType,
} from "./messages.ts";
export { type DecodedMessage, decodeMessage, type DecodeOptions } from "./decode_message.ts";
export { type MessageHandler, WireFramer, type WireFramerOptions } from "./framer.ts";
export {
  decodeExtensionHandshake,
  encodeExtensionHandshake,
  EXTENSION_HANDSHAKE_ID,
  type ExtensionHandshake,
  MAX_CLIENT_NAME_BYTES,
  MAX_EXTENSION_ENTRIES,
  MAX_REQQ,
} from "./extension_handshake.ts";
export {
  type AllowedFastOptions,
  allowedFastSet,
  DEFAULT_ALLOWED_FAST_COUNT,
} from "./allowed_fast.ts";
