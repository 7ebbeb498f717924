/**
 * Engine events (STYLE §2): one discriminated union with a kebab-case `type` and a
 * `category`, delivered as async iterables. Producers never call consumer code
 * synchronously: events are queued, and a slow consumer loses the oldest progress
 * events first (bounded memory), never piece or lifecycle events.
 *
 * Layer: core (no I/O).
 * @module
 */
import type { TrackerStatus } from "../tracker/tracker_client.ts";

/** Event categories consumers can filter on. */
export type EventCategory = "peer" | "piece" | "tracker" | "dht" | "storage" | "stats" | "torrent";

/** A snapshot of a torrent's transfer state. */
export interface TorrentStats {
  /** Hex info-hash. */
  readonly infoHash: string;
  /** Torrent name (empty until metadata is known). */
  readonly name: string;
  /** Verified bytes of wanted pieces. */
  readonly bytesVerified: number;
  /** Total wanted bytes (0 until metadata is known). */
  readonly bytesWanted: number;
  /** Pieces verified on disk. */
  readonly piecesHave: number;
  /** Piece count (0 until metadata is known). */
  readonly pieceCount: number;
  /** Payload download rate over the last seconds, bytes/s. */
  readonly downloadBps: number;
  /** Payload upload rate over the last seconds, bytes/s. */
  readonly uploadBps: number;
  /** Payload bytes received this session. */
  readonly bytesDownloaded: number;
  /** Payload bytes sent this session. */
  readonly bytesUploaded: number;
  /** Distinct peers that sent payload this session. */
  readonly peersUsed: number;
  /** Connected peers. */
  readonly peers: number;
  /** Connected peers that have every piece. */
  readonly seeds: number;
  /** Known peer addresses. */
  readonly knownPeers: number;
  /** `"metadata" | "checking" | "downloading" | "seeding" | "paused" | "stopped" | "error"`. */
  readonly state: TorrentState;
  /**
   * In the `error` state: why, in one line (Transmission's `errorString`), e.g.
   * `Cannot write piece 3 to "/dl/x/a.bin": permission denied (EACCES)`.
   */
  readonly errorString?: string;
  /** Tracker status, when the torrent has trackers. */
  readonly trackers?: readonly TrackerSummary[];
}

/** One tracker's status (times are wall-clock ms): the tracker client's own record. */
export type TrackerSummary = TrackerStatus;

/** Lifecycle state of a torrent. */
export type TorrentState =
  | "metadata"
  | "checking"
  | "downloading"
  | "seeding"
  | "paused"
  | "stopped"
  | "error";

/** Everything the engine reports. */
export type EngineEvent =
  | { type: "torrent-added"; category: "torrent"; infoHash: string; name: string }
  | {
    type: "metadata-received";
    category: "torrent";
    infoHash: string;
    name: string;
    bytes: number;
  }
  | {
    type: "check-finished";
    category: "storage";
    infoHash: string;
    piecesHave: number;
    usedResume: boolean;
  }
  | { type: "torrent-completed"; category: "torrent"; infoHash: string }
  | { type: "torrent-error"; category: "torrent"; infoHash: string; message: string }
  | { type: "torrent-stopped"; category: "torrent"; infoHash: string }
  | { type: "torrent-paused"; category: "torrent"; infoHash: string }
  | { type: "piece-verified"; category: "piece"; infoHash: string; index: number }
  | {
    type: "piece-hash-failed";
    category: "piece";
    infoHash: string;
    index: number;
    peers: string[];
  }
  | {
    type: "peer-connected";
    category: "peer";
    infoHash: string;
    peer: string;
    client: string;
    outgoing: boolean;
    /** MSE/PE with RC4, MSE/PE that selected plaintext, or a plain BitTorrent handshake. */
    encryption: "rc4" | "mse-plaintext" | "none";
    /** The transport: TCP or uTP (BEP 29). */
    transport: "tcp" | "utp";
  }
  | { type: "peer-closed"; category: "peer"; infoHash: string; peer: string; reason: string }
  | { type: "peer-banned"; category: "peer"; infoHash: string; peer: string; reason: string }
  /** A web seed (BEP 19) failed a request and backs off, or (`dropped`) is given up. */
  | {
    type: "web-seed-warning";
    category: "peer";
    infoHash: string;
    url: string;
    message: string;
    dropped: boolean;
  }
  | { type: "tracker-announced"; category: "tracker"; infoHash: string; url: string; peers: number }
  | { type: "tracker-warning"; category: "tracker"; infoHash: string; url: string; message: string }
  | { type: "dht-warning"; category: "dht"; message: string }
  | { type: "storage-warning"; category: "storage"; infoHash: string; message: string }
  | { type: "progress"; category: "stats"; stats: TorrentStats };

/** Options for an event subscription. */
export interface EventOptions {
  /** Only these categories; all when omitted. */
  readonly categories?: readonly EventCategory[];
  /** Stops the iteration. */
  readonly signal?: AbortSignal;
}

const MAX_QUEUED = 10_000;

/** Fan-out of events to any number of async-iterable subscribers. */
export class EventHub {
  readonly #subscribers = new Set<Subscriber>();
  #closed = false;

  /** Queues `event` for every subscriber whose filter matches. */
  emit(event: EngineEvent): void {
    for (const s of this.#subscribers) s.push(event);
  }

  /** Ends every subscription. */
  close(): void {
    this.#closed = true;
    for (const s of this.#subscribers) s.end();
    this.#subscribers.clear();
  }

  /**
   * Subscribes; the iterable ends when the hub closes or the signal aborts.
   * @param options category filter and abort signal
   * @returns the events, in order
   */
  subscribe(options: EventOptions = {}): AsyncIterable<EngineEvent> {
    const sub = new Subscriber(options.categories);
    if (this.#closed) sub.end();
    else this.#subscribers.add(sub);
    options.signal?.addEventListener("abort", () => {
      this.#subscribers.delete(sub);
      sub.end();
    }, { once: true });
    return sub;
  }
}

class Subscriber implements AsyncIterable<EngineEvent> {
  readonly #categories: ReadonlySet<EventCategory> | undefined;
  #queue: EngineEvent[] = [];
  #wake: (() => void) | undefined;
  #ended = false;

  constructor(categories: readonly EventCategory[] | undefined) {
    this.#categories = categories ? new Set(categories) : undefined;
  }

  push(event: EngineEvent): void {
    if (this.#ended || (this.#categories && !this.#categories.has(event.category))) return;
    if (this.#queue.length >= MAX_QUEUED) {
      const i = this.#queue.findIndex((e) => e.type === "progress");
      if (i >= 0) this.#queue.splice(i, 1);
      else this.#queue.shift();
    }
    this.#queue.push(event);
    this.#wake?.();
  }

  end(): void {
    this.#ended = true;
    this.#wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<EngineEvent> {
    for (;;) {
      while (this.#queue.length > 0) yield this.#queue.shift()!;
      if (this.#ended) return;
      await new Promise<void>((resolve) => this.#wake = resolve);
      this.#wake = undefined;
    }
  }
}
