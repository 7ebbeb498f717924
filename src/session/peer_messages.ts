/**
 * Handles one torrent's peer messages in every phase: availability and interest, the
 * request pipeline (its rules are the pure RequestQueue; which blocks, the picker),
 * block assembly, incoming requests (the Uploader and its UploadQueue decide), and the
 * extension handshake. Before a magnet's metadata is known there is no piece work: what
 * peers announce is kept raw on their records (`Peer.early`) and applied by
 * {@linkcode PeerMessageHandler.beginWork} once the piece count is known.
 *
 * The handler depends on {@linkcode PeerMessageHost}, declared beside it in
 * peer_message_host.ts: it never imports the torrent.
 *
 * Layer: driver (decisions come from the picker, RequestQueue and UploadQueue cores).
 * @module
 */
import type { WireMessage } from "../wire/mod.ts";
import { decodeExtensionHandshake, type ExtensionHandshake } from "../wire/mod.ts";
import { Bitfield } from "../util/bitfield.ts";
import type { Peer } from "./peer.ts";
import type { PeerMessageHost, PieceWork } from "./peer_message_host.ts";

export type {
  BlockSink,
  ExtensionSink,
  PeerMessageHost,
  PieceWork,
  RequestSink,
} from "./peer_message_host.ts";

const CHOKE_STATE = new Set(["choke", "unchoke", "interested", "not-interested"]);

/** Protocol handling for the peers of one torrent. */
export class PeerMessageHandler {
  readonly #host: PeerMessageHost;
  #work: PieceWork | undefined;

  /** Binds to a torrent; `work` is known from the start for a `.torrent`, later for a magnet. */
  constructor(host: PeerMessageHost, work?: PieceWork) {
    this.#host = host;
    this.#work = work;
  }

