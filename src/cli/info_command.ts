/**
 * `info <file.torrent|magnet:> [--json] [--scrape [--timeout S]]`: shows what a torrent or a
 * magnet link holds (BEP 3, BEP 9/53 magnet links, BEP 12 tiers, BEP 19 web seeds, BEP 27
 * private flag) and, with `--scrape`, what each tracker says of it (BEP 48, BEP 15). Every
 * name from the torrent is printed through `safeText` (RELIABILITY C3).
 *
 * Layer: platform (CLI).
 * @module
 */
import { formatAddress } from "../util/address.ts";
import { type MagnetLink, type Metainfo, parseMagnet } from "../metainfo/mod.ts";
import {
  CliError,
  type CliIo,
  formatBytes,
  intFlag,
  loadTorrent,
  parseCommand,
  safeText,
} from "./common.ts";
import type { ScrapeStatus } from "./tracker_scrape.ts";

/** Files listed by the human output before "... N more". */
const MAX_FILES_SHOWN = 50;

/** Usage text of `info`. */
export const INFO_USAGE: string =
  `Usage: deno run -A mod.ts info <file.torrent|magnet:> [--json] [--scrape [--timeout S]]

Shows a torrent's name, info-hash, size, pieces, files, trackers by tier, web seeds, private
flag, comment, creator and date, and any path the sanitiser renamed. For a magnet link: the
info-hash, display name, trackers, peers and web seeds.

Options:
  --json        print one JSON object instead of text
  --scrape      also ask every tracker for seeders, leechers and completed downloads
  --timeout S   give up on a tracker after S seconds (default 10)
  -h, --help    show this help`;

/**
 * Runs `info`.
 * @param args the arguments after `info`
 * @param io where output goes
 * @returns 0 on success
 * @throws {CliError} on a bad flag or an unreadable torrent or magnet link (exit 2)
 */
export async function infoCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommand(args, {
    json: { type: "boolean" },
    scrape: { type: "boolean" },
    timeout: { type: "string" },
  });
  if (values.help) {
    io.stdout(INFO_USAGE);
    return 0;
  }
  if (positionals.length !== 1) {
    throw new CliError(`info takes one <file.torrent|magnet:> argument (see info --help)`);
  }
  const source = positionals[0]!;
  const json = values.json === true;
  const timeoutS = intFlag("timeout", values.timeout, 1, 600) ?? 10;
  // The tracker clients load only for --scrape: plain `info` needs no network code.
  const scrape = async (infoHash: Uint8Array, tiers: readonly (readonly string[])[]) =>
    values.scrape === true
      ? (await import("./tracker_scrape.ts")).scrapeTrackers(infoHash, tiers, timeoutS * 1000)
      : undefined;
  if (/^magnet:/i.test(source)) {
    const link = parseMagnet(source);
    const scraped = await scrape(link.infoHash, link.trackers.map((t) => [t]));
    const out = json
      ? [JSON.stringify({ ...magnetJson(link), ...(scraped ? { scrape: scraped } : {}) })]
      : [...magnetLines(link), ...scrapeLines(scraped)];
    for (const line of out) io.stdout(line);
    return 0;
  }
  const meta = await loadTorrent(source);
  const scraped = await scrape(meta.infoHash, meta.announceList);
  const out = json
    ? [JSON.stringify({ ...torrentJson(meta), ...(scraped ? { scrape: scraped } : {}) })]
    : [...torrentLines(meta), ...scrapeLines(scraped)];
  for (const line of out) io.stdout(line);
  return 0;
}

/** The `--scrape` block: one line per tracker. */
function scrapeLines(scraped: readonly ScrapeStatus[] | undefined): string[] {
  if (scraped === undefined) return [];
  if (scraped.length === 0) return ["scrape:      no trackers"];
  return [
    "scrape:",
    ...scraped.map((s) =>
      `  ${safeText(s.url)}: ` +
      (s.error !== undefined
        ? `error: ${safeText(s.error)}`
        : `${s.seeders} seeders, ${s.leechers} leechers, ${s.completed} completed`)
    ),
  ];
}

/**
 * The `--json` object for a torrent.
 * @param meta parsed metainfo
 * @returns a plain object ready for `JSON.stringify`
 */
