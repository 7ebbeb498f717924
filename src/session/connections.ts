/**
 * The session's connections before a torrent takes them: the listen socket's accept loop
 * with its admission policy (total connections, and the pending-handshake slots of
 * src/net/admission.ts: at most a few per address, and a new address displaces the oldest
 * handshake of the heaviest rather than being refused: RELIABILITY PW11), outgoing dials
 * with the connect timeout, message stream encryption (MSE/PE, src/net/mse) and the BEP 3
 * handshake both ways. A connection that passes is handed to the torrent its info-hash
 * names, as a `Conn` that may decrypt beneath the peer connection.
 *
 * Transports: TCP and uTP (BEP 29, over the DHT's UDP socket) are accepted alike; a dial
 * tries uTP first with TCP after a head start (transport_dial.ts), and keeps to the
 * transport that worked for that address.
 *
 * Encryption (`Settings.encryption`):
 * - incoming: plain BitTorrent and MSE are told apart by the first bytes; an MSE
 *   initiator names its torrent by HASH('req2', info-hash), matched among all torrents
 *   of the session. `"require"` refuses plain BitTorrent and plaintext MSE.
 * - outgoing: `"prefer"` (the default) dials MSE offering RC4 and plaintext (a peer that
 *   requires encryption picks RC4, the others usually plaintext, so most connections
 *   pay no cipher), and when a peer that answered hangs up on it, dials again in plain
 *   BitTorrent; what worked is remembered per address. `"require"` dials MSE with RC4
 *   only; `"plaintext"` dials plain BitTorrent only.
 *
 * Layer: driver.
 * @module
 */
import type { Clock, Conn, Network, PeerAddress, Random } from "../runtime/types.ts";
import { dialTransport, type Transport } from "./transport_dial.ts";
import { handshakeBytes, readHandshake, writeHandshake } from "../net/handshake_io.ts";
import type { HandshakeResult } from "../net/handshake_io.ts";
import { acceptMse, initiateMse, MseRetryError, PrefixedConn } from "../net/mse/mod.ts";
import { HandshakeAdmission } from "../net/admission.ts";
import { bytesEqual, toHex } from "../util/bytes.ts";
import { formatAddress } from "../util/address.ts";
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
  /** MSE keys and padding. */
  readonly random: Random;
  /** Our peer id. */
  readonly peerId: Uint8Array;
  /** The torrent with this hex info-hash, if the session has it. */
  find(infoHashHex: string): ConnectionTarget | undefined;
  /** The info-hash of the torrent whose HASH('req2', info-hash) is `req2` (MSE). */
  findByReq2(req2: Uint8Array): Uint8Array | undefined;
  /** Connections held by torrents (for the session-wide cap). */
  attachedCount(): number;
  /** Whether we run a DHT node (the handshake's DHT bit). */
  dhtEnabled(): boolean;
}

/** How a dial opens the stream. */
type DialMode = "mse" | "plain";

/** The uTP side a manager dials and accepts on (src/net/utp's UtpSocket). */
export interface UtpTransport extends AsyncIterable<Conn> {
  /** Opens a connection. */
  dial(addr: PeerAddress, options: { signal?: AbortSignal }): Promise<Conn>;
}

/** Addresses whose working dial mode is remembered, at most. */
const MAX_REMEMBERED = 4096;

/** Accepts and dials connections for every torrent of a session. */
export class ConnectionManager {
  readonly #o: ConnectionManagerOptions;
  readonly #conns = new Set<Conn>();
  /** What worked when we dialled each address (MSE or plain, TCP or uTP), newest last. */
  readonly #worked = new Map<string, { mode: DialMode; transport: Transport }>();
  #utp: UtpTransport | undefined;
  /** Incoming connections in their handshake (PW11). */
  readonly #admission: HandshakeAdmission<Conn>;
  #closed = false;

