/**
 * One web seed (BEP 19) and the fetch of one span: the span's bytes map onto file ranges
 * (`spanParts`), each fetched with one HTTP Range request (redirects followed here, at
 * most `webSeedMaxRedirects`, each target checked), its answer checked before the body is
 * read (`checkRangeAnswer`), and the body cut into the span's blocks as it arrives —
 * never more than asked: a body that runs past the range, or ends short of it, fails the
 * request. Padding files (BEP 47) are zeros, never fetched. A request that receives no
 * byte for `webSeedTimeoutMs` is aborted.
 *
 * Layer: driver (the rules are in web_seed_rules.ts; I/O goes through the RangeFetcher).
 * @module
 */
import { RateMeter } from "../choker/mod.ts";
import type { Metainfo } from "../metainfo/mod.ts";
import type { BlockRequest } from "../picker/mod.ts";
import type { Clock, Timer } from "../runtime/types.ts";
import { Bitfield } from "../util/bitfield.ts";
import type { Settings } from "./settings.ts";
import {
  checkRangeAnswer,
  checkWebSeedRedirect,
  spanParts,
  webSeedFileUrl,
} from "./web_seed_rules.ts";
import type { RangeFetcher, RangeResponse } from "./web_seed_transport.ts";

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** A failed web-seed request: the seed backs off. */
export class WebSeedFailure extends Error {
  /** Builds the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "WebSeedFailure";
  }
}

/** What fetching needs from the torrent. */
export interface WebSeedIo {
  /** Timers. */
  readonly clock: Clock;
  /** Limits. */
  readonly settings: Settings;
  /** The transport. */
  readonly fetcher: RangeFetcher;
  /** Waits for the download limits and disk capacity before a body read. */
  beforeRead(): Promise<void>;
}

/** One web seed: its URL, its state and its meter. */
export class WebSeed {
  /** Its id in the picker and in smart-ban (never a peer's `host:port`). */
  readonly id: string;
  /** The URL from the torrent. */
  readonly url: URL;
  /** Payload it sent us. */
  readonly downloadMeter: RateMeter = new RateMeter();
  /** Pieces it can serve: all, or those whose files have a URL-safe path. */
  readonly has: Bitfield | "all";
  /** Requests in flight. */
  active = 0;
  /** Consecutive failures. */
  failures = 0;
  /** Clock ms before which it is not asked again. */
  retryAt = 0;
  /** Dropped for the session (failed too often, or sent data that failed the hash). */
  dropped = false;
  readonly #meta: Metainfo;
  readonly #fileUrls: (string | undefined)[];
  readonly #controllers = new Set<AbortController>();

