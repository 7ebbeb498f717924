/**
 * A torrent's lifecycle operations, one at a time and in call order: start (maybe
 * paused), pause, resume, recheck, move the data, stop for good. Work begins with the
 * tick, then the check or the metadata phase, and the peer sources; it halts by
 * abandoning a check, stopping the tick and the sources (a `stopped` announce), closing
 * peers, draining pieces in flight, saving resume data and closing the files. The torrent
 * runtime gives the primitives (`LifecycleHost`); this class sequences them.
 *
 * States: running ⇄ paused (pause / resume, recheck and move pass through paused);
 * running or paused → stopped (final). An error is running-but-failed: resume retries.
 *
 * Layer: driver.
 * @module
 */
import type { Metainfo } from "../metainfo/mod.ts";
import type { TorrentContext } from "./context.ts";
import type { TorrentState } from "./events.ts";

/** What the lifecycle drives: the torrent runtime's primitives. */
export interface LifecycleHost {
  /** Session services (file mover, resume store, events). */
  readonly ctx: TorrentContext;
  /** Hex info-hash. */
  readonly infoHashHex: string;
  /** The metainfo, once known. */
  meta(): Metainfo | undefined;
  /** The lifecycle state. */
  state(): TorrentState;
  /** Sets the lifecycle state (and clears the error when leaving it). */
  setState(state: TorrentState): void;
  /** Current save path. */
  dir(): string;
  /** The save path changed. */
  setDir(dir: string): void;
  /** Rejects `done` (a no-op once it resolved). */
  rejectDone(error: Error): void;
  /** Starts or stops the periodic tick. */
  tick(on: boolean): void;
  /**
   * Makes the piece work (fresh after a pause: the picker learns again what the files
   * hold; the first time it is the one built with the torrent).
   * @returns false while a magnet's metadata is unknown
   */
  renewData(first: boolean): boolean;
  /** Checks the data, then downloads or seeds; settles when the check ends. */
  check(signal: AbortSignal, ignoreResume: boolean): Promise<void>;
  /** A magnet's own peers (`x.pe`) go to the peer list. */
  addMagnetPeers(): void;
  /** Closes every connection. */
  closePeers(): void;
  /** Drains pieces in flight, saves resume data, closes the files. */
  closeData(): Promise<void>;
}

/** Sequences a torrent's lifecycle operations. */
export class TorrentLifecycle {
  readonly #host: LifecycleHost;
  readonly #cleanups: (() => void | Promise<void>)[] = [];
  readonly #starvedHooks: (() => void)[] = [];
  #queue: Promise<void> = Promise.resolve();
  #paused = false;
  #stopped = false;
  #begun = false;
  #sourcesRunning = false;
  #startSources: (() => void) | undefined;
  #checkAbort: AbortController | undefined;
  #checking: Promise<void> | undefined;

  /** Drives `host`. */
  constructor(host: LifecycleHost) {
    this.#host = host;
  }

  /** True while paused (no peers, no sources, files closed). */
  get paused(): boolean {
    return this.#paused;
  }

  /** True once stopped for good (or stopping). */
  get stopped(): boolean {
    return this.#stopped;
  }

