/**
 * Shared body of `get` and `seed`: flags for peers and limits, a client, the live
 * progress line (percent, rates, peers, ETA), `--json` event lines, `--quiet`, and a
 * clean stop on SIGINT/SIGTERM that keeps verified data and saves resume data.
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
import { startStreamOutput, STREAM_OPTIONS, STREAM_OPTIONS_HELP } from "./stream_output.ts";

/** Flags shared by `get` and `seed`. */
export const PEER_OPTIONS: OptionsSpec = {
  port: { type: "string" },
  peer: { type: "string", multiple: true },
  tracker: { type: "string", multiple: true },
  "dht-bootstrap": { type: "string", multiple: true },
  "no-dht": { type: "boolean" },
  "no-pex": { type: "boolean" },
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
  ...STREAM_OPTIONS,
};

/** Help text for the shared flags. */
export const PEER_OPTIONS_HELP =
  `  --port N                listen port (default 6881, next free one if taken)
  --host IP               listen address (default 0.0.0.0)
  --peer HOST:PORT        connect to this peer (repeatable)
  --tracker URL           extra tracker (repeatable)
  --dht-bootstrap H:P     DHT bootstrap node (repeatable)
  --no-dht, --no-pex      disable the DHT / peer exchange
  --no-utp, --no-tcp      disable a transport (uTP is dialled first, TCP after 1 s)
  --max-upload RATE       upload cap, e.g. 500K or 2M (bytes/s, binary units)
  --max-download RATE     download cap
  --timeout SECONDS       give up (exit 1) if not complete by then
  --encryption MODE       prefer (default: MSE/PE offered, plain BitTorrent kept),
                          require (RC4 only) or plaintext (we never start MSE)
  --allow-local-peers     accept every address trackers, DHT nodes and PEX peers give
                          (by default a source may only give addresses at most as
                          local as itself: a public tracker cannot point into your LAN)
${STREAM_OPTIONS_HELP}
  --json                  one JSON object per line: events and progress
  --quiet                 print nothing but errors (and the stream URLs)`;

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
  const isPrivate = meta?.isPrivate ?? false;
  const v = options.values;
  const peers: PeerAddress[] = listFlag(v.peer).map((p) => parseHostPort("peer", p));
  const port = intFlag("port", v.port, 0, 65535);
  const timeoutS = intFlag("timeout", v.timeout, 1, 10_000_000);
  const maxUp = stringFlag(v["max-upload"]);
  const maxDown = stringFlag(v["max-download"]);
  const trackers = listFlag(v.tracker);
  for (const url of trackers) {
    if (!/^(https?|udp):\/\//i.test(url)) {
      throw new CliError(`Invalid --tracker: "${safeText(url)}" is not an http, https or udp URL`);
    }
  }
  const host = stringFlag(v.host);
  const json = v.json === true, quiet = v.quiet === true;
  const client = new Client({
    ...(port !== undefined ? { port } : {}),
    ...(host !== undefined ? { host } : {}),
    settings: {
      maxUploadBytesPerSecond: maxUp ? parseByteSize("max-upload", maxUp) : 0,
      maxDownloadBytesPerSecond: maxDown ? parseByteSize("max-download", maxDown) : 0,
      enableDht: v["no-dht"] !== true && !isPrivate,
      ...(listFlag(v["dht-bootstrap"]).length > 0
        ? {
          dhtBootstrapNodes: listFlag(v["dht-bootstrap"]).map((a) =>
            formatAddress(parseHostPort("dht-bootstrap", a))
          ),
        }
        : {}),
      enablePex: v["no-pex"] !== true && !isPrivate,
      allowLocalPeers: v["allow-local-peers"] === true,
      encryption: encryptionFlag(v.encryption),
      enableUtp: v["no-utp"] !== true,
      enableTcp: v["no-tcp"] !== true,
    },
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
    const outcome = await watch(events, io, {
      json,
      quiet,
      // a streaming get serves on once complete, until interrupted
      seed: options.seed || streams !== undefined,
      done: torrent.done,
      onMetadata: () => streams?.announce(),
    });
    const reason = stop.signal.reason as string | undefined;
    if (outcome === "complete" && !options.seed && !streams) {
      if (!quiet && !json) {
        io.stdout(`Complete: ${safeText(torrent.name)} verified in ${options.dir}`);
      }
      return 0;
    }
    if (outcome === "error") return 1;
    if (reason === "timeout") {
      const st = torrent.stats();
      io.stderr(
        st.state === "metadata"
          ? `error: no metadata after ${timeoutS} s (${st.peers} peers connected)`
          : `error: not complete after ${timeoutS} s (${st.bytesVerified} of ${st.bytesWanted} bytes)`,
      );
      return 1;
    }
    // Interrupted: a seeder stops cleanly (0); an unfinished download keeps its verified data (1).
    if (!quiet && !json) io.stdout("Stopping: verified data kept, resume data saved");
    const st = torrent.stats();
    return options.seed || st.bytesVerified === st.bytesWanted ? 0 : 1;
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    await streams?.close();
    for (const s of signals) Deno.removeSignalListener(s, onSignal);
    io.status("");
    await client.close();
  }
}

async function watch(
  events: AsyncIterable<EngineEvent>,
  io: CliIo,
  o: {
    json: boolean;
    quiet: boolean;
    seed: boolean;
    done: Promise<void>;
    onMetadata: () => void;
  },
): Promise<"complete" | "error" | "stopped"> {
  let complete = false;
  o.done.then(() => complete = true, () => {});
  for await (const e of events) {
    if (e.type === "metadata-received") o.onMetadata();
    if (o.json) io.stdout(JSON.stringify(e));
    else if (!o.quiet) report(e, io);
    if (e.type === "torrent-error") {
      io.stderr(`error: ${e.message}`);
      return "error";
    }
    if ((e.type === "torrent-completed" || (e.type === "check-finished" && complete)) && !o.seed) {
      return "complete";
    }
    if (complete && !o.seed && e.type === "progress") return "complete";
  }
  return complete ? "complete" : "stopped";
}

function report(e: EngineEvent, io: CliIo): void {
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
      io.stdout("Download complete; every piece verified");
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
