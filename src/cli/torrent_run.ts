/**
 * Shared body of `get` and `seed`: flags for peers and limits, a client, the live
 * progress line (percent, rates, peers, ETA), `--json` event lines with their time,
 * `--quiet`, `--verbose`/`--log`, the hint when no peer turns up, one summary line at the
 * end, and a clean stop on SIGINT/SIGTERM that keeps verified data and saves resume data.
 *
 * Layer: platform (CLI).
 * @module
 */
import { formatAddress } from "../util/address.ts";
import { Client } from "../deno/client.ts";
import type { MagnetLink, Metainfo } from "../metainfo/mod.ts";
import type { EngineEvent, TorrentStats } from "../session/events.ts";
import type { PeerAddress } from "../runtime/types.ts";
import type { EncryptionMode } from "../session/settings.ts";
import { fileSink, lineSink, RunLog } from "./run_log.ts";
import { startStreamOutput, STREAM_OPTIONS, STREAM_OPTIONS_HELP } from "./stream_output.ts";
import {
  noPeersHint,
  type RunOutcome,
  type SourceReport,
  StarvationWatch,
  type SummaryInput,
  summaryLine,
} from "./run_report.ts";
import {
  CliError,
  type CliIo,
  formatBytes,
  formatDuration,
  formatRate,
  intFlag,
  listFlag,
  type OptionsSpec,
  parseByteSize,
  parseHostPort,
  safeText,
  stringFlag,
} from "./common.ts";

/** Flags shared by `get` and `seed`. */
export const PEER_OPTIONS: OptionsSpec = {
  port: { type: "string" },
  peer: { type: "string", multiple: true },
  tracker: { type: "string", multiple: true },
  "dht-bootstrap": { type: "string", multiple: true },
  "no-dht": { type: "boolean" },
  "no-pex": { type: "boolean" },
  "no-lsd": { type: "boolean" },
  json: { type: "boolean" },
  quiet: { type: "boolean" },
  "max-upload": { type: "string" },
  "max-download": { type: "string" },
  timeout: { type: "string" },
  host: { type: "string" },
  "allow-local-peers": { type: "boolean" },
  encryption: { type: "string" },
  "no-utp": { type: "boolean" },
  "no-tcp": { type: "boolean" },
  verbose: { type: "boolean" },
  log: { type: "string" },
  ...STREAM_OPTIONS,
};

/** Help text for the shared flags. */
export const PEER_OPTIONS_HELP =
  `  --port N                listen port (default 6881, next free one if taken)
  --host IP               listen address (default 0.0.0.0); trackers, the DHT and
                          uTP are also reached from it
  --peer HOST:PORT        connect to this peer (repeatable)
  --tracker URL           extra tracker (repeatable)
  --dht-bootstrap H:P     DHT bootstrap node (repeatable)
  --no-dht, --no-pex      disable the DHT / peer exchange
  --no-lsd                disable local service discovery (LAN multicast, BEP 14)
  --max-upload RATE       upload cap, e.g. 500K or 2M (bytes/s, binary units)
  --max-download RATE     download cap
  --timeout SECONDS       give up (exit 1) if not complete by then
  --encryption MODE       prefer (default: MSE/PE offered, plain BitTorrent kept),
                          require (RC4 only) or plaintext (we never start MSE)
  --allow-local-peers     accept every address trackers, DHT nodes and PEX peers give
                          (by default a source may only give addresses at most as
                          local as itself: a public tracker cannot point into your LAN)
${STREAM_OPTIONS_HELP}
  --json                  one JSON object per line (events, progress, the summary),
                          each with its "time" (ISO 8601)
  --quiet                 print nothing but errors (and the stream URLs)
  --verbose               log connections, handshakes, choke state, tracker and DHT
                          traffic, pieces and storage with timestamps, to stderr
  --log FILE              write that log to FILE instead (appended; implies --verbose)`;

