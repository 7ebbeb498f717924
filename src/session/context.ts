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
  /** Forgets a torrent's resume data (it was removed, or its data moved away). */
  remove?(root: string, infoHashHex: string): Promise<void>;
}

/**
 * Moves and deletes a torrent's files (`Torrent.moveStorage`, `Session.remove` with
 * `deleteFiles`). Paths are a torrent's sanitised components below its save path; an
 * implementation touches nothing else (no symlink is followed) and never the root itself.
 */
export interface StorageFiles {
  /**
   * Moves each file from below `from` to the same place below `to` (a rename on one file
   * system, else copy then delete), creating directories; directories left empty go.
   */
  moveFiles(from: string, to: string, paths: readonly (readonly string[])[]): Promise<void>;
  /** Deletes each file below `root` (missing ones are fine), then directories left empty. */
  deleteFiles(root: string, paths: readonly (readonly string[])[]): Promise<void>;
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
  /** Moves and deletes files; `undefined` when the platform gave none. */
  readonly storageFiles: StorageFiles | undefined;
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
