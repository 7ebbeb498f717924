/**
 * Local Service Discovery (BEP 14): peers on the same LAN find each other by multicasting
 * which torrents they are in, with no tracker or DHT. {@linkcode LsdNode} runs over any
 * injected `UdpSocketLike` pair and `Clock`; the messages are plain functions.
 *
 * @module
 */
export {
  encodeLsdAnnounce,
  LSD_GROUP_V4,
  type LsdAnnounce,
  MAX_LSD_INFO_HASHES,
  MAX_LSD_MESSAGE_BYTES,
  parseLsdAnnounce,
} from "./lsd_message.ts";
export { LsdNode, type LsdNodeOptions } from "./lsd_node.ts";
