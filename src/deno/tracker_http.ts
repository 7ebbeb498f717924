/**
 * The tracker's own HTTP/1.1 server over `Deno.listen`, in place of `Deno.serve`, which
 * has no connection cap or header timeout and whose accept loop ends the process on
 * EMFILE (`Uncaught (in promise) Http: Error: Too many open files`). Here (RELIABILITY
 * TS5, rule 3):
 * - connections are capped and timed by the pure `HttpConnectionTable`: a request head
 *   must arrive within the header timeout, a response be taken within the write timeout,
 *   and at the cap the connection that waited longest for a head is closed to make room;
 * - an accept error never ends the loop: out of descriptors, the longest-waiting
 *   connection is closed to free one, and with none to close accepting backs off
 *   (10 ms doubling to 1 s); any other error backs off the same way;
 * - request heads are read by the pure `parseRequestHead` with 8 KiB / 16 KiB caps;
 * - every promise is awaited or caught: a connection's failure closes that connection.
 *
 * Layer: platform.
 * @module
 */
import type { PeerAddress } from "../runtime/types.ts";
import { HttpConnectionTable } from "../tracker/server/http_connections.ts";
import type { TrackerRequestHandler } from "../tracker/server/http_handler.ts";
import {
  formatResponseHead,
  type HttpRequestHead,
  HttpRequestSyntaxError,
  parseRequestHead,
} from "../tracker/server/http_request_head.ts";

/** Options of {@linkcode TrackerHttpServer.listen}. */
export interface TrackerHttpServerOptions {
  /** Addresses to bind, each on `port`. */
  readonly hostnames: readonly string[];
  /** Port (0 = a free port for each address). */
  readonly port: number;
  /** Answers each request. */
  readonly handler: TrackerRequestHandler;
  /** Connections open at once, across addresses. */
  readonly maxConnections: number;
  /** Time to receive a whole request head, ms. */
  readonly headerTimeoutMs: number;
  /** Time for a client to take a response, ms. */
  readonly writeTimeoutMs: number;
  /** Longest request line, bytes. */
  readonly maxRequestLineBytes: number;
  /** Longest request head, bytes. */
  readonly maxRequestHeadBytes: number;
}

/** Counters of a {@linkcode TrackerHttpServer}. */
export interface TrackerHttpStats {
  /** Connections open now. */
  readonly open: number;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Connections closed to make room (cap reached, or out of descriptors). */
  readonly evicted: number;
  /** Connections closed for missing the header or write timeout. */
  readonly timedOut: number;
  /** Requests refused for a malformed or oversized head. */
  readonly badRequests: number;
  /** Failed accepts (EMFILE and others), each followed by recovery. */
  readonly acceptErrors: number;
}

const BACKOFF_MIN_MS = 10;
const BACKOFF_MAX_MS = 1000;
const FIRST_BUFFER_BYTES = 2048;

type Conn = Deno.TcpConn;

/** A running tracker HTTP server on one or more addresses. */
export class TrackerHttpServer {
  /** Bound addresses. */
  readonly addrs: readonly PeerAddress[];
  readonly #o: TrackerHttpServerOptions;
  readonly #listeners: Deno.TcpListener[];
  readonly #table: HttpConnectionTable<Conn>;
  readonly #tasks = new Set<Promise<void>>();
  readonly #ticker: ReturnType<typeof setInterval>;
  readonly #wakers = new Set<() => void>();
  #closed = false;
  #accepted = 0;
  #evicted = 0;
  #timedOut = 0;
  #badRequests = 0;
  #acceptErrors = 0;

