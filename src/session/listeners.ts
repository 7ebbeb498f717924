/**
 * The session's sockets: the TCP listen socket and the UDP socket that uTP (BEP 29) and
 * the DHT (BEP 5) share, on the same port number where possible — the port we announce is
 * the one peers dial over either transport. The configured port is tried first, then the
 * next 10 (a port already taken by another client on this host).
 *
 * Layer: driver.
 * @module
 */
import type { Listener, Network, PeerAddress, UdpSocketLike } from "../runtime/types.ts";
import type { Settings } from "./settings.ts";

/** What {@linkcode bindListeners} bound. */
export interface BoundListeners {
  /** The TCP listen socket, unless TCP is off. */
  readonly tcp: Listener | undefined;
  /** The UDP socket for uTP and the DHT, unless both are off (or no UDP port was free). */
  readonly udp: UdpSocketLike | undefined;
  /** The port peers dial: TCP's, or UDP's without TCP. */
  readonly port: number;
  /** Why UDP shares no port with TCP, when it could not (uTP then only dials). */
  readonly warning: string | undefined;
}

/**
 * Binds the listen sockets.
 * @throws {Error} when no port could be bound for the transports that are on
 */
export async function bindListeners(settings: Settings, network: Network): Promise<BoundListeners> {
  const { listenHost: host, listenPort } = settings;
  const tries = listenPort === 0 ? 1 : 11;
  const wantUdp = settings.enableUtp || settings.enableDht;
  let lastError: unknown;
  for (let i = 0; i < tries; i++) {
    const port = listenPort === 0 ? 0 : listenPort + i;
    let tcp: Listener | undefined;
    try {
      if (settings.enableTcp) tcp = await network.listen({ host, port });
    } catch (e) {
      lastError = e;
      continue;
    }
    if (!wantUdp) return { tcp, udp: undefined, port: tcp!.addr.port, warning: undefined };
    const udpPort = tcp?.addr.port ?? port;
    try {
      const udp = await network.bindUdp({ host, port: udpPort });
      return { tcp, udp, port: tcp?.addr.port ?? udp.addr.port, warning: undefined };
    } catch (e) {
      lastError = e;
      if (!tcp) continue; // no TCP: find a port UDP can have
      if (listenPort !== 0 && i < tries - 1) {
        tcp.close(); // try the next port for both
        continue;
      }
      return await udpElsewhere(network, host, tcp, e);
    }
  }
  throw new Error(`Cannot listen on ${host}:${listenPort}..${listenPort + tries - 1}`, {
    cause: lastError,
  });
}

/** TCP has its port and UDP cannot share it: UDP takes any port (uTP dials only). */
async function udpElsewhere(
  network: Network,
  host: string,
  tcp: Listener,
  why: unknown,
): Promise<BoundListeners> {
  const reason = why instanceof Error ? why.message : String(why);
  try {
    const udp = await network.bindUdp({ host, port: 0 });
    return {
      tcp,
      udp,
      port: tcp.addr.port,
      warning: `UDP port ${tcp.addr.port} is taken (${reason}): uTP and the DHT use ` +
        `${udp.addr.port}; incoming uTP will not reach us`,
    };
  } catch (e) {
    return {
      tcp,
      udp: undefined,
      port: tcp.addr.port,
      warning: `No UDP socket (${
        e instanceof Error ? e.message : String(e)
      }): uTP and the DHT are off`,
    };
  }
}

/** The address peers dial: TCP's listen address, or the UDP socket's without TCP. */
export function listenAddress(bound: BoundListeners): PeerAddress | undefined {
  return bound.tcp?.addr ?? bound.udp?.addr;
}
