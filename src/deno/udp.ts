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
import type { Datagram, DatagramInfo, PeerAddress, UdpSocketLike } from "../runtime/types.ts";

/** The UDP maximum: a receive buffer this large never truncates. */
const MAX_DATAGRAM_BYTES = 65_536;

class DenoUdpSocket implements UdpSocketLike {
  readonly addr: PeerAddress;
  #conn: Deno.DatagramConn;
  #closed = false;
  /** `receive()` reads into this and copies out the datagram (Deno would allocate 64 KiB). */
  #scratch: Uint8Array | undefined = new Uint8Array(MAX_DATAGRAM_BYTES);

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
    // one scratch buffer; a concurrent second receive() gets its own
    const scratch = this.#scratch ?? new Uint8Array(MAX_DATAGRAM_BYTES);
    this.#scratch = undefined;
    try {
      const got = await this.receiveInto(scratch);
      return got && { data: scratch.slice(0, got.length), from: got.from };
    } finally {
      this.#scratch = scratch;
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
      const w = this.#waiters.shift();
      if (w) w(d);
      else if (this.#queue.length < 1024) this.#queue.push(d); // else dropped, as UDP may
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
    for (const w of this.#waiters.splice(0)) w(null);
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
