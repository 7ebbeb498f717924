/**
 * HTTP tracker client (BEP 3, 7, 23, 48) over a small {@linkcode HttpFetcher} interface:
 * follows at most 5 redirects itself (http/https only, SSRF rule M4/TC6 via
 * `url_policy.ts`), caps the body at 1 MiB (TC1), treats HTTP 410 as "stop using this
 * URL" (TC4), and turns every failure into a `TrackerError` whose message is the reason
 * without the URL (which may carry a passkey): `Tracker answered HTTP 500`,
 * `Tracker refused: "…"` (the tracker's text escaped), `Tracker gone (HTTP 410)`, or the
 * fetcher's reason (`Connection refused`, `Cannot resolve "host"`, `Timed out after 30 s`).
 *
 * Layer: driver (I/O only through the injected fetcher).
 * @module
 */
import { TrackerError } from "../errors.ts";
import {
  buildAnnounceUrl,
  buildScrapeUrl,
  type HttpTrackerFailure,
  parseAnnounceResponse,
  parseScrapeResponse,
} from "./http_codec.ts";
import { quoteTrackerText, TrackerFailureError } from "./tracker_errors.ts";
import type { AnnounceParams, AnnounceResponse, ScrapeEntry } from "./types.ts";
import { checkHttpTrackerUrl, checkRedirect, type UrlPolicyOptions } from "./url_policy.ts";

/** Options of one {@linkcode HttpFetcher.fetch} call. */
export interface HttpFetchOptions {
  /** Aborts the request. */
  readonly signal?: AbortSignal | undefined;
  /** Abort once more than this many (decompressed) body bytes arrive. */
  readonly maxBytes: number;
  /** Abort after this many milliseconds. */
  readonly timeoutMs: number;
}

/** One HTTP response, redirects not followed. */
export interface HttpFetchResult {
  /** HTTP status code. */
  readonly status: number;
  /** The whole body (≤ `maxBytes`). */
  readonly body: Uint8Array;
  /** The `Location` header, for redirects. */
  readonly location?: string | undefined;
}

/** Performs one GET without following redirects; rejects on network errors or caps. */
export interface HttpFetcher {
  /**
   * GETs `url` without following redirects.
   * @param url an http(s) URL
   * @param options abort signal, body cap and timeout
   * @returns status, body and `Location`
   * @throws {Error} on network errors, timeouts, aborts and bodies over the cap
   */
  fetch(url: string, options: HttpFetchOptions): Promise<HttpFetchResult>;
}

/** Options of an {@linkcode HttpTrackerClient}. */
export interface HttpTrackerClientOptions extends UrlPolicyOptions {
  /** The transport. */
  readonly fetcher: HttpFetcher;
  /** Redirects followed per request (default 5). */
  readonly maxRedirects?: number;
  /** Body cap in bytes (default 1 MiB). */
  readonly maxBodyBytes?: number;
  /** Per-request timeout in ms (default 30 s, libtorrent's `tracker_completion_timeout`). */
  readonly timeoutMs?: number;
  /** Cap on peers kept from one response. */
  readonly maxPeers?: number;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * Announces and scrapes over HTTP(S).
 * @example
 * ```ts
 * import { HttpTrackerClient, type HttpFetcher } from "./mod.ts";
 * import { encode } from "../bencode/mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const fetcher: HttpFetcher = {
 *   fetch: () => Promise.resolve({ status: 200, body: encode({ interval: 900, complete: 1, peers: "" }) }),
 * };
 * const client = new HttpTrackerClient({ fetcher });
 * const response = await client.announce("http://t.example/announce", {
 *   infoHash: new Uint8Array(20),
 *   peerId: new Uint8Array(20),
 *   port: 6881,
 *   uploaded: 0,
 *   downloaded: 0,
 *   left: 0,
 * });
 * assertEquals([response.intervalS, response.complete, response.peers], [900, 1, []]);
 * ```
 */
export class HttpTrackerClient {
  readonly #options: HttpTrackerClientOptions;

  /**
   * Builds the client.
   * @param options transport and caps
   */
  constructor(options: HttpTrackerClientOptions) {
    this.#options = options;
  }

