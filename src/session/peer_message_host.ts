/**
 * What the peer message handler needs from its torrent, declared apart from the handler so
 * that the handler never imports the torrent: the host itself (settings, clock, peers,
 * state, extension and transfer sinks, and the torrent-level reactions) and, once the info
 * dictionary is known, the piece work (picker, block sink, request sink, super-seeder).
 *
 * Layer: driver (types only).
 * @module
 */
import type { PiecePicker } from "../picker/mod.ts";
import type { SuperSeeder } from "../choker/super_seeder.ts";
import type { BlockRequest } from "../choker/upload_queue.ts";
import type { Clock, Logger, PeerAddress } from "../runtime/types.ts";
import type { Peer } from "./peer.ts";
import type { Settings } from "./settings.ts";
import type { TorrentState } from "./events.ts";

/** Where blocks go: piece buffers and their verification (PiecePipeline). */
export interface BlockSink {
  /** False while requests pause after a failed write. */
  canRequest(): boolean;
  /** True when blocks of piece `index` are being assembled. */
  has(index: number): boolean;
  /** Piece buffer for `index`, allocated on first use. */
  buffer(index: number): Uint8Array;
  /** Every block of piece `index` arrived: hash and write it. */
  submit(index: number): void;
}

/** Where requests go: the upload side (Uploader). */
export interface RequestSink {
  /** A REQUEST arrived. */
  request(peer: Peer, r: BlockRequest): void;
  /** A CANCEL arrived. */
  cancel(peer: Peer, r: BlockRequest): void;
}

/** The piece work of a torrent whose info dictionary is known. */
export interface PieceWork {
  /** Pieces in the torrent. */
  readonly pieceCount: number;
  /** Byte length of piece `index`. */
  pieceSize(index: number): number;
  /** Availability, requests and verified pieces. */
  readonly picker: PiecePicker;
  /** Piece buffers and their verification. */
  readonly pipeline: BlockSink;
  /** Serves requests. */
  readonly uploader: RequestSink;
  /** BEP 16 policy, while super-seeding. */
  readonly superSeeder: SuperSeeder | undefined;
}

/** The BEP 10 side the handler talks to (ExtensionHub). */
export interface ExtensionSink {
  /** Sends our extension handshake. */
  greet(peer: Peer): void;
  /** The peer's extension handshake arrived (its ids are on the record). */
  onHandshake(peer: Peer): void;
  /** An extended message with one of our ids. */
  onMessage(peer: Peer, extendedId: number, payload: Uint8Array): void;
}

/** What the handler needs from its torrent. */
export interface PeerMessageHost {
  /** Session services: settings, time, and the log (choke and interest changes at debug). */
  readonly ctx: { readonly settings: Settings; readonly clock: Clock; readonly logger: Logger };
  /** Live peers by id (endgame CANCELs go to other peers). */
  readonly peers: ReadonlyMap<string, Peer>;
  /** The torrent's lifecycle state; requests go out only while `"downloading"`. */
  readonly state: TorrentState;
  /** BEP 10 extensions. */
  readonly extensions: ExtensionSink;
  /** Payload counters and the download limits (TransferCounter). */
  readonly transfer: { countDownload(peer: Peer, bytes: number, now?: number): void };
  /** A peer's interest or seed status changed: a regular upload slot may be free. */
  slotsChanged(): void;
  /** Requests were released: refill every peer's pipeline. */
  refillAll(): void;
  /** A peer told us its DHT port (BEP 5 `port`). */
  dhtNode(addr: PeerAddress): void;
  /** A peer that dialled us told us where it listens (BEP 10 `p`). */
  listenAddressLearned(peer: Peer, addr: PeerAddress): void;
  /** A peer offers the info dictionary of `size` bytes (BEP 9; the metadata phase listens). */
  metadataOffered(peer: Peer, size: number): void;
}
