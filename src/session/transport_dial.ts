/**
 * Opening the stream to a peer over the transports the session has.
 *
 * The first transport in `order` is preferred (uTP, as the libtorrent family prefers it:
 * LEDBAT yields to the user's other traffic). The others start after `headStartMs`, 0 for
 * a peer we know nothing about: then TCP and uTP are dialled together. When a later
 * transport connects while the preferred one is still pending, the preferred one gets a
 * grace of max(`graceMs`, the winner's connect time) to answer too: a uTP peer answers
 * its SYN in about the round trip TCP's connect just took, so it still wins, while a
 * TCP-only peer (libtorrent with uTP off drops the SYN without a word) costs one round
 * trip plus the grace, not libtorrent's whole uTP timeout (a default libtorrent leecher
 * took 5.25 s instead of 1.21 s for 256 MiB from a TCP-only peer) nor a fixed head start
 * (1 s was a third of a 1 GiB loopback download). The loser is closed before any byte
 * is sent on it. What worked is remembered per address by the caller.
 *
 * Layer: driver.
 * @module
 */
import type { Clock, Conn, Network, PeerAddress } from "../runtime/types.ts";

/** A transport a connection runs over. */
export type Transport = "tcp" | "utp";

/** What {@linkcode dialTransport} opened. */
export interface OpenedStream {
  /** The connected stream. */
  readonly conn: Conn;
  /** Which transport. */
  readonly transport: Transport;
  /** How long its connect took, ms (a round trip: a SYN and its answer). */
  readonly connectMs: number;
}

/** How to dial. */
export interface TransportDialOptions {
  /** TCP. */
  readonly network: Network;
  /** uTP, when it runs. */
  readonly utp:
    | { dial(addr: PeerAddress, options: { signal?: AbortSignal }): Promise<Conn> }
    | undefined;
  /** Head starts and timing. */
  readonly clock: Clock;
  /** Transports to try, preferred first. */
  readonly order: readonly Transport[];
  /** Start the next transport after this long without a connection, ms (0: all at once). */
  readonly headStartMs: number;
  /** How long a connected later transport waits for the preferred one, at least, ms. */
  readonly graceMs: number;
  /** Aborts every attempt (the connect timeout). */
  readonly signal: AbortSignal;
}

/**
 * Connects to `addr`, preferring the first transport in `order`.
 * @returns the stream, its transport and connect time
 * @throws {Error} the last failure when every transport failed (or the signal aborted)
 */
export function dialTransport(addr: PeerAddress, o: TransportDialOptions): Promise<OpenedStream> {
  return new Promise((resolve, reject) => {
    const aborts: AbortController[] = [];
    let done = false;
    let failures = 0;
    let launched = 0;
    let preferredPending = true;
    let lastError: unknown = new Error("no transport to dial");
    let headStart: { cancel(): void } | undefined;
    /** A later transport that connected first, waiting out the preferred one's grace. */
    let runnerUp: { opened: OpenedStream; timer: { cancel(): void } } | undefined;
    const finish = (winner?: OpenedStream) => {
      done = true;
      headStart?.cancel();
      runnerUp?.timer.cancel();
      if (runnerUp && runnerUp.opened !== winner) runnerUp.opened.conn.close();
      for (const a of aborts) a.abort();
      o.signal.removeEventListener("abort", onAbort);
      if (winner) resolve(winner);
    };
    const onAbort = () => {
      if (done) return;
      finish();
      reject(new Error("connect aborted"));
    };
    const launch = (): void => {
      if (done || launched >= o.order.length) return;
      const index = launched++;
      const transport = o.order[index]!;
      const abort = new AbortController();
      aborts.push(abort);
      const started = o.clock.now();
      const opening = transport === "utp"
        ? o.utp!.dial(addr, { signal: abort.signal })
        : o.network.dial(addr, { signal: abort.signal });
      opening.then((conn) => {
        if (done) return conn.close(); // another transport won
        const opened = { conn, transport, connectMs: o.clock.now() - started };
        if (index === 0 || !preferredPending) return finish(opened);
        if (runnerUp) return conn.close(); // one later transport already waits
        const grace = Math.max(o.graceMs, opened.connectMs);
        runnerUp = { opened, timer: o.clock.schedule(grace, () => finish(opened)) };
      }, (e) => {
        lastError = e;
        if (index === 0) preferredPending = false;
        if (done) return;
        if (index === 0 && runnerUp) return finish(runnerUp.opened);
        if (++failures === o.order.length) {
          finish();
          reject(lastError);
        } else launch(); // no need to wait out the head start after a failure
      });
      if (launched < o.order.length) {
        headStart?.cancel();
        if (o.headStartMs <= 0) launch();
        else headStart = o.clock.schedule(o.headStartMs, launch);
      }
    };
    if (o.signal.aborted) return reject(new Error("connect aborted"));
    o.signal.addEventListener("abort", onAbort, { once: true });
    if (o.order.length === 0) return reject(lastError);
    launch();
  });
}
