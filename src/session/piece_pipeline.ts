/**
 * From blocks to verified pieces: piece buffers (recycled from the disk workers), the
 * hand-off of a whole piece to a worker (hash, then write), and what a hash failure
 * means for the peers that sent it — smart ban for a sole contributor, strikes for the
 * others (RELIABILITY PW9: an honest peer is never banned for another's data) — and what
 * a failed write means (F3/F6). A failure no retry can fix (permission, a path component
 * that is a file or a symlink, a read-only file system, no space: `classifyStorageError`)
 * ends the download when it happens again after a pause of `writeConfirmMs` (1 s: two
 * workers racing to make one directory see EEXIST once, and recover). Any other failure
 * pauses requests for `writeRetryBaseMs` (5 s), doubling up to `writeRetryMaxMs`; failures
 * while paused belong to the same round, and after `writeRetryLimit` (3) rounds without a
 * successful write the download ends too.
 *
 * Backpressure: whole pieces count against `diskQueueBytes` from the moment they are
 * handed off, including those that wait for the resume file before the first write
 * ({@linkcode PiecePipeline.heldBytes}): it takes 7-16 ms to write here, and at 500 MB/s
 * the pieces that completed meanwhile went past the disk queue's mark uncounted (up to
 * 34 of its then 24 MiB, each a buffer allocated and kept for reuse).
 *
 * Layer: driver.
 * @module
 */
import type { Peer } from "./peer.ts";
import type { TorrentContext } from "./context.ts";
import { classifyStorageError, type StorageFault } from "../storage/fault.ts";

/** What the pipeline needs from its torrent. */
export interface PiecePipelineHost {
  /** Session services. */
  readonly ctx: TorrentContext;
  /** Live connections by id. */
  readonly peers: ReadonlyMap<string, Peer>;
  /** Disk storage handle. */
  storageId(): number;
  /** Byte length of piece `index`. */
  pieceSize(index: number): number;
  /** The piece is verified and on disk. */
  pieceVerified(index: number): void;
  /** The piece failed its hash: the picker forgets its blocks; returns who sent them. */
  pieceFailed(index: number): string[];
  /**
   * A write failed: the piece is re-fetched after `retryMs`, when requests resume; without
   * `retryMs` the failure is final (requests never resume).
   */
  writeFailed(index: number, fault: StorageFault, retryMs: number | undefined): void;
  /** Requests may go out again (a pause after a failed write ended): refill every peer. */
  refillAll(): void;
  /** Runs before the first piece is written (the resume file is made); may reject. */
  beforeFirstWrite(): Promise<void>;
  /** Bans a peer's address and closes it. */
  ban(peer: Peer, reason: string): void;
  /** Drops a source that is not a peer (a web seed) by its id; false when unknown. */
  banSource?(id: string, reason: string): boolean;
}

/** Piece assembly and verification for one torrent. */
export class PiecePipeline {
  readonly #host: PiecePipelineHost;
  readonly #buffers = new Map<number, Uint8Array>();
  readonly #strikes = new Map<string, number>();
  readonly #writes = new Set<Promise<void>>();
  /** The pause after a failed write: its length, while it lasts. */
  #pauseMs: number | undefined;
  #backoffMs = 0;
  /** Rounds of failed writes since the last success. */
  #retries = 0;
  /** A failure no retry should fix happened once: the next one is final. */
  #confirming = false;
  /** A write failed for good: no more requests. */
  #failed = false;
  /** Settles once writes may start. */
  #ready: Promise<void> | undefined;
  /** Bytes of whole pieces waiting for `#ready` (not yet in the disk queue). */
  #heldBytes = 0;

  /** Binds to a torrent. */
  constructor(host: PiecePipelineHost) {
    this.#host = host;
  }

  /** False while requests pause after a failed write, and for good after a final one. */
  canRequest(): boolean {
    return !this.#failed && this.#pauseMs === undefined;
  }

  /**
   * Bytes of whole pieces handed off that wait for the first write's resume file, so not
   * yet counted by the disk queue; the read gate counts them against `diskQueueBytes`.
   */
  get heldBytes(): number {
    return this.#heldBytes;
  }

