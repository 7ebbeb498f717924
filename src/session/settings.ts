/**
 * Every limit, timeout and slot count of the engine in one flat object (STYLE §2),
 * modelled on libtorrent's settings pack. Names carry units; defaults follow
 * /shared/reference/PARAMETERS.md and RELIABILITY.md, and each field says where
 * we differ from libtorrent and why.
 *
 * Layer: core (data only).
 * @module
 */

import { DEFAULT_DHT_SETTINGS, DHT_INTEGER_FIELDS, type DhtSettings } from "./settings_dht.ts";
import {
  DEFAULT_HTTP_SOURCE_SETTINGS,
  HTTP_SOURCE_INTEGER_FIELDS,
  type HttpSourceSettings,
} from "./settings_http.ts";

export type { DhtSettings } from "./settings_dht.ts";
export type { HttpSourceSettings } from "./settings_http.ts";

/** How connections are encrypted (MSE/PE), see {@linkcode Settings.encryption}. */
export type EncryptionMode = "prefer" | "require" | "plaintext";

/** Engine settings. */
export interface Settings extends DhtSettings, HttpSourceSettings {
  /** TCP listen port; 0 picks a free one. If taken, the next 10 ports are tried. Default 6881. */
  readonly listenPort: number;
  /** Listen address. Default `"0.0.0.0"`. */
  readonly listenHost: string;
  /** Connections per torrent. libtorrent: 200 per session. Default 80. */
  readonly maxConnectionsPerTorrent: number;
  /** Connections across the session. Default 200 (libtorrent). */
  readonly maxConnections: number;
  /**
   * Incoming connections still in their handshake (MSE or BEP 3), at most (RELIABILITY
   * PW11). When full, a new connection from another address is still admitted: the oldest
   * pending handshake of the address holding the most is dropped for it, so a burst of
   * connections that never finish their handshake cannot keep an honest peer out.
   * Default 64.
   */
  readonly maxPendingHandshakes: number;
  /**
   * Pending handshakes from one IP address, at most; a new one from that address is
   * closed at once (a flooder reconnecting at once costs an accept and a close, not a
   * handshake). Default 4: one address never holds more than a sixteenth of
   * `maxPendingHandshakes`, while a peer that dials twice (libtorrent's MSE then plain
   * retry) or shares a NAT with a few others still gets in.
   */
  readonly maxPendingHandshakesPerIp: number;
  /** Outgoing dials in progress at once. Default 32 (RELIABILITY: 64 half-open; anacrolix 25/torrent). */
  readonly maxHalfOpen: number;
  /** Peer addresses remembered per torrent. Default 3,000 (libtorrent max_peerlist_size). */
  readonly maxPeerListSize: number;
  /**
   * Message stream encryption (MSE/PE). `"prefer"` (default): accept plain BitTorrent and
   * MSE; dial MSE offering RC4 and plaintext, and plain BitTorrent again when a peer
   * hangs up on that, remembering per address what worked. This is Transmission's
   * "prefer encryption": it reaches peers that require encryption (Transmission users who
   * set it, WebTorrent dials MSE) and those that speak none, while a peer offered both
   * usually picks plaintext, so the cipher's CPU is spent only where a peer insists.
   * libtorrent's default differs only in dialing plaintext first. `"require"`: RC4 only,
   * both ways. `"plaintext"`: dial plain BitTorrent; accept both (selecting plaintext).
   */
  readonly encryption: EncryptionMode;
  /**
   * Peer connections over uTP (BEP 29, on the DHT's UDP port): accepted, and dialled first
   * (libtorrent's default; the libtorrent family dials uTP first). Default true.
   */
  readonly enableUtp: boolean;
  /** Peer connections over TCP: accepted, and dialled. Default true. */
  readonly enableTcp: boolean;
  /**
   * A peer that connected over uTP before is dialled over uTP again, and TCP starts after
   * this long without a uTP connection. Default 1,000 ms, the uTP SYN resend interval.
   * (A peer we know nothing about is dialled over both at once: see `utpGraceMs`.)
   */
  readonly utpFallbackMs: number;
  /**
   * When both transports are dialled and TCP connects first, uTP (preferred, as in the
   * libtorrent family) still wins if it connects within max(this, TCP's connect time);
   * else TCP is kept. A TCP-only peer costs a round trip plus this, not a uTP timeout
   * (libtorrent waits 3 s; a default libtorrent leecher took 5.25 s instead of 1.21 s for
   * 256 MiB from a TCP-only peer). Default 50 ms.
   */
  readonly utpGraceMs: number;
  /** TCP connect timeout. Default 15,000 ms (libtorrent). */
  readonly connectTimeoutMs: number;
  /** Handshake must complete within this. Default 10,000 ms (libtorrent). */
  readonly handshakeTimeoutMs: number;
  /** Close a connection that sent nothing for this long. Default 120,000 ms (libtorrent peer_timeout). */
  readonly idleTimeoutMs: number;
  /**
   * A message whose first bytes arrived must be whole within this, plus its length at
   * `minMessageBytesPerSecond`, and never later than `idleTimeoutMs` (RELIABILITY PW10);
   * else the peer is closed (`"timeout"`). Only time spent waiting on the socket counts,
   * never our own rate limits. Default 10,000 ms: a 17-byte REQUEST then has 10 s, a
   * 16 KiB block 42 s (libtorrent's request timeout is 60 s). An honest small message
   * comes in one segment, or two a retransmission apart (about a second); with 20 s a
   * peer dripping a REQUEST a byte a second finished each in 17 s and was never closed.
   * Without it such a peer is never idle and holds its slot (and a frame buffer) forever.
   */
  readonly messageTimeoutMs: number;
  /**
   * The floor rate of a message's bytes, see `messageTimeoutMs`. Default 512 bytes/s: a
   * peer slower than that is of no use as a source and costs a connection slot.
   */
  readonly minMessageBytesPerSecond: number;
  /** Send a keep-alive after this long without sending. Default 60,000 ms (half the idle timeout). */
  readonly keepAliveIntervalMs: number;
  /** A peer with requests out and no block for this long is snubbed. Default 60,000 ms (issue text; libtorrent 20 s). */
  readonly snubTimeoutMs: number;
  /**
   * Time of data to keep requested from a peer: queue = rate × this ÷ 16 KiB, or rate × twice
   * the round trip when that is longer (timed by our TCP connect, or on a connection the
   * peer dialed by its answer to our handshake). Default 300 ms
   * (libtorrent's request_queue_time is 3 s). Deep queues tie pieces to one peer for
   * seconds: in the swarm simulator (20 rate-limited leechers) 3 s made a seed send
   * duplicates and 1 s finished in 1.35x the bound, 300 ms in 1.30x. The round-trip rule
   * keeps long links full: a 1.6 s RTT link took 44.6 s for 32 MiB at 1 MiB/s with it and
   * 428 s without (the queue, and with it the rate, shrank to 5 blocks per round trip).
   * A peer that answers late gets more: a probe doubles its queue time for 2 s (up to
   * 3 s) and keeps it when the blocks it sent rose by 30 % (a Transmission 3.00 seed on
   * loopback: 16 MiB in 18.3 s instead of 28.8; the swarm benchmark unchanged).
   */
  readonly requestQueueTimeMs: number;
  /** Outstanding requests to one peer, lower bound. Default 2 (libtorrent). */
  readonly minRequestQueue: number;
  /** Outstanding requests to one peer, upper bound. Default 500 (libtorrent max_out_request_queue). */
  readonly maxRequestQueue: number;
  /**
   * Requests we queue from one peer, at most; it is told so as BEP 10 `reqq`, and more
   * are refused (REJECT) and count against `invalidRequestLimit`. Default 500 (RELIABILITY
   * PW7).
   */
  readonly maxIncomingRequests: number;
  /**
   * Invalid requests, requests while we choke it, or requests past the full queue a peer
   * may send before it is closed; also the refused ut_metadata requests it may send.
   * Default 300 (RELIABILITY PW6): 100,000 valid requests from a peer that never read
   * queued 100,000 REJECTs for it before.
   */
  readonly invalidRequestLimit: number;
  /** Blocks we never requested a peer may send before it is closed. Default 64 (PW8). */
  readonly unsolicitedBlockLimit: number;
  /**
   * How long a piece a peer refused (BEP 6 REJECT while unchoking us) is not asked of it
   * again. Default 5,000 ms: a seed's first-copy screening frees pieces within seconds.
   */
  readonly refusedPieceMs: number;
  /** Suggestions (BEP 6) remembered per peer, newest kept. Default 16. */
  readonly maxSuggestedPieces: number;
  /**
   * A round-trip sample from an incoming peer's first message is capped here (a slow
   * peer's late bitfield is not a long link). Default 2,000 ms.
   */
  readonly maxRttSampleMs: number;
  /** Largest wire message accepted. Default 1 MiB + 16 KiB (RELIABILITY PW2). */
  readonly maxMessageBytes: number;
  /** Regular upload slots per torrent. Default 4 (BEP 3 mainline choker; libtorrent 8). */
  readonly unchokeSlots: number;
  /**
   * Regular upload slots per torrent while seeding. Default 16 (Transmission opens 14 per
   * torrent). A seed serving few peers at once, at the initial seeding of a swarm, sends
   * first copies slowly and feeds few uplinks; with first-copy screening (SeedSuggester)
   * more slots spread its distinct pieces to more peers: in the swarm simulator 16 slots
   * finished 20 rate-limited leechers in 1.30x the bound (mean of 12 runs), 4 slots in
   * 1.5x; 20 slots were no better.
   */
  readonly seedUnchokeSlots: number;
  /** Rechoke period. Default 10,000 ms (mainline, Transmission; libtorrent 15 s). */
  readonly unchokeIntervalMs: number;
  /** Optimistic unchoke rotation. Default 30,000 ms (BEP 3). */
  readonly optimisticUnchokeIntervalMs: number;
  /** While seeding, suggest least-sent pieces to unchoked peers (BEP 6). Default true. */
  readonly seedSuggestions: boolean;
  /** Global upload cap in bytes/s; 0 = unlimited. Default 0. */
  readonly maxUploadBytesPerSecond: number;
  /** Global download cap in bytes/s; 0 = unlimited. Default 0. */
  readonly maxDownloadBytesPerSecond: number;
  /** Hash failures a peer may take part in before it is banned. Default 5 (Transmission 5 strikes). */
  readonly hashFailStrikes: number;
  /** Bytes of whole pieces kept in memory for uploading. Default 64 MiB. */
  readonly readCacheBytes: number;
  /**
   * Bytes of disk jobs (hash, write, read) queued in the workers before sockets stop being
   * read (backpressure). Default 16 MiB: it absorbs the workers' scheduling gaps on a busy machine
   * (the kernel's socket buffers absorb the rest); a 1 GiB download's peak RSS is about 120 MiB
   * (the runtime, the library, two workers, 1-2 pieces in assembly) plus this. Measured (1 GiB from
   * one libtorrent seed on loopback, 2 cores shared with other work, runs alternating,
   * `recycledBufferBytes` equal; median time, peak RSS): 64 MiB 4.1–4.4 s, 137–208 MiB; 32 MiB
   * 3.4–4.1 s, 142–154 MiB; 24 MiB 3.3–5.1 s, 133–148 MiB; 16 MiB 4.5–4.9 s, 126–139 MiB. Between
   * 16 and 64 MiB the time is within the machine's noise; the memory is not. Again once pieces went
   * to disk without a copy (`bench_download.sh`, 5 rounds each): 24 MiB 2.15–2.36 s, 145–148 MiB
   * (153 in a run by `--peer`), against the 150 MiB target; 16 MiB 2.14–2.23 s, 136–140 MiB.
   */
  readonly diskQueueBytes: number;
  /**
   * Bytes of finished piece buffers kept for reuse (fresh ones cost page faults: 0.47 against
   * 0.20 CPU-s per GiB read into fresh or reused 1 MiB buffers here). Default 16 MiB, as
   * `diskQueueBytes`: the buffers of a drained queue are kept instead of being dropped and
   * allocated again (with a 64 MiB queue and 32 MiB here, 104 of 1,024 pieces were dropped
   * and 136 allocated fresh; with 16 and 16 MiB, 2 and 18).
   */
  readonly recycledBufferBytes: number;
  /**
   * First pause of requests after a piece write fails in a way a retry may fix (EAGAIN,
   * EINTR, an EIO, a crashed worker); doubles per round up to `writeRetryMaxMs`. A failure
   * no retry fixes (permission, not a directory, a refused symlink, read-only file system,
   * no space) stops the torrent once it happens again after `writeConfirmMs`. Default
   * 5,000 ms.
   */
  readonly writeRetryBaseMs: number;
  /** Longest pause of requests after repeated write failures. Default 300,000 ms. */
  readonly writeRetryMaxMs: number;
  /**
   * After a write failure no retry should fix, requests pause this long and the next
   * failure stops the torrent (a success carries on: two workers racing to make one
   * directory may see EEXIST once). Default 1,000 ms.
   */
  readonly writeConfirmMs: number;
  /**
   * Rounds of failed writes (each a pause) tolerated without a successful write in between;
   * the next failure stops the torrent with the error. Default 3 (pauses of 5, 10, 20 s).
   */
  readonly writeRetryLimit: number;
  /** Peers whose hash-failure strikes are remembered per torrent (advisory; reset when full). Default 10,000. */
  readonly maxStrikeRecords: number;
  /**
   * Bytes a peer's unsent data may reach before we stop serving its requests (the most
   * its watermark, half a second of its rate, may grow to). Default 4 MiB (PW7).
   */
  readonly maxSendBufferBytes: number;
  /**
   * Bytes queued for one peer that its socket has not taken (a write in progress
   * included), at most: a peer past it stopped reading while messages kept coming, and is
   * closed (`"timeout"`). Piece data stops at `maxSendBufferBytes` of queued bytes, which
   * may wait behind a write of as many, and every other reply is capped, so only a peer
   * that does not read reaches it. Default 16 MiB; at least twice `maxSendBufferBytes`
   * plus 1 MiB, so a fast peer that pauses is never taken for one.
   */
  readonly maxSendQueueBytes: number;
  /**
   * ut_metadata (BEP 9) data replies per second to one peer, beyond a burst of twice the
   * info dictionary's pieces (so any peer may fetch it whole, twice, at once). Requests
   * over the rate, or while the peer's unsent data is over 64 KiB, get a ut_metadata
   * reject; more than `invalidRequestLimit` rejected requests close the peer (RELIABILITY
   * EX5). Default 4 (64 KiB/s): 100,000 requests for a 4 KB dictionary used to queue
   * 403 MB of replies for a peer that never read them.
   */
  readonly maxMetadataRepliesPerSecond: number;
  /** Coalesce outgoing messages into writes of at least this size when busy. Default 256 KiB (DENO-PERFORMANCE §7). */
  readonly writeCoalesceBytes: number;
  /** Socket read buffer size. Default 256 KiB. */
  readonly readBufferBytes: number;
  /** Period of progress events and the housekeeping tick. Default 1,000 ms. */
  readonly tickIntervalMs: number;
  /**
   * Resume data is written at most this often while downloading, each time after checking
   * that the verified data is still on disk (a deleted or truncated file stops the
   * torrent). Default 30,000 ms.
   */
  readonly resumeSaveIntervalMs: number;
  /**
   * Pieces that resume data vouches for, picked at random, hashed again at start: one that
   * fails means the resume data is not used (a file edited with its mtime put back). A
   * torrent of up to this many pieces is checked whole. Default 16 (16 piece reads: at 4
   * MiB pieces, 64 MiB hashed in the workers; the restart stays well under a second).
   */
  readonly resumeSpotCheckPieces: number;
  /**
   * While downloading, the files are stat'ed this often (between resume saves) to check
   * that each still holds the bytes verified into it: a download folder deleted or a file
   * truncated under the engine stops the torrent with an error within this time, instead
   * of writes going on into unlinked files. Default 5,000 ms (one stat per file).
   */
  readonly fileCheckIntervalMs: number;
  /**
   * First reconnect delay to a failed address; doubles per failure, up to 64×. Default
   * 2,000 ms: a peer that was still starting (or checking its data) is retried soon,
   * one that stays unreachable backs off to about 2 minutes.
   */
  readonly reconnectBaseMs: number;
  /**
   * Accept every peer address a tracker, DHT node or PEX peer gives, whatever its scope.
   * Default false: an address is then used only when its source is at least as local
   * (util/address.ts: a loopback source may give loopback, private and public addresses, a
   * private one private and public ones, a public one public ones only), so a public
   * tracker cannot make us dial into the user's LAN (RELIABILITY EX7, D7) while a LAN or
   * loopback swarm forms by itself. `--allow-local-peers` sets it.
   */
  readonly allowLocalPeers: boolean;
  /** Enable peer exchange. Default true. */
  readonly enablePex: boolean;
  /**
   * Local Service Discovery (BEP 14): announce our torrents to the LAN by multicast and take
   * the peers the LAN announces. Default true, as in libtorrent and qBittorrent; off for
   * private torrents (BEP 27) and in `testSettings`.
   */
  readonly enableLsd: boolean;
}

