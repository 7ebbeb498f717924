/**
 * The rules of one peer's request pipeline (what we ask of it), beside the picker that
 * decides which blocks: how deep the queue is, when to refill it, slow start, the snub
 * rule, BEP 6 hints (allowed-fast, suggested, refused pieces) and the round-trip sample.
 * The picker's request book holds *which* blocks are out; this core holds *how many* may
 * be, and when. The driver feeds it events with `now` and carries out what it returns.
 *
 * - Queue depth (libtorrent's rule): the peer's rate times the queue time, in blocks, at
 *   least `minRequestQueue`, at most `maxRequestQueue` and the peer's own `reqq`. The
 *   queue time is `requestQueueTimeMs` or twice the round trip, whichever is longer: a
 *   queue shorter than the round trip caps the rate at queue ÷ RTT, and the rate then
 *   shrinks the queue (a 1.6 s round trip held a 1 MiB/s link to 77 KiB/s).
 * - Slow start: one more request per block received, until the measured rate says how
 *   deep the queue should be (libtorrent grows until the rate stops rising).
 * - Latency probe: a peer that answers each request late (Transmission 3 on loopback took
 *   ~0.8 s) sends as fast as we keep requests out, so a queue sized by rate × queue time
 *   holds its rate where it is. Every `PROBE_WINDOW_MS` with a full queue, the queue time
 *   is doubled for one window (up to `maxRequestQueueTimeMs`, libtorrent's 3 s); if the
 *   blocks received rose by `PROBE_GAIN`, the longer queue stays, else it is undone and
 *   the next probe waits `PROBE_COOLDOWN_MS`. A peer limited by its bandwidth sends no
 *   more for a longer queue, so it keeps the short one that spreads pieces best.
 * - Refill in batches: after a block, only once a quarter of the queue (1..16 blocks) is free.
 * - Snub: no block for `snubTimeoutMs` while requests were out: its requests go elsewhere
 *   and it gets one request at a time until it sends again (PARAMETERS §2.1).
 * - A REJECT while the peer unchokes us refuses that piece (a seed keeping its upload for
 *   pieces nobody else has): it is not asked of this peer for `refusedPieceMs`, unless the
 *   peer suggests it again.
 * - Round trip: our TCP connect time, or on a connection the peer dialed, the time from
 *   our handshake to its first bitfield or extension handshake, capped at `maxRttSampleMs`.
 * - Unsolicited blocks (PW8): more than `unsolicitedBlockLimit` closes the peer.
 *
 * Invariants (`assertInvariants()`): `queueTarget ≥ 1`; a snubbed queue's target is 1;
 * the queue time lies between `requestQueueTimeMs` and `maxRequestQueueTimeMs`;
 * at most `maxSuggestedPieces` suggestions; every refusal is younger than `refusedPieceMs` after a tick.
 *
 * Layer: core (pure; time is a `now` argument).
 * @module
 */
import { BLOCK_LENGTH } from "./picker_types.ts";

/** Tunables of {@linkcode RequestQueue}; the first four come from the engine's Settings. */
export interface RequestQueueOptions {
  /** Seconds of data to keep requested, in ms (libtorrent request_queue_time is 3 s). */
  readonly requestQueueTimeMs: number;
  /** The latency probe raises this peer's queue time up to here, ms. Default 3,000. */
  readonly maxRequestQueueTimeMs?: number;
  /** Outstanding requests, lower bound. */
  readonly minRequestQueue: number;
  /** Outstanding requests, upper bound. */
  readonly maxRequestQueue: number;
  /** No block for this long while requests are out snubs the peer, ms. */
  readonly snubTimeoutMs: number;
  /** How long a refused piece is not asked of the peer again, ms. Default 5,000. */
  readonly refusedPieceMs?: number;
  /** Suggestions remembered, newest kept. Default 16. */
  readonly maxSuggestedPieces?: number;
  /** A round-trip sample is capped here (a late first message is not a link), ms. Default 2,000. */
  readonly maxRttSampleMs?: number;
  /** Blocks we never asked for tolerated before closing (PW8). Default 64. */
  readonly unsolicitedBlockLimit?: number;
}

/** What a tick found. */
export interface RequestQueueTick {
  /** The peer was just snubbed: release (and cancel) its requests, refill the others. */
  readonly snubbed: boolean;
  /** A refusal lapsed: refill this peer (the piece may be all we still want from it). */
  readonly lapsed: boolean;
}

/** Requests the peer may queue when it does not say (BEP 10 `reqq`; libtorrent's default). */
const DEFAULT_PEER_QUEUE = 250;
/** The highest `reqq` we believe. */
const MAX_PEER_QUEUE = 2000;
/** Slow start begins here. */
const INITIAL_TARGET = 4;
/** The latency probe's measuring window, ms. */
const PROBE_WINDOW_MS = 2_000;
/** A probe keeps the longer queue when the blocks per window rose by this factor. */
const PROBE_GAIN = 1.3;
/** After a probe that did not pay, the next waits this long, ms. */
const PROBE_COOLDOWN_MS = 30_000;
/** The first probe waits this long after the connection starts (slow start settles), ms. */
const PROBE_FIRST_MS = 6_000;
/** Fewer blocks than this in a window say nothing (a trickle, or the end of a download). */
const PROBE_MIN_BLOCKS = 8;