  /** Settles once held pieces have gone to the disk queue (at once when none is held). */
  whenWritable(): Promise<void> {
    return this.#ready ?? Promise.resolve();
  }

  /** True when blocks of piece `index` are being assembled. */
  has(index: number): boolean {
    return this.#buffers.has(index);
  }

  /** Piece buffer for `index`, allocated on first use. */
  buffer(index: number): Uint8Array {
    let buf = this.#buffers.get(index);
    if (!buf) {
      // Recycled write buffers avoid first-touch page faults (DENO-PERFORMANCE §5).
      const size = this.#host.pieceSize(index);
      buf = this.#host.ctx.disk.allocatePieceBuffer?.(size) ?? new Uint8Array(size);
      this.#buffers.set(index, buf);
    }
    return buf;
  }

  /** Every block of a piece arrived: hash and write it in a worker. */
  submit(index: number): void {
    const buf = this.#buffers.get(index);
    this.#buffers.delete(index);
    if (!buf) return;
    const host = this.#host;
    // The first write waits for the resume file to exist (a full disk finds it there).
    this.#ready ??= host.beforeFirstWrite().catch(() => {});
    const size = buf.length;
    this.#heldBytes += size;
    const job = this.#ready.then(() => {
      this.#heldBytes -= size;
      return host.ctx.disk.writePiece(host.storageId(), index, buf);
    });
    const tracked = job.then(() => {}, () => {});
    this.#writes.add(tracked);
    tracked.then(() => this.#writes.delete(tracked));
    job.then(
      (ok) => {
        if (!ok) return this.#hashFailed(index);
        this.#backoffMs = 0;
        this.#retries = 0;
        this.#confirming = false;
        host.pieceVerified(index);
      },
      (e) => this.#writeFailed(index, classifyStorageError(e)),
    );
  }

  /**
   * A rejected write: final when permanent or after `writeRetryLimit` rounds, else a pause
   * (a failure while paused joins the round: pieces in flight fail together).
   */
  #writeFailed(index: number, fault: StorageFault): void {
    const host = this.#host;
    if (this.#failed) return host.writeFailed(index, fault, undefined);
    if (this.#pauseMs !== undefined) return host.writeFailed(index, fault, this.#pauseMs);
    const s = host.ctx.settings;
    const final = fault.permanent ? this.#confirming : this.#retries >= s.writeRetryLimit;
    if (final) {
      this.#failed = true;
      return host.writeFailed(index, fault, undefined);
    }
    if (fault.permanent) this.#confirming = true;
    else {
      this.#retries++;
      this.#backoffMs = Math.min(
        s.writeRetryMaxMs,
        Math.max(s.writeRetryBaseMs, this.#backoffMs * 2),
      );
    }
    const pauseMs = this.#pauseMs = fault.permanent ? s.writeConfirmMs : this.#backoffMs;
    // The pause ends on its own timer, which also refills: requests resume exactly then,
    // whatever the clock reads when it fires.
    host.ctx.clock.schedule(pauseMs, () => {
      this.#pauseMs = undefined;
      if (!this.#failed) host.refillAll();
    });
    host.writeFailed(index, fault, pauseMs);
  }

  /** Resolves once every submitted piece has been hashed and written (or failed). */
  async drain(): Promise<void> {
    await Promise.all([...this.#writes]);
  }

  /**
   * Smart ban: a peer that alone supplied a failed piece sent bad data. Otherwise each
   * contributor takes a strike, and `hashFailStrikes` strikes ban it.
   */
  #hashFailed(index: number): void {
    const host = this.#host;
    const contributors = host.pieceFailed(index);
    // bounded: strikes are advisory
    if (this.#strikes.size > host.ctx.settings.maxStrikeRecords) this.#strikes.clear();
    for (const id of contributors) {
      const strikes = (this.#strikes.get(id) ?? 0) + (contributors.length === 1 ? Infinity : 1);
      this.#strikes.set(id, strikes);
      if (strikes < host.ctx.settings.hashFailStrikes) continue;
      const peer = host.peers.get(id);
      const reason = `sent data for piece ${index} that failed its hash`;
      if (peer) host.ban(peer, reason);
      else host.banSource?.(id, reason);
    }
  }
}