  /**
   * The info dictionary is known: from now on messages go to the piece work, and what each
   * peer announced before is applied (a bitfield of the wrong length closes that peer).
   */
  beginWork(work: PieceWork): void {
    this.#work = work;
    for (const peer of [...this.#host.peers.values()]) this.#applyEarly(peer, work);
  }

  /** First messages after the handshake: extension handshake, DHT port, then our pieces. */
  greet(peer: Peer, dhtPort: number | undefined): void {
    this.#host.extensions.greet(peer);
    if (dhtPort !== undefined && peer.remote.dht) peer.send({ type: "port", port: dhtPort });
    const w = this.#work;
    if (!w) {
      if (peer.fast) peer.send({ type: "have-none" }); // BEP 6: exactly one of the three
      return;
    }
    peer.announcedPieces = true;
    if (w.superSeeder) { // BEP 16: reveal pieces one by one
      if (peer.fast) peer.send({ type: "have-none" });
      for (const i of w.superSeeder.greet(peer.id, peer.has)) peer.send({ type: "have", index: i });
      return;
    }
    const have = w.picker.haveCount;
    if (peer.fast && have === w.pieceCount) peer.send({ type: "have-all" });
    else if (peer.fast && have === 0) peer.send({ type: "have-none" });
    else if (have > 0) peer.send({ type: "bitfield", bitfield: this.#ourBitfield(w).toBytes() });
  }

  /**
   * The data is checked (after a magnet's metadata): peers greeted before we knew our
   * pieces hear about them now, one HAVE each, and we show interest where it is due.
   */
  checked(): void {
    const w = this.#work!;
    for (const peer of this.#host.peers.values()) {
      if (!peer.announcedPieces) {
        peer.announcedPieces = true;
        const reveal = w.superSeeder ? w.superSeeder.greet(peer.id, peer.has) : undefined;
        for (const i of reveal ?? this.#ourBitfield(w).indices()) {
          peer.send({ type: "have", index: i });
        }
      }
      this.#updateInterest(peer);
    }
  }

  /**
   * Dispatches one message.
   * @param now when it was received (clock ms; default: the clock now)
   */
  onMessage(peer: Peer, m: WireMessage, now: number = this.#host.ctx.clock.now()): void {
    const host = this.#host;
    const opening = m.type === "bitfield" || m.type === "have-all" || m.type === "have-none" ||
      (m.type === "extended" && m.extendedId === 0);
    peer.requests.firstMessage(now, opening);
    if (CHOKE_STATE.has(m.type)) host.ctx.logger.debug(`${peer.id} sent ${m.type}`);
    switch (m.type) {
      case "keep-alive":
        return;
      case "choke":
        peer.peerChoking = true;
        // BEP 6: with the fast extension a choke cancels nothing; the peer rejects each
        // request it drops (the snub timeout covers one that never does). Without it,
        // every outstanding request is gone.
        if (!peer.fast && this.releaseRequests(peer, false)) host.refillAll();
        return;
      case "unchoke":
        peer.peerChoking = false;
        this.fillRequests(peer, now);
        return;
      case "interested":
        peer.peerInterested = true;
        if (peer.amChoking) host.slotsChanged();
        return;
      case "not-interested":
        peer.peerInterested = false;
        if (!peer.amChoking) host.slotsChanged();
        return;
      case "have":
        return this.#onHave(peer, m.index);
      case "bitfield":
        return this.#onBitfield(peer, m.bitfield);
      case "have-all":
        return this.#onHaveAll(peer);
      case "have-none":
        return this.#onHaveNone(peer);
      case "request":
      case "cancel":
        return this.#onUploadRequest(peer, m);
      case "piece":
        return this.#onBlock(peer, m.index, m.begin, m.block, now);
      case "reject":
        return this.#onReject(peer, m.index, m.begin);
      case "suggest":
        if (!this.#work || m.index >= this.#work.pieceCount || this.#work.picker.has(m.index)) {
          return;
        }
        // a piece it refused before may be the only one we still want from it
        if (peer.requests.suggest(m.index) && this.#hasRoom(peer)) this.fillRequests(peer);
        return;
      case "allowed-fast": // ignored before the piece count is known (it bounds the set)
        if (this.#work && m.index < this.#work.pieceCount) peer.requests.allowedFast.add(m.index);
        return;
      case "port": // BEP 5: the peer's DHT node
        if (m.port > 0) host.dhtNode({ host: peer.addr.host, port: m.port });
        return;
      case "extended":
        if (m.extendedId === 0) this.#onExtensionHandshake(peer, m.payload);
        else host.extensions.onMessage(peer, m.extendedId, m.payload);
        return;
    }
  }

  /**
   * Tops up `peer`'s request pipeline from the picker.
   * @param now clock ms (default: the clock now)
   */
  fillRequests(peer: Peer, now?: number): void {
    const w = this.#work;
    if (!w || peer.isClosed || this.#host.state !== "downloading" || !w.pipeline.canRequest()) {
      return;
    }
    if (!peer.amInterested) return;
    const q = peer.requests;
    if (peer.peerChoking && q.allowedFast.size === 0) return;
    now ??= this.#host.ctx.clock.now();
    const rate = peer.downloadMeter.rate(now);
    const outstanding = w.picker.requestCount(peer.id);
    const need = q.target(rate) - outstanding;
    if (need <= 0) return;
    const deliveryMs = q.deliveryMs(outstanding, rate);
    const blocks = w.picker.pickBlocks(
      {
        id: peer.id,
        has: peer.isSeed ? "all" : peer.has,
        isSnubbed: q.isSnubbed,
        allowedFast: q.allowedFast,
        suggested: q.suggested,
        refused: q.refused,
        choked: peer.peerChoking,
        ...(deliveryMs === undefined ? {} : { deliveryMs }),
      },
      need,
      { now },
    );
    q.refilled(need, blocks.length);
    for (const b of blocks) {
      peer.send({ type: "request", index: b.index, begin: b.begin, length: b.length });
    }
    if (blocks.length === 0 && outstanding === 0 && !this.#wantsFrom(peer, w)) {
      peer.amInterested = false;
      peer.send({ type: "not-interested" });
    }
  }

  /**
   * Per-peer timers, once a tick: the transport's timeouts (idle, a stalled message),
   * keep-alive, refusals lapsing, and the snub rule (its requests are cancelled and go
   * elsewhere).
   * @returns true when the peer was just snubbed (the caller refills the others)
   */
  tick(peer: Peer, now: number): boolean {
    const s = this.#host.ctx.settings;
    if (peer.conn.checkTimeouts(now)) return false;
    if (now - peer.conn.lastSentAt > s.keepAliveIntervalMs) peer.send({ type: "keep-alive" });
    if (!this.#work) return false;
    const t = peer.requests.tick(now, this.#work.picker.requestCount(peer.id));
    if (t.lapsed) this.fillRequests(peer); // it may be all we still want from this peer
    if (t.snubbed) this.releaseRequests(peer, true);
    return t.snubbed;
  }

  /**
   * Gives every request outstanding at `peer` back to the picker (the caller refills).
   * @param cancel also send CANCEL for each, so blocks it would send later are not wasted
   * @returns whether there was anything to release
   */
  releaseRequests(peer: Peer, cancel: boolean): boolean {
    const released = this.#work?.picker.releaseRequests(peer.id) ?? [];
    if (cancel) { for (const r of released) peer.send({ type: "cancel", ...r }); }
    return released.length > 0;
  }

  /** Shows interest in `peer` when it has a piece we want (state permitting). */
  #updateInterest(peer: Peer): void {
    const w = this.#work;
    if (w && this.#host.state === "downloading" && this.#wantsFrom(peer, w)) {
      this.#setInterested(peer);
    }
  }

  #setInterested(peer: Peer): void {
    if (peer.amInterested) return;
    peer.amInterested = true;
    peer.send({ type: "interested" });
    this.fillRequests(peer);
  }

  #wantsFrom(peer: Peer, w: PieceWork): boolean {
    if (w.picker.isComplete) return false;
    if (peer.isSeed) return true;
    for (const i of peer.has.indices()) {
      if (!w.picker.has(i) && w.picker.priorityOf(i) > 0) return true;
    }
    return false;
  }

  #hasRoom(peer: Peer): boolean {
    const w = this.#work!;
    const rate = peer.downloadMeter.rate(this.#host.ctx.clock.now());
    return peer.requests.hasRoom(w.picker.requestCount(peer.id), rate);
  }

  #onHave(peer: Peer, index: number): void {
    const w = this.#work;
    if (!w) {
      if (!peer.early!.have(index)) peer.conn.close("protocol", `have ${index} before metadata`);
      return;
    }
    if (index >= w.pieceCount) return peer.conn.close("protocol", `have ${index} out of range`);
    if (peer.isSeed || !peer.has.set(index)) return;
    if (w.superSeeder) {
      for (const i of w.superSeeder.onHave(peer.id, peer.has, index)) {
        peer.send({ type: "have", index: i });
      }
    }
    w.picker.peerHave(index);
    if (peer.has.isFull) this.#becameSeed(peer, true);
    if (this.#host.state !== "downloading" || w.picker.has(index)) return;
    if (!peer.amInterested) this.#setInterested(peer);
    else if (this.#hasRoom(peer)) this.fillRequests(peer);
  }

  #onBitfield(peer: Peer, bytes: Uint8Array): void {
    const w = this.#work;
    if (!w) return peer.early!.bitfield(bytes);
    const bf = Bitfield.fromBytes(bytes, w.pieceCount);
    if (!bf) {
      return peer.conn.close("protocol", "bitfield of the wrong length or with spare bits set");
    }
    this.#setPieces(peer, bf, w);
  }

  #onHaveAll(peer: Peer): void {
    const w = this.#work;
    if (!w) return peer.early!.haveAll();
    if (peer.isSeed) return;
    if (peer.has.count > 0) w.picker.removePeer(peer.has);
    peer.has = Bitfield.full(w.pieceCount);
    this.#becameSeed(peer, false);
    this.#updateInterest(peer);
  }

  #onHaveNone(peer: Peer): void {
    const w = this.#work;
    if (!w) return peer.early!.haveNone();
    this.#setPieces(peer, new Bitfield(w.pieceCount), w);
  }

  /** PW4: a second bitfield replaces the first, consistently. */
  #setPieces(peer: Peer, bf: Bitfield, w: PieceWork): void {
    if (peer.isSeed) w.picker.removeSeed();
    else if (peer.has.count > 0) w.picker.removePeer(peer.has);
    peer.isSeed = false;
    peer.has = bf;
    if (bf.isFull && bf.length > 0) this.#becameSeed(peer, false);
    else if (bf.count > 0) w.picker.addPeer(bf);
    this.#updateInterest(peer);
  }

  /**
   * Availability of a seed is a counter in the picker (cheap, PW12). Invariant: a seed is
   * counted only by the counter, any other peer bit by bit through `has`.
   */
  #becameSeed(peer: Peer, bitsCounted: boolean): void {
    const w = this.#work!;
    if (bitsCounted) w.picker.removePeer(peer.has);
    peer.isSeed = true;
    w.picker.addSeed();
    if (!peer.amChoking) this.#host.slotsChanged();
    if (this.#host.state === "seeding") peer.conn.close("not-needed", "both seeds");
  }

  /** Applies what `peer` announced before the piece count was known. */
  #applyEarly(peer: Peer, w: PieceWork): void {
    const early = peer.early;
    peer.early = undefined;
    peer.has = new Bitfield(w.pieceCount);
    peer.conn.setPieceCount(w.pieceCount);
    const pieces = early?.resolve(w.pieceCount);
    if (pieces?.kind === "all") this.#onHaveAll(peer);
    else if (pieces?.kind === "some") this.#setPieces(peer, pieces.has, w);
    else if (pieces?.kind === "invalid") peer.conn.close("protocol", pieces.reason);
  }

  #onUploadRequest(
    peer: Peer,
    m: { type: string; index: number; begin: number; length: number },
  ): void {
    const w = this.#work;
    const r = { index: m.index, begin: m.begin, length: m.length };
    if (m.type === "cancel") {
      w?.uploader.cancel(peer, r);
      return;
    }
    if (w) return w.uploader.request(peer, r);
    // No metadata yet: nothing to serve (BEP 6: reject, never drop silently).
    if (peer.fast) peer.send({ type: "reject", ...r });
  }

