/**
 * A torrent's place in the session across its phases: a magnet link starts in the
 * metadata phase ({@linkcode MetadataFetcher}) and moves to a {@linkcode TorrentRuntime}
 * once the info dictionary is verified; a `.torrent` starts in the runtime. Handles and
 * the session's connection dispatch talk to the slot, never to a phase directly.
 *
 * Layer: driver.
 * @module
 */
import type { HandshakeResult } from "../net/handshake_io.ts";
import type { PeerConnection } from "../net/peer_connection.ts";
import type { Conn, PeerAddress } from "../runtime/types.ts";
import type { TorrentStats, TrackerSummary } from "./events.ts";
import type { PeerSource } from "./peer_list.ts";
import type { MetadataFetcher } from "./metadata_fetcher.ts";
import type { TorrentRuntime } from "./torrent.ts";

/** Either phase of a torrent. */
export type TorrentPhase = TorrentRuntime | MetadataFetcher;

/** One torrent in a session. */
export class TorrentSlot {
  /** Hex info-hash. */
  readonly infoHashHex: string;
  /** Raw info-hash. */
  readonly infoHash: Uint8Array;
  /** Resolves when every wanted piece is verified; rejects if the torrent stops first. */
  readonly done: Promise<void>;
  #phase: TorrentPhase;
  #resolve!: () => void;
  #reject!: (e: Error) => void;
  #stopped = false;
  readonly #cleanups: (() => void | Promise<void>)[] = [];
  #trackerStatus: (() => readonly TrackerSummary[]) | undefined;

  /** Starts in `phase`. */
  constructor(infoHash: Uint8Array, infoHashHex: string, phase: TorrentPhase) {
    this.infoHash = infoHash;
    this.infoHashHex = infoHashHex;
    this.#phase = phase;
    this.done = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.done.catch(() => {}); // also reported through events
    this.#follow(phase);
  }

  /** The current phase. */
  get phase(): TorrentPhase {
    return this.#phase;
  }

  /** The runtime, once metadata is known. */
  get runtime(): TorrentRuntime | undefined {
    return "picker" in this.#phase ? this.#phase : undefined;
  }

  /** True once stopped. */
  get isStopped(): boolean {
    return this.#stopped;
  }

  /** Moves to the runtime phase. */
  enter(runtime: TorrentRuntime): void {
    this.#phase = runtime;
    this.#follow(runtime);
  }

  /** Name (the magnet's `dn` until metadata arrives). */
  get name(): string {
    return this.#phase.name;
  }

  /** Live connections of the current phase. */
  get peers(): ReadonlyMap<string, PeerConnection> {
    return this.#phase.peers;
  }

  /** Hands a handshaken connection to the current phase. */
  attach(conn: Conn, hs: HandshakeResult, outgoing: boolean): PeerConnection | undefined {
    if (this.#stopped) {
      conn.close();
      return undefined;
    }
    return this.#phase.attach(conn, hs, outgoing);
  }

  /** Adds candidate addresses to the current phase. */
  addPeers(addrs: Iterable<PeerAddress>, source: PeerSource): number {
    return this.#phase.addPeers(addrs, source);
  }

  /** Statistics of the current phase, with tracker status when trackers are in use. */
  stats(): TorrentStats {
    const stats = this.#phase.stats();
    return this.#trackerStatus ? { ...stats, trackers: this.#trackerStatus() } : stats;
  }

  /** Fails the torrent (e.g. unusable metadata). */
  fail(error: Error): void {
    this.#reject(error);
  }

  /** Runs `fn` when the torrent stops, before its connections close (peer sources). */
  onStop(fn: () => void | Promise<void>): void {
    this.#cleanups.push(fn);
  }

  /** Where tracker status for {@linkcode stats} comes from. */
  setTrackerStatus(fn: () => readonly TrackerSummary[]): void {
    this.#trackerStatus = fn;
  }

  /** Stops the current phase. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await Promise.all(this.#cleanups.map((fn) => fn()));
    await this.#phase.stop();
    this.#reject(new Error("Torrent stopped before completion"));
  }

  #follow(phase: TorrentPhase): void {
    if ("picker" in phase) phase.done.then(() => this.#resolve(), (e) => this.#reject(e));
  }
}
