/**
 * uTP, the Micro Transport Protocol (BEP 29), with LEDBAT congestion control (RFC 6817):
 * reliable byte streams ({@linkcode Conn}s) over the UDP socket the DHT already uses, at
 * TCP-class speed on fast links and yielding to TCP on congested ones.
 *
 * - {@linkcode DatagramMux} splits one UDP socket between KRPC (the DHT) and uTP by the
 *   first byte of each datagram.
 * - {@linkcode UtpSocket} dials and accepts uTP connections over the mux's uTP port; each
 *   connection is a `Conn` (read, write with backpressure, close with FIN).
 * - {@linkcode UtpSettings} holds every limit and constant, with the reason for each.
 *
 * @example
 * ```ts
 * import { DatagramMux, UtpSocket } from "./mod.ts";
 * import { SeededRandom } from "../../util/prng.ts";
 * import { deepStrictEqual } from "node:assert";
 * let wake: (d: null) => void = () => {};
 * const udp = {
 *   addr: { host: "10.0.0.1", port: 6881 },
 *   send: () => Promise.resolve(),
 *   receive: () => new Promise<null>((resolve) => (wake = resolve)),
 *   close: () => wake(null),
 * };
 * const clock = { now: () => 0, wallNow: () => 0, schedule: () => ({ cancel() {} }) };
 * const mux = new DatagramMux(udp); // give mux.krpc to the DhtNode
 * const utp = new UtpSocket({ port: mux.utp, clock, random: new SeededRandom(1) });
 * deepStrictEqual(utp.addr.port, 6881);
 * utp.close();
 * mux.close();
 * ```
 * @module
 */
export type {
  Clock,
  Conn,
  Datagram,
  DatagramInfo,
  DialOptions,
  Logger,
  PeerAddress,
  Random,
  Timer,
  UdpSocketLike,
} from "../../runtime/types.ts";
export {
  DatagramMux,
  type DatagramMuxOptions,
  type DatagramMuxStats,
  type DatagramPort,
  type DatagramReceiver,
} from "./datagram_mux.ts";
export {
  UtpConnectionError,
  UtpSocket,
  type UtpSocketOptions,
  type UtpSocketStats,
} from "./utp_socket.ts";
export type { UtpCloseReason } from "./connection_types.ts";
export { DEFAULT_UTP_SETTINGS, resolveUtpSettings, type UtpSettings } from "./settings.ts";