  #onReject(peer: Peer, index: number, begin: number): void {
    const w = this.#work;
    if (!w || index >= w.pieceCount) return;
    if (w.picker.releaseRequests(peer.id, [{ index, begin }]).length === 0) return;
    // A reject while unchoked refuses that piece (a seed keeping its upload for pieces
    // nobody else has): ask others for it for a while.
    peer.requests.rejected(index, this.#host.ctx.clock.now(), !peer.peerChoking);
    this.#host.refillAll();
  }

  #onBlock(peer: Peer, index: number, begin: number, block: Uint8Array, now: number): void {
    const w = this.#work;
    if (!w) {
      if (peer.requests.unsolicitedBlock()) peer.conn.close("protocol", "blocks before metadata");
      return;
    }
    if (index >= w.pieceCount) return peer.conn.close("protocol", `block of piece ${index}`);
    const size = w.pieceSize(index);
    const expected = Math.min(16384, size - begin);
    if (begin % 16384 !== 0 || begin >= size || block.length !== expected) {
      return peer.conn.close("protocol", `block ${index}:${begin} of length ${block.length}`);
    }
    const { picker, pipeline } = w;
    // PW8: a block we did not ask this peer for. A late one (we released the request on a
    // choke or a snub) of a piece in progress is still useful; anything else is dropped
    // without allocating, and a peer that keeps sending them is closed.
    if (
      !picker.isRequestedFrom(peer.id, index, begin) && (!pipeline.has(index) || picker.has(index))
    ) {
      if (peer.requests.unsolicitedBlock()) {
        peer.conn.close("protocol", "too many blocks we did not request");
      }
      return;
    }
    this.#host.transfer.countDownload(peer, block.length, now);
    const rate = peer.downloadMeter.rate(now);
    if (picker.has(index)) {
      peer.requests.blockArrived(now, rate, picker.requestCount(peer.id));
      return this.fillRequests(peer, now);
    }
    const receipt = picker.blockReceived(peer.id, index, begin);
    const refill = peer.requests.blockArrived(now, rate, picker.requestCount(peer.id));
    if (receipt.isNew) {
      pipeline.buffer(index).set(block, begin); // the one copy of the payload
      for (const c of receipt.cancel) {
        this.#host.peers.get(c.peerId)?.send({
          type: "cancel",
          index: c.index,
          begin: c.begin,
          length: c.length,
        });
      }
      if (receipt.pieceComplete) pipeline.submit(index);
    }
    if (refill) this.fillRequests(peer, now);
  }

  #onExtensionHandshake(peer: Peer, payload: Uint8Array): void {
    let h: ExtensionHandshake;
    try {
      h = decodeExtensionHandshake(payload);
    } catch (e) {
      return peer.conn.close("bad-message", `extension handshake: ${(e as Error).message}`);
    }
    peer.extensionIds = h.m;
    if (h.v) peer.clientName = h.v.slice(0, 64);
    if (h.reqq !== undefined) peer.requests.setPeerLimit(h.reqq);
    if (h.p !== undefined && h.p > 0 && h.p <= 65535) {
      peer.listenAddr = { host: peer.addr.host, port: h.p };
      if (!peer.outgoing) this.#host.listenAddressLearned(peer, peer.listenAddr);
    }
    this.#host.extensions.onHandshake(peer);
    if (h.metadataSize !== undefined && h.m.get("ut_metadata")) {
      this.#host.metadataOffered(peer, h.metadataSize);
    }
  }

  #ourBitfield(w: PieceWork): Bitfield {
    const bf = new Bitfield(w.pieceCount);
    for (let i = 0; i < w.pieceCount; i++) if (w.picker.has(i)) bf.set(i);
    return bf;
  }
}
