/**
 * The session's connections before a torrent takes them: the listen socket's accept loop
 * with its caps (pending handshakes, total connections: RELIABILITY PW11), outgoing dials
 * with the connect timeout, and the BEP 3 handshake both ways. A connection that passes
 * is handed to the torrent its info-hash names. Transports plug in here (the `Conn`
 * beneath a peer connection).
 *
 * Layer: driver.
 * @module
 */
import type { Clock, Conn, Listener, Network, PeerAddress } from "../runtime/types.ts";
import { readHandshake, writeHandshake } from "../net/handshake_io.ts";
import type { HandshakeResult } from "../net/handshake_io.ts";
import { bytesEqual, toHex } from "../util/bytes.ts";
import type { Settings } from "./settings.ts";

/** The torrent side of a connection: what the manager hands a handshaken connection to. */
export interface ConnectionTarget {
  /** Raw info-hash. */
  readonly infoHash: Uint8Array;
  /** True once stopped (no new connections). */
  readonly isStopped: boolean;
  /** Takes over the connection; a falsy result means it was refused (and closed). */
  attach(conn: Conn, hs: HandshakeResult, outgoing: boolean): unknown;
}

/** What the manager needs from its session. */
export interface ConnectionManagerOptions {
  /** Engine settings. */
  readonly settings: Settings;
  /** Sockets. */
  readonly network: Network;
  /** Timeouts. */
  readonly clock: Clock;
  /** Our peer id. */
  readonly peerId: Uint8Array;
  /** The torrent with this hex info-hash, if the session has it. */
  find(infoHashHex: string): ConnectionTarget | undefined;
  /** Connections held by torrents (for the session-wide cap). */
  attachedCount(): number;
  /** Whether we run a DHT node (the handshake's DHT bit). */
  dhtEnabled(): boolean;
}

/** Accepts and dials connections for every torrent of a session. */
export class ConnectionManager {
  readonly #o: ConnectionManagerOptions;
  readonly #conns = new Set<Conn>();
  #pendingHandshakes = 0;
  #closed = false;

  /** A manager with nothing listening yet. */
  constructor(options: ConnectionManagerOptions) {
    this.#o = options;
  }

  /** Connections in the handshake (for the session-wide cap). */
  get pendingHandshakes(): number {
    return this.#pendingHandshakes;
  }

  /** Accepts from `listener` until it closes. */
  async acceptFrom(listener: Listener): Promise<void> {
    const s = this.#o.settings;
    for await (const conn of listener) {
      if (this.#closed) {
        conn.close();
        break;
      }
      // PW11: cap pending handshakes and total connections.
      const total = this.#pendingHandshakes + this.#o.attachedCount();
      if (this.#pendingHandshakes >= s.maxPendingHandshakes || total >= s.maxConnections) {
        conn.close();
        continue;
      }
      void this.#accept(conn);
    }
  }

  /**
   * Dials `addr` for `torrent` and hands it over after the handshake.
   * @returns true once the torrent took the connection; false on any failure
   */
  async dial(addr: PeerAddress, infoHashHex: string): Promise<boolean> {
    const torrent = this.#o.find(infoHashHex);
    if (!torrent || this.#closed) return false;
    const { clock, network, settings } = this.#o;
    const abort = new AbortController();
    const timer = clock.schedule(settings.connectTimeoutMs, () => abort.abort());
    let conn: Conn | undefined;
    try {
      const dialedAt = clock.now();
      conn = await network.dial(addr, { signal: abort.signal });
      const connectMs = clock.now() - dialedAt;
      this.#conns.add(conn);
      await writeHandshake(conn, torrent.infoHash, this.#local());
      const hs = {
        ...await readHandshake(conn, clock, settings.handshakeTimeoutMs),
        connectMs,
      };
      if (!bytesEqual(hs.remote.infoHash, torrent.infoHash)) throw new Error("wrong info-hash");
      if (bytesEqual(hs.remote.peerId, this.#o.peerId)) throw new Error("connected to ourselves");
      return !!torrent.attach(conn, hs, true);
    } catch {
      conn?.close();
      return false; // the peer list backs off this address
    } finally {
      timer.cancel();
      if (conn) this.#conns.delete(conn);
    }
  }

  /** Closes every connection still in its handshake. */
  close(): void {
    this.#closed = true;
    for (const c of this.#conns) c.close();
  }

  async #accept(conn: Conn): Promise<void> {
    const { clock, settings } = this.#o;
    this.#pendingHandshakes++;
    this.#conns.add(conn);
    try {
      const hs = await readHandshake(conn, clock, settings.handshakeTimeoutMs);
      const torrent = this.#o.find(toHex(hs.remote.infoHash));
      if (!torrent || torrent.isStopped || bytesEqual(hs.remote.peerId, this.#o.peerId)) {
        conn.close();
        return;
      }
      const answeredAt = clock.now();
      await writeHandshake(conn, hs.remote.infoHash, this.#local());
      torrent.attach(conn, { ...hs, answeredAt }, false);
    } catch {
      conn.close(); // a bad handshake only costs the peer its own connection
    } finally {
      this.#pendingHandshakes--;
      this.#conns.delete(conn);
    }
  }

  #local(): { peerId: Uint8Array; dht: boolean } {
    return { peerId: this.#o.peerId, dht: this.#o.dhtEnabled() };
  }
}
