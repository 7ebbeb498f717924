/**
 * The HTTP transport of web seeds (BEP 19): one GET with a `Range` header, redirects not
 * followed (the driver follows them itself, after the URL checks of `web_seed_rules.ts`),
 * the body handed over chunk by chunk so the driver reads no more than it asked for.
 * `src/deno/http.ts` implements it over `fetch` (keep-alive connections, http and https);
 * tests and simulations use fakes.
 *
 * Layer: driver contract (types only).
 * @module
 */

/** Options of one {@linkcode RangeFetcher.fetchRange} call. */
export interface RangeFetchOptions {
  /** First byte wanted. */
  readonly start: number;
  /** Last byte wanted, inclusive. */
  readonly end: number;
  /** Aborts the request and its body. */
  readonly signal: AbortSignal;
}

/** An answer whose body has not been read yet. */
export interface RangeResponse {
  /** HTTP status. */
  readonly status: number;
  /** `Location`, for redirects. */
  readonly location?: string | undefined;
  /** `Content-Range`. */
  readonly contentRange?: string | undefined;
  /** `Content-Length`, when the server sent one. */
  readonly contentLength?: number | undefined;
  /** The next chunk of the body, or undefined at its end. */
  read(): Promise<Uint8Array | undefined>;
  /** Stops reading and frees the connection; safe to call twice. */
  cancel(): Promise<void>;
}

/** Performs range requests for web seeds. */
export interface RangeFetcher {
  /**
   * GETs bytes `start`..`end` of `url`, without following redirects.
   * @param url an http(s) URL
   * @param options the range and an abort signal
   * @returns the answer, its body unread
   * @throws {Error} on network errors and aborts
   */
  fetchRange(url: string, options: RangeFetchOptions): Promise<RangeResponse>;
}
