/**
 * The settings of the engine's HTTP sources and sinks: streaming reads (`get --stream`,
 * `Torrent.createReadStream`) and web seeds (BEP 19). Part of `Settings`; kept in
 * their own file so each settings file stays readable.
 *
 * Layer: core (data only).
 * @module
 */

/** Streaming and web-seed settings (fields of `Settings`). */
export interface HttpSourceSettings {
  /**
   * Streaming readers open at once per torrent (`Torrent.createReadStream`, the HTTP
   * stream routes); more are refused. Default 16: a media player opens one to three
   * connections (it probes the end of the file, then seeks), a few players at once fit.
   */
  readonly maxStreamReaders: number;
  /**
   * Bytes past each reader's position whose pieces get deadlines (libtorrent's
   * `set_piece_deadline`): the piece under the reader is due now, the following ones as a
   * player at `streamRateBytesPerSecond` would reach them. Default 4 MiB: about 4 to 8 s
   * of an HD video; every other piece stays rarest first, so the swarm stays healthy.
   */
  readonly streamReadAheadBytes: number;
  /**
   * The consumption rate that spaces a reader's deadlines: a piece N bytes ahead is due in
   * N ÷ this seconds. Default 1 MiB/s (an HD video stream is 0.5–1 MiB/s); faster
   * deadlines than the player needs would only buy duplicate requests.
   */
  readonly streamRateBytesPerSecond: number;
  /**
   * Largest read of verified data for a reader, through the disk workers. Default 256 KiB
   * (the workers' fastest read size): a reader holds at most two such chunks.
   */
  readonly streamReadChunkBytes: number;
  /**
   * Most bytes asked of a web seed (BEP 19) in one HTTP Range request: one contiguous span
   * of blocks, in one or more pieces, sized to about 2 s of the seed's measured rate (one
   * piece, at least 256 KiB, before it is measured). Default 4 MiB (libtorrent's
   * urlseed_max_request_bytes is 16 MiB): the body goes into piece buffers as it arrives,
   * so the size bounds the pieces one request holds, not memory.
   */
  readonly webSeedRequestBytes: number;
  /** Requests to one web seed at once (each its own keep-alive connection). Default 2. */
  readonly webSeedRequestsPerSeed: number;
  /** Web seeds used at once per torrent (a torrent may list up to 100); 0 turns them off. Default 4. */
  readonly maxWebSeeds: number;
  /**
   * A web-seed request that receives no byte for this long is aborted. Default 20,000 ms
   * (libtorrent's urlseed_timeout).
   */
  readonly webSeedTimeoutMs: number;
  /**
   * First pause after a web-seed failure (an HTTP error, a short or overlong body, a server
   * that ignores Range); doubles per consecutive failure. Default 5,000 ms.
   */
  readonly webSeedRetryBaseMs: number;
  /**
   * Consecutive failures after which a web seed is dropped for the session. Default 6
   * (about 2.5 minutes of back-off): a seed that never works is never hammered.
   */
  readonly webSeedMaxFailures: number;
  /** Redirects followed per web-seed request (http and https only). Default 5. */
  readonly webSeedMaxRedirects: number;
  /**
   * Web seeds are asked for data only while fewer peers than this unchoke us, while the
   * swarm gives less than `webSeedWhenRateBelowBps`, or while a reader waits for an
   * overdue piece: one more source beside the swarm, never instead of it. Default 5.
   */
  readonly webSeedWhenPeersBelow: number;
  /** See `webSeedWhenPeersBelow`: the swarm's rate below which web seeds help. Default 1 MiB/s. */
  readonly webSeedWhenRateBelowBps: number;
}

/** The defaults of {@linkcode HttpSourceSettings}. */
export const DEFAULT_HTTP_SOURCE_SETTINGS: Readonly<HttpSourceSettings> = Object.freeze({
  maxStreamReaders: 16,
  streamReadAheadBytes: 4 * 1024 * 1024,
  streamRateBytesPerSecond: 1024 * 1024,
  streamReadChunkBytes: 256 * 1024,
  webSeedRequestBytes: 4 * 1024 * 1024,
  webSeedRequestsPerSeed: 2,
  maxWebSeeds: 4,
  webSeedTimeoutMs: 20_000,
  webSeedRetryBaseMs: 5_000,
  webSeedMaxFailures: 6,
  webSeedMaxRedirects: 5,
  webSeedWhenPeersBelow: 5,
  webSeedWhenRateBelowBps: 1024 * 1024,
});

/** Fields that must be positive integers (`maxWebSeeds` and the two below may be 0). */
export const HTTP_SOURCE_INTEGER_FIELDS: readonly (keyof HttpSourceSettings)[] = [
  "maxStreamReaders",
  "streamReadAheadBytes",
  "streamRateBytesPerSecond",
  "streamReadChunkBytes",
  "webSeedRequestBytes",
  "webSeedRequestsPerSeed",
  "webSeedTimeoutMs",
  "webSeedRetryBaseMs",
  "webSeedMaxFailures",
  "webSeedWhenRateBelowBps",
];