/** Parsed shared flags. */
export interface RunOptions {
  /** Save path. */
  readonly dir: string;
  /** Keep seeding after completion. */
  readonly seed: boolean;
  /** Parsed flag values. */
  readonly values: Record<string, unknown>;
  /** Priority per file (0 = skip). */
  readonly filePriorities?: readonly number[];
  /** Magnet links: file indices to download (BEP 53 `so` or `--files`). */
  readonly selectOnly?: readonly number[];
  /** BEP 16 super-seeding. */
  readonly superSeed?: boolean;
}

/**
 * Runs a torrent until complete (or, when seeding, until interrupted).
 * @param meta the torrent
 * @param io output
 * @param options save path, seed flag and parsed flag values
 * @returns exit code
 * @throws {CliError} for bad flag values (exit 2)
 */
export async function runTorrent(
  source: Metainfo | MagnetLink,
  io: CliIo,
  options: RunOptions,
): Promise<number> {
  const meta = "pieceHashes" in source ? source : undefined;
  const infoHashHex = source.infoHashHex;
  const v = options.values;
  const peers: PeerAddress[] = listFlag(v.peer).map((p) => parseHostPort("peer", p));
  const port = intFlag("port", v.port, 0, 65535);
  const timeoutS = intFlag("timeout", v.timeout, 1, 10_000_000);
  const trackers = listFlag(v.tracker);
  for (const url of trackers) {
    if (!/^(https?|udp):\/\//i.test(url)) {
      throw new CliError(`Invalid --tracker: "${safeText(url)}" is not an http, https or udp URL`);
    }
  }
  const host = stringFlag(v.host);
  const json = v.json === true, quiet = v.quiet === true;
  const settings = clientSettings(v, meta?.isPrivate ?? false);
  const log = await openRunLog(v, io);
  const client = new Client({
    ...(port !== undefined ? { port } : {}),
    ...(host !== undefined ? { host } : {}),
    ...(log ? { logger: log } : {}),
    settings,
  });
  const stop = new AbortController();
  const onSignal = () => stop.abort("signal");
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  for (const s of signals) Deno.addSignalListener(s, onSignal);
  let timer: ReturnType<typeof setTimeout> | undefined;
  let streams: Awaited<ReturnType<typeof startStreamOutput>>;
  try {
    // Subscribe before adding, so the storage check's events are seen too.
    const session = await client.ready();
    const events = forTorrent(session.events({ signal: stop.signal }), infoHashHex);
    const startedAt = Date.now();
    const torrent = await client.add(source, {
      dir: options.dir,
      seed: options.seed,
      peers,
      sequential: v.sequential === true,
      trackers: trackers.map((url) => [url]),
      superSeed: options.superSeed === true,
      ...(options.filePriorities ? { filePriorities: options.filePriorities } : {}),
      ...(options.selectOnly ? { selectOnly: options.selectOnly } : {}),
    });
    if (!quiet && !json) {
      io.stdout(
        meta
          ? `${options.seed ? "Seeding" : "Downloading"} ${safeText(meta.name)} (${
            formatBytes(meta.totalLength)
          }, ${infoHashHex}) on port ${client.port}`
          : `Fetching metadata for ${infoHashHex} from peers (port ${client.port})`,
      );
    }
    streams = await startStreamOutput(v, { session, infoHash: infoHashHex, io, json });
    streams?.announce();
    if (timeoutS !== undefined) timer = setTimeout(() => stop.abort("timeout"), timeoutS * 1000);
    // --timeout bounds the download; a complete one streams on until interrupted
    torrent.done.then(() => clearTimeout(timer), () => {});
    const sources: SourceReport = {
      dht: undefined,
      ...(settings.enableDht ? {} : { dhtOff: v["no-dht"] === true ? "--no-dht" : "private" }),
      pex: settings.enablePex,
      manualPeers: peers.map(formatAddress),
    };
    const hint = (stats: TorrentStats, ms: number) =>
      noPeersHint(stats, { ...sources, dht: session.dhtStats(), lsd: session.lsdStats() }, ms);
    const watched = await watch(events, io, {
      json,
      quiet,
      // a streaming get serves on once complete, until interrupted
      seed: options.seed || streams !== undefined,
      done: torrent.done,
      onMetadata: () => streams?.announce(),
      log,
      hint: (stats, ms) => io.stderr(`hint: ${hint(stats, ms)}`),
    });
    const st = torrent.stats();
    const elapsedMs = Date.now() - startedAt;
    const timedOut = stop.signal.reason === "timeout" && watched === "stopped";
    if (timedOut) io.stderr(timeoutLine(st, timeoutS!, st.peers === 0 ? hint(st, elapsedMs) : ""));
    const input = {
      outcome: watched,
      dir: options.dir,
      stats: st,
      elapsedMs,
      seeding: options.seed,
    };
    summary(io, { json, quiet }, input);
    if (watched === "complete") return 0;
    if (watched === "error" || timedOut) return 1;
    // Interrupted: a seeder stops cleanly (0); an unfinished download keeps its verified data (1).
    return options.seed || st.bytesVerified === st.bytesWanted ? 0 : 1;
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    await streams?.close();
    for (const s of signals) Deno.removeSignalListener(s, onSignal);
    io.status("");
    await client.close();
    await log?.close();
  }
}

