/**
 * Serves a session's stream routes (`createStreamHandler`) with `Deno.serve`: what
 * `get --stream` runs. Binds 127.0.0.1 unless told otherwise; on a loopback address only
 * loopback `Host` names are answered (a web page cannot reach the server by DNS
 * rebinding, RELIABILITY C1).
 *
 * Layer: platform.
 * @module
 */
import { createStreamHandler, type StreamSource } from "../session/stream_http.ts";
import { localityOf } from "../util/address.ts";

/** Options of {@linkcode serveStreams}. */
export interface StreamServerOptions {
  /** Address to bind. Default `"127.0.0.1"`. */
  readonly hostname?: string;
  /** Port to bind; 0 (the default) picks a free one. */
  readonly port?: number;
}

/** A running stream server. */
export interface StreamServer {
  /** `http://host:port`, the base of every stream URL. */
  readonly origin: string;
  /** The bound port. */
  readonly port: number;
  /**
   * The URL of one file's stream.
   * @param infoHashHex the torrent
   * @param fileIndex the file, in torrent order
   * @returns `origin/stream/<info-hash>/<file index>`
   */
  urlOf(infoHashHex: string, fileIndex: number): string;
  /**
   * The URL of a torrent's M3U playlist.
   * @param infoHashHex the torrent
   * @returns `origin/stream/<info-hash>.m3u`
   */
  playlistOf(infoHashHex: string): string;
  /** Stops serving (open responses are cut). */
  close(): Promise<void>;
}

/**
 * Starts serving the stream routes of `source` (a `Session`).
 * @param source where torrents are found by info-hash
 * @param options address and port
 * @returns the running server
 * @throws {Deno.errors.AddrInUse} when the port is taken
 */
export async function serveStreams(
  source: StreamSource,
  options: StreamServerOptions = {},
): Promise<StreamServer> {
  const hostname = options.hostname ?? "127.0.0.1";
  const loopback = localityOf(hostname) === 2;
  const closing = new AbortController();
  const handler = createStreamHandler(source, {
    signal: closing.signal,
    ...(loopback ? { allowedHosts: ["localhost", "127.0.0.1", "::1"] } : {}),
  });
  const { promise: listening, resolve } = Promise.withResolvers<Deno.NetAddr>();
  const server = Deno.serve({
    hostname,
    port: options.port ?? 0,
    onListen: (addr) => resolve(addr as Deno.NetAddr),
    onError: () => new Response("Internal error\n", { status: 500 }),
  }, handler);
  const addr = await listening;
  // a wildcard address is not a URL to give a player: name the loopback one
  const shown = hostname === "0.0.0.0" || hostname === "::" ? "127.0.0.1" : hostname;
  const origin = `http://${shown.includes(":") ? `[${shown}]` : shown}:${addr.port}`;
  return {
    origin,
    port: addr.port,
    urlOf: (hex, i) => `${origin}/stream/${hex}/${i}`,
    playlistOf: (hex) => `${origin}/stream/${hex}.m3u`,
    close: async () => {
      closing.abort(new Error("Stream server closed"));
      await server.shutdown();
    },
  };
}
