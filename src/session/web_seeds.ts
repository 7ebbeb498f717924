/**
 * A torrent's web seeds (BEP 19, url-list in the torrent and `ws=` in magnets) as one more
 * source beside the peers. The picker treats a web seed as a peer that has every piece
 * and asks it for contiguous spans (`pickSpan`) of about two seconds of its data, at least
 * a piece and at most `webSeedRequestBytes`, so it never holds pieces for long; blocks go
 * into the same piece pipeline as a peer's (hash check in the workers), and a web seed
 * whose data fails the hash is dropped as smart-ban drops a lying peer.
 *
 * - When: only while `webSeedsWanted` says (few or slow peers, or a streaming reader), at
 *   most `maxWebSeeds` seeds with `webSeedRequestsPerSeed` requests each; URLs the
 *   local-address rule refuses are never asked.
 * - Failures (HTTP errors, short or overlong bodies, a server ignoring Range, timeouts)
 *   release the span's blocks to other sources and back off (`webSeedRetryBaseMs`,
 *   doubling; one request at a time until one succeeds); `webSeedMaxFailures` in a row
 *   drop the seed. Nothing retries in a loop.
 *
 * Layer: driver (decisions from the picker and web_seed_rules.ts).
 * @module
 */
import type { Metainfo } from "../metainfo/mod.ts";
import type { BlockRequest, PiecePicker } from "../picker/mod.ts";
import { BLOCK_LENGTH } from "../picker/mod.ts";
import type { RateMeter } from "../choker/mod.ts";
import type { TorrentContext } from "./context.ts";
import type { TorrentState } from "./events.ts";
import type { Peer } from "./peer.ts";
import type { BlockSink } from "./peer_messages.ts";
import { WebSeed, type WebSeedIo } from "./web_seed.ts";
import { checkWebSeedUrl, webSeedBackoffMs, webSeedsWanted } from "./web_seed_rules.ts";
import type { RangeFetcher } from "./web_seed_transport.ts";

/**
 * A span holds about this much of a request's data at the seed's measured rate (at most
 * `webSeedRequestBytes`), so a slow web seed never holds many pieces peers could fetch.
 */
const SPAN_MS = 2_000;
/** A span before the seed's rate is known: one piece, at least this many bytes. */
const FIRST_SPAN_BYTES = 256 * 1024;

/** What the web seeds need from their torrent. */
export interface WebSeedsHost {
  /** Session services (clock, settings, disk, events). */
  readonly ctx: TorrentContext;
  /** The transport. */
  readonly fetcher: RangeFetcher;
  /** The torrent. */
  readonly meta: Metainfo;
  /** Hex info-hash, for events. */
  readonly infoHashHex: string;
  /** Requests and verified pieces. */
  readonly picker: PiecePicker;
  /** Piece buffers and verification. */
  readonly pipeline: BlockSink;
  /** Live peers (endgame CANCELs; how much the swarm gives). */
  readonly peers: ReadonlyMap<string, Peer>;
  /** The torrent's lifecycle state: requests go out only while downloading. */
  state(): TorrentState;
  /** Counts payload and charges the download limits. */
  countDownload(
    source: { readonly id: string; readonly downloadMeter: RateMeter },
    bytes: number,
  ): void;
  /** How long reading must wait for the download limits, ms. */
  downloadWaitMs(now: number): number;
  /** Blocks were released: other sources may take them. */
  refillAll(): void;
}

/** The web seeds of one torrent. */
export class WebSeeds {
  readonly #host: WebSeedsHost;
  readonly #seeds: WebSeed[] = [];
  readonly #running = new Set<Promise<void>>();
  readonly #io: WebSeedIo;
  #closed = false;

