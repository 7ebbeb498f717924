/**
 * Deno binding of {@linkcode UdpSocketLike}: `Deno.listenDatagram` where the `net`
 * unstable feature is on (this repository's deno.json turns it on), else `node:dgram`,
 * which needs no flag, so the DHT and UDP trackers (client and server) also work for
 * library users who run without `--unstable-net`. Both copy each datagram out of a reused
 * receive buffer: `DatagramConn.receive()` without a buffer allocates 64 KiB per datagram,
 * which under a flood is garbage at 64 KiB a packet. Several receives may wait at once.
 * Also a DNS resolver for DHT bootstrap routers.
 *
 * Layer: platform.
 * @module
 */
import dgram from "node:dgram";
import type { Datagram, DatagramInfo, PeerAddress, UdpSocketLike } from "../runtime/types.ts";

/** Largest UDP payload over IPv4 (65,535 − 8 − 20). */
const MAX_DATAGRAM_BYTES = 65_507;

class DenoUdpSocket implements UdpSocketLike {
  readonly addr: PeerAddress;
  #conn: Deno.DatagramConn;
  readonly #maxBytes: number;
  /** Receive buffers not in use; one per concurrent `receive`, kept for reuse. */
  readonly #spare: Uint8Array[] = [];
  #closed = false;

  constructor(conn: Deno.DatagramConn, maxBytes: number) {
    this.#conn = conn;
    this.#maxBytes = maxBytes;
    const a = conn.addr as Deno.NetAddr;
    this.addr = { host: a.hostname, port: a.port };
  }

