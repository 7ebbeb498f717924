/**
 * BEP 10 extensions on a torrent's connections: our extension handshake, ut_pex
 * (BEP 11) sending and receiving with its limits, and ut_metadata (BEP 9) serving, with
 * its per-peer limits (the MetadataServer core decides; a peer past its reject limit is
 * closed, RELIABILITY EX5).
 * Metadata *fetching* belongs to the magnet phase (metadata_fetcher.ts), which hands
 * ut_metadata replies to its assembler through `onMetadata`.
 *
 * Private torrents (BEP 27) never offer or accept ut_pex.
 *
 * Layer: driver (decisions come from the extension cores).
 * @module
 */
import {
  decodeMetadataMessage,
  encodeMetadataReject,
  type MetadataMessage,
  MetadataServer,
  PexReceiver,
  PexSender,
} from "../extensions/mod.ts";
import { encodeExtensionHandshake, type ExtensionHandshake } from "../wire/mod.ts";
import type { PeerAddress } from "../runtime/types.ts";
import type { TorrentContext } from "./context.ts";
import type { PeerSource } from "./peer_list.ts";
import type { Peer } from "./peer.ts";

/** Our extension ids (what peers use when they send to us). */
export const LOCAL_EXTENSION_IDS = Object.freeze({ ut_metadata: 1, ut_pex: 2 });
/** Our client name in BEP 10 `v`. */
export const CLIENT_NAME = "swarmd 0.1.0";

/** What the hub needs from the torrent (or magnet fetcher) it serves. */
export interface ExtensionHost {
  /** Session services. */
  readonly ctx: TorrentContext;
  /** Live connections. */
  readonly peers: ReadonlyMap<string, Peer>;
  /** BEP 27: no PEX. */
  isPrivate(): boolean;
  /** The info dictionary, once known. */
  infoBytes(): Uint8Array | undefined;
  /** The one door for peer addresses (PEX adds through it; `via` is who told us). */
  addPeers(addrs: Iterable<PeerAddress>, source: PeerSource, via?: PeerAddress | string): number;
  /** A ut_metadata reply (data or reject) for the metadata phase; ignored after it. */
  onMetadata(peer: Peer, message: MetadataMessage): void;
}

/** Extension plumbing for one torrent's peers. */
export class ExtensionHub {
  readonly #host: ExtensionHost;
  #server: MetadataServer | undefined;
  /** Metadata requests refused per peer while we have no info dictionary ourselves. */
  readonly #refusedBlind = new Map<string, number>();

  /** Binds to a host. */
  constructor(host: ExtensionHost) {
    this.#host = host;
  }

  #pexEnabled(): boolean {
    return this.#host.ctx.settings.enablePex && !this.#host.isPrivate();
  }

  /** Our BEP 10 handshake for `peer`. */
  handshake(peer: Peer): ExtensionHandshake {
    const m = new Map<string, number>([["ut_metadata", LOCAL_EXTENSION_IDS.ut_metadata]]);
    if (this.#pexEnabled()) m.set("ut_pex", LOCAL_EXTENSION_IDS.ut_pex);
    const info = this.#host.infoBytes();
    const ipv4 = /^\d+\.\d+\.\d+\.\d+$/.test(peer.addr.host);
    return {
      m,
      v: CLIENT_NAME,
      p: this.#host.ctx.listenPort(),
      reqq: this.#host.ctx.settings.maxIncomingRequests,
      ...(info ? { metadataSize: info.length } : {}),
      ...(ipv4 ? { yourip: new Uint8Array(peer.addr.host.split(".").map(Number)) } : {}),
    };
  }

  /** Sends our handshake when the peer speaks BEP 10. */
  greet(peer: Peer): void {
    if (!peer.remote.extensionProtocol) return;
    peer.send({
      type: "extended",
      extendedId: 0,
      payload: encodeExtensionHandshake(this.handshake(peer)),
    });
  }

  /** The peer's handshake arrived (after `peer.extensionIds` was set). */
  onHandshake(peer: Peer): void {
    if (!this.#pexEnabled() || !peer.extensionIds.get("ut_pex")) return;
    const recipient: PeerAddress[] = [peer.addr];
    if (peer.listenAddr) recipient.push(peer.listenAddr);
    peer.pex = {
      sender: new PexSender({ recipient }),
      // Locality is the door's business (the scope rule, with this peer as the source).
      receiver: new PexReceiver({ allowLocal: true }),
    };
  }

  /** An extended message with one of our ids. */
  onMessage(peer: Peer, extendedId: number, payload: Uint8Array): void {
    if (extendedId === LOCAL_EXTENSION_IDS.ut_pex) return this.#onPex(peer, payload);
    if (extendedId !== LOCAL_EXTENSION_IDS.ut_metadata) return; // unknown ids are ignored
    let message: MetadataMessage;
    try {
      message = decodeMetadataMessage(payload);
    } catch (e) {
      return peer.conn.close("bad-message", `ut_metadata: ${(e as Error).message}`);
    }
    if (message.type === "request") return this.#serveMetadata(peer, message.piece);
    this.#host.onMetadata(peer, message);
  }

  /** Periodic work: PEX messages (each peer at most once a minute). */
  tick(now: number): void {
    let current: { addr: PeerAddress; isSeed: boolean; reachable: boolean }[] | undefined;
    for (const peer of this.#host.peers.values()) {
      const id = peer.extensionIds.get("ut_pex");
      if (!peer.pex || !id) continue;
      current ??= [...this.#host.peers.values()].filter((p) => p.listenAddr).map((p) => ({
        addr: p.listenAddr!,
        isSeed: p.isSeed,
        reachable: p.outgoing,
      }));
      const payload = peer.pex.sender.build(now, current);
      if (payload) peer.send({ type: "extended", extendedId: id, payload });
    }
  }

  /** Forgets a closed peer (its PEX state goes with its record). */
  forget(peer: Peer): void {
    this.#server?.removePeer(peer.id);
    this.#refusedBlind.delete(peer.id);
  }

  #onPex(peer: Peer, payload: Uint8Array): void {
    const rx = peer.pex?.receiver;
    if (!rx) return; // PEX we did not offer (or a private torrent): ignored
    const result = rx.accept(this.#host.ctx.clock.now(), payload);
    if ("disconnect" in result) return peer.conn.close("protocol", `ut_pex: ${result.disconnect}`);
    this.#host.addPeers(result.added, "pex", peer.addr);
  }

  #serveMetadata(peer: Peer, piece: number): void {
    const id = peer.extensionIds.get("ut_metadata");
    if (!id) return;
    const { settings, clock } = this.#host.ctx;
    const info = this.#host.infoBytes();
    let payload: Uint8Array, over: boolean;
    if (!info) {
      const refused = (this.#refusedBlind.get(peer.id) ?? 0) + 1;
      this.#refusedBlind.set(peer.id, refused);
      payload = encodeMetadataReject(piece);
      over = refused > settings.invalidRequestLimit;
    } else {
      this.#server ??= new MetadataServer(info, {
        repliesPerSecond: settings.maxMetadataRepliesPerSecond,
        rejectLimit: settings.invalidRequestLimit,
      });
      const context = { now: clock.now(), unsentBytes: peer.conn.unsentBytes };
      payload = this.#server.request(peer.id, piece, context);
      over = this.#server.overLimit(peer.id);
    }
    if (over) return peer.conn.close("protocol", "ut_metadata: too many refused requests");
    peer.send({ type: "extended", extendedId: id, payload });
  }
}