  /**
   * Announces to an HTTP tracker.
   * @param url the announce URL
   * @param params what to announce
   * @param signal aborts the request
   * @returns the normalised response
   * @throws {TrackerFailureError} when the tracker refuses (`permanent` for 410, `retry in: never`
   *   or a URL the policy forbids)
   * @throws {TrackerError} on network errors, bad status codes, caps or malformed bodies
   */
  async announce(
    url: string,
    params: AnnounceParams,
    signal?: AbortSignal,
  ): Promise<AnnounceResponse> {
    checkHttpTrackerUrl(url, this.#options);
    const body = await this.#get(buildAnnounceUrl(url, params), signal);
    const result = this.#parse(() => parseAnnounceResponse(body, this.#parseOptions()));
    if (result.kind === "failure") throw failureError(result);
    return result.response;
  }

  /**
   * Scrapes an HTTP tracker (BEP 48 URL convention).
   * @param url the announce URL
   * @param infoHashes 20-byte info-hashes
   * @param signal aborts the request
   * @returns counts per info-hash the tracker knows
   * @throws {TrackerFailureError} when the tracker has no scrape URL or refuses
   * @throws {TrackerError} on network errors, caps or malformed bodies
   */
  async scrape(
    url: string,
    infoHashes: readonly Uint8Array[],
    signal?: AbortSignal,
  ): Promise<ScrapeEntry[]> {
    checkHttpTrackerUrl(url, this.#options);
    const scrapeUrl = buildScrapeUrl(url, infoHashes);
    if (scrapeUrl === undefined) {
      throw new TrackerFailureError(`Tracker "${url}" does not support scrape`);
    }
    const body = await this.#get(scrapeUrl, signal);
    const result = this.#parse(() => parseScrapeResponse(body));
    if (result.kind === "failure") throw failureError(result);
    return result.files;
  }

  #parseOptions(): { maxPeers?: number } {
    return this.#options.maxPeers === undefined ? {} : { maxPeers: this.#options.maxPeers };
  }

  #parse<T>(parse: () => T): T {
    try {
      return parse();
    } catch (e) {
      throw new TrackerError(`Cannot read tracker response: ${(e as Error).message}`, { cause: e });
    }
  }

  async #get(first: string, signal: AbortSignal | undefined): Promise<Uint8Array> {
    const maxRedirects = this.#options.maxRedirects ?? 5;
    let url = checkHttpTrackerUrl(first, this.#options);
    for (let hop = 0;; hop++) {
      const result = await this.#fetch(url.href, signal);
      if (REDIRECTS.has(result.status) && result.location !== undefined) {
        if (hop >= maxRedirects) {
          throw new TrackerError(`Too many redirects (over ${maxRedirects})`);
        }
        url = checkRedirect(url, result.location, this.#options);
        continue;
      }
      if (result.status === 200) return result.body;
      if (result.status === 410) {
        throw new TrackerFailureError("Tracker gone (HTTP 410)", { permanent: true });
      }
      throw statusError(result);
    }
  }

  async #fetch(url: string, signal: AbortSignal | undefined): Promise<HttpFetchResult> {
    try {
      return await this.#options.fetcher.fetch(url, {
        signal,
        maxBytes: this.#options.maxBodyBytes ?? 1024 * 1024,
        timeoutMs: this.#options.timeoutMs ?? 30_000,
      });
    } catch (e) {
      if (e instanceof TrackerError) throw e;
      throw new TrackerError(`Network error: ${(e as Error)?.message ?? e}`, { cause: e });
    }
  }
}

function failureError(f: HttpTrackerFailure): TrackerFailureError {
  const options = f.retryInS === undefined
    ? { permanent: f.permanent }
    : { permanent: f.permanent, retryInS: f.retryInS };
  return new TrackerFailureError(`Tracker refused: ${quoteTrackerText(f.reason)}`, options);
}

function statusError(result: HttpFetchResult): TrackerError {
  try {
    const parsed = parseAnnounceResponse(result.body);
    if (parsed.kind === "failure") return failureError(parsed);
  } catch {
    // not a bencoded failure: report the status alone
  }
  return new TrackerError(`Tracker answered HTTP ${result.status}`);
}

/**
 * A URL with its query replaced by `?…`, so passkeys stay out of logs (RELIABILITY C4).
 * @param url the URL
 * @returns the redacted URL
 * @example
 * ```ts
 * import { redact } from "./mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * assertEquals(redact("http://t.example/announce?passkey=secret"), "http://t.example/announce?…");
 * ```
 */
export function redact(url: string): string {
  const q = url.indexOf("?");
  return q < 0 ? url : `${url.slice(0, q)}?…`;
}
