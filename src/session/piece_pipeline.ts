/**
 * From blocks to verified pieces: piece buffers (recycled from the disk workers), the
 * hand-off of a whole piece to a worker (hash, then write), and what a hash failure
 * means for the peers that sent it — smart ban for a sole contributor, strikes for the
 * others (RELIABILITY PW9: an honest peer is never banned for another's data) — and the
 * back-off after a failed write (F3/F6: disk full, directory gone, permission): requests
 * pause for `writeRetryBaseMs` (5 s), doubling up to `writeRetryMaxMs` (5 minutes), until a
 * write succeeds again.
 *
 * Layer: driver.
 * @module
 */
import type { Peer } from "./peer.ts";
import type { TorrentContext } from "./context.ts";

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
  /** A write failed: the piece is re-fetched after `retryMs`, when requests resume. */
  writeFailed(index: number, error: unknown, retryMs: number): void;
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
  #pausedUntil = 0;
  #backoffMs = 0;

  /** Binds to a torrent. */
  constructor(host: PiecePipelineHost) {
    this.#host = host;
  }

  /** False while requests pause after a failed write. */
  canRequest(): boolean {
    return this.#host.ctx.clock.now() >= this.#pausedUntil;
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
    const job = host.ctx.disk.writePiece(host.storageId(), index, buf);
    const tracked = job.then(() => {}, () => {});
    this.#writes.add(tracked);
    tracked.then(() => this.#writes.delete(tracked));
    job.then(
      (ok) => {
        if (!ok) return this.#failed(index);
        this.#backoffMs = 0;
        host.pieceVerified(index);
      },
      (e) => {
        const s = host.ctx.settings;
        this.#backoffMs = Math.min(
          s.writeRetryMaxMs,
          Math.max(s.writeRetryBaseMs, this.#backoffMs * 2),
        );
        this.#pausedUntil = host.ctx.clock.now() + this.#backoffMs;
        host.writeFailed(index, e, this.#backoffMs);
      },
    );
  }

  /** Resolves once every submitted piece has been hashed and written (or failed). */
  async drain(): Promise<void> {
    await Promise.all([...this.#writes]);
  }

  /**
   * Smart ban: a peer that alone supplied a failed piece sent bad data. Otherwise each
   * contributor takes a strike, and `hashFailStrikes` strikes ban it.
   */
  #failed(index: number): void {
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
