/**
 * Handles one torrent's peer messages: availability and interest, the request
 * pipeline (queue depth adapted to each peer's rate, libtorrent's rule), block
 * assembly, and request validation for uploads (RELIABILITY PW5–PW8, BEP 6).
 *
 * Layer: driver; the picker decides which blocks, this file moves them.
 * @module
 */
import type {
  CloseReason,
  PeerConnection,
  PeerConnectionHandlers,
} from "../net/peer_connection.ts";
import { blockKey } from "../net/peer_connection.ts";
import { BLOCK_LENGTH, decodeExtensionHandshake, type WireMessage } from "../wire/mod.ts";
import { Bitfield } from "../util/bitfield.ts";
import type { TorrentRuntime } from "./torrent.ts";

/** Blocks received that we never requested before we disconnect (PW8). */
const UNSOLICITED_LIMIT = 64;
/** Invalid requests tolerated while we choke a peer (PW6). */
const INVALID_REQUEST_LIMIT = 300;

/** A round-trip sample is capped here (a slow peer's late first message is not a link). */
const MAX_RTT_SAMPLE_MS = 2_000;
/** How long a piece a peer refused is not asked of it again. */
const REFUSED_MS = 5_000;
/** Suggestions remembered per peer (BEP 6 SUGGEST_PIECE); older ones are dropped. */
const MAX_SUGGESTED = 16;

/** Protocol handling for the peers of one torrent. */
export class PeerMessageHandler implements PeerConnectionHandlers {
  readonly #t: TorrentRuntime;

  /** Binds to a torrent. */
  constructor(torrent: TorrentRuntime) {
    this.#t = torrent;
  }

  /** First messages after the handshake: extension handshake, then our pieces. */
  greet(peer: PeerConnection): void {
    const t = this.#t;
    t.extensions.greet(peer);
    const dht = t.ctx.dht();
    if (dht && peer.remote.dht) peer.send({ type: "port", port: dht.address.port });
    if (t.superSeeder) return t.superSeeder.greet(peer); // BEP 16: reveal pieces one by one
    const have = t.picker.haveCount;
    const fast = peer.remote.fastExtension;
    if (fast && have === t.meta.pieceCount) peer.send({ type: "have-all" });
    else if (fast && have === 0) peer.send({ type: "have-none" });
    else if (have > 0) {
      const bf = new Bitfield(t.meta.pieceCount);
      for (let i = 0; i < t.meta.pieceCount; i++) if (t.picker.has(i)) bf.set(i);
      peer.send({ type: "bitfield", bitfield: bf.toBytes() });
    }
  }

  /** Backpressure and download limits before each read. */
  beforeRead(_peer: PeerConnection): Promise<void> | undefined {
    return this.#t.beforeRead();
  }

  /** Connection ended. */
  onClose(peer: PeerConnection, reason: CloseReason, detail: string): void {
    this.#t.peerClosed(peer, reason, detail);
  }