  private constructor(options: TrackerHttpServerOptions, listeners: Deno.TcpListener[]) {
    this.#o = options;
    this.#listeners = listeners;
    this.addrs = listeners.map((l) => ({ host: l.addr.hostname, port: l.addr.port }));
    this.#table = new HttpConnectionTable({
      maxConnections: options.maxConnections,
      headerTimeoutMs: options.headerTimeoutMs,
      writeTimeoutMs: options.writeTimeoutMs,
    });
    const tickMs = Math.min(
      1000,
      Math.max(
        25,
        Math.min(
          options.headerTimeoutMs,
          options.writeTimeoutMs,
        ) / 4,
      ),
    );
    this.#ticker = setInterval(() => this.#expire(), tickMs);
    for (const listener of listeners) this.#track(this.#acceptLoop(listener));
  }

  /**
   * Binds every address and starts serving.
   * @param options addresses, handler, caps and timeouts
   * @returns the running server
   * @throws {Deno.errors.AddrInUse} when a port is taken (listeners already bound are closed)
   */
  static listen(options: TrackerHttpServerOptions): TrackerHttpServer {
    const listeners: Deno.TcpListener[] = [];
    try {
      for (const hostname of options.hostnames) {
        listeners.push(Deno.listen({ hostname, port: options.port, transport: "tcp" }));
      }
    } catch (e) {
      for (const l of listeners) l.close();
      throw e;
    }
    return new TrackerHttpServer(options, listeners);
  }

  /**
   * Counters so far.
   * @returns a snapshot
   */
  stats(): TrackerHttpStats {
    return {
      open: this.#table.size,
      accepted: this.#accepted,
      evicted: this.#evicted,
      timedOut: this.#timedOut,
      badRequests: this.#badRequests,
      acceptErrors: this.#acceptErrors,
    };
  }

  /**
   * Stops accepting, closes every connection and waits for their tasks. Idempotent.
   * @returns resolves once everything is closed
   */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      clearInterval(this.#ticker);
      for (const l of this.#listeners) closeQuietly(l);
      for (const wake of this.#wakers) wake();
      for (let c = this.#table.longestWaiting(); c; c = this.#table.longestWaiting()) {
        this.#drop(c);
      }
      for (const c of this.#table.expired(Infinity)) closeQuietly(c);
    }
    while (this.#tasks.size > 0) await Promise.all([...this.#tasks]);
  }

  #track(task: Promise<void>): void {
    this.#tasks.add(task);
    task.catch(() => {/* never rejects by construction; were it to, only this task ends */})
      .finally(() => this.#tasks.delete(task));
  }

  async #acceptLoop(listener: Deno.TcpListener): Promise<void> {
    let backoffMs = 0;
    while (!this.#closed) {
      let conn: Conn;
      try {
        conn = await listener.accept();
        backoffMs = 0;
      } catch (e) {
        if (this.#closed || e instanceof Deno.errors.BadResource) return;
        this.#acceptErrors++;
        // Out of descriptors (EMFILE/ENFILE): close the longest-idle connection and try
        // again at once; with nothing to close, or on any other error, back off.
        const outOfFds = /EMFILE|ENFILE|Too many open files/.test(String((e as Error)?.message)) ||
          ["EMFILE", "ENFILE"].includes((e as { code?: string } | undefined)?.code ?? "");
        const victim = outOfFds ? this.#table.longestWaiting() : undefined;
        if (victim) {
          this.#drop(victim);
          this.#evicted++;
          continue;
        }
        backoffMs = Math.min(BACKOFF_MAX_MS, Math.max(BACKOFF_MIN_MS, backoffMs * 2));
        await this.#sleep(backoffMs);
        continue;
      }
      this.#accepted++;
      const victim = this.#table.admit(conn, performance.now());
      if (victim) {
        closeQuietly(victim);
        this.#evicted++;
        if (victim === conn) continue;
      }
      this.#track(this.#serve(conn));
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.#wakers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.#wakers.add(wake);
    });
  }

  #expire(): void {
    for (const conn of this.#table.expired(performance.now())) {
      closeQuietly(conn);
      this.#timedOut++;
    }
  }

  #drop(conn: Conn): void {
    this.#table.remove(conn);
    closeQuietly(conn);
  }

  async #serve(conn: Conn): Promise<void> {
    let buffer: Uint8Array = new Uint8Array(FIRST_BUFFER_BYTES);
    let end = 0;
    try {
      const remote = { host: conn.remoteAddr.hostname, port: conn.remoteAddr.port };
      conn.setNoDelay(true);
      for (;;) {
        let head: HttpRequestHead | undefined;
        while (!(head = this.#parse(buffer, end))) {
          if (end === buffer.length) buffer = grow(buffer, this.#o.maxRequestHeadBytes + 1);
          const n = await conn.read(buffer.subarray(end));
          if (n === null) return;
          end += n;
        }
        this.#table.busy(conn, performance.now());
        const r = this.#o.handler(head.method, head.target, remote);
        const body = head.method === "HEAD" ? undefined : r.body;
        await writeAll(
          conn,
          formatResponseHead(r.status, r.contentType, r.body.length, head.keepAlive),
          body,
        );
        if (!head.keepAlive) return;
        buffer.copyWithin(0, head.length, end);
        end -= head.length;
        this.#table.waiting(conn, performance.now());
      }
    } catch (e) {
      if (e instanceof HttpRequestSyntaxError) {
        this.#badRequests++;
        this.#table.busy(conn, performance.now());
        const text = new TextEncoder().encode(`${e.message}\n`);
        await writeAll(conn, formatResponseHead(e.status, "text/plain", text.length, false), text)
          .catch(() => {/* the client went away: nothing more to tell it */});
      }
      // Any other error (reset, closed by a timeout or eviction) ends this connection only.
    } finally {
      this.#drop(conn);
    }
  }

  #parse(buffer: Uint8Array, end: number): HttpRequestHead | undefined {
    return end === 0 ? undefined : parseRequestHead(buffer, end, {
      maxLineBytes: this.#o.maxRequestLineBytes,
      maxHeadBytes: this.#o.maxRequestHeadBytes,
    });
  }
}

function grow(buffer: Uint8Array, cap: number): Uint8Array {
  const bigger = new Uint8Array(Math.min(cap, buffer.length * 2));
  bigger.set(buffer);
  return bigger;
}

async function writeAll(conn: Conn, head: Uint8Array, body: Uint8Array | undefined): Promise<void> {
  let data = head;
  if (body && body.length > 0) {
    data = new Uint8Array(head.length + body.length);
    data.set(head);
    data.set(body, head.length);
  }
  for (let at = 0; at < data.length;) at += await conn.write(data.subarray(at));
}

function closeQuietly(resource: { close(): void }): void {
  try {
    resource.close();
  } catch {
    // already closed (by the peer, a timeout or close()): nothing left to release
  }
}
