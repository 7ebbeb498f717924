/**
 * Tracker and web-seed URL lists shared by the .torrent parser and the magnet parser:
 * unusable URLs are dropped, duplicates removed, totals capped (BEP 12, BEP 19;
 * RELIABILITY M1).
 *
 * Layer: core (pure). Private to `src/metainfo/`.
 * @module
 */

/** Most tracker URLs kept from one torrent or magnet link (RELIABILITY M1). */
export const MAX_TRACKERS = 100;
/** Most web seeds kept from one torrent or magnet link. */
export const MAX_WEB_SEEDS = 100;
/** Longest URL kept, in characters. */
export const MAX_URL_LENGTH = 4096;

const TRACKER_PROTOCOLS = new Set(["http:", "https:", "udp:"]);
const WEB_SEED_PROTOCOLS = new Set(["http:", "https:"]);
// deno-lint-ignore no-control-regex
const BAD_CHAR_RE = /[\u0000-\u0020\u007F]/;

/**
 * The trimmed URL when it is one we can use, else `undefined`.
 * @param text the URL as written
 * @param protocols the accepted schemes
 * @returns the trimmed URL or `undefined`
 */
export function usableUrl(text: string, protocols: ReadonlySet<string>): string | undefined {
  const url = text.trim();
  if (url.length === 0 || url.length > MAX_URL_LENGTH || BAD_CHAR_RE.test(url)) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined; // unparseable: dropped, as the caller documents
  }
  if (!protocols.has(parsed.protocol) || parsed.hostname === "") return undefined;
  if (parsed.protocol === "udp:" && parsed.port === "") return undefined;
  return url;
}

/**
 * The usable tracker URL, or `undefined`.
 * @param text the URL as written
 * @returns the trimmed URL or `undefined`
 */
export function usableTrackerUrl(text: string): string | undefined {
  return usableUrl(text, TRACKER_PROTOCOLS);
}

/**
 * The usable web-seed URL (http or https), or `undefined`.
 * @param text the URL as written
 * @returns the trimmed URL or `undefined`
 */
export function usableWebSeedUrl(text: string): string | undefined {
  return usableUrl(text, WEB_SEED_PROTOCOLS);
}

/** Result of {@linkcode cleanTiers}. */
export interface CleanTiers {
  /** Non-empty tiers of unique usable URLs, at most {@linkcode MAX_TRACKERS} in total. */
  readonly tiers: string[][];
  /** Usable URLs left out because of the cap. */
  readonly overflow: number;
  /** URLs dropped as unusable. */
  readonly unusable: number;
}

/**
 * Drops unusable and duplicate tracker URLs and empty tiers, keeping order, and caps
 * the total at {@linkcode MAX_TRACKERS}.
 * @param tiers BEP 12 tiers as written
 * @returns the cleaned tiers and what was left out
 */
export function cleanTiers(tiers: readonly (readonly string[])[]): CleanTiers {
  const seen = new Set<string>();
  const out: string[][] = [];
  let overflow = 0;
  let unusable = 0;
  for (const tier of tiers) {
    const kept: string[] = [];
    for (const text of tier) {
      const url = usableTrackerUrl(text);
      if (url === undefined) unusable++;
      else if (seen.has(url)) continue;
      else if (seen.size >= MAX_TRACKERS) overflow++;
      else {
        seen.add(url);
        kept.push(url);
      }
    }
    if (kept.length > 0) out.push(kept);
  }
  return { tiers: out, overflow, unusable };
}

/**
 * Drops unusable and duplicate web seeds, keeping order, capped at {@linkcode MAX_WEB_SEEDS}.
 * @param urls the URLs as written
 * @returns the usable URLs
 */
export function cleanWebSeeds(urls: readonly string[]): string[] {
  const out = new Set<string>();
  for (const text of urls) {
    const url = usableWebSeedUrl(text);
    if (url !== undefined && out.size < MAX_WEB_SEEDS) out.add(url);
  }
  return [...out];
}