/** The defaults. */
export const DEFAULT_SETTINGS: Readonly<Settings> = Object.freeze({
  ...DEFAULT_DHT_SETTINGS,
  ...DEFAULT_HTTP_SOURCE_SETTINGS,
  listenPort: 6881,
  listenHost: "0.0.0.0",
  encryption: "prefer",
  enableUtp: true,
  enableTcp: true,
  utpFallbackMs: 1_000,
  utpGraceMs: 50,
  maxConnectionsPerTorrent: 80,
  maxConnections: 200,
  maxPendingHandshakes: 64,
  maxPendingHandshakesPerIp: 4,
  maxHalfOpen: 32,
  maxPeerListSize: 3000,
  connectTimeoutMs: 15_000,
  handshakeTimeoutMs: 10_000,
  idleTimeoutMs: 120_000,
  messageTimeoutMs: 10_000,
  minMessageBytesPerSecond: 512,
  keepAliveIntervalMs: 60_000,
  snubTimeoutMs: 60_000,
  requestQueueTimeMs: 300,
  minRequestQueue: 2,
  maxRequestQueue: 500,
  maxIncomingRequests: 500,
  invalidRequestLimit: 300,
  unsolicitedBlockLimit: 64,
  refusedPieceMs: 5_000,
  maxSuggestedPieces: 16,
  maxRttSampleMs: 2_000,
  maxMessageBytes: 1024 * 1024 + 16 * 1024,
  unchokeSlots: 4,
  seedUnchokeSlots: 16,
  unchokeIntervalMs: 10_000,
  optimisticUnchokeIntervalMs: 30_000,
  seedSuggestions: true,
  maxUploadBytesPerSecond: 0,
  maxDownloadBytesPerSecond: 0,
  hashFailStrikes: 5,
  readCacheBytes: 64 * 1024 * 1024,
  diskQueueBytes: 16 * 1024 * 1024,
  recycledBufferBytes: 16 * 1024 * 1024,
  writeRetryBaseMs: 5_000,
  writeRetryMaxMs: 300_000,
  writeRetryLimit: 3,
  writeConfirmMs: 1_000,
  maxStrikeRecords: 10_000,
  maxSendBufferBytes: 4 * 1024 * 1024,
  maxSendQueueBytes: 16 * 1024 * 1024,
  maxMetadataRepliesPerSecond: 4,
  writeCoalesceBytes: 256 * 1024,
  readBufferBytes: 256 * 1024,
  tickIntervalMs: 1_000,
  resumeSaveIntervalMs: 30_000,
  resumeSpotCheckPieces: 16,
  fileCheckIntervalMs: 5_000,
  reconnectBaseMs: 2_000,
  allowLocalPeers: false,
  enablePex: true,
  enableLsd: true,
});