/** One peer's request pipeline rules. */
export class RequestQueue {
  /** BEP 6 allowed-fast pieces: requestable while the peer chokes us. */
  readonly allowedFast: Set<number> = new Set();
  /** BEP 6 suggested pieces, oldest first. */
  readonly suggested: Set<number> = new Set();
  /** Pieces the peer refused (REJECT while unchoking us), with the clock ms. */
  readonly refused: Map<number, number> = new Map();
  readonly #o: Required<RequestQueueOptions>;
  #target = INITIAL_TARGET;
  #peerLimit = DEFAULT_PEER_QUEUE;
  #snubbed = false;
  #lastBlockAt: number;
  #rttMs: number | undefined;
  #rttSince: number | undefined;
  #unsolicited = 0;
  /** This peer's queue time, ms: the setting, raised by probes that paid. */
  #queueMs: number;
  /** The last refill got every block it asked for (the queue, not the picker, limited). */
  #lastRefillFull = false;
  /** Start of the current probe window, and blocks received in it. */
  #windowStart: number;
  #windowBlocks = 0;
  /** Blocks in the last window before a probe; the queue time to go back to. */
  #probe: { readonly baseline: number; readonly previousMs: number } | undefined;
  /** No probe before this clock ms. */
  #probeAfter: number;

