/**
 * Deno binding of {@linkcode UdpSocketLike}: `Deno.listenDatagram` where the `net`
 * unstable feature is on (this repository's deno.json turns it on), else `node:dgram`,
 * which needs no flag, so the DHT and UDP trackers also work for library users who run
 * without `--unstable-net`. Also a DNS resolver for DHT bootstrap routers.
 *
 * Layer: platform.
 * @module
 */
import dgram from "node:dgram";
import type { Datagram, PeerAddress, UdpSocketLike } from "../runtime/types.ts";

class DenoUdpSocket implements UdpSocketLike {
  readonly addr: PeerAddress;
  #conn: Deno.DatagramConn;
  readonly #buffer = new Uint8Array(65536);
  #closed = false;

  constructor(conn: Deno.DatagramConn) {
    this.#conn = conn;
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
    if (this.#closed) return null;
    try {
      const [data, from] = await this.#conn.receive(this.#buffer);
      const a = from as Deno.NetAddr;
      return { data: data.slice(), from: { host: a.hostname, port: a.port } };
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

/** `node:dgram` fallback: datagrams are queued (at most 1,024) until `receive` takes them. */
class NodeUdpSocket implements UdpSocketLike {
  readonly addr: PeerAddress;
  readonly #socket: dgram.Socket;
  readonly #queue: Datagram[] = [];
  #waiter: ((d: Datagram | null) => void) | undefined;
  #closed = false;

  private constructor(socket: dgram.Socket) {
    this.#socket = socket;
    const a = socket.address();
    this.addr = { host: a.address, port: a.port };
    socket.on("message", (msg: Uint8Array, rinfo: { address: string; port: number }) => {
      const d = { data: new Uint8Array(msg), from: { host: rinfo.address, port: rinfo.port } };
      if (this.#waiter) {
        const w = this.#waiter;
        this.#waiter = undefined;
        w(d);
      } else if (this.#queue.length < 1024) this.#queue.push(d); // else dropped, as UDP may
    });
    socket.on("error", () => {/* lossy by contract; send errors are per datagram */});
  }

  static bind(addr: PeerAddress): Promise<UdpSocketLike> {
    return new Promise((resolve, reject) => {
      const socket = dgram.createSocket(addr.host.includes(":") ? "udp6" : "udp4");
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
    return new Promise((resolve) => this.#waiter = resolve);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#socket.close();
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.(null);
  }
}

/**
 * Binds a UDP socket.
 * @param addr local address; port 0 picks a free port
 * @returns the socket; `addr` holds the bound port
 * @throws {Deno.errors.AddrInUse} when the port is taken
 */
export async function bindUdp(addr: PeerAddress): Promise<UdpSocketLike> {
  if (typeof Deno.listenDatagram !== "function") return await NodeUdpSocket.bind(addr);
  const conn = Deno.listenDatagram({ transport: "udp", hostname: addr.host, port: addr.port });
  return await Promise.resolve(new DenoUdpSocket(conn));
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