  /**
   * First start. With `paused`, a `.torrent` is checked first (so its progress is known),
   * then paused. `startSources` starts the peer sources (again on each resume).
   */
  start(startSources: () => void, paused: boolean): Promise<void> {
    this.#startSources = startSources;
    return this.#serialize(async () => {
      await this.#begin(false);
      if (paused) await this.#pauseNow();
    });
  }

  /** Runs `fn` when the torrent pauses or stops, before its connections close. */
  onStop(fn: () => void | Promise<void>): void {
    this.#cleanups.push(fn);
  }

  /**
   * Runs `fn` at each {@linkcode starved} call (peer sources ask again while the torrent
   * wants peers and has none).
   * @returns a function that unregisters `fn` (a source that stops calls it)
   */
  whenStarved(fn: () => void): () => void {
    this.#starvedHooks.push(fn);
    return () => {
      const i = this.#starvedHooks.indexOf(fn);
      if (i >= 0) this.#starvedHooks.splice(i, 1);
    };
  }

  /** The torrent wants peers and has none (once a tick): the sources' hooks run. */
  starved(): void {
    for (const fn of [...this.#starvedHooks]) fn();
  }

  /** Starts the peer sources unless they run (after a check, or for a magnet at once). */
  startSources(): void {
    if (this.#sourcesRunning || this.#paused || this.#stopped) return;
    this.#sourcesRunning = true;
    this.#startSources?.();
  }

  /** Checks the data (state `checking`); a pause or stop abandons the check. */
  startCheck(ignoreResume: boolean): Promise<void> {
    this.#host.setState("checking");
    const abort = this.#checkAbort = new AbortController();
    return this.#checking = this.#host.check(abort.signal, ignoreResume);
  }

  /** Pauses; a no-op when paused or stopped. */
  pause(): Promise<void> {
    return this.#serialize(() => this.#pauseNow());
  }

  /** Resumes a paused torrent, or retries one in error. */
  resume(): Promise<void> {
    return this.#serialize(async () => {
      if (this.#stopped || (!this.#paused && this.#host.state() !== "error")) return;
      if (!this.#paused) await this.#pauseNow();
      this.#paused = false;
      void this.#begin(false);
    });
  }

  /** Rehashes every piece ignoring resume data; a paused torrent stays paused after. */
  recheck(): Promise<void> {
    return this.#serialize(async () => {
      if (this.#stopped || !this.#host.meta()) return;
      const wasPaused = this.#paused;
      await this.#pauseNow();
      this.#paused = false;
      const checked = this.#begin(true);
      if (wasPaused) {
        await checked;
        await this.#pauseNow();
      }
    });
  }

  /**
   * Moves the files to `dir`, then resumes there if the torrent was running.
   * @throws {Error} when the move fails (the torrent keeps its old path)
   */
  moveStorage(dir: string): Promise<void> {
    return this.#serialize(async () => {
      const host = this.#host;
      if (this.#stopped || dir === host.dir()) return;
      const wasPaused = this.#paused;
      await this.#pauseNow();
      try {
        const meta = host.meta();
        if (meta) {
          const files = host.ctx.storageFiles;
          if (!files) throw new Error("Cannot move files: no file mover is configured");
          const paths = meta.files.filter((f) => !f.isPadding).map((f) => f.path);
          await files.moveFiles(host.dir(), dir, paths);
          await this.#moveResume(host.dir(), dir);
        }
        host.setDir(dir);
      } finally {
        if (!wasPaused) {
          this.#paused = false;
          void this.#begin(false);
        }
      }
    });
  }

  /** Stops for good (after any operation in progress; a check is abandoned at once). */
  stop(): Promise<void> {
    if (this.#stopped) return this.#queue;
    this.#checkAbort?.abort();
    return this.#serialize(async () => {
      if (this.#stopped) return;
      this.#stopped = true;
      const host = this.#host;
      await this.#halt();
      if (host.state() !== "error") host.setState("stopped");
      this.#emit("torrent-stopped");
      host.rejectDone(new Error("Torrent stopped before completion"));
    });
  }

  async #pauseNow(): Promise<void> {
    if (this.#stopped || this.#paused) return;
    this.#paused = true; // refuse connections and addresses from here on
    await this.#halt();
    this.#host.setState("paused");
    this.#emit("torrent-paused");
  }

  /** Starts the work: ticker, then the check (the promise settles with it) or the metadata phase. */
  #begin(ignoreResume: boolean): Promise<void> {
    const host = this.#host;
    host.tick(true);
    const first = !this.#begun;
    this.#begun = true;
    if (host.renewData(first)) return this.startCheck(ignoreResume);
    host.setState("metadata");
    host.addMagnetPeers();
    this.startSources();
    return Promise.resolve();
  }

  /** Abandons a check, stops the tick and the sources, closes peers, drains and closes files. */
  async #halt(): Promise<void> {
    this.#checkAbort?.abort();
    await this.#checking;
    this.#host.tick(false);
    this.#sourcesRunning = false;
    await Promise.all(this.#cleanups.splice(0).map((fn) => fn()));
    this.#host.closePeers();
    await this.#host.closeData();
  }

  #emit(type: "torrent-paused" | "torrent-stopped"): void {
    this.#host.ctx.hub.emit({ type, category: "torrent", infoHash: this.#host.infoHashHex });
  }

  /** Resume data follows the files to their new save path. */
  async #moveResume(from: string, to: string): Promise<void> {
    const store = this.#host.ctx.resumeStore;
    const hex = this.#host.infoHashHex;
    const bytes = await store?.load(from, hex).catch(() => undefined);
    if (!store || !bytes) return;
    await store.save(to, hex, bytes);
    await store.remove?.(from, hex).catch(() => {}); // a stale copy is only ignored later
  }

  #serialize(fn: () => Promise<void>): Promise<void> {
    const next = this.#queue.then(fn);
    this.#queue = next.catch(() => {}); // each caller sees its own failure
    return next;
  }
}
