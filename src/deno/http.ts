/**
 * Deno binding of the tracker's {@linkcode HttpFetcher}: `fetch` with `redirect: "manual"`
 * (the tracker client follows at most 5 redirects itself, after its SSRF checks), the body
 * read incrementally and aborted past `maxBytes` of decompressed data (RELIABILITY TC1),
 * and a timeout. Only http: and https: URLs are fetched.
 *
 * Layer: platform.
 * @module
 */
import { TrackerError } from "../errors.ts";
import { readStreamCapped } from "./read_capped.ts";
import type { HttpFetcher, HttpFetchOptions, HttpFetchResult } from "../tracker/http_client.ts";

/** Options of {@linkcode DenoHttpFetcher}. */
export interface DenoHttpFetcherOptions {
  /** `User-Agent` header (default `"swarmd/0.1"`). */
  readonly userAgent?: string;
}

/** {@linkcode HttpFetcher} over Deno's `fetch`. */
export class DenoHttpFetcher implements HttpFetcher {
  readonly #userAgent: string;

  /**
   * Builds the fetcher.
   * @param options request headers
   */
  constructor(options: DenoHttpFetcherOptions = {}) {
    this.#userAgent = options.userAgent ?? "swarmd/0.1";
  }

  /**
   * GETs `url` without following redirects.
   * @param url an http(s) URL
   * @param options abort signal, body cap and timeout
   * @returns status, body and `Location`
   * @throws {TrackerError} on a non-http(s) URL, network error, timeout, abort or a body over the cap
   */
  async fetch(url: string, options: HttpFetchOptions): Promise<HttpFetchResult> {
    if (!/^https?:\/\//i.test(url)) {
      throw new TrackerError(`Refusing to fetch "${url}": not http(s)`);
    }
    const controller = new AbortController();
    const onAbort = () => controller.abort(options.signal?.reason);
    options.signal?.addEventListener("abort", onAbort, { once: true });
    if (options.signal?.aborted) controller.abort();
    const timer = setTimeout(
      () => controller.abort(new TrackerError("Tracker request timed out")),
      options.timeoutMs,
    );
    try {
      const response = await fetch(url, {
        redirect: "manual",
        signal: controller.signal,
        headers: { "user-agent": this.#userAgent, "accept-encoding": "gzip" },
      });
      const body = await readCapped(response, options.maxBytes, controller);
      return {
        status: response.status,
        body,
        location: response.headers.get("location") ?? undefined,
      };
    } catch (e) {
      if (e instanceof TrackerError) throw e;
      const reason = controller.signal.reason;
      if (reason instanceof TrackerError) throw reason;
      throw new TrackerError(`Tracker request failed: ${(e as Error).message}`, { cause: e });
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
    }
  }
}

async function readCapped(
  response: Response,
  maxBytes: number,
  controller: AbortController,
): Promise<Uint8Array> {
  const body = await readStreamCapped(response.body, maxBytes);
  if (body !== undefined) return body;
  controller.abort();
  throw new TrackerError(`Tracker response exceeds ${maxBytes} bytes`);
}