  /**
   * @param options settings
   * @param now clock ms the connection started
   * @param rtt a measured round trip (`connectMs`, outgoing), or when we answered the
   *   peer's handshake (`answeredAt`, incoming; its first message then times a round trip)
   */
  constructor(
    options: RequestQueueOptions,
    now: number,
    rtt: { readonly connectMs?: number | undefined; readonly answeredAt?: number | undefined } = {},
  ) {
    this.#o = {
      requestQueueTimeMs: options.requestQueueTimeMs,
      maxRequestQueueTimeMs: Math.max(
        options.requestQueueTimeMs,
        options.maxRequestQueueTimeMs ?? 3_000,
      ),
      minRequestQueue: options.minRequestQueue,
      maxRequestQueue: options.maxRequestQueue,
      snubTimeoutMs: options.snubTimeoutMs,
      refusedPieceMs: options.refusedPieceMs ?? 5_000,
      maxSuggestedPieces: options.maxSuggestedPieces ?? 16,
      maxRttSampleMs: options.maxRttSampleMs ?? 2_000,
      unsolicitedBlockLimit: options.unsolicitedBlockLimit ?? 64,
    };
    this.#lastBlockAt = now;
    this.#queueMs = options.requestQueueTimeMs;
    this.#windowStart = now;
    this.#probeAfter = now + PROBE_FIRST_MS;
    this.#rttMs = rtt.connectMs;
    this.#rttSince = rtt.answeredAt;
  }

  /** No block for the snub timeout while requests were out. */
  get isSnubbed(): boolean {
    return this.#snubbed;
  }

  /** Round trip to the peer in ms, when known. */
  get rttMs(): number | undefined {
    return this.#rttMs;
  }

  /** This peer's queue time in ms (the setting, raised by latency probes that paid). */
  get queueTimeMs(): number {
    return this.#queueMs;
  }

  /** Clock ms of the last block received (or of the connection's start). */
  get lastBlockAt(): number {
    return this.#lastBlockAt;
  }

  /** Sets the peer's own limit (BEP 10 `reqq`), clamped to 1..2000. */
  setPeerLimit(reqq: number): void {
    this.#peerLimit = Math.max(1, Math.min(Math.floor(reqq) || 1, MAX_PEER_QUEUE));
  }

  /**
   * How many requests should be outstanding at a peer sending `rateBps`.
   * @param rateBps the peer's payload rate to us, bytes/s
   * @returns the queue depth, 1 while snubbed
   */
  target(rateBps: number): number {
    if (this.#snubbed) return 1;
    const target = Math.max(this.#byRate(rateBps), this.#target, this.#o.minRequestQueue);
    return Math.min(target, this.#o.maxRequestQueue, this.#peerLimit);
  }

  /**
   * Estimated ms for the peer to deliver one more block requested now: the blocks ahead of
   * it at the peer's rate, plus a round trip (time-critical picks, `PickPeer.deliveryMs`).
   * @param outstanding requests out at this peer
   * @param rateBps the peer's payload rate to us, bytes/s
   * @returns undefined while the rate is unknown (0)
   */
  deliveryMs(outstanding: number, rateBps: number): number | undefined {
    if (!(rateBps > 0)) return undefined;
    return Math.round(((outstanding + 1) * BLOCK_LENGTH * 1000) / rateBps + (this.#rttMs ?? 0));
  }

  /** Whether `outstanding` requests leave room for more. */
  hasRoom(outstanding: number, rateBps: number): boolean {
    return outstanding < this.target(rateBps);
  }

  /**
   * A requested block arrived: un-snub, grow the queue (slow start).
   * @returns whether to refill now (a quarter of the queue is free)
   */
  blockArrived(now: number, rateBps: number, outstanding: number): boolean {
    this.#lastBlockAt = now;
    this.#windowBlocks++;
    this.#snubbed = false;
    if (this.#target <= 2 * this.#byRate(rateBps) + 4) this.#target++;
    const target = this.target(rateBps);
    return target - outstanding >= Math.min(16, Math.max(1, target >> 2));
  }

  /**
   * The driver asked the picker for `asked` blocks for this peer and got `got`: only a
   * queue the picker could fill is one a probe may lengthen.
   */
  refilled(asked: number, got: number): void {
    this.#lastRefillFull = got >= asked;
  }

  /**
   * A block we did not ask this peer for, and could not use.
   * @returns true once the peer has sent more than the limit: close it
   */
  unsolicitedBlock(): boolean {
    return ++this.#unsolicited > this.#o.unsolicitedBlockLimit;
  }

  /**
   * The peer rejected a request of ours.
   * @param unchoked the peer is unchoking us (then the reject refuses the piece)
   */
  rejected(index: number, now: number, unchoked: boolean): void {
    if (unchoked) this.refused.set(index, now);
  }

  /**
   * The peer suggests piece `index` (BEP 6): remembered, newest kept.
   * @returns whether this lifted a refusal of that piece (refill: it may be all we want)
   */
  suggest(index: number): boolean {
    const lifted = this.refused.delete(index);
    this.suggested.delete(index);
    this.suggested.add(index);
    if (this.suggested.size > this.#o.maxSuggestedPieces) {
      this.suggested.delete(this.suggested.values().next().value!);
    }
    return lifted;
  }

  /**
   * The peer's first message after our handshake, on a connection it dialed: one that a
   * client sends on connecting (bitfield, have-all/none, extension handshake) times a
   * round trip. If it was already on its way, the sample is about 0 and the configured
   * queue time rules, as it does without a sample.
   * @param opening whether the message is one a client sends on connecting
   */
  firstMessage(now: number, opening: boolean): void {
    if (this.#rttSince === undefined) return;
    if (opening) this.#rttMs = Math.min(this.#o.maxRttSampleMs, now - this.#rttSince);
    this.#rttSince = undefined;
  }

  /**
   * Once a tick: refusals lapse, and a peer with requests out that sent no block for the
   * snub timeout is snubbed (target 1 until it sends again).
   * @param outstanding requests out at this peer
   */
  tick(now: number, outstanding: number): RequestQueueTick {
    if (now - this.#windowStart >= PROBE_WINDOW_MS) this.#endWindow(now);
    let lapsed = false;
    for (const [index, at] of this.refused) {
      if (now - at >= this.#o.refusedPieceMs) lapsed = this.refused.delete(index) || lapsed;
    }
    if (outstanding === 0 || this.#snubbed || now - this.#lastBlockAt <= this.#o.snubTimeoutMs) {
      return { snubbed: false, lapsed };
    }
    this.#snubbed = true;
    this.#target = 1;
    if (this.#probe !== undefined) this.#queueMs = this.#probe.previousMs;
    this.#probe = undefined;
    return { snubbed: true, lapsed };
  }

  /** Closes a probe window: judges a probe in progress, or starts one. */
  #endWindow(now: number): void {
    const blocks = this.#windowBlocks;
    this.#windowStart = now;
    this.#windowBlocks = 0;
    const probe = this.#probe;
    if (probe !== undefined) {
      this.#probe = undefined;
      if (blocks >= PROBE_GAIN * probe.baseline) return; // it paid: keep, probe again
      this.#queueMs = probe.previousMs;
      this.#probeAfter = now + PROBE_COOLDOWN_MS;
      return;
    }
    const eligible = !this.#snubbed && this.#lastRefillFull && blocks >= PROBE_MIN_BLOCKS &&
      now >= this.#probeAfter && this.#queueMs < this.#o.maxRequestQueueTimeMs;
    if (!eligible) return;
    this.#probe = { baseline: blocks, previousMs: this.#queueMs };
    this.#queueMs = Math.min(this.#o.maxRequestQueueTimeMs, 2 * this.#queueMs);
  }

  /** Checks the header's invariants; throws on a violation. */
  assertInvariants(): void {
    if (this.#target < 1) throw new Error(`RequestQueue: target ${this.#target} < 1`);
    const o = this.#o;
    if (this.#queueMs < o.requestQueueTimeMs || this.#queueMs > o.maxRequestQueueTimeMs) {
      throw new Error(`RequestQueue: queue time ${this.#queueMs} ms out of bounds`);
    }
    if (this.#snubbed && this.target(0) !== 1) throw new Error("RequestQueue: snubbed target");
    if (this.suggested.size > this.#o.maxSuggestedPieces) {
      throw new Error(`RequestQueue: ${this.suggested.size} suggestions`);
    }
  }

  #byRate(rateBps: number): number {
    const queueMs = Math.max(this.#queueMs, 2 * (this.#rttMs ?? 0));
    return Math.ceil((rateBps * queueMs) / 1000 / BLOCK_LENGTH);
  }
}
