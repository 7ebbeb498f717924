/**
 * `--stream` for `get` and `seed`: serves the torrent's files over HTTP while it downloads
 * (src/deno/stream_server.ts) and prints one `stream: URL  path` line per file, plus the
 * playlist (`--json`: one `stream` object per file and a `stream-playlist` object), even
 * with `--quiet`: they are the command's output. A magnet's lines come once its metadata
 * is known.
 *
 * Layer: platform (CLI).
 * @module
 */
import type { Session } from "../session/session.ts";
import { serveStreams, type StreamServer } from "../deno/stream_server.ts";
import { CliError, type CliIo, intFlag, safeText, stringFlag } from "./common.ts";

/** The stream flags, as `get` and `seed` take them. */
export const STREAM_OPTIONS = {
  stream: { type: "boolean" },
  "stream-port": { type: "string" },
  "stream-host": { type: "string" },
} as const;

/** Help text for the stream flags. */
export const STREAM_OPTIONS_HELP =
  `  --stream                serve the files over HTTP while downloading, at
                          /stream/<info-hash>/<file index> (ranges, seeks) and an M3U
                          playlist at /stream/<info-hash>.m3u; keeps serving once complete
                          until interrupted
  --stream-port N         port of the stream server (default: any free port)
  --stream-host IP        address of the stream server (default 127.0.0.1)`;

/** A started stream server that prints its URLs once. */
export interface StreamOutput {
  /** Prints the URLs if the torrent's files are known and not yet printed. */
  announce(): void;
  /** Stops the server (open streams end). */
  close(): Promise<void>;
}

/**
 * Starts the stream server when `--stream` is given.
 * @param values parsed flag values
 * @returns the output, or undefined without `--stream`
 * @throws {CliError} for a bad port, or one that cannot be bound (exit 2)
 */
export async function startStreamOutput(
  values: Record<string, unknown>,
  o: { session: Session; infoHash: string; io: CliIo; json: boolean },
): Promise<StreamOutput | undefined> {
  if (values.stream !== true) return undefined;
  const port = intFlag("stream-port", values["stream-port"], 0, 65535) ?? 0;
  const hostname = stringFlag(values["stream-host"]) ?? "127.0.0.1";
  let server: StreamServer;
  try {
    server = await serveStreams(o.session, { hostname, port });
  } catch (e) {
    throw new CliError(
      `Cannot serve streams on ${safeText(hostname)}:${port}: ${(e as Error).message}`,
      2,
      { cause: e },
    );
  }
  let printed = false;
  return {
    announce() {
      const files = o.session.torrent(o.infoHash)?.files();
      if (printed || !files) return;
      printed = true;
      for (const f of files) {
        if (f.isPadding || !f.isSelected) continue;
        const url = server.urlOf(o.infoHash, f.index);
        if (o.json) {
          o.io.stdout(JSON.stringify({
            type: "stream",
            category: "torrent",
            infoHash: o.infoHash,
            file: f.index,
            path: f.path,
            length: f.length,
            url,
          }));
        } else o.io.stdout(`stream: ${url}  ${safeText(f.path)}`);
      }
      const playlist = server.playlistOf(o.infoHash);
      if (o.json) {
        o.io.stdout(JSON.stringify({
          type: "stream-playlist",
          category: "torrent",
          infoHash: o.infoHash,
          url: playlist,
        }));
      } else o.io.stdout(`playlist: ${playlist}`);
    },
    close: () => server.close(),
  };
}
