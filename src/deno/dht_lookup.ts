/**
 * One-call peer lookup for library users: binds a UDP socket, joins the DHT, runs
 * one `get_peers` lookup and closes everything again. Sockets, clock and randomness
 * default to the Deno bindings and can be injected (tests, simulations).
 *
 * Layer: platform (the roof: Deno sockets, clock and randomness by default).
 * @module
 */
import { SECURE_RANDOM, SYSTEM_CLOCK } from "./clock.ts";
import { bindUdp, resolveHost } from "./udp.ts";
import type { Clock, Logger, PeerAddress, Random, UdpSocketLike } from "../runtime/types.ts";
import { fromHex } from "../util/bytes.ts";
import { DhtNode } from "../dht/dht_node.ts";

/** Options of {@linkcode lookupPeers}. */
export interface LookupPeersOptions {
  /** Bootstrap routers (host names allowed). Default: the public routers. */
  readonly bootstrap?: readonly PeerAddress[];
  /** Stop early. */
  readonly signal?: AbortSignal;
  /** Stop after this many peers. Default 200. */
  readonly maxPeers?: number;
  /** Local UDP address to bind. Default `0.0.0.0:0`. */
  readonly bind?: PeerAddress;
  /** Use this socket instead of binding one (it is closed afterwards). */
  readonly socket?: UdpSocketLike;
  /** Clock. Default: the system clock. */
  readonly clock?: Clock;
  /** Randomness. Default: Web Crypto. */
  readonly random?: Random;
  /** Hostname resolver. Default: `Deno.resolveDns`. */
  readonly resolve?: (host: string) => Promise<string[]>;
  /** Log sink. */
  readonly logger?: Logger;
  /** Accept loopback/private nodes and peers (local tests). Default false. */
  readonly allowLocalAddresses?: boolean;
}

/**
 * Finds peers for an info-hash through the Mainline DHT.
 * @param infoHash 20 bytes, or 40 hex characters
 * @param options bootstrap routers, limits and injected platform pieces
 * @returns the peers found (possibly none)
 * @throws {SyntaxError} when a hex info-hash is malformed
 * @throws {RangeError} when the info-hash is not 20 bytes
 * @example Offline: no routers, so no peers (and no waiting)
 * ```ts
 * import { lookupPeers } from "./dht_lookup.ts";
 * import { deepStrictEqual } from "node:assert";
 * let wake: (d: null) => void = () => {};
 * const socket = {
 *   addr: { host: "0.0.0.0", port: 6881 },
 *   send: () => Promise.resolve(),
 *   receive: () => new Promise<null>((resolve) => (wake = resolve)),
 *   close: () => wake(null),
 * };
 * const clock = { now: () => 0, wallNow: () => 0, schedule: () => ({ cancel() {} }) };
 * const peers = await lookupPeers("aa".repeat(20), { socket, clock, bootstrap: [] });
 * deepStrictEqual(peers, []);
 * ```
 */
export async function lookupPeers(
  infoHash: Uint8Array | string,
  options: LookupPeersOptions = {},
): Promise<PeerAddress[]> {
  const hash = typeof infoHash === "string" ? fromHex(infoHash) : infoHash;
  if (hash.length !== 20) throw new RangeError(`Cannot look up a ${hash.length}-byte info-hash`);
  const socket = options.socket ?? await bindUdp(options.bind ?? { host: "0.0.0.0", port: 0 });
  const node = new DhtNode({
    socket,
    clock: options.clock ?? SYSTEM_CLOCK,
    random: options.random ?? SECURE_RANDOM,
    resolve: options.resolve ?? resolveHost,
    allowLocalAddresses: options.allowLocalAddresses ?? false,
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.bootstrap ? { bootstrapNodes: options.bootstrap } : {}),
  });
  const found: PeerAddress[] = [];
  const max = options.maxPeers ?? 200;
  try {
    if (!(await node.bootstrap())) return found;
    const signal = options.signal;
    for await (const peer of node.getPeers(hash, signal ? { signal } : {})) {
      found.push(peer);
      if (found.length >= max) break;
    }
    return found;
  } finally {
    node.close();
  }
}