  /** Dispatches one message. */
  onMessage(peer: PeerConnection, m: WireMessage): void {
    const t = this.#t;
    if (peer.rttSince !== undefined) this.#timeAnswer(peer, m);
    switch (m.type) {
      case "keep-alive":
        return;
      case "suggest": {
        if (m.index >= t.meta.pieceCount || t.picker.has(m.index)) return;
        const wasRefused = peer.refused.delete(m.index);
        peer.suggested.delete(m.index);
        peer.suggested.add(m.index);
        if (peer.suggested.size > MAX_SUGGESTED) {
          peer.suggested.delete(peer.suggested.values().next().value!);
        }
        // a piece it refused before may be the only one we still want from it
        if (wasRefused && peer.requested.size < this.#queueTarget(peer)) this.fillRequests(peer);
        return;
      }
      case "choke":
        peer.peerChoking = true;
        // BEP 6: with the fast extension a choke cancels nothing; the peer rejects each
        // request it drops (the snub timeout covers one that never does). Without it,
        // every outstanding request is gone.
        if (!peer.remote.fastExtension && this.releaseRequests(peer, false)) t.refill();
        return;
      case "unchoke":
        peer.peerChoking = false;
        this.fillRequests(peer);
        return;
      case "interested":
        peer.peerInterested = true;
        if (peer.amChoking) t.slotsChanged();
        return;
      case "not-interested":
        peer.peerInterested = false;
        if (!peer.amChoking) t.slotsChanged();
        return;
      case "have":
        return this.#onHave(peer, m.index);
      case "bitfield":
        return this.#onBitfield(peer, m.bitfield);
      case "have-all":
        return this.#onHaveAll(peer);
      case "have-none":
        return this.#onBitfield(peer, new Uint8Array(Math.ceil(t.meta.pieceCount / 8)));
      case "request":
        return this.#onRequest(peer, m.index, m.begin, m.length);
      case "cancel": {
        const i = peer.incoming.findIndex((r) =>
          r.index === m.index && r.begin === m.begin && r.length === m.length
        );
        if (i >= 0) peer.incoming.splice(i, 1);
        return;
      }
      case "piece":
        return this.#onBlock(peer, m.index, m.begin, m.block);
      case "reject": {
        const key = blockKey(m.index, m.begin);
        if (peer.requested.delete(key)) {
          // A reject while unchoked refuses that piece (a seed keeping its upload for
          // pieces nobody else has): ask others for it for a while.
          if (!peer.peerChoking && m.index < t.meta.pieceCount) {
            peer.refused.set(m.index, t.ctx.clock.now());
          }
          t.picker.releaseRequests(peer.id, [{ index: m.index, begin: m.begin }]);
          t.refill();
        }
        return;
      }
      case "allowed-fast":
        if (m.index < t.meta.pieceCount) peer.allowedFast.add(m.index);
        return;
      case "port": // BEP 5: the peer's DHT node
        if (m.port > 0) t.ctx.dht()?.addNode({ host: peer.addr.host, port: m.port });
        return;
      case "extended":
        if (m.extendedId === 0) this.#onExtensionHandshake(peer, m.payload);
        else t.extensions.onMessage(peer, m.extendedId, m.payload);
        return;
    }
  }

  /**
   * On an incoming connection, the peer's first message after our handshake times a round
   * trip when it is one a client sends on connecting (its bitfield or extension
   * handshake). If that was already on its way with its own handshake, the sample is
   * about 0 and the configured queue time rules, as it does without a sample.
   */
  #timeAnswer(peer: PeerConnection, m: WireMessage): void {
    const opening = m.type === "bitfield" || m.type === "have-all" || m.type === "have-none" ||
      (m.type === "extended" && m.extendedId === 0);
    if (opening) {
      peer.rttMs = Math.min(MAX_RTT_SAMPLE_MS, this.#t.ctx.clock.now() - peer.rttSince!);
    }
    peer.rttSince = undefined;
  }

  /** Tops up `peer`'s request pipeline from the picker. */
  fillRequests(peer: PeerConnection): void {
    const t = this.#t;
    if (peer.isClosed || t.state !== "downloading" || !t.canRequest()) return;
    if (!peer.amInterested) return;
    if (peer.peerChoking && peer.allowedFast.size === 0) return;
    const target = this.#queueTarget(peer);
    const need = target - peer.requested.size;
    if (need <= 0) return;
    const blocks = t.picker.pickBlocks({
      id: peer.id,
      has: peer.isSeed ? "all" : peer.has,
      isSnubbed: peer.isSnubbed,
      allowedFast: peer.allowedFast,
      suggested: peer.suggested,
      refused: peer.refused,
      choked: peer.peerChoking,
    }, need);
    const now = t.ctx.clock.now();
    for (const b of blocks) {
      peer.requested.set(blockKey(b.index, b.begin), { ...b, sentAt: now });
      peer.send({ type: "request", index: b.index, begin: b.begin, length: b.length });
    }
    if (blocks.length === 0 && peer.requested.size === 0 && !this.#wantsFrom(peer)) {
      peer.amInterested = false;
      peer.send({ type: "not-interested" });
    }
  }

  /**
   * libtorrent's rule: the peer's rate times the queue time in blocks, 2..500, slow start
   * +1 per block. The queue time is the setting or twice the round trip, whichever is
   * longer: a queue shorter than the round trip caps the rate at queue ÷ RTT, and the rate
   * then shrinks the queue (a 1.6 s round trip held a 1 MiB/s link to 77 KiB/s).
   */
  #queueTarget(peer: PeerConnection, rateOnly = false): number {
    const s = this.#t.ctx.settings;
    if (peer.isSnubbed) return 1;
    const rate = peer.downloadMeter.rate(this.#t.ctx.clock.now());
    const queueMs = Math.max(s.requestQueueTimeMs, 2 * (peer.rttMs ?? 0));
    const byRate = Math.ceil((rate * queueMs) / 1000 / BLOCK_LENGTH);
    if (rateOnly) return byRate;
    const target = Math.max(byRate, peer.queueTarget, s.minRequestQueue);
    return Math.min(target, s.maxRequestQueue, Math.max(1, peer.peerRequestQueue));
  }

  #onHave(peer: PeerConnection, index: number): void {
    const t = this.#t;
    if (index >= t.meta.pieceCount) return peer.close("protocol", `have ${index} out of range`);
    if (peer.isSeed || !peer.has.set(index)) return;
    t.superSeeder?.onHave(peer, index);
    t.picker.peerHave(index);
    if (peer.has.isFull) this.#becameSeed(peer, true);
    if (t.state !== "downloading" || t.picker.has(index)) return;
    if (!peer.amInterested) this.#setInterested(peer);
    else if (peer.requested.size < this.#queueTarget(peer)) this.fillRequests(peer);
  }

  #onBitfield(peer: PeerConnection, bytes: Uint8Array): void {
    const t = this.#t;
    const bf = Bitfield.fromBytes(bytes, t.meta.pieceCount);
    if (!bf) return peer.close("protocol", "bitfield of the wrong length or with spare bits set");
    // PW4: a second bitfield replaces the first, consistently.
    if (peer.isSeed) t.picker.removeSeed();
    else if (peer.has.count > 0) t.picker.removePeer(peer.has);
    peer.isSeed = false;
    peer.has = bf;
    if (bf.isFull && bf.length > 0) this.#becameSeed(peer, false);
    else if (bf.count > 0) t.picker.addPeer(bf);
    this.#updateInterest(peer);
  }

