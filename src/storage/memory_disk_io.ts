/**
 * An in-memory {@linkcode DiskIo} for tests and simulations. It behaves like the
 * worker pool on a real disk: files appear on the first write and grow to the end
 * of the last byte written (reads past it fail, as on a short file), contents
 * survive `close` and re-`open` of the same root, every job completes
 * asynchronously (so backpressure is observable), and writes can be made to fail.
 *
 * Layer: core (no I/O; hashing via `src/util/sha1.ts`).
 * @module
 */
import { StorageError } from "../errors.ts";
import type { DiskIo, FileStat, StorageId, StorageSpec } from "./disk_io.ts";
import { bytesEqual } from "../util/bytes.ts";
import { sha1 } from "../util/sha1.ts";
import { type FileSpan, StorageLayout } from "./layout.ts";

/** Options for {@linkcode MemoryDiskIo}. */
export interface MemoryDiskIoOptions {
  /** Fault injection: a write of piece `index` rejects with `StorageError` when this returns true. */
  readonly failWrites?: (index: number) => boolean;
  /** Backpressure mark in bytes (default 64 MiB). */
  readonly highWaterBytes?: number;
  /** Source of file mtimes in ms (default: a counter that ticks on every change). */
  readonly now?: () => number;
}

interface MemoryFile {
  bytes: Uint8Array;
  size: number;
  mtimeMs: number;
}

interface OpenStorage {
  readonly spec: StorageSpec;
  readonly layout: StorageLayout;
  readonly keys: readonly string[];
}

const ZERO_DIGEST = new Uint8Array(20);

/** {@linkcode DiskIo} held in memory; see the module doc for how it mimics a disk. */
export class MemoryDiskIo implements DiskIo {
  /** One job at a time, like a single worker. */
  readonly parallelism = 1;
  readonly #files = new Map<string, MemoryFile>();
  readonly #storages = new Map<StorageId, OpenStorage>();
  readonly #waiters: (() => void)[] = [];
  readonly #inFlight = new Set<Promise<void>>();
  readonly #failWrites: ((index: number) => boolean) | undefined;
  readonly #highWaterBytes: number;
  readonly #now: () => number;
  #tick = 0;
  #queuedBytes = 0;
  #nextId = 1;
  #isShutDown = false;

  /**
   * Creates an empty in-memory disk.
   * @param options fault injection, backpressure mark, mtime source
   * @example
   * ```ts
   * import { MemoryDiskIo } from "./mod.ts";
   * import { sha1 } from "../util/sha1.ts";
   * import { deepStrictEqual as assertEquals } from "node:assert";
   * const disk = new MemoryDiskIo();
   * const piece = new Uint8Array([1, 2, 3]);
   * const id = await disk.open({
   *   root: "/dl", files: [{ path: ["a"], length: 3 }], pieceLength: 4,
   *   totalLength: 3, pieceHashes: sha1(piece),
   * });
   * assertEquals(await disk.writePiece(id, 0, piece), true);
   * assertEquals(await disk.read(id, 0, 1, 2), new Uint8Array([2, 3]));
   * await disk.shutdown();
   * ```
   */
  constructor(options: MemoryDiskIoOptions = {}) {
    this.#failWrites = options.failWrites;
    this.#highWaterBytes = options.highWaterBytes ?? 64 * 1024 * 1024;
    this.#now = options.now ?? (() => ++this.#tick);
  }

