/**
 * The daemon's state database (node:sqlite, one file under the state directory): the
 * library's torrent records, session settings and totals, and every torrent's resume data
 * (the verified pieces), so a restart, even after `kill -9`, loses no torrent and no
 * verified piece. Written in WAL mode with `synchronous=FULL`; each write is its own
 * transaction. The database is opened in exclusive locking mode, so a second daemon on the
 * same state directory is refused (RELIABILITY F11).
 *
 * Layer: platform.
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import type { LibraryStore, StoredTorrent } from "../daemon/library_types.ts";
import type { ResumeStore } from "../session/context.ts";

/** The library's records and the resume data, in one SQLite file. */
export class SqliteStore implements LibraryStore, ResumeStore {
  readonly #db: DatabaseSync;

  /**
   * Opens (or creates) the database at `path`.
   * @throws {Error} when it cannot be opened, or another daemon holds it
   */
  constructor(path: string) {
    this.#db = new DatabaseSync(path);
    try {
      this.#db.exec(`
        PRAGMA journal_mode = WAL;
        PRAGMA synchronous = FULL;
        PRAGMA locking_mode = EXCLUSIVE;
        PRAGMA busy_timeout = 0;
        CREATE TABLE IF NOT EXISTS torrents (
          info_hash TEXT PRIMARY KEY, record TEXT NOT NULL, torrent BLOB);
        CREATE TABLE IF NOT EXISTS resume (
          info_hash TEXT PRIMARY KEY, root TEXT NOT NULL, data BLOB NOT NULL);
        CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        BEGIN EXCLUSIVE; COMMIT;
      `);
    } catch (e) {
      this.#db.close();
      throw new Error(
        `Cannot open the state database "${path}": ${
          (e as Error).message
        } (is another daemon using it?)`,
        { cause: e },
      );
    }
  }

  /** {@inheritDoc LibraryStore.loadTorrents} */
  loadTorrents(): StoredTorrent[] {
    const rows = this.#db.prepare("SELECT record, torrent FROM torrents").all() as {
      record: string;
      torrent: Uint8Array | null;
    }[];
    return rows.flatMap((row) => {
      try {
        const record = JSON.parse(row.record) as StoredTorrent;
        return [row.torrent ? { ...record, torrent: new Uint8Array(row.torrent) } : record];
      } catch {
        return []; // a damaged row is skipped, never fatal
      }
    });
  }

  /** {@inheritDoc LibraryStore.saveTorrent} */
  saveTorrent(t: StoredTorrent): void {
    const { torrent, ...record } = t;
    this.#db.prepare(
      "INSERT OR REPLACE INTO torrents (info_hash, record, torrent) VALUES (?, ?, ?)",
    )
      .run(t.infoHash, JSON.stringify(record), torrent ?? null);
  }

  /** {@inheritDoc LibraryStore.deleteTorrent} */
  deleteTorrent(infoHash: string): void {
    this.#db.prepare("DELETE FROM torrents WHERE info_hash = ?").run(infoHash);
    this.#db.prepare("DELETE FROM resume WHERE info_hash = ?").run(infoHash);
  }

  /** {@inheritDoc LibraryStore.loadValue} */
  loadValue(key: string): string | undefined {
    const row = this.#db.prepare("SELECT value FROM kv WHERE key = ?").get(key) as
      | { value: string }
      | undefined;
    return row?.value;
  }

  /** {@inheritDoc LibraryStore.saveValue} */
  saveValue(key: string, value: string): void {
    this.#db.prepare("INSERT OR REPLACE INTO kv (key, value) VALUES (?, ?)").run(key, value);
  }

  /** {@inheritDoc LibraryStore.batch} */
  batch(fn: () => void): void {
    this.#db.exec("BEGIN");
    try {
      fn();
      this.#db.exec("COMMIT");
    } catch (e) {
      this.#db.exec("ROLLBACK");
      throw e;
    }
  }

  /** Resume data of a torrent saved under `root` (data for another save path is ignored). */
  load(root: string, infoHashHex: string): Promise<Uint8Array | undefined> {
    const row = this.#db.prepare("SELECT root, data FROM resume WHERE info_hash = ?").get(
      infoHashHex.toLowerCase(),
    ) as { root: string; data: Uint8Array } | undefined;
    return Promise.resolve(row && row.root === root ? new Uint8Array(row.data) : undefined);
  }

  /** Saves resume data (one row per torrent, replaced atomically). */
  save(root: string, infoHashHex: string, bytes: Uint8Array): Promise<void> {
    this.#db.prepare("INSERT OR REPLACE INTO resume (info_hash, root, data) VALUES (?, ?, ?)")
      .run(infoHashHex.toLowerCase(), root, bytes);
    return Promise.resolve();
  }

  /** Forgets resume data saved under `root`. */
  remove(root: string, infoHashHex: string): Promise<void> {
    this.#db.prepare("DELETE FROM resume WHERE info_hash = ? AND root = ?").run(
      infoHashHex.toLowerCase(),
      root,
    );
    return Promise.resolve();
  }

  /** Closes the database. */
  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }
}
