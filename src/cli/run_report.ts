/**
 * What `get` and `seed` tell the user about a run besides progress: the one summary line
 * at the end (size, time, average rate, peers used, uploaded), and the hint when no peer
 * turns up, naming every source tried and what it answered (trackers, the DHT, PEX).
 *
 * Layer: platform (CLI; pure functions of engine snapshots).
 * @module
 */
import type { TorrentStats, TrackerSummary } from "../session/events.ts";
import { formatBytes, formatDuration, formatRate, safeText } from "./common.ts";

/** How a run ended. */
export type RunOutcome = "complete" | "error" | "stopped";

/** What the summary line is made of. */
export interface SummaryInput {
  /** How the run ended. */
  readonly outcome: RunOutcome;
  /** The save path. */
  readonly dir: string;
  /** The torrent's last snapshot. */
  readonly stats: TorrentStats;
  /** Wall time since the torrent was added, ms. */
  readonly elapsedMs: number;
  /** The run was seeding (`seed`, `get --seed`): uploads come first. */
  readonly seeding?: boolean;
}

/**
 * The one line that ends a run, e.g. `Complete: x.iso, 24.0 MiB verified in dl; downloaded
 * 24.0 MiB in 3.1s (7.74 MiB/s average) from 3 peers; uploaded 1.20 MiB`.
 * @param input outcome, save path, last snapshot, duration
 * @returns the line
 */
export function summaryLine(input: SummaryInput): string {
  const { stats: s, elapsedMs } = input;
  const seconds = Math.max(elapsedMs, 1) / 1000;
  const name = safeText(s.name || s.infoHash);
  const where = `in ${safeText(input.dir)}`;
  const kept = input.outcome === "complete"
    ? `Complete: ${name}, ${formatBytes(s.bytesWanted)} verified ${where}`
    : `Stopped: ${name}, ${formatBytes(s.bytesVerified)} of ${formatBytes(s.bytesWanted)} ` +
      `verified and kept ${where}`;
  const took = seconds < 10 ? `${seconds.toFixed(1)}s` : formatDuration(seconds);
  const peers = `${s.peersUsed} peer${s.peersUsed === 1 ? "" : "s"}`;
  const down = `downloaded ${formatBytes(s.bytesDownloaded)}`;
  if (input.seeding && input.outcome === "complete") {
    return `Seeded: ${name}, ${formatBytes(s.bytesWanted)} verified ${where}; uploaded ` +
      `${formatBytes(s.bytesUploaded)} in ${took} (${formatRate(s.bytesUploaded / seconds)} ` +
      `average); ${down} from ${peers}`;
  }
  return `${kept}; ${down} in ${took} (${formatRate(s.bytesDownloaded / seconds)} average) ` +
    `from ${peers}; uploaded ${formatBytes(s.bytesUploaded)}`;
}

/** The peer sources a run had, for {@linkcode noPeersHint}. */
export interface SourceReport {
  /** DHT counters, or `undefined` when the DHT is off. */
  readonly dht: Readonly<Record<string, number>> | undefined;
  /** Why the DHT is off, when it is (`"--no-dht"`, `"private torrent"`). */
  readonly dhtOff?: string;
  /** True when peer exchange is on. */
  readonly pex: boolean;
  /** LSD counters (announces sent, heard, peers found), or `undefined` when LSD is off. */
  readonly lsd?: Readonly<Record<string, number>> | undefined;
  /** Addresses given with `--peer` (or a magnet's `x.pe`). */
  readonly manualPeers: readonly string[];
}

/**
 * Why there is no peer, from every source tried: `no peers after 30s; trackers:
 * udp://t:6969/announce (Cannot reach tracker: timed out, 3 failures); DHT: 0 nodes (no
 * bootstrap node answered); PEX: no connected peer to ask; LSD: 0 LAN announces heard; 0
 * addresses known. Check ...`.
 * @param stats the torrent's snapshot (its `trackers` status included)
 * @param sources the DHT, PEX and manual peers
 * @param elapsedMs how long the torrent has had no peer
 * @returns one line
 */
export function noPeersHint(
  stats: TorrentStats,
  sources: SourceReport,
  elapsedMs: number,
): string {
  const parts: string[] = [];
  const trackers = stats.trackers ?? [];
  parts.push(
    trackers.length === 0
      ? "no trackers"
      : `trackers: ${trackers.slice(0, 5).map(trackerText).join(", ")}${
        trackers.length > 5 ? ` and ${trackers.length - 5} more` : ""
      }`,
  );
  parts.push(dhtText(sources));
  parts.push(sources.pex ? "PEX: no connected peer to ask" : "PEX: off");
  const lsd = sources.lsd;
  parts.push(
    lsd
      ? `LSD: ${lsd.received ?? 0} LAN announce${lsd.received === 1 ? "" : "s"} heard`
      : "LSD: off",
  );
  if (sources.manualPeers.length > 0) {
    parts.push(`--peer ${sources.manualPeers.slice(0, 3).join(", ")}: no connection`);
  }
  parts.push(`${stats.knownPeers} peer address${stats.knownPeers === 1 ? "" : "es"} known`);
  const what = stats.state === "metadata" ? " to fetch the metadata from" : "";
  return `no peers${what} after ${formatDuration(elapsedMs / 1000)}; ${parts.join("; ")}. ` +
    "Check the network and firewall, or give a peer with --peer HOST:PORT";
}

function trackerText(t: TrackerSummary): string {
  const url = safeText(t.url);
  if (t.isDead) return `${url} (gave up: ${safeText(t.lastError ?? "refused")})`;
  if (t.lastError !== undefined) {
    return `${url} (${safeText(t.lastError)}, ${t.fails} failure${t.fails === 1 ? "" : "s"})`;
  }
  if (t.lastAnnounceAt !== undefined) return `${url} (answered: ${t.peersReturned} peers)`;
  return `${url} (no answer yet)`;
}

function dhtText(sources: SourceReport): string {
  const dht = sources.dht;
  if (!dht) return `DHT: off${sources.dhtOff ? ` (${sources.dhtOff})` : ""}`;
  const nodes = dht.tableSize ?? 0;
  const answered = `${dht.repliesReceived ?? 0} of ${dht.queriesSent ?? 0} queries answered`;
  return `DHT: ${nodes} node${nodes === 1 ? "" : "s"} in the routing table, ${answered}` +
    (nodes === 0 ? " (no bootstrap node answered)" : "");
}

/**
 * When to print the no-peers hint: once per spell without peers, after `delayMs` of it,
 * while the torrent still wants peers (fetching metadata or downloading).
 */
export class StarvationWatch {
  readonly #delayMs: number;
  #since: number | undefined;
  #told = false;

  /** @param delayMs how long a spell without peers lasts before the hint (default 30 s) */
  constructor(delayMs = 30_000) {
    this.#delayMs = delayMs;
  }

  /**
   * Feeds a snapshot.
   * @param now wall or monotonic ms (the same clock every time)
   * @param stats the torrent's snapshot
   * @returns how long the spell has lasted when the hint is due now, else `undefined`
   */
  update(now: number, stats: TorrentStats): number | undefined {
    const wants = stats.state === "metadata" || stats.state === "downloading";
    if (!wants || stats.peers > 0) {
      this.#since = undefined;
      this.#told = false;
      return undefined;
    }
    this.#since ??= now;
    if (this.#told || now - this.#since < this.#delayMs) return undefined;
    this.#told = true;
    return now - this.#since;
  }
}
