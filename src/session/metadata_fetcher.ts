/**
 * The metadata phase of a magnet link (BEP 9): connect to peers from any source, fetch
 * the info dictionary in 16 KiB pieces from the peers that offer it (the assembler
 * checks its SHA-1 against the info-hash and strikes liars), then hand the metainfo
 * and every known address to a normal torrent.
 *
 * Layer: driver (decisions come from MetadataAssembler).
 * @module
 */
import { every } from "../util/every.ts";
import type { MagnetLink } from "../metainfo/mod.ts";
import { type Metainfo, parseInfoDictionary } from "../metainfo/mod.ts";
import {
  encodeMetadataRequest,
  MetadataAssembler,
  type MetadataMessage,
} from "../extensions/mod.ts";
import { decodeExtensionHandshake, type WireMessage } from "../wire/mod.ts";
import {
  type CloseReason,
  PeerConnection,
  type PeerConnectionHandlers,
} from "../net/peer_connection.ts";
import type { HandshakeResult } from "../net/handshake_io.ts";
import type { Conn, PeerAddress, Timer } from "../runtime/types.ts";
import type { TorrentContext } from "./context.ts";
import type { TorrentStats } from "./events.ts";
import { PeerList, type PeerSource } from "./peer_list.ts";
import { type ExtensionHost, ExtensionHub } from "./extension_hub.ts";
import { PeerDialer } from "./dialing.ts";

/** Metadata requests kept outstanding per peer. */
const REQUESTS_PER_PEER = 4;

/** Fetches a magnet link's info dictionary from peers. */
export class MetadataFetcher implements ExtensionHost, PeerConnectionHandlers {
  /** Hex info-hash. */
  readonly infoHashHex: string;
  /** Raw info-hash. */
  readonly infoHash: Uint8Array;
  /** Candidate addresses. */
  readonly peerList: PeerList;
  /** Live connections. */
  readonly peers: Map<string, PeerConnection> = new Map();
  /** Session services. */
  readonly ctx: TorrentContext;
  /** PEX (and metadata requests from others, which we reject until we have it). */
  readonly extensions: ExtensionHub;
  readonly #link: MagnetLink;
  readonly #assembler: MetadataAssembler;
  readonly #onMetadata: (meta: Metainfo) => void;
  readonly #onError: (message: string) => void;
  readonly #dialer: PeerDialer;
  #timer: Timer | undefined;
  #stopped = false;

  /** Builds the fetcher; call {@linkcode start}. */
  constructor(
    ctx: TorrentContext,
    link: MagnetLink,
    callbacks: { onMetadata(meta: Metainfo): void; onError(message: string): void },
  ) {
    this.ctx = ctx;
    this.#link = link;
    this.infoHash = link.infoHash;
    this.infoHashHex = link.infoHashHex;
    this.peerList = new PeerList({
      maxSize: ctx.settings.maxPeerListSize,
      reconnectBaseMs: ctx.settings.reconnectBaseMs,
      allowLocal: ctx.settings.allowLocalPeers,
    });
    this.#assembler = new MetadataAssembler({ infoHash: link.infoHash, random: ctx.random });
    this.#onMetadata = callbacks.onMetadata;
    this.#onError = callbacks.onError;
    this.extensions = new ExtensionHub(this);
    this.#dialer = new PeerDialer(ctx, this.peerList, this.peers, this.infoHashHex);
  }

  /** Display name from the link (`dn`), until the metadata names it. */
  get name(): string {
    return this.#link.displayName ?? "";
  }

  /** Starts dialling and the periodic work. */
  start(): void {
    this.addPeers(this.#link.peers, "magnet");
    this.#timer = every(
      this.ctx.clock,
      this.ctx.settings.tickIntervalMs,
      () => this.#tick(),
      (e) =>
        this.ctx.logger.warn(`Internal error in the metadata phase: ${(e as Error).message}`, {
          infoHash: this.infoHashHex,
        }),
    );
    this.#connectMore();
  }

  /** Adds candidate addresses. */
  addPeers(addrs: Iterable<PeerAddress>, source: PeerSource): number {
    const added = this.#dialer.addCandidates(addrs, source);
    if (added > 0) this.#connectMore();
    return added;
  }

  /** Every address worth handing to the torrent: known ones and connected listen addresses. */
  knownAddresses(): PeerAddress[] {
    const out = [...this.peerList.addresses()];
    for (const p of this.peers.values()) if (p.listenAddr) out.push(p.listenAddr);
    return out;
  }

  /** Takes over a handshaken connection. */
  attach(conn: Conn, hs: HandshakeResult, outgoing: boolean): PeerConnection | undefined {
    const s = this.ctx.settings;
    if (
      this.#stopped || !hs.remote.extensionProtocol || this.peers.size >= s.maxConnectionsPerTorrent
    ) {
      conn.close(); // without BEP 10 a peer cannot give us metadata
      return undefined;
    }
    const peer = new PeerConnection(conn, this, {
      clock: this.ctx.clock,
      remote: hs.remote,
      outgoing,
      pieceCount: undefined,
      maxMessageBytes: s.maxMessageBytes,
      readBufferBytes: 64 * 1024,
      writeCoalesceBytes: s.writeCoalesceBytes,
    });
    this.#dialer.admitted(peer, conn.remoteAddr);
    this.extensions.greet(peer);
    if (hs.remote.fastExtension) peer.send({ type: "have-none" });
    const dht = this.ctx.dht();
    if (dht && hs.remote.dht) peer.send({ type: "port", port: dht.address.port });
    peer.start(hs.leftover);
    return peer;
  }

