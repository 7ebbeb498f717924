/**
 * Turns bootstrap router addresses (names allowed) into lookup seeds through an
 * injected resolver, bounded by a timeout on the injected clock, so an unreachable
 * DNS can never stall the DHT.
 *
 * Layer: driver. Private to `src/dht/`.
 * @module
 */
import type { Clock, Logger, PeerAddress, Timer } from "../runtime/types.ts";
import { isUsableAddress, parseIp } from "./_address.ts";
import type { LookupSeed } from "./lookup.ts";

/** What {@linkcode resolveSeeds} needs. */
export interface ResolveOptions {
  /** Hostname resolver; without one, names do not resolve. */
  readonly resolve: ((host: string) => Promise<string[]>) | undefined;
  /** Timers for the timeout. */
  readonly clock: Clock;
  /** How long one name may take. */
  readonly timeoutMs: number;
  /** Accept local addresses (test mode). */
  readonly allowLocalAddresses: boolean;
  /** Log sink. */
  readonly log: Logger;
}

/**
 * Resolves every router (at most 8 addresses each).
 * @param addrs routers
 * @param o resolver, clock, timeout
 * @returns seeds with unknown ids, usable addresses only
 */
export async function resolveSeeds(
  addrs: readonly PeerAddress[],
  o: ResolveOptions,
): Promise<LookupSeed[]> {
  const lists = await Promise.all(addrs.map((a) => resolveOne(a, o)));
  // Bootstrap nodes are the user's own choice: each is its own source (a LAN router is fine).
  return lists.flat().filter((a) => isUsableAddress(a, a.host, o.allowLocalAddresses))
    .map((address) => ({ address }));
}

async function resolveOne(a: PeerAddress, o: ResolveOptions): Promise<PeerAddress[]> {
  if (parseIp(a.host)) return [a];
  if (!o.resolve) return [];
  let timer: Timer | undefined;
  const timeout = new Promise<string[]>((r) => {
    timer = o.clock.schedule(o.timeoutMs, () => r([]));
  });
  try {
    const hosts = await Promise.race([o.resolve(a.host), timeout]);
    return hosts.slice(0, 8).map((host) => ({ host, port: a.port }));
  } catch (e) {
    o.log.debug("DHT router did not resolve", { host: a.host, error: String(e) });
    return [];
  } finally {
    timer?.cancel();
  }
}
