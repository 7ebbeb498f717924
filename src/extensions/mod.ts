/**
 * Extension-protocol cores: BEP 9 metadata exchange (`ut_metadata`) and BEP 11 peer
 * exchange (`ut_pex`), as pure codecs and per-connection state machines.
 *
 * - BEP 9: the `request`/`data`/`reject` codec, {@linkcode MetadataAssembler}
 *   (magnet links: fetch, validate and SHA-1-check the info dictionary) and
 *   {@linkcode MetadataServer} (serve ours, rate-limited per peer, never past a
 *   peer's unsent-byte bound)
 * - BEP 10: these cores produce and consume extended-message payloads; the session
 *   wraps them in `extended` messages with the id the peer assigned in its extension
 *   handshake (`src/wire/`)
 * - BEP 11: the `ut_pex` codec, {@linkcode PexSender} (≤ 1 message per 60 s, ≤ 50
 *   added/dropped) and {@linkcode PexReceiver} (flood, size, per-source and address
 *   limits). Private torrents (BEP 27) never enable ut_pex.
 *
 * Every decoder of remote bytes throws {@linkcode ExtensionSyntaxError} (a
 * `SyntaxError`) on bad input; the stateful cores never throw on peer input
 * (RELIABILITY EX2–EX7).
 *
 * @example
 * ```ts
 * import { decodeMetadataMessage, encodeMetadataRequest } from "./mod.ts";
 * import { deepStrictEqual } from "node:assert";
 * deepStrictEqual(decodeMetadataMessage(encodeMetadataRequest(2)), { type: "request", piece: 2 });
 * ```
 * @module
 */
export { ExtensionSyntaxError } from "./errors.ts";
export {
  decodeMetadataMessage,
  DEFAULT_MAX_METADATA_BYTES,
  encodeMetadataData,
  encodeMetadataReject,
  encodeMetadataRequest,
  METADATA_PIECE_LENGTH,
  type MetadataDataMessage,
  type MetadataMessage,
  MetadataMessageType,
  type MetadataMessageTypes,
  metadataPieceCount,
  metadataPieceLength,
  type MetadataRejectMessage,
  type MetadataRequestMessage,
  type MetadataUnknownMessage,
} from "./ut_metadata.ts";
export {
  MAX_REMEMBERED_BANS,
  MetadataAssembler,
  type MetadataAssemblerOptions,
  type MetadataDataResult,
} from "./metadata_assembler.ts";
export {
  DEFAULT_METADATA_REPLIES_PER_SECOND,
  type MetadataRequestContext,
  MetadataServer,
  type MetadataServerOptions,
} from "./metadata_server.ts";
export {
  decodePex,
  encodePex,
  PEX_MAX_PAYLOAD_BYTES,
  PEX_MAX_PEERS_PER_MESSAGE,
  type PexAddedPeer,
  type PexFlagBits,
  PexFlags,
  type PexMessage,
  type PexMessageInput,
} from "./ut_pex.ts";
export { pexFlagsOf, type PexPeerInfo, PexSender, type PexSenderOptions } from "./pex_sender.ts";
export { PexReceiver, type PexReceiveResult, type PexReceiverOptions } from "./pex_receiver.ts";
export type { PeerAddress, Random } from "../runtime/types.ts";
