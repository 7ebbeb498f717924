/**
 * The piece-hashing loop `create` runs on every thread at once: each thread opens the content
 * files itself, claims the next piece from a shared counter (`Atomics.add`), reads it with
 * synchronous reads into one reused buffer, hashes it and writes the 20-byte digest into
 * shared memory. Nothing crosses between threads per piece: no message, no transfer, no copy.
 * A thread that starts late (a worker still loading) simply claims fewer pieces.
 *
 * Files are read with `Deno.FsFile` (`seekSync` + `readSync`), not `node:fs`: a worker that
 * loads `node:fs` is ready 20–25 ms later, and this loop needs nothing else from it.
 *
 * Layer: platform (runs on the main isolate and in `workers/hash_worker.ts`).
 * @module
 */
import { StorageLayout } from "../storage/layout.ts";

/** Index of the next unclaimed piece in {@linkcode SharedHashJob.control}. */
export const NEXT_PIECE = 0;
/** Index of the count of finished pieces in {@linkcode SharedHashJob.control}. */
export const PIECES_DONE = 1;
/** Size of the reused read buffer: reads of ≤ 256 KiB are the fastest (DENO-PERFORMANCE.md). */
export const HASH_READ_BYTES = 256 * 1024;
/** Open files kept per thread (pieces are claimed in order, so one or two are in use). */
const MAX_OPEN_FILES = 8;

/** One hashing run, shared by every thread that works on it. */
export interface SharedHashJob {
  /** Directory the files live under. */
  readonly root: string;
  /** Files in torrent order: path components below `root` and length in bytes. */
  readonly files: readonly { readonly path: readonly string[]; readonly length: number }[];
  /** Nominal piece length in bytes. */
  readonly pieceLength: number;
  /** Two `Int32`s: {@linkcode NEXT_PIECE} and {@linkcode PIECES_DONE}. */
  readonly control: SharedArrayBuffer;
  /** 20 bytes per piece, in piece order. */
  readonly digests: SharedArrayBuffer;
  /** One byte per piece, set to 1 once its digest is written. */
  readonly finished: SharedArrayBuffer;
}

/** What a hash worker posts when a job ends: the pieces it hashed, or why it stopped. */
export type HashWorkerReply = { readonly hashed: number } | { readonly error: string };

/** An incremental SHA-1 (`node:crypto`'s `createHash("sha1")` fits). */
export interface Sha1 {
  /** Adds bytes. */
  update(data: Uint8Array): unknown;
  /** The 20-byte digest. */
  digest(): Uint8Array;
}

/**
 * Makes the shared memory for a run over `files`.
 * @param spec the content: root, files, piece length
 * @returns the job, with every piece unclaimed
 * @throws {RangeError} for a bad piece length or file length, or more than 2^31 pieces
 */
export function newSharedHashJob(
  spec: Pick<SharedHashJob, "root" | "files" | "pieceLength">,
): SharedHashJob {
  const { pieceCount } = new StorageLayout(spec.files, spec.pieceLength);
  if (pieceCount >= 2 ** 31) throw new RangeError(`Cannot hash ${pieceCount} pieces`);
  return {
    root: spec.root,
    files: spec.files.map((f) => ({ path: [...f.path], length: f.length })),
    pieceLength: spec.pieceLength,
    control: new SharedArrayBuffer(8),
    digests: new SharedArrayBuffer(20 * pieceCount),
    finished: new SharedArrayBuffer(pieceCount),
  };
}

/**
 * Claims pieces until none is left and hashes each one; returns when the last claim fails.
 * A piece that cannot be read in full (a file shrank, vanished or became unreadable) gets
 * 20 zero bytes, the `DiskIo.hashPieces` contract.
 * @param job the shared run
 * @param sha1 makes a fresh hash
 * @param onPiece called after each piece this thread hashed
 * @returns how many pieces this thread hashed
 */