/** Settings for tests and the local demo: loopback peers allowed, no DHT or LSD, short timeouts. */
export function testSettings(overrides: Partial<Settings> = {}): Settings {
  return validateSettings({
    ...DEFAULT_SETTINGS,
    listenPort: 0,
    listenHost: "127.0.0.1",
    connectTimeoutMs: 3_000,
    handshakeTimeoutMs: 3_000,
    snubTimeoutMs: 10_000,
    reconnectBaseMs: 500,
    allowLocalPeers: true,
    enableDht: false,
    enableLsd: false,
    ...overrides,
  });
}

const POSITIVE_INTEGER_FIELDS: (keyof Settings)[] = [
  "maxConnectionsPerTorrent",
  "maxConnections",
  "maxPendingHandshakes",
  "maxPendingHandshakesPerIp",
  "maxHalfOpen",
  "maxPeerListSize",
  "connectTimeoutMs",
  "utpFallbackMs",
  "utpGraceMs",
  "handshakeTimeoutMs",
  "idleTimeoutMs",
  "messageTimeoutMs",
  "minMessageBytesPerSecond",
  "keepAliveIntervalMs",
  "snubTimeoutMs",
  "requestQueueTimeMs",
  "minRequestQueue",
  "maxRequestQueue",
  "maxIncomingRequests",
  "invalidRequestLimit",
  "unsolicitedBlockLimit",
  "refusedPieceMs",
  "maxSuggestedPieces",
  "maxRttSampleMs",
  "maxMessageBytes",
  "unchokeSlots",
  "seedUnchokeSlots",
  "unchokeIntervalMs",
  "optimisticUnchokeIntervalMs",
  "hashFailStrikes",
  "readCacheBytes",
  "diskQueueBytes",
  "recycledBufferBytes",
  "writeRetryBaseMs",
  "writeRetryMaxMs",
  "writeRetryLimit",
  "writeConfirmMs",
  "maxStrikeRecords",
  "maxSendBufferBytes",
  "maxSendQueueBytes",
  "maxMetadataRepliesPerSecond",
  "writeCoalesceBytes",
  "readBufferBytes",
  "tickIntervalMs",
  "resumeSaveIntervalMs",
  "resumeSpotCheckPieces",
  "fileCheckIntervalMs",
  "reconnectBaseMs",
];

