/**
 * Deno binding of {@linkcode UdpSocketLike} (`Deno.listenDatagram`, which needs the
 * `net` unstable flag: `"unstable": ["net"]` in deno.json or `--unstable-net`), and a
 * DNS resolver for DHT bootstrap routers.
 *
 * Layer: platform.
 * @module
 */
import type { Datagram, PeerAddress, UdpSocketLike } from "./types.ts";

class DenoUdpSocket implements UdpSocketLike {
  readonly addr: PeerAddress;
  #conn: Deno.DatagramConn;
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
      const [data, from] = await this.#conn.receive();
      const a = from as Deno.NetAddr;
      return { data, from: { host: a.hostname, port: a.port } };
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
 * Binds a UDP socket.
 * @param addr local address; port 0 picks a free port
 * @returns the socket; `addr` holds the bound port
 * @throws {Deno.errors.AddrInUse} when the port is taken
 * @throws {TypeError} when Deno runs without the `net` unstable feature
 */
export async function bindUdp(addr: PeerAddress): Promise<UdpSocketLike> {
  if (typeof Deno.listenDatagram !== "function") {
    throw new TypeError("Cannot bind UDP: run Deno with --unstable-net");
  }
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