export function hashClaimedPieces(
  job: SharedHashJob,
  sha1: () => Sha1,
  onPiece?: () => void,
): number {
  const layout = new StorageLayout(job.files, job.pieceLength);
  const control = new Int32Array(job.control);
  const files = new ContentFiles(job);
  let hashed = 0;
  try {
    for (;;) {
      const index = Atomics.add(control, NEXT_PIECE, 1);
      if (index >= layout.pieceCount) break;
      hashPieceInto(job, layout, files, index, sha1);
      Atomics.add(control, PIECES_DONE, 1);
      hashed++;
      onPiece?.();
    }
  } finally {
    files.close();
  }
  return hashed;
}

/**
 * Hashes one piece (whoever claimed it) and marks it finished; for pieces a failed thread
 * claimed and never finished.
 * @param job the shared run
 * @param index the piece
 * @param sha1 makes a fresh hash
 */
export function hashOnePiece(job: SharedHashJob, index: number, sha1: () => Sha1): void {
  const layout = new StorageLayout(job.files, job.pieceLength);
  const files = new ContentFiles(job);
  try {
    hashPieceInto(job, layout, files, index, sha1);
  } finally {
    files.close();
  }
}

function hashPieceInto(
  job: SharedHashJob,
  layout: StorageLayout,
  files: ContentFiles,
  index: number,
  sha1: () => Sha1,
): void {
  const hash = sha1();
  let digest: Uint8Array | undefined;
  try {
    for (const span of layout.spans(index)) {
      for (let done = 0; done < span.length;) {
        const view = files.read(span.fileIndex, span.fileOffset + done, span.length - done);
        hash.update(view);
        done += view.length;
      }
    }
    digest = hash.digest();
  } catch {
    digest = undefined; // unreadable: the digest stays 20 zero bytes (see hashClaimedPieces)
  }
  if (digest !== undefined) new Uint8Array(job.digests, 20 * index, 20).set(digest);
  Atomics.store(new Uint8Array(job.finished), index, 1);
}

/** One thread's open files (read-only, at most {@linkcode MAX_OPEN_FILES}) and read buffer. */
class ContentFiles {
  readonly #job: SharedHashJob;
  readonly #open = new Map<number, Deno.FsFile>();
  readonly #buffer = new Uint8Array(HASH_READ_BYTES);

  constructor(job: SharedHashJob) {
    this.#job = job;
  }

  /**
   * Reads up to {@linkcode HASH_READ_BYTES} (and at most `length`) bytes of a file at `pos`
   * into the reused buffer.
   * @throws {Error} when the file cannot be opened or read, or ends before `length` bytes
   */
  read(fileIndex: number, pos: number, length: number): Uint8Array {
    const file = this.#file(fileIndex);
    const want = Math.min(length, this.#buffer.length);
    file.seekSync(pos, Deno.SeekMode.Start);
    let got = 0;
    while (got < want) {
      const n = file.readSync(this.#buffer.subarray(got, want));
      if (n === null || n === 0) throw new Error(`File ${fileIndex} ends before ${pos + want}`);
      got += n;
    }
    return this.#buffer.subarray(0, want);
  }

  close(): void {
    for (const file of this.#open.values()) closeQuietly(file);
    this.#open.clear();
  }

  #file(fileIndex: number): Deno.FsFile {
    const cached = this.#open.get(fileIndex);
    if (cached !== undefined) return cached;
    const { root, files } = this.#job;
    const file = Deno.openSync([root, ...files[fileIndex]!.path].join("/"), { read: true });
    this.#open.set(fileIndex, file);
    if (this.#open.size > MAX_OPEN_FILES) {
      const [oldest, handle] = this.#open.entries().next().value!;
      closeQuietly(handle);
      this.#open.delete(oldest);
    }
    return file;
  }
}

function closeQuietly(file: Deno.FsFile): void {
  try {
    file.close();
  } catch {
    // closing a read-only file can only fail if it is already closed; nothing is lost
  }
}