  /** Checks the torrent's URLs (refusals are reported once) and builds the seeds. */
  constructor(host: WebSeedsHost) {
    this.#host = host;
    const { ctx } = host;
    for (const text of host.meta.urlList) {
      const verdict = checkWebSeedUrl(text, ctx.settings.allowLocalPeers);
      if ("refused" in verdict) this.#warn(text, `Web seed not used: ${verdict.refused}`, true);
      else this.#seeds.push(new WebSeed(verdict.url, host.meta));
    }
    this.#io = {
      clock: ctx.clock,
      settings: ctx.settings,
      fetcher: host.fetcher,
      beforeRead: () => this.#beforeRead(),
    };
  }

  /** Seeds that may be asked (refused URLs excluded), dropped ones included. */
  get seeds(): readonly WebSeed[] {
    return this.#seeds;
  }

  /** Starts requests where the policy, the back-offs and the per-seed caps allow. */
  kick(): void {
    const host = this.#host;
    if (this.#closed || host.state() !== "downloading" || !host.pipeline.canRequest()) return;
    const { clock, settings: s } = host.ctx;
    const now = clock.now();
    if (!webSeedsWanted(this.#sample(now), s)) return;
    for (const seed of this.#seeds.filter((x) => !x.dropped).slice(0, s.maxWebSeeds)) {
      // a seed that failed lately gets one request at a time until one succeeds
      const cap = seed.failures > 0 ? 1 : s.webSeedRequestsPerSeed;
      while (seed.active < cap && now >= seed.retryAt) {
        const rate = seed.downloadMeter.rate(now);
        const queued = host.picker.requestCount(seed.id);
        const span = host.picker.pickSpan(
          {
            id: seed.id,
            has: seed.has,
            ...(rate > 0 ? { deliveryMs: ((queued + 1) * BLOCK_LENGTH * 1000) / rate } : {}),
          },
          this.#spanBlocks(rate, cap),
          { now },
        );
        if (span.length === 0) break;
        this.#start(seed, span);
      }
    }
  }

  /**
   * Smart ban named a web seed (its data failed a hash check): it is dropped.
   * @returns false when `id` is not one of these seeds
   */
  ban(id: string, reason: string): boolean {
    const seed = this.#seeds.find((x) => x.id === id);
    if (!seed) return false;
    this.#drop(seed, `Web seed dropped: ${reason}`);
    return true;
  }

  /** Aborts every request and waits for them to end; their blocks go back to the picker. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const seed of this.#seeds) seed.abort(new Error("Torrent stopped"));
    await Promise.all([...this.#running]);
  }

  /** Blocks in the next span: about SPAN_MS of one request's share of the seed's rate. */
  #spanBlocks(rateBps: number, requests: number): number {
    const { meta, ctx } = this.#host;
    const max = ctx.settings.webSeedRequestBytes;
    const bytes = rateBps > 0
      ? (rateBps / requests) * (SPAN_MS / 1000)
      : Math.max(meta.pieceLength, FIRST_SPAN_BYTES);
    return Math.max(1, Math.ceil(Math.min(max, Math.max(meta.pieceLength, bytes)) / BLOCK_LENGTH));
  }

  #start(seed: WebSeed, span: BlockRequest[]): void {
    seed.active++;
    const run = seed.fetchSpan(span, this.#io, (r, block) => this.#deliver(seed, r, block)).then(
      () => {
        seed.failures = 0;
      },
      (e) => {
        if (!this.#closed && !seed.dropped) this.#failed(seed, e);
      },
    ).finally(() => {
      seed.active--;
      this.#running.delete(run);
      // what was not delivered goes back to the pool
      if (this.#host.picker.releaseRequests(seed.id, span).length > 0 && !this.#closed) {
        this.#host.refillAll();
      }
      this.kick();
    });
    this.#running.add(run);
  }

  /** A block arrived: into the piece buffer, as a peer's would (cancel endgame copies). */
  #deliver(seed: WebSeed, r: BlockRequest, block: Uint8Array): void {
    const { picker, pipeline, peers } = this.#host;
    if (this.#closed || seed.dropped || picker.has(r.index)) return;
    this.#host.countDownload(seed, block.length);
    const receipt = picker.blockReceived(seed.id, r.index, r.begin);
    if (!receipt.isNew) return;
    pipeline.buffer(r.index).set(block, r.begin);
    for (const c of receipt.cancel) {
      peers.get(c.peerId)?.send({
        type: "cancel",
        index: c.index,
        begin: c.begin,
        length: c.length,
      });
    }
    if (receipt.pieceComplete) pipeline.submit(r.index);
  }

  #failed(seed: WebSeed, e: unknown): void {
    const s = this.#host.ctx.settings;
    const message = e instanceof Error ? e.message : String(e);
    seed.failures++;
    if (seed.failures >= s.webSeedMaxFailures) {
      return this.#drop(seed, `Web seed dropped after ${seed.failures} failures: ${message}`);
    }
    const pause = webSeedBackoffMs(seed.failures, s.webSeedRetryBaseMs);
    seed.retryAt = this.#host.ctx.clock.now() + pause;
    this.#warn(seed.url.href, `Web seed failed: ${message}; retrying in ${pause / 1000} s`, false);
    // wake up when the pause ends (kick() also runs on every tick)
    this.#host.ctx.clock.schedule(pause, () => this.kick());
  }

  #drop(seed: WebSeed, message: string): void {
    if (seed.dropped) return;
    seed.dropped = true;
    seed.abort(new Error(message));
    this.#warn(seed.url.href, message, true);
    if (this.#host.picker.releaseRequests(seed.id).length > 0) this.#host.refillAll();
  }

  #warn(url: string, message: string, dropped: boolean): void {
    const { ctx, infoHashHex } = this.#host;
    ctx.logger.warn(message, { infoHash: infoHashHex, url });
    ctx.hub.emit({
      type: "web-seed-warning",
      category: "peer",
      infoHash: infoHashHex,
      url,
      message,
      dropped,
    });
  }

  /** How much the swarm gives now (web seeds excluded), and whether a reader waits. */
  #sample(now: number) {
    let unchokingPeers = 0, swarmBps = 0;
    for (const p of this.#host.peers.values()) {
      if (!p.peerChoking) unchokingPeers++;
      swarmBps += p.downloadMeter.rate(now);
    }
    return { unchokingPeers, swarmBps, readerWaiting: this.#host.picker.deadlineCount > 0 };
  }

  /** Before each body read: the download limits, and the disk queue (backpressure). */
  async #beforeRead(): Promise<void> {
    const { clock, disk } = this.#host.ctx;
    const wait = this.#host.downloadWaitMs(clock.now());
    if (wait > 0) await new Promise<void>((r) => clock.schedule(wait, r));
    if (disk.queuedBytes() > 0) await disk.waitForCapacity();
  }
}
