/**
 * Bounded dirty data for writes that go through the page cache (the unaligned heads and
 * tails of O_DIRECT pieces, and every write where the file system refuses O_DIRECT).
 *
 * Linux starts writeback on its own only at `dirty_background_ratio` (10 % of memory,
 * 2.4 GiB on a 24 GiB machine) or after 30 s, so a download written through the page
 * cache would leave all of its data for the final `fdatasync`: the disk idles while the
 * network runs, then the network idles while the disk runs. Deno has no `sync_file_range`
 * or `posix_fadvise`, so after every `budgetBytes` written to a file this starts an
 * asynchronous `fdatasync` (node:fs runs it on the thread pool: the worker keeps hashing
 * and writing). At four budgets unflushed while the last one still runs, the worker waits
 * for the disk (`fdatasyncSync`): dirty data per file stays under about 4 × budget.
 *
 * A writeback is a hint; durability comes from the `fdatasync` when the storage closes,
 * so a failed or misdirected early flush (its descriptor closed meanwhile) loses nothing.
 *
 * Layer: platform (worker side).
 * @module
 */
import * as fs from "node:fs";

/** Default bytes written through the page cache to one file between writebacks. */
export const DEFAULT_WRITE_BACK_BYTES = 32 * 1024 * 1024;
/** Unflushed budgets at which the writer waits for the disk. */
const HARD_LIMIT_BUDGETS = 4;

/** Per-descriptor writeback state (kept with the file handle). */
export interface WriteBackState {
  /** The buffered descriptor. */
  readonly fd: number;
  /** Bytes written since the last writeback started. */
  unflushed: number;
  /** The running asynchronous `fdatasync`, settling (never rejecting) when it ends. */
  flushing: Promise<void> | undefined;
}

/** Starts writeback on a byte budget; one per worker. */
export class WriteBack {
  readonly #budgetBytes: number;
  /** Asynchronous writebacks started. */
  started = 0;
  /** Times the writer waited for the disk. */
  waited = 0;

  /**
   * @param budgetBytes bytes per file between writebacks; 0 turns early writeback off
   * @throws {RangeError} for a negative budget
   */
  constructor(budgetBytes: number = DEFAULT_WRITE_BACK_BYTES) {
    if (!(budgetBytes >= 0)) throw new RangeError(`Invalid writeback budget: ${budgetBytes}`);
    this.#budgetBytes = budgetBytes;
  }

  /**
   * Records `bytes` written through the page cache to `state.fd`, starting or waiting for
   * a writeback when the budget says so.
   * @param state the descriptor's state
   * @param bytes bytes just written
   * @throws when a waited-for `fdatasync` fails (the write is then not known to be safe)
   */
  wrote(state: WriteBackState, bytes: number): void {
    if (this.#budgetBytes === 0 || bytes === 0) return;
    state.unflushed += bytes;
    if (state.unflushed < this.#budgetBytes) return;
    if (state.flushing === undefined) {
      state.unflushed = 0;
      this.started++;
      state.flushing = new Promise((resolve) => {
        // The error is dropped on purpose: see the module note (a hint only).
        fs.fdatasync(state.fd, () => {
          state.flushing = undefined;
          resolve();
        });
      });
    } else if (state.unflushed >= HARD_LIMIT_BUDGETS * this.#budgetBytes) {
      this.waited++;
      fs.fdatasyncSync(state.fd);
      state.unflushed = 0;
    }
  }
}
