/**
 * Deno binding of the tracker's {@linkcode HttpFetcher}: `fetch` with `redirect: "manual"`
 * (the tracker client follows at most 5 redirects itself, after its SSRF checks), the body
 * read incrementally and aborted past `maxBytes` of decompressed data (RELIABILITY TC1),
 * and a timeout. Only http: and https: URLs are fetched. Failures become a `TrackerError`
 * whose message is the reason alone, never the URL (it may hold a passkey, RELIABILITY
 * C4): `Connection refused`, `Cannot resolve "host"`, `Timed out after 30 s`,
 * `Connection reset`, `TLS error: …`, else `Network error: …` with URLs cut out.
 *
 * It is also the web seeds' {@linkcode RangeFetcher} (BEP 19): a GET with `Range` and
 * `Accept-Encoding: identity` (a compressed body would not be the bytes asked for),
 * redirects not followed, the body handed over chunk by chunk. `fetch` keeps connections
 * alive between requests to one host once a body is read or cancelled.
 *
 * Layer: platform.
 * @module
 */
import { TrackerError } from "../errors.ts";
import { readStreamCapped } from "./read_capped.ts";
import type { HttpFetcher, HttpFetchOptions, HttpFetchResult } from "../tracker/http_client.ts";
import type {
  RangeFetcher,
  RangeFetchOptions,
  RangeResponse,
} from "../session/web_seed_transport.ts";
import { formatWait } from "../tracker/tracker_errors.ts";

/** Options of {@linkcode DenoHttpFetcher}. */
export interface DenoHttpFetcherOptions {
  /** `User-Agent` header (default `"swarmd/0.1"`). */
  readonly userAgent?: string;
  /** Extra CA certificates (PEM) to trust for https, e.g. a test server's own. */
  readonly caCerts?: readonly string[];
  /**
   * Source address of every connection. A client listening on one address sets it, so a
   * tracker records the address we accept peers on (it takes the announce's source), and
   * trackers and web seeds are reached through that interface only (a VPN's, say).
   */
  readonly localAddress?: string;
}

/** {@linkcode HttpFetcher} and {@linkcode RangeFetcher} over Deno's `fetch`. */
export class DenoHttpFetcher implements HttpFetcher, RangeFetcher {
  readonly #userAgent: string;
  readonly #client: Deno.HttpClient | undefined;

  /**
   * Builds the fetcher.
   * @param options request headers and extra CA certificates
   */
  constructor(options: DenoHttpFetcherOptions = {}) {
    this.#userAgent = options.userAgent ?? "swarmd/0.1";
    this.#client = options.caCerts || options.localAddress !== undefined
      ? Deno.createHttpClient({
        ...(options.caCerts ? { caCerts: [...options.caCerts] } : {}),
        ...(options.localAddress !== undefined ? { localAddress: options.localAddress } : {}),
      })
      : undefined;
  }

  /**
   * GETs bytes `start`..`end` of `url` for a web seed, without following redirects.
   * @param url an http(s) URL
   * @param options the range and an abort signal
   * @returns the answer, its body unread
   * @throws {Error} on a non-http(s) URL, a network error or an abort
   */
  async fetchRange(url: string, options: RangeFetchOptions): Promise<RangeResponse> {
    if (!/^https?:\/\//i.test(url)) throw new Error(`Refusing to fetch "${url}": not http(s)`);
    const response = await fetch(url, {
      redirect: "manual",
      signal: options.signal,
      headers: {
        "user-agent": this.#userAgent,
        range: `bytes=${options.start}-${options.end}`,
        "accept-encoding": "identity",
      },
      ...(this.#client ? { client: this.#client } : {}),
    });
    const reader = response.body?.getReader();
    const length = response.headers.get("content-length");
    return {
      status: response.status,
      location: response.headers.get("location") ?? undefined,
      contentRange: response.headers.get("content-range") ?? undefined,
      contentLength: length !== null && /^\d{1,15}$/.test(length) ? Number(length) : undefined,
      read: async () => {
        const next = await reader?.read();
        return next === undefined || next.done ? undefined : next.value;
      },
      cancel: async () => {
        await reader?.cancel().catch(() => {/* already ended or aborted */});
      },
    };
  }

  /** Closes the HTTP client, if one was made for extra CA certificates or a source address. */
  close(): void {
    this.#client?.close();
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
      () => controller.abort(new TrackerError(`Timed out after ${formatWait(options.timeoutMs)}`)),
      options.timeoutMs,
    );
    try {
      const response = await fetch(url, {
        redirect: "manual",
        signal: controller.signal,
        headers: { "user-agent": this.#userAgent, "accept-encoding": "gzip" },
        ...(this.#client ? { client: this.#client } : {}),
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
      if (options.signal?.aborted) throw new TrackerError("Aborted", { cause: e });
      throw new TrackerError(networkReason(e, new URL(url).hostname), { cause: e });
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
    }
  }
}

/** The reason of a failed `fetch`, from Deno's error text (its message and its cause's). */
function networkReason(e: unknown, host: string): string {
  const err = e as Error & { cause?: { message?: unknown } };
  const text = `${err?.message ?? e} ${err?.cause?.message ?? ""}`;
  if (/Connection refused|ECONNREFUSED|os error 111\b/i.test(text)) return "Connection refused";
  if (
    /dns error|failed to lookup address|Name or service not known|No address associated/i.test(text)
  ) {
    return `Cannot resolve "${host.replace(/^\[|\]$/g, "")}"`;
  }
  if (/Connection reset|ECONNRESET|os error 104\b/i.test(text)) return "Connection reset";
  if (/unreachable|os error 113\b|os error 101\b/i.test(text)) return "Host unreachable";
  if (/Connection timed out|os error 110\b/i.test(text)) return "Connection timed out";
  const detail = (err?.cause?.message ? String(err.cause.message) : String(err?.message ?? e))
    .replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s)]*/gi, "<url>") // no passkeys in logs (C4)
    .replace(/^error sending request for url \(<url>\):\s*/i, "")
    .slice(0, 200);
  return /certificate|tls|ssl/i.test(detail) ? `TLS error: ${detail}` : `Network error: ${detail}`;
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
