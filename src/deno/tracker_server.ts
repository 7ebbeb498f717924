/**
 * Deno binding of the tracker server: HTTP via `Deno.serve`, UDP (BEP 15) via
 * `Deno.listenDatagram`, both on every configured host (IPv4 and IPv6, e.g. `::1`), around
 * the pure `SwarmStore`, `UdpTrackerHandler` and HTTP handler. Peers expire on a timer.
 *
 * Not covered here (TS5): Deno.serve has no header timeout or connection cap of its own;
 * put a reverse proxy in front of a public deployment.
 *
 * Layer: platform.
 * @module
 */
import type { PeerAddress } from "../runtime/types.ts";
import { SeededRandom } from "../util/prng.ts";
import { ConnectionIds } from "../tracker/server/connection_ids.ts";
import { createHttpTrackerHandler } from "../tracker/server/http_handler.ts";
import { SwarmStore, type SwarmStoreOptions } from "../tracker/server/swarm_store.ts";
import { UdpTrackerHandler } from "../tracker/server/udp_handler.ts";

/** Options of {@linkcode TrackerServer.start}. */
export interface TrackerServerOptions extends Omit<SwarmStoreOptions, "random"> {
  /** Address(es) to bind (default `"127.0.0.1"`); `"::1"` or `"::"` for IPv6. */
  readonly host?: string | readonly string[];
  /** HTTP port (0 = any free port; `false` = no HTTP). Default 6969. */
  readonly httpPort?: number | false;
  /** UDP port (0 = any free port; `false` = no UDP). Default 6969. */
  readonly udpPort?: number | false;
  /** Connects answered per second per /24; 0 = unlimited. Default 1000. */
  readonly connectsPerSecondPerPrefix?: number;
  /** Concurrent receive loops per UDP socket (default 8). */
  readonly udpReceivers?: number;
}

function randomBytes(length: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(length));
}

/** A running tracker (HTTP and/or UDP). */
export class TrackerServer {
  /** The swarms. */
  readonly store: SwarmStore;
  /** Bound HTTP addresses. */
  readonly httpAddrs: readonly PeerAddress[];
  /** Bound UDP addresses. */
  readonly udpAddrs: readonly PeerAddress[];
  readonly #http: Deno.HttpServer<Deno.NetAddr>[];
  readonly #udp: Deno.DatagramConn[];
  readonly #loops: Promise<void>[];
  readonly #sweeper: ReturnType<typeof setInterval>;
  readonly #abort: AbortController;
  #closed = false;

  private constructor(
    store: SwarmStore,
    http: Deno.HttpServer<Deno.NetAddr>[],
    udp: Deno.DatagramConn[],
    loops: Promise<void>[],
    sweeper: ReturnType<typeof setInterval>,
    abort: AbortController,
  ) {
    this.store = store;
    this.#http = http;
    this.#udp = udp;
    this.#loops = loops;
    this.#sweeper = sweeper;
    this.#abort = abort;
    this.httpAddrs = http.map((s) => ({ host: s.addr.hostname, port: s.addr.port }));
    this.udpAddrs = udp.map((s) => {
      const a = s.addr as Deno.NetAddr;
      return { host: a.hostname, port: a.port };
    });
  }