  /** Progress of the metadata phase. */
  stats(): TorrentStats {
    return {
      infoHash: this.infoHashHex,
      name: this.name,
      bytesVerified: 0,
      bytesWanted: 0,
      piecesHave: 0,
      pieceCount: 0,
      downloadBps: 0,
      uploadBps: 0,
      bytesDownloaded: 0,
      bytesUploaded: 0,
      peers: this.peers.size,
      seeds: 0,
      knownPeers: this.peerList.size,
      state: "metadata",
    };
  }

  /** Closes every connection. */
  stop(): Promise<void> {
    this.#stopped = true;
    this.#timer?.cancel();
    for (const p of [...this.peers.values()]) p.close("shutdown");
    return Promise.resolve();
  }

  // ExtensionHost
  /** Unknown until the metadata arrives; PEX stays on meanwhile. */
  isPrivate(): boolean {
    return false;
  }

  /** We have no metadata to serve yet. */
  infoBytes(): undefined {
    return undefined;
  }

  /** Seeds are not tracked in this phase. */
  isSeed(peer: PeerConnection): boolean {
    return peer.isSeed;
  }

  /** A ut_metadata reply. */
  onMetadata(peer: PeerConnection, message: MetadataMessage): void {
    if (message.type === "reject") {
      this.#assembler.onReject(peer.id, message.piece);
      return;
    }
    if (message.type !== "data") return;
    const result = this.#assembler.onData(peer.id, message.piece, message.totalSize, message.data);
    switch (result.status) {
      case "accepted":
        return this.#request(peer);
      case "strike":
        return peer.close("protocol", `metadata: ${result.reason}`);
      case "hash-mismatch":
        for (const id of result.banned) this.peers.get(id)?.close("protocol", "bad metadata");
        for (const p of this.peers.values()) this.#request(p);
        return;
      case "complete":
        return this.#complete(result.infoBytes);
    }
  }

  // PeerConnectionHandlers
  /** Messages in the metadata phase: only the extension protocol matters. */
  onMessage(peer: PeerConnection, m: WireMessage): void {
    if (m.type === "have-all") peer.isSeed = true;
    if (m.type === "port" && m.port > 0) {
      this.ctx.dht()?.addNode({ host: peer.addr.host, port: m.port });
    }
    if (m.type !== "extended") return;
    if (m.extendedId !== 0) return this.extensions.onMessage(peer, m.extendedId, m.payload);
    let h;
    try {
      h = decodeExtensionHandshake(m.payload);
    } catch (e) {
      return peer.close("bad-message", `extension handshake: ${(e as Error).message}`);
    }
    peer.extensionIds = h.m;
    if (h.v) peer.clientName = h.v.slice(0, 64);
    if (h.p !== undefined && h.p > 0 && h.p <= 65535) {
      peer.listenAddr = { host: peer.addr.host, port: h.p };
    }
    this.extensions.onHandshake(peer);
    const size = h.metadataSize;
    if (size !== undefined && h.m.get("ut_metadata") && this.#assembler.offerSize(peer.id, size)) {
      this.#request(peer);
    }
  }

  /** Connection ended. */
  onClose(peer: PeerConnection, reason: CloseReason, detail: string): void {
    this.#dialer.closed(peer, reason, detail);
    this.#assembler.removePeer(peer.id);
    this.extensions.forget(peer);
    if (!this.#stopped) { for (const p of this.peers.values()) this.#request(p); }
  }

  /** No read gating in this phase. */
  beforeRead(): undefined {
    return undefined;
  }

  #request(peer: PeerConnection): void {
    const id = peer.extensionIds.get("ut_metadata");
    if (!id || peer.isClosed || this.#stopped) return;
    const now = this.ctx.clock.now();
    for (const piece of this.#assembler.nextRequests(peer.id, REQUESTS_PER_PEER, now)) {
      peer.send({ type: "extended", extendedId: id, payload: encodeMetadataRequest(piece) });
    }
  }

  #complete(infoBytes: Uint8Array): void {
    if (this.#stopped) return;
    let meta: Metainfo;
    try {
      meta = parseInfoDictionary(infoBytes, {
        trackers: this.#link.trackers.map((t) => [t]),
        webSeeds: this.#link.webSeeds,
      });
    } catch (e) {
      this.#onError(`Cannot use the metadata peers sent: ${(e as Error).message}`);
      return;
    }
    this.ctx.hub.emit({
      type: "metadata-received",
      category: "torrent",
      infoHash: this.infoHashHex,
      name: meta.name,
      bytes: infoBytes.length,
    });
    this.#onMetadata(meta);
  }

  #tick(): void {
    const now = this.ctx.clock.now();
    for (const id of this.#assembler.expire(now)) {
      const p = this.peers.get(id);
      if (p) this.#request(p);
    }
    for (const p of [...this.peers.values()]) {
      if (now - p.lastReceivedAt > this.ctx.settings.idleTimeoutMs) p.close("idle");
      else if (now - p.lastSentAt > this.ctx.settings.keepAliveIntervalMs) {
        p.send({ type: "keep-alive" });
      }
    }
    this.extensions.tick(now);
    this.#connectMore();
    this.ctx.hub.emit({ type: "progress", category: "stats", stats: this.stats() });
  }

  #connectMore(): void {
    if (!this.#stopped) this.#dialer.connectMore();
  }
}