  /** A manager with nothing listening yet. */
  constructor(options: ConnectionManagerOptions) {
    this.#o = options;
    this.#admission = new HandshakeAdmission({
      maxPending: options.settings.maxPendingHandshakes,
      maxPerAddress: options.settings.maxPendingHandshakesPerIp,
    });
  }

  /** Connections in the handshake (for the session-wide cap). */
  get pendingHandshakes(): number {
    return this.#admission.size;
  }

  /** Accepts uTP connections from `utp` until it closes, and dials uTP from now on. */
  async acceptUtp(utp: UtpTransport): Promise<void> {
    this.#utp = utp;
    await this.acceptFrom(utp, "utp");
  }

  /** Accepts from `listener` (TCP, or uTP) until it closes. */
  async acceptFrom(listener: AsyncIterable<Conn>, transport: Transport = "tcp"): Promise<void> {
    for await (const conn of listener) {
      if (this.#closed) {
        conn.close();
        break;
      }
      // PW11: pending handshakes and attached connections share maxConnections; a new
      // address takes the slot of an older pending handshake rather than being refused.
      const room = this.#o.settings.maxConnections - this.#o.attachedCount();
      const dropped = this.#admission.admit(conn.remoteAddr.host, conn, room);
      for (const old of dropped) old.close(); // its #accept() fails and ends
      if (!dropped.includes(conn)) void this.#accept(conn, transport);
    }
  }

  /**
   * Dials `addr` for a torrent and hands it over after the handshake, encrypted as the
   * settings say; a peer that hangs up on one mode is dialled once more in the other.
   * @returns true once the torrent took the connection; false on any failure
   */
  async dial(addr: PeerAddress, infoHashHex: string): Promise<boolean> {
    const key = formatAddress(addr);
    const first = this.#firstMode(key);
    const outcome = await this.#dialOnce(addr, infoHashHex, first, key);
    if (outcome.result === "attached") return this.#remember(key, first, outcome.transport);
    const retry: DialMode | undefined = outcome.result === "mse-retry"
      ? "mse" // libtorrent hung up on a secret with a leading zero byte: new keys will do
      : outcome.result === "refused" && this.#o.settings.encryption === "prefer"
      ? (first === "mse" ? "plain" : "mse")
      : undefined;
    if (retry === undefined) return false;
    const again = await this.#dialOnce(addr, infoHashHex, retry, key, outcome.transport);
    return again.result === "attached" && this.#remember(key, retry, again.transport);
  }

  /** Closes every connection still in its handshake. */
  close(): void {
    this.#closed = true;
    for (const c of this.#conns) c.close();
  }

  #firstMode(key: string): DialMode {
    const enc = this.#o.settings.encryption;
    if (enc === "plaintext") return "plain";
    if (enc === "require") return "mse";
    return this.#worked.get(key)?.mode ?? "mse";
  }

  #remember(key: string, mode: DialMode, transport: Transport | undefined): true {
    this.#worked.delete(key);
    this.#worked.set(key, { mode, transport: transport ?? "tcp" });
    if (this.#worked.size > MAX_REMEMBERED) this.#worked.delete(this.#worked.keys().next().value!);
    return true;
  }

  /**
   * The transports to try for `key`, preferred first, and the head start of the first: a
   * peer we know nothing about is dialled over uTP and TCP at once (uTP preferred); one
   * that worked over uTP gets uTP with TCP after `utpFallbackMs`; one that worked over
   * TCP gets TCP, and uTP only if TCP fails.
   */
  #transportPlan(
    key: string,
    only: Transport | undefined,
  ): { order: Transport[]; headStartMs: number } {
    const s = this.#o.settings;
    const utp = s.enableUtp && this.#utp !== undefined;
    if (only) return { order: only === "utp" && !utp ? [] : [only], headStartMs: 0 };
    const worked = this.#worked.get(key)?.transport;
    if (!utp) return { order: s.enableTcp ? ["tcp"] : [], headStartMs: 0 };
    if (!s.enableTcp) return { order: ["utp"], headStartMs: 0 };
    if (worked === "tcp") return { order: ["tcp", "utp"], headStartMs: s.connectTimeoutMs };
    return { order: ["utp", "tcp"], headStartMs: worked === "utp" ? s.utpFallbackMs : 0 };
  }

  /**
   * One dial in one mode.
   * @returns `"attached"`; `"refused"` when the peer answered the connect but not the
   *   handshake (worth one more try in the other mode); `"mse-retry"`; `"failed"`
   */
  async #dialOnce(
    addr: PeerAddress,
    infoHashHex: string,
    mode: DialMode,
    key: string,
    only?: Transport,
  ): Promise<
    { result: "attached" | "refused" | "mse-retry" | "failed"; transport?: Transport | undefined }
  > {
    const torrent = this.#o.find(infoHashHex);
    if (!torrent || this.#closed) return { result: "failed" };
    const { clock, network, settings } = this.#o;
    const abort = new AbortController();
    const timer = clock.schedule(settings.connectTimeoutMs, () => abort.abort());
    let conn: Conn | undefined;
    let transport: Transport | undefined;
    try {
      const opened = await dialTransport(addr, {
        network,
        utp: this.#utp,
        clock,
        ...this.#transportPlan(key, only),
        graceMs: settings.utpGraceMs,
        signal: abort.signal,
      });
      timer.cancel();
      conn = opened.conn;
      transport = opened.transport;
      this.#conns.add(conn);
      const { stream, encrypted, mse } = await this.#openOutgoing(conn, torrent.infoHash, mode);
      const hs = {
        ...await readHandshake(stream, clock, settings.handshakeTimeoutMs),
        connectMs: opened.connectMs,
        transport,
        encrypted,
        mse,
      };
      if (!bytesEqual(hs.remote.infoHash, torrent.infoHash)) throw new Error("wrong info-hash");
      if (bytesEqual(hs.remote.peerId, this.#o.peerId)) throw new Error("connected to ourselves");
      return { result: torrent.attach(stream, hs, true) ? "attached" : "failed", transport };
    } catch (e) {
      conn?.close();
      if (e instanceof MseRetryError) return { result: "mse-retry", transport };
      // the peer list backs off an address that did not connect
      return { result: conn ? "refused" : "failed", transport };
    } finally {
      timer.cancel();
      if (conn) this.#conns.delete(conn);
    }
  }

  /** Our side of the opening: the MSE handshake carrying our BitTorrent handshake, or plain. */
  async #openOutgoing(
    conn: Conn,
    infoHash: Uint8Array,
    mode: DialMode,
  ): Promise<{ stream: Conn; encrypted: boolean; mse: boolean }> {
    const { clock, random, settings } = this.#o;
    if (mode === "plain") {
      await writeHandshake(conn, infoHash, this.#local());
      return { stream: conn, encrypted: false, mse: false };
    }
    const result = await initiateMse(conn, {
      infoHash,
      random,
      clock,
      timeoutMs: settings.handshakeTimeoutMs,
      allow: settings.encryption === "require" ? "rc4" : "both",
      initialPayload: handshakeBytes(infoHash, this.#local()),
      // PeerConnection gives up every buffer it writes: encrypt in place, no copy.
      inPlaceWrites: true,
    });
    return { stream: result.conn, encrypted: result.selected === "rc4", mse: true };
  }

  async #accept(conn: Conn, transport: Transport): Promise<void> {
    const { clock, random, settings } = this.#o;
    this.#conns.add(conn);
    try {
      const require = settings.encryption === "require";
      const opened = await acceptMse(conn, {
        random,
        clock,
        timeoutMs: settings.handshakeTimeoutMs,
        allow: require ? "rc4" : "both",
        allowPlainBitTorrent: !require,
        findInfoHash: (req2) => this.#o.findByReq2(req2),
        inPlaceWrites: true,
      });
      const stream = opened.initialPayload.length > 0
        ? new PrefixedConn(opened.conn, opened.initialPayload)
        : opened.conn;
      const hs = await readHandshake(stream, clock, settings.handshakeTimeoutMs);
      const torrent = this.#o.find(toHex(hs.remote.infoHash));
      const named = opened.infoHash;
      if (
        !torrent || torrent.isStopped || bytesEqual(hs.remote.peerId, this.#o.peerId) ||
        (named !== undefined && !bytesEqual(named, hs.remote.infoHash))
      ) {
        stream.close();
        return;
      }
      const answeredAt = clock.now();
      await writeHandshake(stream, hs.remote.infoHash, this.#local());
      const encryption = { encrypted: opened.encrypted, mse: opened.selected !== undefined };
      torrent.attach(stream, { ...hs, answeredAt, transport, ...encryption }, false);
    } catch {
      conn.close(); // a bad handshake only costs the peer its own connection
    } finally {
      this.#admission.done(conn);
      this.#conns.delete(conn);
    }
  }

  #local(): { peerId: Uint8Array; dht: boolean } {
    return { peerId: this.#o.peerId, dht: this.#o.dhtEnabled() };
  }
}
