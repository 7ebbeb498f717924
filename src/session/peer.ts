/**
 * The protocol state of one connected peer: one record, owned by its torrent, beside the
 * transport it talks through (`PeerConnection`). Everything a torrent knows about a peer
 * lives here, so closing a peer drops it in one place:
 * - identity: address, handshake, the listen address it told us, its client name;
 * - BEP 3 flags and the pieces it has (or, before a magnet's metadata, what it announced);
 * - our requests to it: the rules in `requests` (src/picker/request_queue.ts) — which
 *   blocks are out is the picker's request book, never a second copy here;
 * - its requests to us: `uploads`, written only by the Uploader;
 * - payload meters, BEP 10 extension ids and the peer's PEX state.
 *
 * Policies that rank or screen peers (choker, seed suggester, super-seeder) take snapshots
 * keyed by `id`; the message handler and the uploader are the only writers of this record.
 *
 * Layer: driver (a data record).
 * @module
 */
import { RateMeter } from "../choker/mod.ts";
import { UploadQueue, type UploadQueueOptions } from "../choker/upload_queue.ts";
import { RequestQueue, type RequestQueueOptions } from "../picker/request_queue.ts";
import {
  PeerConnection,
  type PeerConnectionHandlers,
  type PeerTransportLimits,
} from "../net/peer_connection.ts";
import type { HandshakeResult, RemoteHandshake } from "../net/handshake_io.ts";
import type { Clock, Conn } from "../runtime/types.ts";
import type { PexReceiver, PexSender } from "../extensions/mod.ts";
import type { PeerAddress } from "../runtime/types.ts";
import { Bitfield } from "../util/bitfield.ts";
import type { WireMessage } from "../wire/mod.ts";
import { EarlyPieces } from "../wire/early_pieces.ts";

/** The peer's ut_pex state (BEP 11), when both sides offered it. */
export interface PeerPex {
  /** What we tell it. */
  readonly sender: PexSender;
  /** What it tells us, with its limits. */
  readonly receiver: PexReceiver;
}

/** Construction options of {@linkcode Peer}. */
export interface PeerOptions {
  /** Request-queue and upload-queue settings (the engine's Settings fit). */
  readonly settings: RequestQueueOptions & UploadQueueOptions;
  /** Piece count, when known. */
  readonly pieceCount: number | undefined;
  /** A round trip measured by our TCP connect (outgoing connections). */
  readonly connectMs?: number | undefined;
  /** When we answered its handshake (incoming connections). */
  readonly answeredAt?: number | undefined;
  /** The transport beneath (default TCP). */
  readonly transport?: "tcp" | "utp" | undefined;
  /** The payload stream is RC4-encrypted. */
  readonly encrypted?: boolean | undefined;
  /** The connection opened with an MSE/PE handshake (RC4 or plaintext selected). */
  readonly mse?: boolean | undefined;
}

/** One connected peer of a torrent. */
export class Peer {
  /** The transport. */
  readonly conn: PeerConnection;
  /** `host:port` of the connection (the key of the torrent's peer map). */
  readonly id: string;
  /** Listen address the peer told us (BEP 10 `p`), or the address we dialled. */
  listenAddr: PeerAddress | undefined;
  /** Client name from BEP 10 `v` or the peer id. */
  clientName = "";

  /** BEP 3: we choke it. */
  amChoking = true;
  /** BEP 3: we want its pieces. */
  amInterested = false;
  /** BEP 3: it chokes us. */
  peerChoking = true;
  /** BEP 3: it wants our pieces. */
  peerInterested = false;
  /** Pieces it has (empty until the piece count is known). */
  has: Bitfield;
  /** It has every piece (HAVE_ALL, a full bitfield, or HAVEs that filled it). */
  isSeed = false;
  /** What it announced before the piece count was known; undefined after. */
  early: EarlyPieces | undefined;
  /** We told it our pieces (a bitfield or HAVE_ALL); false after HAVE_NONE in the metadata phase. */
  announcedPieces = false;

  /** Rules of our requests to it. */
  readonly requests: RequestQueue;
  /** Its requests to us (written by the Uploader only). */
  readonly uploads: UploadQueue;
  /** Payload download meter (its upload to us). */
  readonly downloadMeter: RateMeter = new RateMeter();
  /** Payload upload meter (ours to it). */
  readonly uploadMeter: RateMeter = new RateMeter();
  /** Clock ms of our last UNCHOKE to it. */
  unchokedAt = 0;
  /** Extension ids it assigned (BEP 10 `m`). */
  extensionIds: ReadonlyMap<string, number> = new Map();
  /** Its ut_pex state, when in use. */
  pex: PeerPex | undefined;
  /** The transport beneath the connection. */
  readonly transport: "tcp" | "utp";
  /** The payload stream is RC4-encrypted (MSE/PE). */
  readonly encrypted: boolean;
  /** The connection opened with an MSE/PE handshake (RC4 or plaintext selected). */
  readonly mse: boolean;

  /** A record for a connection that passed the handshake. */
  constructor(conn: PeerConnection, options: PeerOptions) {
    this.conn = conn;
    this.id = conn.id;
    if (conn.outgoing) this.listenAddr = conn.addr;
    this.has = new Bitfield(options.pieceCount ?? 0);
    if (options.pieceCount === undefined) this.early = new EarlyPieces();
    this.requests = new RequestQueue(options.settings, conn.connectedAt, {
      connectMs: options.connectMs,
      answeredAt: options.answeredAt,
    });
    this.uploads = new UploadQueue(options.settings);
    this.transport = options.transport ?? "tcp";
    this.encrypted = options.encrypted ?? false;
    this.mse = options.mse ?? false;
  }

  /** Socket's far end. */
  get addr(): PeerAddress {
    return this.conn.addr;
  }

  /** Its handshake. */
  get remote(): RemoteHandshake {
    return this.conn.remote;
  }

  /** We dialled it. */
  get outgoing(): boolean {
    return this.conn.outgoing;
  }

  /** It speaks the fast extension (BEP 6). */
  get fast(): boolean {
    return this.conn.remote.fastExtension;
  }

  /** True once its connection closed. */
  get isClosed(): boolean {
    return this.conn.isClosed;
  }

  /** Queues a message. */
  send(message: WireMessage): void {
    this.conn.send(message);
  }

  /**
   * Wraps a handshaken `Conn` in a transport and a fresh record; call {@linkcode begin}
   * once the record is registered.
   * @param settings the engine's transport, request-queue and upload-queue limits
   * @param pieceCount when known (exact bitfield checks)
   */
  static open(
    conn: Conn,
    hs: HandshakeResult,
    options: {
      readonly outgoing: boolean;
      readonly clock: Clock;
      readonly pieceCount: number | undefined;
      readonly settings: PeerOptions["settings"] & PeerTransportLimits;
    },
  ): Peer {
    const s = options.settings;
    const connection = new PeerConnection(conn, {
      clock: options.clock,
      remote: hs.remote,
      outgoing: options.outgoing,
      pieceCount: options.pieceCount,
      limits: s,
    });
    return new Peer(connection, {
      settings: s,
      pieceCount: options.pieceCount,
      connectMs: hs.connectMs,
      answeredAt: hs.answeredAt,
      transport: hs.transport,
      encrypted: hs.encrypted,
      mse: hs.mse,
    });
  }

  /** Starts reading: messages and the close go to `handlers`, after the handshake's leftover. */
  begin(handlers: PeerConnectionHandlers, leftover: Uint8Array): void {
    this.conn.start(handlers, leftover);
  }
}