  #onHaveAll(peer: PeerConnection): void {
    const t = this.#t;
    if (peer.isSeed) return;
    if (peer.has.count > 0) t.picker.removePeer(peer.has);
    peer.has = Bitfield.full(t.meta.pieceCount);
    this.#becameSeed(peer, false);
    this.#updateInterest(peer);
  }

  /**
   * Availability of a seed is a counter in the picker (cheap, PW12). Invariant: a seed is
   * counted only by the counter, any other peer bit by bit through `has`.
   */
  #becameSeed(peer: PeerConnection, bitsCounted: boolean): void {
    const t = this.#t;
    if (bitsCounted) t.picker.removePeer(peer.has);
    peer.isSeed = true;
    t.picker.addSeed();
    if (!peer.amChoking) t.slotsChanged();
    if (t.state === "seeding") peer.close("not-needed", "both seeds");
  }

  #updateInterest(peer: PeerConnection): void {
    if (this.#t.state !== "downloading") return;
    if (this.#wantsFrom(peer)) this.#setInterested(peer);
  }

  #setInterested(peer: PeerConnection): void {
    if (peer.amInterested) return;
    peer.amInterested = true;
    peer.send({ type: "interested" });
    this.fillRequests(peer);
  }

  #wantsFrom(peer: PeerConnection): boolean {
    const picker = this.#t.picker;
    if (picker.isComplete) return false;
    if (peer.isSeed) return true;
    for (const i of peer.has.indices()) {
      if (!picker.has(i) && picker.priorityOf(i) > 0) return true;
    }
    return false;
  }

  #onRequest(peer: PeerConnection, index: number, begin: number, length: number): void {
    const t = this.#t;
    const valid = index < t.meta.pieceCount && t.picker.has(index) && length > 0 &&
      length <= BLOCK_LENGTH && begin + length <= t.pieceSize(index) &&
      (!t.superSeeder || t.superSeeder.allows(peer, index));
    const allowed = !peer.amChoking && valid &&
      peer.incoming.length < t.ctx.settings.maxIncomingRequests && !t.refusesRequest(peer, index);
    if (!allowed) {
      if (peer.remote.fastExtension) peer.send({ type: "reject", index, begin, length });
      if (peer.amChoking || !valid) {
        if (++peer.invalidRequests > INVALID_REQUEST_LIMIT) {
          peer.close("protocol", "too many invalid requests");
        }
      }
      return;
    }
    peer.incoming.push({ index, begin, length });
    peer.lastRequestAt = t.ctx.clock.now();
    t.serve(peer);
  }

  #onBlock(peer: PeerConnection, index: number, begin: number, block: Uint8Array): void {
    const t = this.#t;
    if (index >= t.meta.pieceCount) return peer.close("protocol", `block of piece ${index}`);
    const size = t.pieceSize(index);
    const expected = Math.min(BLOCK_LENGTH, size - begin);
    if (begin % BLOCK_LENGTH !== 0 || begin >= size || block.length !== expected) {
      return peer.close("protocol", `block ${index}:${begin} of length ${block.length}`);
    }
    const key = blockKey(index, begin);
    const wasRequested = peer.requested.delete(key);
    if (!wasRequested) {
      // PW8: a block we did not ask this peer for. A late one (we released the request on
      // a choke or a snub) of a piece in progress is still useful; anything else is
      // dropped without allocating, and a peer that keeps sending them is closed.
      if (!t.hasPieceBuffer(index) || t.picker.has(index)) {
        if (++peer.unsolicitedBlocks > UNSOLICITED_LIMIT) {
          peer.close("protocol", "too many blocks we did not request");
        }
        return;
      }
    }
    t.countDownload(peer, block.length);
    peer.lastBlockAt = t.ctx.clock.now();
    if (peer.isSnubbed) peer.isSnubbed = false;
    // Slow start: one more request per block received, until the measured rate says how
    // deep the queue should be (libtorrent grows until the rate stops rising).
    if (peer.queueTarget <= 2 * this.#queueTarget(peer, true) + 4) peer.queueTarget++;
    if (t.picker.has(index)) return this.fillRequests(peer);
    const result = t.picker.blockReceived(peer.id, index, begin);
    if (result.isNew) {
      t.pieceBuffer(index).set(block, begin); // the one copy of the payload
      for (const c of result.cancel) {
        const other = t.peers.get(c.peerId);
        if (other && other.requested.delete(blockKey(c.index, c.begin))) {
          other.send({ type: "cancel", index: c.index, begin: c.begin, length: c.length });
        }
      }
      if (result.pieceComplete) t.submitPiece(index);
    }
    // Refill in batches, not per block: one picker call per quarter of the queue.
    const target = this.#queueTarget(peer);
    if (target - peer.requested.size >= Math.min(16, Math.max(1, target >> 2))) {
      this.fillRequests(peer);
    }
  }

  /**
   * Per-peer timers, once a tick: idle close, keep-alive, refusals lapsing after 5 s (the
   * piece may be asked of the peer again), and the snub rule (no block for
   * the snub timeout while requests were out: its requests are cancelled and go elsewhere,
   * and it gets one request at a time until it sends again).
   * @returns true when the peer was just snubbed (the caller refills the others)
   */
  tick(peer: PeerConnection, now: number): boolean {
    const s = this.#t.ctx.settings;
    if (now - peer.lastReceivedAt > s.idleTimeoutMs) {
      peer.close("idle");
      return false;
    }
    if (now - peer.lastSentAt > s.keepAliveIntervalMs) peer.send({ type: "keep-alive" });
    let lapsed = false;
    for (const [index, at] of peer.refused) {
      if (now - at >= REFUSED_MS) lapsed = peer.refused.delete(index);
    }
    if (lapsed) this.fillRequests(peer); // it may be all we still want from this peer
    if (peer.requested.size === 0 || peer.isSnubbed || now - peer.lastBlockAt <= s.snubTimeoutMs) {
      return false;
    }
    peer.isSnubbed = true;
    peer.queueTarget = 1;
    this.releaseRequests(peer, true);
    return true;
  }

  /**
   * Gives every request outstanding at `peer` back to the picker (the caller refills).
   * @param cancel also send CANCEL for each, so blocks it would send later are not wasted
   * @returns whether there was anything to release
   */
  releaseRequests(peer: PeerConnection, cancel: boolean): boolean {
    if (peer.requested.size === 0) return false;
    if (cancel) {
      for (const r of peer.requested.values()) {
        peer.send({ type: "cancel", index: r.index, begin: r.begin, length: r.length });
      }
    }
    peer.requested.clear();
    this.#t.picker.releaseRequests(peer.id);
    return true;
  }

  #onExtensionHandshake(peer: PeerConnection, payload: Uint8Array): void {
    let h;
    try {
      h = decodeExtensionHandshake(payload);
    } catch (e) {
      return peer.close("bad-message", `extension handshake: ${(e as Error).message}`);
    }
    peer.extensionIds = h.m;
    if (h.v) peer.clientName = h.v.slice(0, 64);
    if (h.reqq !== undefined) peer.peerRequestQueue = Math.max(1, Math.min(h.reqq, 2000));
    if (h.p !== undefined && h.p > 0 && h.p <= 65535) {
      peer.listenAddr = { host: peer.addr.host, port: h.p };
      if (!peer.outgoing) {
        this.#t.peerList.add(peer.listenAddr, "incoming", this.#t.ctx.clock.now());
        this.#t.peerList.connected(peer.listenAddr, this.#t.ctx.clock.now());
      }
    }
    this.#t.extensions.onHandshake(peer);
  }
}