  /** A seed at a checked URL, for `meta`. */
  constructor(url: URL, meta: Metainfo) {
    this.url = url;
    this.id = `web:${url.href}`;
    this.#meta = meta;
    this.#fileUrls = meta.files.map((f) => webSeedFileUrl(url, f, meta.isMultiFile));
    this.has = servable(meta, this.#fileUrls);
  }

  /** Aborts every request in flight. */
  abort(reason: Error): void {
    for (const c of this.#controllers) c.abort(reason);
  }

  /**
   * Fetches the contiguous blocks of `span`, handing each to `deliver` as it completes.
   * @throws {WebSeedFailure} (or a transport error) when the seed fails the request
   */
  async fetchSpan(
    span: readonly BlockRequest[],
    io: WebSeedIo,
    deliver: (r: BlockRequest, block: Uint8Array) => void,
  ): Promise<void> {
    const { pieceLength, files } = this.#meta;
    const first = span[0]!, last = span[span.length - 1]!;
    const start = first.index * pieceLength + first.begin;
    const end = last.index * pieceLength + last.begin + last.length;
    const blocks = new BlockCutter(span, deliver);
    for (const part of spanParts(files, start, end)) {
      if (part.isPadding) {
        blocks.push(new Uint8Array(part.length));
        continue;
      }
      const url = this.#fileUrls[part.fileIndex];
      if (url === undefined) {
        throw new WebSeedFailure(`file ${part.fileIndex} has no URL-safe path`);
      }
      const asked = {
        start: part.fileOffset,
        end: part.fileOffset + part.length - 1,
        fileLength: files[part.fileIndex]!.length,
      };
      await this.#fetchPart(url, asked, io, (chunk) => blocks.push(chunk));
    }
  }

  async #fetchPart(
    url: string,
    asked: { start: number; end: number; fileLength: number },
    io: WebSeedIo,
    sink: (chunk: Uint8Array) => void,
  ): Promise<void> {
    const s = io.settings;
    let target = new URL(url);
    for (let hop = 0;; hop++) {
      const controller = new AbortController();
      this.#controllers.add(controller);
      const idle = new IdleTimer(io.clock, s.webSeedTimeoutMs, () => {
        controller.abort(new WebSeedFailure(`no data for ${s.webSeedTimeoutMs} ms`));
      });
      let res: RangeResponse | undefined;
      try {
        res = await io.fetcher.fetchRange(target.href, { ...asked, signal: controller.signal });
        idle.reset();
        if (REDIRECTS.has(res.status) && res.location !== undefined) {
          if (hop >= s.webSeedMaxRedirects) throw new WebSeedFailure("too many redirects");
          const verdict = checkWebSeedRedirect(target, res.location, s.allowLocalPeers);
          if ("refused" in verdict) {
            throw new WebSeedFailure(`redirect refused: ${verdict.refused}`);
          }
          target = verdict.url;
          continue;
        }
        const problem = checkRangeAnswer(res, asked);
        if (problem !== undefined) throw new WebSeedFailure(problem);
        await readBody(res, asked.end - asked.start + 1, { io, idle, sink });
        return;
      } catch (e) {
        throw controller.signal.aborted ? controller.signal.reason : e;
      } finally {
        idle.cancel();
        this.#controllers.delete(controller);
        await res?.cancel().catch(() => {}); // frees the connection; a read body is done
      }
    }
  }
}

/** Reads exactly `length` bytes of body into `sink`; more or fewer fail the request. */
async function readBody(
  res: RangeResponse,
  length: number,
  o: { io: WebSeedIo; idle: IdleTimer; sink: (chunk: Uint8Array) => void },
): Promise<void> {
  let got = 0;
  while (got < length) {
    await o.io.beforeRead();
    const chunk = await res.read();
    o.idle.reset();
    if (chunk === undefined) throw new WebSeedFailure(`short body: ${got} of ${length} bytes`);
    const take = Math.min(chunk.length, length - got);
    o.sink(chunk.subarray(0, take));
    got += take;
    if (take < chunk.length) throw new WebSeedFailure("body longer than asked");
  }
  const extra = await res.read();
  if (extra !== undefined && extra.length > 0) throw new WebSeedFailure("body longer than asked");
}

/** Cuts a stream of bytes into the span's blocks (one block buffered at a time). */
class BlockCutter {
  readonly #span: readonly BlockRequest[];
  readonly #deliver: (r: BlockRequest, block: Uint8Array) => void;
  #k = 0;
  #block: Uint8Array | undefined;
  #filled = 0;

  constructor(span: readonly BlockRequest[], deliver: (r: BlockRequest, b: Uint8Array) => void) {
    this.#span = span;
    this.#deliver = deliver;
  }

  push(chunk: Uint8Array): void {
    let at = 0;
    while (at < chunk.length && this.#k < this.#span.length) {
      const r = this.#span[this.#k]!;
      this.#block ??= new Uint8Array(r.length);
      const take = Math.min(r.length - this.#filled, chunk.length - at);
      this.#block.set(chunk.subarray(at, at + take), this.#filled);
      this.#filled += take;
      at += take;
      if (this.#filled === r.length) {
        this.#deliver(r, this.#block);
        this.#k++;
        this.#block = undefined;
        this.#filled = 0;
      }
    }
  }
}

/** Fires `fn` once `ms` pass without a `reset()`. */
class IdleTimer {
  readonly #clock: Clock;
  readonly #ms: number;
  readonly #fn: () => void;
  #timer: Timer;

  constructor(clock: Clock, ms: number, fn: () => void) {
    this.#clock = clock;
    this.#ms = ms;
    this.#fn = fn;
    this.#timer = clock.schedule(ms, fn);
  }

  reset(): void {
    this.#timer.cancel();
    this.#timer = this.#clock.schedule(this.#ms, this.#fn);
  }

  cancel(): void {
    this.#timer.cancel();
  }
}

/** Pieces a seed can serve: every piece but those of files without a URL-safe path. */
function servable(meta: Metainfo, urls: readonly (string | undefined)[]): Bitfield | "all" {
  if (urls.every((u, i) => u !== undefined || meta.files[i]!.isPadding)) return "all";
  const has = Bitfield.full(meta.pieceCount);
  for (const [i, f] of meta.files.entries()) {
    if (urls[i] !== undefined || f.isPadding || f.length === 0) continue;
    const last = Math.floor((f.offset + f.length - 1) / meta.pieceLength);
    for (let p = Math.floor(f.offset / meta.pieceLength); p <= last; p++) has.clear(p);
  }
  return has;
}