/** The `--timeout` error, with why there is no peer when there is none. */
function timeoutLine(st: TorrentStats, timeoutS: number, noPeers: string): string {
  const why = noPeers ? `; ${noPeers}` : "";
  return st.state === "metadata"
    ? `error: no metadata after ${timeoutS} s (${st.peers} peers connected)${why}`
    : `error: not complete after ${timeoutS} s (${st.bytesVerified} of ${st.bytesWanted} bytes)${why}`;
}

/** Engine settings from the shared flags. */
function clientSettings(v: Record<string, unknown>, isPrivate: boolean) {
  const maxUp = stringFlag(v["max-upload"]);
  const maxDown = stringFlag(v["max-download"]);
  const bootstrap = listFlag(v["dht-bootstrap"]);
  return {
    maxUploadBytesPerSecond: maxUp ? parseByteSize("max-upload", maxUp) : 0,
    maxDownloadBytesPerSecond: maxDown ? parseByteSize("max-download", maxDown) : 0,
    enableDht: v["no-dht"] !== true && !isPrivate,
    ...(bootstrap.length > 0
      ? {
        dhtBootstrapNodes: bootstrap.map((a) => formatAddress(parseHostPort("dht-bootstrap", a))),
      }
      : {}),
    enablePex: v["no-pex"] !== true && !isPrivate,
    enableLsd: v["no-lsd"] !== true && !isPrivate,
    allowLocalPeers: v["allow-local-peers"] === true,
    encryption: encryptionFlag(v.encryption),
    enableUtp: v["no-utp"] !== true,
    enableTcp: v["no-tcp"] !== true,
  };
}

/** `--verbose` / `--log FILE`: the run's log, or `undefined` without either. */
async function openRunLog(v: Record<string, unknown>, io: CliIo): Promise<RunLog | undefined> {
  const path = stringFlag(v.log);
  if (path === undefined) return v.verbose === true ? new RunLog(lineSink(io.stderr)) : undefined;
  try {
    return new RunLog(await fileSink(path));
  } catch (e) {
    throw new CliError(`Invalid --log: ${(e as Error).message}`, 2, { cause: e });
  }
}

/** The run's one summary line: stdout, or a `summary` object with `--json`. */
function summary(io: CliIo, o: { json: boolean; quiet: boolean }, input: SummaryInput): void {
  if (o.json) {
    const s = input.stats;
    io.stdout(JSON.stringify({
      time: new Date().toISOString(),
      type: "summary",
      outcome: input.outcome,
      infoHash: s.infoHash,
      dir: input.dir,
      bytesWanted: s.bytesWanted,
      bytesVerified: s.bytesVerified,
      bytesDownloaded: s.bytesDownloaded,
      bytesUploaded: s.bytesUploaded,
      peersUsed: s.peersUsed,
      elapsedMs: input.elapsedMs,
      ...(s.errorString !== undefined ? { error: s.errorString } : {}),
    }));
  } else if (!o.quiet) io.stdout(summaryLine(input));
}