  /** {@inheritDoc DiskIo.open} */
  open(spec: StorageSpec): Promise<StorageId> {
    return this.#run("open", 0, () => {
      const layout = new StorageLayout(spec.files, spec.pieceLength);
      if (spec.pieceHashes.length !== 0 && spec.pieceHashes.length !== 20 * layout.pieceCount) {
        throw new RangeError(
          `Cannot open storage: ${spec.pieceHashes.length} hash bytes for ${layout.pieceCount} pieces`,
        );
      }
      const keys = spec.files.map((f) => `${spec.root}/${f.path.join("/")}`);
      const id = this.#nextId++;
      this.#storages.set(id, { spec, layout, keys });
      return id;
    });
  }

  /** {@inheritDoc DiskIo.writePiece} */
  writePiece(id: StorageId, index: number, data: Uint8Array): Promise<boolean> {
    return this.#run("write", data.length, () => {
      const storage = this.#storage(id, "write");
      const size = storage.layout.pieceSize(index);
      if (data.length !== size || storage.spec.pieceHashes.length === 0) {
        const why =
          `got ${data.length} of ${size} bytes, ${storage.spec.pieceHashes.length} hash bytes`;
        throw new StorageError(`Cannot write piece ${index}: ${why}`, { op: "write" });
      }
      const expected = storage.spec.pieceHashes.subarray(20 * index, 20 * index + 20);
      if (!bytesEqual(sha1(data), expected)) return false;
      if (this.#failWrites?.(index)) {
        throw new StorageError(`Cannot write piece ${index}: injected failure`, { op: "write" });
      }
      let at = 0;
      for (const span of storage.layout.spans(index)) {
        this.#writeSpan(storage, span, data.subarray(at, at + span.length));
        at += span.length;
      }
      // Zero-length files have no spans: they appear with the first verified write.
      storage.spec.files.forEach((f, i) => {
        const key = storage.keys[i]!;
        if (f.length === 0 && !this.#files.has(key)) {
          this.#files.set(key, { bytes: new Uint8Array(0), size: 0, mtimeMs: this.#now() });
        }
      });
      return true;
    });
  }

  /** {@inheritDoc DiskIo.read} */
  read(id: StorageId, index: number, begin: number, length: number): Promise<Uint8Array> {
    return this.#run("read", length, () => {
      const storage = this.#storage(id, "read");
      return this.#readSpans(storage, storage.layout.spans(index, begin, length), length, index);
    });
  }

  /** {@inheritDoc DiskIo.hashPieces} */
  hashPieces(id: StorageId, first: number, count: number): Promise<Uint8Array> {
    const layout = this.#storages.get(id)?.layout;
    const start = first * (layout?.pieceLength ?? 0);
    const end = Math.min(layout?.totalLength ?? 0, start + count * (layout?.pieceLength ?? 0));
    return this.#run("hash", Math.max(0, end - start), () => {
      const storage = this.#storage(id, "hash");
      const { pieceCount } = storage.layout;
      if (!Number.isInteger(count) || count < 0 || first < 0 || first + count > pieceCount) {
        throw new RangeError(`Cannot hash pieces ${first}+${count}: outside the storage`);
      }
      const out = new Uint8Array(20 * count);
      for (let k = 0; k < count; k++) out.set(this.#hashPiece(storage, first + k), 20 * k);
      return out;
    });
  }

  /** {@inheritDoc DiskIo.statFiles} */
  statFiles(id: StorageId): Promise<(FileStat | undefined)[]> {
    return this.#run("stat", 0, () =>
      this.#storage(id, "stat").keys.map((key) => {
        const file = this.#files.get(key);
        return file && { length: file.size, mtimeMs: file.mtimeMs };
      }));
  }

  /** {@inheritDoc DiskIo.close} */
  close(id: StorageId): Promise<void> {
    return this.#run("close", 0, () => {
      this.#storage(id, "close");
      this.#storages.delete(id);
    });
  }

  /**
   * Waits for jobs in flight, then closes every storage; later calls reject with
   * `StorageError`. Files stay readable through {@linkcode MemoryDiskIo.fileBytes}.
   */
  async shutdown(): Promise<void> {
    this.#isShutDown = true;
    await Promise.allSettled(this.#inFlight);
    this.#storages.clear();
    for (const wake of this.#waiters.splice(0)) wake();
  }

  /** {@inheritDoc DiskIo.queuedBytes} */
  queuedBytes(): number {
    return this.#queuedBytes;
  }

  /** {@inheritDoc DiskIo.waitForCapacity} */
  waitForCapacity(): Promise<void> {
    if (this.#queuedBytes < this.#highWaterBytes || this.#isShutDown) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** {@inheritDoc DiskIo.allocatePieceBuffer} */
  allocatePieceBuffer(length: number): Uint8Array {
    return new Uint8Array(length);
  }

  /**
   * Test helper: replaces a file's whole contents (as if edited while stopped).
   * @param id storage id
   * @param fileIndex file index in torrent order
   * @param bytes new contents (copied; may differ from the torrent's length)
   * @param mtimeMs modification time (default: the mtime source)
   * @throws {StorageError} when the storage is not open
   */
  putFile(id: StorageId, fileIndex: number, bytes: Uint8Array, mtimeMs?: number): void {
    const key = this.#key(id, fileIndex);
    this.#files.set(key, {
      bytes: bytes.slice(),
      size: bytes.length,
      mtimeMs: mtimeMs ?? this.#now(),
    });
  }

  /**
   * Test helper: deletes a file.
   * @param id storage id
   * @param fileIndex file index
   * @throws {StorageError} when the storage is not open
   */
  removeFile(id: StorageId, fileIndex: number): void {
    this.#files.delete(this.#key(id, fileIndex));
  }

  /**
   * Test helper: a copy of a file's contents.
   * @param id storage id
   * @param fileIndex file index
   * @returns the bytes, or `undefined` when the file does not exist
   * @throws {StorageError} when the storage is not open
   */
  fileBytes(id: StorageId, fileIndex: number): Uint8Array | undefined {
    const file = this.#files.get(this.#key(id, fileIndex));
    return file?.bytes.slice(0, file.size);
  }

  /**
   * Moves files from below `from` to below `to` (the session's `StorageFiles`).
   * @param from old save path
   * @param to new save path
   * @param paths each file's components below the save path
   */
  moveFiles(from: string, to: string, paths: readonly (readonly string[])[]): Promise<void> {
    for (const path of paths) {
      const file = this.#files.get(`${from}/${path.join("/")}`);
      if (!file) continue;
      this.#files.delete(`${from}/${path.join("/")}`);
      this.#files.set(`${to}/${path.join("/")}`, file);
    }
    return Promise.resolve();
  }

  /**
   * Deletes files below `root` (the session's `StorageFiles`).
   * @param root save path
   * @param paths each file's components below it
   */
  deleteFiles(root: string, paths: readonly (readonly string[])[]): Promise<void> {
    for (const path of paths) this.#files.delete(`${root}/${path.join("/")}`);
    return Promise.resolve();
  }

  /** Test helper: whether a file exists at `root/path`. */
  hasFile(root: string, path: readonly string[]): boolean {
    return this.#files.has(`${root}/${path.join("/")}`);
  }

  #key(id: StorageId, fileIndex: number): string {
    const key = this.#storage(id, "access").keys[fileIndex];
    if (key === undefined) throw new RangeError(`File ${fileIndex} is not in storage ${id}`);
    return key;
  }

  #writeSpan(storage: OpenStorage, span: FileSpan, data: Uint8Array): void {
    const key = storage.keys[span.fileIndex]!;
    const capacity = storage.layout.fileLengths[span.fileIndex]!;
    let file = this.#files.get(key);
    if (file === undefined) {
      file = { bytes: new Uint8Array(capacity), size: 0, mtimeMs: 0 };
      this.#files.set(key, file);
    }
    const end = span.fileOffset + span.length;
    if (file.bytes.length < end) {
      const grown = new Uint8Array(Math.max(end, capacity));
      grown.set(file.bytes.subarray(0, file.size));
      file.bytes = grown;
    }
    file.bytes.set(data, span.fileOffset);
    file.size = Math.max(file.size, end);
    file.mtimeMs = this.#now();
  }

  #hashPiece(storage: OpenStorage, index: number): Uint8Array {
    try {
      const size = storage.layout.pieceSize(index);
      return sha1(this.#readSpans(storage, storage.layout.spans(index), size, index));
    } catch {
      return ZERO_DIGEST; // DiskIo contract: a piece that cannot be read in full hashes to zeros
    }
  }

  #readSpans(storage: OpenStorage, spans: FileSpan[], length: number, index: number): Uint8Array {
    const out = new Uint8Array(length);
    let at = 0;
    for (const span of spans) {
      const path = storage.keys[span.fileIndex]!;
      const file = this.#files.get(path);
      if (file === undefined || file.size < span.fileOffset + span.length) {
        throw new StorageError(`Cannot read piece ${index}: file missing or short: "${path}"`, {
          op: "read",
          path,
        });
      }
      out.set(file.bytes.subarray(span.fileOffset, span.fileOffset + span.length), at);
      at += span.length;
    }
    return out;
  }

  #storage(id: StorageId, op: string): OpenStorage {
    const storage = this.#storages.get(id);
    if (storage === undefined) {
      throw new StorageError(`Cannot ${op}: storage ${id} is not open`, { op });
    }
    return storage;
  }

  /**
   * Runs `fn` as a job: counted in `queuedBytes`, completed asynchronously (like a
   * worker), refused after shutdown, awaited by shutdown.
   */
  #run<T>(op: string, bytes: number, fn: () => T): Promise<T> {
    if (this.#isShutDown) {
      return Promise.reject(new StorageError(`Cannot ${op}: the disk is shut down`, { op }));
    }
    this.#queuedBytes += bytes;
    const job = (async () => {
      try {
        await Promise.resolve();
        return fn();
      } finally {
        this.#release(bytes);
      }
    })();
    const done = job.then(() => {}, () => {});
    this.#inFlight.add(done);
    done.then(() => this.#inFlight.delete(done));
    return job;
  }

  #release(bytes: number): void {
    this.#queuedBytes -= bytes;
    if (this.#queuedBytes < this.#highWaterBytes) {
      for (const wake of this.#waiters.splice(0)) wake();
    }
  }
}