/**
 * Fills defaults and checks every field.
 * @param partial fields to set
 * @returns complete, frozen settings
 * @throws {RangeError} naming the first bad field
 */
export function validateSettings(partial: Partial<Settings>): Settings {
  const s: Settings = { ...DEFAULT_SETTINGS, ...partial };
  for (
    const key of [
      ...POSITIVE_INTEGER_FIELDS,
      ...DHT_INTEGER_FIELDS,
      ...HTTP_SOURCE_INTEGER_FIELDS,
    ]
  ) {
    const v = s[key];
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v <= 0) {
      throw new RangeError(`Invalid setting ${key}: ${v} is not a positive integer`);
    }
  }
  if (!Number.isInteger(s.listenPort) || s.listenPort < 0 || s.listenPort > 65535) {
    throw new RangeError(`Invalid setting listenPort: ${s.listenPort}`);
  }
  for (
    const key of [
      "maxUploadBytesPerSecond",
      "maxDownloadBytesPerSecond",
      "maxWebSeeds", // 0: web seeds off
      "webSeedMaxRedirects",
      "webSeedWhenPeersBelow",
    ] as const
  ) {
    if (!Number.isSafeInteger(s[key]) || s[key] < 0) {
      throw new RangeError(`Invalid setting ${key}: ${s[key]}`);
    }
  }
  if (!s.enableUtp && !s.enableTcp) {
    throw new RangeError("Invalid settings: enableUtp and enableTcp are both off");
  }
  if (!["prefer", "require", "plaintext"].includes(s.encryption)) {
    throw new RangeError(`Invalid setting encryption: "${s.encryption}"`);
  }
  if (s.minRequestQueue > s.maxRequestQueue) {
    throw new RangeError("Invalid settings: minRequestQueue is above maxRequestQueue");
  }
  if (s.maxSendQueueBytes < 2 * s.maxSendBufferBytes + 1024 * 1024) {
    throw new RangeError(
      "Invalid settings: maxSendQueueBytes must be at least twice maxSendBufferBytes + 1 MiB",
    );
  }
  if (s.maxMessageBytes < 16 * 1024 + 13) {
    throw new RangeError("Invalid setting maxMessageBytes: must hold a 16 KiB block");
  }
  return Object.freeze(s);
}