interface WatchOptions {
  readonly json: boolean;
  readonly quiet: boolean;
  readonly seed: boolean;
  readonly done: Promise<void>;
  readonly onMetadata: () => void;
  readonly log: RunLog | undefined;
  /** Prints the no-peers hint (spell length in ms). */
  readonly hint: (stats: TorrentStats, ms: number) => void;
}

async function watch(
  events: AsyncIterable<EngineEvent>,
  io: CliIo,
  o: WatchOptions,
): Promise<RunOutcome> {
  let complete = false;
  o.done.then(() => complete = true, () => {});
  const starved = new StarvationWatch();
  for await (const e of events) {
    o.log?.event(e);
    if (e.type === "metadata-received") o.onMetadata();
    if (o.json) io.stdout(JSON.stringify({ time: new Date().toISOString(), ...e }));
    else if (!o.quiet) report(e, io, o.seed);
    if (e.type === "torrent-error") {
      io.stderr(`error: ${e.message}`);
      return "error";
    }
    if (e.type === "progress") {
      const spell = starved.update(Date.now(), e.stats);
      if (spell !== undefined && !o.quiet) o.hint(e.stats, spell);
    }
    if ((e.type === "torrent-completed" || (e.type === "check-finished" && complete)) && !o.seed) {
      return "complete";
    }
    if (complete && !o.seed && e.type === "progress") return "complete";
  }
  return complete ? "complete" : "stopped";
}

function report(e: EngineEvent, io: CliIo, seed: boolean): void {
  switch (e.type) {
    case "progress":
      io.status(progressLine(e.stats));
      return;
    case "metadata-received":
      io.stdout(`Metadata received: ${safeText(e.name)} (${formatBytes(e.bytes)} info dictionary)`);
      return;
    case "check-finished":
      io.stdout(
        `Checked existing data: ${e.piecesHave} pieces verified${
          e.usedResume ? " (resume data)" : ""
        }`,
      );
      return;
    case "peer-banned":
      io.stdout(`Banned ${e.peer}: ${e.reason}`);
      return;
    case "storage-warning":
    case "tracker-warning":
    case "dht-warning":
    case "web-seed-warning":
      io.stderr(`warning: ${e.message}`);
      return;
    case "torrent-completed":
      // Without --seed the run ends here, and the summary line says it once.
      if (seed) io.stdout("Download complete: every piece verified and on disk; seeding");
      return;
  }
}

/** `"42.0%  3.1 MiB/s down  0 B/s up  peers 3 (1 seed)  ETA 12s"`. */
export function progressLine(s: TorrentStats): string {
  const pct = s.bytesWanted > 0 ? (100 * s.bytesVerified) / s.bytesWanted : 0;
  const left = s.bytesWanted - s.bytesVerified;
  const eta = s.downloadBps > 0 ? left / s.downloadBps : undefined;
  return `${pct.toFixed(1)}%  ${formatRate(s.downloadBps)} down  ${formatRate(s.uploadBps)} up  ` +
    `peers ${s.peers} (${s.seeds} seed${s.seeds === 1 ? "" : "s"})  ` +
    (s.state === "seeding" ? "seeding" : `ETA ${formatDuration(eta)}`);
}

async function* forTorrent(
  events: AsyncIterable<EngineEvent>,
  infoHash: string,
): AsyncIterable<EngineEvent> {
  for await (const e of events) {
    const own = "infoHash" in e ? e.infoHash === infoHash : e.type !== "progress" ||
      e.stats.infoHash === infoHash;
    if (own) yield e;
  }
}

/** `--encryption prefer|require|plaintext`. */
function encryptionFlag(value: unknown): EncryptionMode {
  const mode = stringFlag(value) ?? "prefer";
  if (mode === "prefer" || mode === "require" || mode === "plaintext") return mode;
  throw new CliError(
    `Invalid --encryption: "${safeText(mode)}" (use prefer, require or plaintext)`,
  );
}