export function torrentJson(meta: Metainfo): Record<string, unknown> {
  return {
    infoHash: meta.infoHashHex,
    name: meta.name,
    totalLength: meta.totalLength,
    pieceLength: meta.pieceLength,
    pieceCount: meta.pieceCount,
    files: meta.files.map((f) => ({
      path: f.path.join("/"),
      length: f.length,
      ...(f.isPadding ? { padding: true } : {}),
    })),
    trackers: meta.announceList,
    webSeeds: meta.urlList,
    private: meta.isPrivate,
    comment: meta.comment ?? null,
    createdBy: meta.createdBy ?? null,
    creationDate: meta.creationDate ?? null,
    renamed: meta.renamed,
  };
}

/**
 * The `--json` object for a magnet link.
 * @param link parsed magnet link
 * @returns a plain object ready for `JSON.stringify`
 */
export function magnetJson(link: MagnetLink): Record<string, unknown> {
  return {
    infoHash: link.infoHashHex,
    name: link.displayName ?? null,
    trackers: link.trackers,
    peers: link.peers.map(formatAddress),
    webSeeds: link.webSeeds,
  };
}

/** Pads a label to the value column. */
function row(label: string, value: string): string {
  return `${(label + ":").padEnd(12)} ${value}`;
}

/**
 * The human-readable lines for a torrent.
 * @param meta parsed metainfo
 * @returns lines to print, names escaped
 */
export function torrentLines(meta: Metainfo): string[] {
  const lines = [
    row("name", safeText(meta.name)),
    row("info-hash", meta.infoHashHex),
    row("size", `${formatBytes(meta.totalLength)} (${meta.totalLength} bytes)`),
    row("pieces", `${meta.pieceCount} × ${formatBytes(meta.pieceLength)}`),
    row("private", meta.isPrivate ? "yes" : "no"),
  ];
  if (meta.comment !== undefined) lines.push(row("comment", safeText(meta.comment)));
  if (meta.createdBy !== undefined) lines.push(row("created by", safeText(meta.createdBy)));
  if (meta.creationDate !== undefined) lines.push(row("created", formatDate(meta.creationDate)));
  lines.push(...fileLines(meta), ...trackerLines(meta.announceList));
  if (meta.urlList.length > 0) {
    lines.push("web seeds:", ...meta.urlList.map((u) => `  ${safeText(u)}`));
  }
  if (meta.renamed.length > 0) {
    lines.push("renamed by the path sanitiser:");
    for (const r of meta.renamed) lines.push(`  ${safeText(r.from)} -> ${safeText(r.to)}`);
  }
  return lines;
}

/** The files block: at most {@linkcode MAX_FILES_SHOWN} files, then a count of the rest. */
function fileLines(meta: Metainfo): string[] {
  // BEP 47 padding files are layout only: not shown to humans.
  const files = meta.files.filter((f) => !f.isPadding);
  const lines = [`files:       ${files.length}`];
  for (const f of files.slice(0, MAX_FILES_SHOWN)) {
    lines.push(`  ${formatBytes(f.length).padStart(10)}  ${safeText(f.path.join("/"))}`);
  }
  const more = files.length - MAX_FILES_SHOWN;
  if (more > 0) lines.push(`  ... ${more} more`);
  return lines;
}

/** The trackers block, one line per BEP 12 tier. */
function trackerLines(tiers: readonly (readonly string[])[]): string[] {
  if (tiers.length === 0) return ["trackers:    none"];
  return [
    "trackers:",
    ...tiers.map((tier, i) => `  tier ${i + 1}: ${tier.map(safeText).join(" ")}`),
  ];
}

/** Seconds since the epoch as ISO 8601 (UTC), or the raw number when out of range. */
function formatDate(seconds: number): string {
  const date = new Date(seconds * 1000);
  return Number.isNaN(date.getTime()) ? String(seconds) : date.toISOString().replace(".000Z", "Z");
}

/**
 * The human-readable lines for a magnet link.
 * @param link parsed magnet link
 * @returns lines to print, names escaped
 */
export function magnetLines(link: MagnetLink): string[] {
  const lines = [row("info-hash", link.infoHashHex)];
  if (link.displayName !== undefined) lines.push(row("name", safeText(link.displayName)));
  const list = (label: string, items: string[]) =>
    items.length === 0 ? [] : [`${label}:`, ...items.map((t) => `  ${safeText(t)}`)];
  lines.push(
    ...list("trackers", link.trackers),
    ...list("peers", magnetJson(link).peers as string[]),
    ...list("web seeds", link.webSeeds),
  );
  for (const warning of link.warnings) lines.push(`warning: ${safeText(warning)}`);
  return lines;
}