  /**
   * Binds the sockets and starts serving.
   * @param options hosts, ports, interval, caps and allowlist
   * @returns the running server
   * @throws {Deno.errors.AddrInUse} when a port is taken (sockets already bound are closed)
   */
  static start(options: TrackerServerOptions = {}): Promise<TrackerServer> {
    try {
      return Promise.resolve(TrackerServer.#bind(options));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  static #bind(options: TrackerServerOptions): TrackerServer {
    const hosts = typeof options.host === "string" ? [options.host] : options.host ?? ["127.0.0.1"];
    const seed = new DataView(randomBytes(4).buffer).getUint32(0);
    const store = new SwarmStore({ ...options, random: new SeededRandom(seed) });
    const ids = new ConnectionIds(randomBytes(32));
    const udpHandler = new UdpTrackerHandler({
      store,
      ids,
      ...(options.connectsPerSecondPerPrefix === undefined
        ? {}
        : { connectsPerSecondPerPrefix: options.connectsPerSecondPerPrefix }),
    });
    const now = () => performance.now();
    const handler = createHttpTrackerHandler({
      store,
      now,
      extraStats: () => prefixed(udpHandler.stats()),
    });
    const abort = new AbortController();
    const http: Deno.HttpServer<Deno.NetAddr>[] = [];
    const udp: Deno.DatagramConn[] = [];
    try {
      for (const hostname of hosts) {
        if (options.httpPort !== false) {
          http.push(serveHttp(hostname, options.httpPort ?? 6969, abort.signal, handler));
        }
        if (options.udpPort !== false) {
          udp.push(
            Deno.listenDatagram({ transport: "udp", hostname, port: options.udpPort ?? 6969 }),
          );
        }
      }
    } catch (e) {
      abort.abort();
      for (const s of udp) s.close();
      throw e;
    }
    const loops = udp.flatMap((s) =>
      Array.from({ length: options.udpReceivers ?? 8 }, () => udpLoop(s, udpHandler, now))
    );
    const ttlMs = (options.peerTtlS ?? 2 * (options.intervalS ?? 1800)) * 1000;
    const sweeper = setInterval(
      () => store.sweep(now()),
      Math.max(1000, Math.min(60_000, ttlMs / 4)),
    );
    return new TrackerServer(store, http, udp, loops, sweeper, abort);
  }

  /** The first HTTP address, if HTTP is on. */
  get httpAddr(): PeerAddress | undefined {
    return this.httpAddrs[0];
  }

  /** The first UDP address, if UDP is on. */
  get udpAddr(): PeerAddress | undefined {
    return this.udpAddrs[0];
  }

  /**
   * Announce URLs for every bound address.
   * @returns `http://h:p/announce` for each HTTP address, then `udp://h:p/announce` for each UDP one
   */
  announceUrls(): string[] {
    const fmt = (
      a: PeerAddress,
    ) => (a.host.includes(":") ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`);
    return [
      ...this.httpAddrs.map((a) => `http://${fmt(a)}/announce`),
      ...this.udpAddrs.map((a) => `udp://${fmt(a)}/announce`),
    ];
  }

  /**
   * Stops serving: closes the sockets and waits for the HTTP servers to finish.
   * @returns resolves when everything is closed; idempotent
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#sweeper);
    this.#abort.abort();
    for (const s of this.#udp) s.close();
    await Promise.all([...this.#http.map((s) => s.finished), ...this.#loops]);
  }
}

function prefixed(stats: object): Record<string, number> {
  return Object.fromEntries(Object.entries(stats).map(([k, v]) => [`udp_${k}`, v as number]));
}

function serveHttp(
  hostname: string,
  port: number,
  signal: AbortSignal,
  handler: ReturnType<typeof createHttpTrackerHandler>,
): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve(
    {
      hostname,
      port,
      signal,
      onListen: () => {/* the caller prints addresses */},
      onError: () => new Response("Internal error\n", { status: 500 }),
    },
    (request, info) =>
      handler(request, { host: info.remoteAddr.hostname, port: info.remoteAddr.port }),
  );
}

async function udpLoop(
  socket: Deno.DatagramConn,
  handler: UdpTrackerHandler,
  now: () => number,
): Promise<void> {
  const buffer = new Uint8Array(2048);
  for (;;) {
    let data: Uint8Array, addr: Deno.Addr;
    try {
      [data, addr] = await socket.receive(buffer);
    } catch {
      return; // socket closed
    }
    const from = addr as Deno.NetAddr;
    let reply: Uint8Array | undefined;
    try {
      reply = handler.handle(data, { host: from.hostname, port: from.port }, now());
    } catch {
      continue; // a hostile packet must never stop the loop (RELIABILITY rule 3)
    }
    if (reply) {
      await socket.send(reply, from).catch(() => {/* unreachable sender: nothing to do */});
    }
  }
}
