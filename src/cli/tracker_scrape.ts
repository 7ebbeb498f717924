/**
 * Scrapes every tracker of a torrent or magnet link once (BEP 48 over HTTP, BEP 15 over UDP),
 * all tiers in parallel, each bounded by one deadline: what `info --scrape` prints.
 *
 * Layer: platform (CLI).
 * @module
 */
import { SECURE_RANDOM, SYSTEM_CLOCK } from "../deno/clock.ts";
import { DenoHttpFetcher } from "../deno/http.ts";
import { bindUdp } from "../deno/udp.ts";
import { HttpTrackerClient } from "../tracker/http_client.ts";
import { redact } from "../tracker/http_client.ts";
import { UdpTrackerClient } from "../tracker/udp_client.ts";

/** One tracker's answer to a scrape. */
export interface ScrapeStatus {
  /** Announce URL (query redacted). */
  readonly url: string;
  /** BEP 12 tier, 0 first. */
  readonly tier: number;
  /** Seeders, when it answered. */
  readonly seeders?: number;
  /** Leechers, when it answered. */
  readonly leechers?: number;
  /** Completed downloads it counted, when it answered. */
  readonly completed?: number;
  /** Why there is no answer. */
  readonly error?: string;
}

/** Most trackers one `info --scrape` contacts. */
const MAX_SCRAPED = 50;

/**
 * Scrapes each tracker for one info-hash.
 * @param infoHash 20 bytes
 * @param tiers announce URLs by tier
 * @param timeoutMs deadline for every tracker
 * @returns one status per tracker, in tier order
 */
export async function scrapeTrackers(
  infoHash: Uint8Array,
  tiers: readonly (readonly string[])[],
  timeoutMs: number,
): Promise<ScrapeStatus[]> {
  const targets = tiers.flatMap((tier, i) => tier.map((url) => ({ url, tier: i })))
    .slice(0, MAX_SCRAPED);
  if (targets.length === 0) return [];
  const http = new HttpTrackerClient({ fetcher: new DenoHttpFetcher(), timeoutMs });
  const needsUdp = targets.some((t) => t.url.startsWith("udp:"));
  const udp = needsUdp
    ? new UdpTrackerClient({
      socket: await bindUdp({ host: "0.0.0.0", port: 0 }),
      clock: SYSTEM_CLOCK,
      random: SECURE_RANDOM,
      retransmitBaseMs: Math.max(250, Math.floor(timeoutMs / 8)),
      maxRetransmits: 2,
    })
    : undefined;
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    return await Promise.all(targets.map(async ({ url, tier }): Promise<ScrapeStatus> => {
      const shown = redact(url);
      try {
        const client = url.startsWith("udp:") ? udp! : url.startsWith("http") ? http : undefined;
        if (!client) return { url: shown, tier, error: "unsupported scheme" };
        const [entry] = await client.scrape(url, [infoHash], signal);
        if (!entry) return { url: shown, tier, error: "torrent not in the scrape response" };
        return {
          url: shown,
          tier,
          seeders: entry.complete,
          leechers: entry.incomplete,
          completed: entry.downloaded,
        };
      } catch (e) {
        return { url: shown, tier, error: signal.aborted ? "timed out" : (e as Error).message };
      }
    }));
  } finally {
    udp?.close();
  }
}
