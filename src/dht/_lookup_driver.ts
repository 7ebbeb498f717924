/**
 * Runs a {@linkcode Lookup} state machine over an {@linkcode RpcChannel}: sends what
 * `next()` asks for, feeds replies and failures back, and finishes on convergence,
 * budget, abort or shutdown. Also turns a lookup into an async iterable of peers.
 *
 * Layer: driver. Private to `src/dht/`.
 * @module
 */
import type { Clock, Logger, PeerAddress } from "../runtime/types.ts";
import type { QueryBuilder, RpcChannel } from "./_rpc.ts";
import type { KrpcQueryCommon } from "./krpc.ts";
import type { Lookup, LookupResult, LookupSeed } from "./lookup.ts";

/** What {@linkcode driveLookup} needs from the node. */
export interface LookupDriverDeps {
  /** Time and timers. */
  readonly clock: Clock;
  /** The transport. */
  readonly rpc: RpcChannel;
  /** Log sink (for a throwing `onPeers`). */
  readonly log: Logger;
  /** The fields every query of ours carries. */
  readonly common: (transactionId: Uint8Array) => Omit<KrpcQueryCommon, "readOnly" | "want">;
  /** Whether the node has closed. */
  readonly isClosed: () => boolean;
  /** Registers a stopper `close()` calls; returns the unregister function. */
  readonly track: (stop: () => void) => () => void;
  /** Our socket's address family: which of `nodes` / `nodes6` (BEP 32) we can reach. */
  readonly family: 4 | 6;
}

/** Per-lookup options. */
export interface DriveOptions {
  /** Ends the lookup early. */
  readonly signal?: AbortSignal | undefined;
  /** New peers, batch by batch. */
  readonly onPeers?: ((peers: PeerAddress[], from: PeerAddress) => void) | undefined;
}

/**
 * Runs `lookup` to its end.
 * @param lookup a fresh, seeded lookup
 * @param deps node services
 * @param options abort signal and peer callback
 * @returns the final result (never rejects)
 */
export function driveLookup(
  lookup: Lookup,
  deps: LookupDriverDeps,
  options: DriveOptions = {},
): Promise<LookupResult> {
  const { clock, signal } = options.signal ? { ...deps, signal: options.signal } : {
    ...deps,
    signal: undefined,
  };
  return new Promise((resolve) => {
    let finished = false;
    const finish = () => {
      finished = true;
      deadline.cancel();
      signal?.removeEventListener("abort", pump);
      untrack();
      resolve(lookup.result());
    };
    const pump = () => {
      if (finished) return;
      if (deps.isClosed() || signal?.aborted) lookup.abort();
      if (lookup.isDone(clock.now())) return finish();
      for (const seed of lookup.next(clock.now())) send(lookup, seed, deps, options, pump);
      if (!finished && lookup.isDone(clock.now())) finish();
    };
    const deadline = clock.schedule(lookup.deadline - clock.now(), pump);
    signal?.addEventListener("abort", pump);
    const untrack = deps.track(pump);
    pump();
  });
}

function send(
  lookup: Lookup,
  seed: LookupSeed,
  deps: LookupDriverDeps,
  options: DriveOptions,
  pump: () => void,
): void {
  const target = lookup.target;
  const build: QueryBuilder = lookup.kind === "find_node"
    ? (t) => ({ ...deps.common(t), kind: "query", method: "find_node", target })
    : (t) => ({ ...deps.common(t), kind: "query", method: "get_peers", infoHash: target });
  deps.rpc.query(seed.address, seed.id, build, {
    onReply: (r) => {
      const nodes = deps.family === 6 ? r.nodes6 : r.nodes;
      const reply = { id: r.id, nodes: nodes ?? [], values: r.values ?? [], token: r.token };
      const fresh = lookup.onReply(seed.address, reply, deps.clock.now());
      if (fresh.length > 0 && options.onPeers) {
        try {
          options.onPeers(fresh, seed.address);
        } catch (e) {
          deps.log.warn("DHT onPeers callback threw", { error: String(e) }); // user code
        }
      }
      pump();
    },
    onFail: () => {
      lookup.onTimeout(seed.address);
      pump();
    },
  });
}

/**
 * Turns a peer-reporting lookup into an async iterable that yields peers as they come.
 * @param run starts the lookup with the given signal and callback
 * @param outer the caller's abort signal
 * @returns the peers, ending with the lookup; breaking out of the loop aborts it
 */
export async function* iteratePeers(
  run: (signal: AbortSignal, onPeers: (peers: PeerAddress[]) => void) => Promise<unknown>,
  outer: AbortSignal | undefined,
): AsyncGenerator<PeerAddress, void, undefined> {
  const inner = new AbortController();
  const signal = outer ? AbortSignal.any([outer, inner.signal]) : inner.signal;
  const queue: PeerAddress[] = [];
  let finished = false;
  let wake: (() => void) | undefined;
  const done = run(signal, (peers) => {
    queue.push(...peers);
    wake?.();
  }).then(() => {
    finished = true;
    wake?.();
  });
  try {
    for (;;) {
      const next = queue.shift();
      if (next) yield next;
      else if (finished) break;
      else await new Promise<void>((r) => wake = r);
    }
  } finally {
    inner.abort(); // the consumer stopped early: end the lookup
    await done;
  }
}
