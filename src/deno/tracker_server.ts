/**
 * Deno binding of the tracker server: HTTP through the tracker's own HTTP/1.1 server
 * (`tracker_http.ts`: connection cap, header and write timeouts, accept back-off), UDP
 * (BEP 15) through `bindUdp` (`Deno.listenDatagram` when `--unstable-net` is on, else
 * `node:dgram`, so `deno run -A --no-config` works as a JSR user runs it), both on every
 * configured host (IPv4 and IPv6, e.g. `::1`), around the pure `SwarmStore`,
 * `UdpTrackerHandler` and HTTP handler. Peers expire on a timer. No socket error ends the
 * process: a failed receive, send or accept is counted and the loop goes on.
 *
 * Layer: platform.
 * @module
 */
import type { PeerAddress, UdpSocketLike } from "../runtime/types.ts";
import { SeededRandom } from "../util/prng.ts";
import { ConnectionIds } from "../tracker/server/connection_ids.ts";
import { createTrackerRequestHandler } from "../tracker/server/http_handler.ts";
import type { TrackerSettings } from "../tracker/server/settings.ts";
import { SwarmStore } from "../tracker/server/swarm_store.ts";
import { UdpTrackerHandler } from "../tracker/server/udp_handler.ts";
import { TrackerHttpServer } from "./tracker_http.ts";
import { bindUdp, isNativeUdp } from "./udp.ts";

/** Options of {@linkcode TrackerServer.start}: addresses, and any {@linkcode TrackerSettings}. */
export interface TrackerServerOptions extends Partial<TrackerSettings> {
  /** Address(es) to bind (default `"127.0.0.1"`); `"::1"` or `"::"` for IPv6. */
  readonly host?: string | readonly string[];
  /** HTTP port (0 = any free port; `false` = no HTTP). Default 6969. */
  readonly httpPort?: number | false;
  /** UDP port (0 = any free port; `false` = no UDP). Default 6969. */
  readonly udpPort?: number | false;
  /** Private tracker: only these info-hashes (20 bytes or 40 hex digits). */
  readonly allowlist?: Iterable<Uint8Array | string>;
}

/**
 * Largest UDP request read whole, bytes: a BEP 15 scrape of 74 info-hashes is 1,496 B, an
 * announce 98 B plus BEP 41 options; longer datagrams are cut and then refused.
 */
const MAX_REQUEST_BYTES = 2048;

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
  /** `"deno"` (`Deno.listenDatagram`) or `"node"` (`node:dgram`, without `--unstable-net`). */
  readonly udpBackend: "deno" | "node";
  readonly #http: TrackerHttpServer | undefined;
  readonly #udp: UdpSocketLike[];
  readonly #loops: Promise<void>[];
  readonly #sweeper: ReturnType<typeof setInterval>;
  #closed = false;

  private constructor(
    store: SwarmStore,
    http: TrackerHttpServer | undefined,
    udp: UdpSocketLike[],
    loops: Promise<void>[],
  ) {
    this.store = store;
    this.#http = http;
    this.#udp = udp;
    this.#loops = loops;
    this.httpAddrs = http?.addrs ?? [];
    this.udpAddrs = udp.map((s) => s.addr);
    this.udpBackend = isNativeUdp() ? "deno" : "node";
    const ttlMs = store.settings.peerTtlS * 1000;
    const now = () => performance.now();
    this.#sweeper = setInterval(() => store.sweep(now()), Math.min(60_000, ttlMs / 4));
  }

  /**
   * Binds the sockets and starts serving.
   * @param options hosts, ports, settings and allowlist
   * @returns the running server
   * @throws {Deno.errors.AddrInUse} when a port is taken (sockets already bound are closed)
   * @throws {RangeError} when a setting is out of range
   */
  static async start(options: TrackerServerOptions = {}): Promise<TrackerServer> {
    const { host, httpPort, udpPort, ...rest } = options;
    const hosts = typeof host === "string" ? [host] : host ?? ["127.0.0.1"];
    const seed = new DataView(randomBytes(4).buffer).getUint32(0);
    const store = new SwarmStore({ ...rest, random: new SeededRandom(seed) });
    const s = store.settings;
    const udpHandler = new UdpTrackerHandler({ store, ids: new ConnectionIds(randomBytes(32)) });
    const now = () => performance.now();
    let http: TrackerHttpServer | undefined;
    const handler = createTrackerRequestHandler({
      store,
      now,
      extraStats: () => ({
        ...prefixed("udp", udpHandler.stats()),
        ...(http ? prefixed("http", http.stats()) : {}),
        ...memory(),
      }),
    });
    const udp: UdpSocketLike[] = [];
    try {
      if (httpPort !== false) {
        http = TrackerHttpServer.listen({
          hostnames: hosts,
          port: httpPort ?? 6969,
          handler,
          maxConnections: s.maxHttpConnections,
          headerTimeoutMs: s.httpHeaderTimeoutMs,
          writeTimeoutMs: s.httpWriteTimeoutMs,
          maxRequestLineBytes: s.maxHttpRequestLineBytes,
          maxRequestHeadBytes: s.maxHttpRequestHeadBytes,
        });
      }
      if (udpPort !== false) {
        for (const hostname of hosts) {
          const addr = { host: hostname, port: udpPort ?? 6969 };
          udp.push(await bindUdp(addr, { maxDatagramBytes: MAX_REQUEST_BYTES }));
        }
      }
    } catch (e) {
      for (const socket of udp) socket.close();
      await http?.close();
      throw e;
    }
    const loops = udp.flatMap((socket) =>
      Array.from({ length: s.udpReceivers }, () => udpLoop(socket, udpHandler, now))
    );
    return new TrackerServer(store, http, udp, loops);
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
   * Stops serving: closes the sockets and waits for every connection and loop to finish.
   * @returns resolves when everything is closed; idempotent
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#sweeper);
    for (const s of this.#udp) s.close();
    await Promise.all([this.#http?.close(), ...this.#loops]);
  }
}

/** The process's resident set and V8 heap, in MiB, for `/stats`. */
function memory(): Record<string, number> {
  const m = Deno.memoryUsage();
  const mib = (bytes: number) => Math.round(bytes / 104857.6) / 10;
  return { rss_mib: mib(m.rss), heap_used_mib: mib(m.heapUsed), heap_total_mib: mib(m.heapTotal) };
}

/** `{ acceptErrors: 1 }` → `{ http_accept_errors: 1 }`, the style of the store's own counters. */
function prefixed(prefix: string, stats: object): Record<string, number> {
  return Object.fromEntries(
    Object.entries(stats).map((
      [k, v],
    ) => [`${prefix}_${k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}`, v as number]),
  );
}

/** Answers datagrams until the socket closes; no packet and no socket error ends it early. */
async function udpLoop(
  socket: UdpSocketLike,
  handler: UdpTrackerHandler,
  now: () => number,
): Promise<void> {
  for (let errors = 0;;) {
    let datagram;
    try {
      datagram = await socket.receive();
      errors = 0;
    } catch {
      // A receive error (e.g. Windows' WSAECONNRESET after an ICMP unreachable) concerns one
      // datagram, not the socket: go on, pausing up to 100 ms if errors repeat.
      await new Promise((r) => setTimeout(r, Math.min(100, errors++)));
      continue;
    }
    if (!datagram) return; // closed
    let reply: Uint8Array | undefined;
    try {
      reply = handler.handle(datagram.data, datagram.from, now());
    } catch {
      continue; // a hostile packet must never stop the loop (RELIABILITY rule 3)
    }
    if (reply) await socket.send(reply, datagram.from); // the binding drops send errors
  }
}
