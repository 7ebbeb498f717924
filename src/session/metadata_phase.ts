/**
 * The metadata phase of a magnet link (BEP 9): ask the torrent's peers that offer the info
 * dictionary for its 16 KiB pieces, a few at a time each, re-ask when a request times out
 * or a peer leaves, and verify the whole against the info-hash (the MetadataAssembler core
 * decides, and strikes peers that send bad data). Connections, dialing, extension
 * handshakes and timers are the torrent's: this driver only pumps the assembler.
 *
 * Layer: driver (decisions come from MetadataAssembler).
 * @module
 */
import {
  encodeMetadataRequest,
  MetadataAssembler,
  type MetadataMessage,
} from "../extensions/mod.ts";
import { type MagnetLink, type Metainfo, parseInfoDictionary } from "../metainfo/mod.ts";
import type { Clock, Random } from "../runtime/types.ts";
import type { Peer } from "./peer.ts";

/** Metadata requests kept outstanding per peer. */
const REQUESTS_PER_PEER = 4;

/** What the phase reports to its torrent. */
export interface MetadataPhaseHost {
  /** Live peers by id. */
  readonly peers: ReadonlyMap<string, Peer>;
  /** The info dictionary verified and parsed. */
  metadataReady(meta: Metainfo, infoBytes: Uint8Array): void;
  /** The verified dictionary cannot be used (not a valid torrent). */
  metadataUnusable(message: string): void;
}

/** Fetches a magnet link's info dictionary from the torrent's peers. */
export class MetadataPhase {
  readonly #host: MetadataPhaseHost;
  readonly #link: MagnetLink;
  readonly #assembler: MetadataAssembler;
  readonly #clock: Clock;
  #done = false;

  /** Starts empty; peers join as they offer the dictionary. */
  constructor(host: MetadataPhaseHost, link: MagnetLink, clock: Clock, random: Random) {
    this.#host = host;
    this.#link = link;
    this.#clock = clock;
    this.#assembler = new MetadataAssembler({ infoHash: link.infoHash, random });
  }

  /** A peer's extension handshake offers `size` bytes of metadata. */
  offered(peer: Peer, size: number): void {
    if (this.#assembler.offerSize(peer.id, size)) this.#request(peer);
  }

  /** A ut_metadata data or reject message. */
  onMessage(peer: Peer, message: MetadataMessage): void {
    if (this.#done) return;
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
        return peer.conn.close("protocol", `metadata: ${result.reason}`);
      case "hash-mismatch":
        for (const id of result.banned) {
          this.#host.peers.get(id)?.conn.close("protocol", "bad metadata");
        }
        for (const p of this.#host.peers.values()) this.#request(p);
        return;
      case "complete":
        return this.#complete(result.infoBytes);
    }
  }

  /** A peer left: its pieces go to the others. */
  peerClosed(peer: Peer): void {
    this.#assembler.removePeer(peer.id);
    for (const p of this.#host.peers.values()) this.#request(p);
  }

  /** Once a tick: requests that timed out go to other peers. */
  tick(): void {
    for (const id of this.#assembler.expire(this.#clock.now())) {
      const p = this.#host.peers.get(id);
      if (p) this.#request(p);
    }
  }

  #request(peer: Peer): void {
    const id = peer.extensionIds.get("ut_metadata");
    if (!id || peer.isClosed || this.#done) return;
    const now = this.#clock.now();
    for (const piece of this.#assembler.nextRequests(peer.id, REQUESTS_PER_PEER, now)) {
      peer.send({ type: "extended", extendedId: id, payload: encodeMetadataRequest(piece) });
    }
  }

  #complete(infoBytes: Uint8Array): void {
    this.#done = true;
    let meta: Metainfo;
    try {
      meta = parseInfoDictionary(infoBytes, {
        trackers: this.#link.trackers.map((t) => [t]),
        webSeeds: this.#link.webSeeds,
      });
    } catch (e) {
      this.#host.metadataUnusable(`Cannot use the metadata peers sent: ${(e as Error).message}`);
      return;
    }
    this.#host.metadataReady(meta, infoBytes);
  }
}