  async send(data: Uint8Array, to: PeerAddress): Promise<void> {
    if (this.#closed) return;
    try {
      await this.#conn.send(data, { transport: "udp", hostname: to.host, port: to.port });
    } catch {
      // UDP is lossy by contract: unreachable hosts, closed sockets and ICMP errors are dropped
    }
  }

  async receive(): Promise<Datagram | null> {
    const buffer = this.#spare.pop() ?? new Uint8Array(this.#maxBytes);
    try {
      const got = await this.receiveInto(buffer);
      return got && { data: buffer.slice(0, got.length), from: got.from };
    } finally {
      if (this.#spare.length < 16) this.#spare.push(buffer);
    }
  }

  async receiveInto(buffer: Uint8Array): Promise<DatagramInfo | null> {
    if (this.#closed) return null;
    try {
      const [data, from] = await this.#conn.receive(buffer);
      const a = from as Deno.NetAddr;
      return { length: data.length, from: { host: a.hostname, port: a.port } };
    } catch (e) {
      if (
        this.#closed || e instanceof Deno.errors.BadResource || e instanceof Deno.errors.Interrupted
      ) {
        return null;
      }
      throw e;
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch {
      // already closed by the runtime: nothing left to release
    }
  }
}

/**
 * `node:dgram` fallback: datagrams are queued (at most 1,024) until `receive` or
 * `receiveInto` takes them; pending calls are served in order.
 */
class NodeUdpSocket implements UdpSocketLike {
  readonly addr: PeerAddress;
  readonly #socket: dgram.Socket;
  readonly #queue: Datagram[] = [];
  readonly #waiters: ((d: Datagram | null) => void)[] = [];
  #closed = false;

  private constructor(socket: dgram.Socket) {
    this.#socket = socket;
    const a = socket.address();
    this.addr = { host: a.address, port: a.port };
    socket.on("message", (msg: Uint8Array, rinfo: { address: string; port: number }) => {
      const d = { data: new Uint8Array(msg), from: { host: rinfo.address, port: rinfo.port } };
      const waiter = this.#waiters.shift();
      if (waiter) waiter(d);
      else if (this.#queue.length < 1024) this.#queue.push(d); // else dropped, as UDP may
    });
    socket.on("error", () => {/* lossy by contract; send errors are per datagram */});
  }

  static bind(addr: PeerAddress, maxBytes: number): Promise<UdpSocketLike> {
    return new Promise((resolve, reject) => {
      const type = addr.host.includes(":") ? "udp6" : "udp4";
      // Deno's node:dgram (2.9.6) allocates `recvBufferSize` bytes (default 64 KiB, doubled
      // on Linux as Node reports it) for every datagram it receives and only records the
      // option (no SO_RCVBUF); a tracker under a flood would make 64 KiB of garbage a packet.
      const socket = maxBytes < MAX_DATAGRAM_BYTES
        ? dgram.createSocket({ type, recvBufferSize: Math.ceil(maxBytes / 2) })
        : dgram.createSocket(type);
      socket.once("error", reject);
      socket.bind(addr.port, addr.host, () => {
        socket.off("error", reject);
        resolve(new NodeUdpSocket(socket));
      });
    });
  }

  send(data: Uint8Array, to: PeerAddress): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return new Promise((resolve) => {
      try {
        this.#socket.send(data, to.port, to.host, () => resolve());
      } catch {
        resolve(); // UDP is lossy by contract
      }
    });
  }

  receive(): Promise<Datagram | null> {
    if (this.#queue.length > 0) return Promise.resolve(this.#queue.shift()!);
    if (this.#closed) return Promise.resolve(null);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  async receiveInto(buffer: Uint8Array): Promise<DatagramInfo | null> {
    const d = await this.receive();
    if (d === null) return null;
    const length = Math.min(d.data.length, buffer.length);
    buffer.set(d.data.subarray(0, length));
    return { length, from: d.from };
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#socket.close();
    for (const waiter of this.#waiters.splice(0)) waiter(null);
  }
}

/**
 * Whether `bindUdp` uses `Deno.listenDatagram` (the `net` unstable feature is on); when
 * not, it uses `node:dgram`, about 3× slower per datagram (about 22,000 against 70,000 a second here).
 * @returns true with `--unstable-net` (or deno.json's `"unstable": ["net"]`)
 */
export function isNativeUdp(): boolean {
  return typeof Deno.listenDatagram === "function";
}

/** Options of {@linkcode bindUdp}. */
export interface BindUdpOptions {
  /**
   * Largest datagram to receive whole, bytes; longer ones are cut. Default 65,507. A server
   * that expects small requests (BEP 15: at most 1,496 B) sets it to keep the per-datagram
   * receive buffer small.
   */
  readonly maxDatagramBytes?: number;
  /** `"node"` forces the `node:dgram` binding (tests); default: `Deno.listenDatagram` when available. */
  readonly backend?: "deno" | "node";
}

/**
 * Binds a UDP socket.
 * @param addr local address; port 0 picks a free port
 * @param options largest datagram, binding
 * @returns the socket; `addr` holds the bound port
 * @throws {Deno.errors.AddrInUse} when the port is taken
 */
export async function bindUdp(
  addr: PeerAddress,
  options: BindUdpOptions = {},
): Promise<UdpSocketLike> {
  const maxBytes = Math.min(MAX_DATAGRAM_BYTES, options.maxDatagramBytes ?? MAX_DATAGRAM_BYTES);
  if (options.backend === "node" || !isNativeUdp()) return await NodeUdpSocket.bind(addr, maxBytes);
  const conn = Deno.listenDatagram({ transport: "udp", hostname: addr.host, port: addr.port });
  return await Promise.resolve(new DenoUdpSocket(conn, maxBytes));
}

/**
 * Binds `0.0.0.0:group.port` shared with other programs (`SO_REUSEADDR`, as every LSD
 * client binds it) and joins the IPv4 multicast group `group.host` on the interface of
 * address `iface` ("0.0.0.0": the system's choice). Needs `Deno.listenDatagram` (the `net`
 * unstable feature); without it LSD is off.
 * @param group the multicast group and port
 * @param iface the local interface's address
 * @returns the socket: it receives what is sent to the group, our own sends included
 * @throws {Error} without the `net` unstable feature, or when the group cannot be joined
 */
export async function bindMulticastUdp(group: PeerAddress, iface: string): Promise<UdpSocketLike> {
  if (!isNativeUdp()) throw new Error("Cannot join a multicast group without --unstable-net");
  const conn = Deno.listenDatagram({
    transport: "udp",
    hostname: "0.0.0.0",
    port: group.port,
    reuseAddress: true,
  });
  try {
    await conn.joinMulticastV4(group.host, iface);
  } catch (e) {
    conn.close();
    throw e;
  }
  return new DenoUdpSocket(conn, MAX_DATAGRAM_BYTES);
}

/**
 * Resolves a hostname to IPv4 (then IPv6) literals; an IP literal resolves to itself.
 * @param host the name
 * @returns the addresses, empty when the name does not resolve
 */
export async function resolveHost(host: string): Promise<string[]> {
  if (/^[\d.]+$/.test(host) || host.includes(":")) return [host];
  for (const type of ["A", "AAAA"] as const) {
    try {
      const found = await Deno.resolveDns(host, type);
      if (found.length > 0) return found;
    } catch {
      // NXDOMAIN, no network or no resolver: try the next record type, then report none
    }
  }
  return [];
}
