/**
 * What a torrent needs from its session: injected platform interfaces, shared rate
 * limits and the event hub. Passing this one object keeps the torrent free of globals.
 *
 * Layer: driver (types only).
 * @module
 */
import type { Clock, Logger, PeerAddress, Random } from "../runtime/types.ts";
import type { DiskIo } from "../storage/disk_io.ts";
import type { Settings } from "./settings.ts";
import type { EventHub } from "./events.ts";
import type { TokenBucket } from "../util/token_bucket.ts";
import type { DhtNode } from "../dht/mod.ts";
import type { RangeFetcher } from "./web_seed_transport.ts";

/** Loads and saves resume data (a Deno binding writes it atomically beside the download). */
export interface ResumeStore {
  /** The saved bytes, or `undefined`. */
  load(root: string, infoHashHex: string): Promise<Uint8Array | undefined>;
  /** Saves atomically. */
  save(root: string, infoHashHex: string, bytes: Uint8Array): Promise<void>;
}

/** The session services a torrent uses. */
export interface TorrentContext {
  /** Monotonic time and timers. */
  readonly clock: Clock;
  /** Randomness for tie-breaks and optimistic unchokes. */
  readonly random: Random;
  /** SHA-1 and file I/O. */
  readonly disk: DiskIo;
  /** Log sink. */
  readonly logger: Logger;
  /** Event fan-out. */
  readonly hub: EventHub;
  /** Engine settings. */
  readonly settings: Settings;
  /** Our peer id. */
  readonly peerId: Uint8Array;
  /** Our listen port (for BEP 10 `p` and announces). */
  listenPort(): number;
  /** Dials `addr` for torrent `infoHashHex`; resolves true once attached. */
  dial(addr: PeerAddress, infoHashHex: string): Promise<boolean>;
  /** Session-wide download limit. */
  readonly downloadBucket: TokenBucket;
  /** Session-wide upload limit. */
  readonly uploadBucket: TokenBucket;
  /** Resume persistence; `undefined` disables resume data. */
  readonly resumeStore: ResumeStore | undefined;
  /** The session's DHT node, when the DHT runs. */
  dht(): DhtNode | undefined;
  /** HTTP range requests for web seeds (BEP 19); without one, web seeds are not used. */
  readonly webSeedFetcher?: RangeFetcher | undefined;
}

/** Loads and saves one blob of session state (the DHT routing table). */
export interface StateStore {
  /** The saved bytes, or `undefined`. */
  load(): Promise<Uint8Array | undefined>;
  /** Saves atomically. */
  save(bytes: Uint8Array): Promise<void>;
}
