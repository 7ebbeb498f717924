/**
 * `verify <file.torrent> <dir> [--json]`: rehashes the data under the save directory `<dir>`
 * in the worker pool (BEP 3 piece hashes) and reports good pieces overall and per file. The
 * layout is libtorrent's "save path", the same one `get -o DIR` writes: `<dir>/<name>/...` for
 * a multi-file torrent, `<dir>/<name>` for a single file. Read-only: nothing is written.
 *
 * Layer: platform (CLI).
 * @module
 */
import type { Metainfo } from "../metainfo/mod.ts";
import type { StorageSpec } from "../storage/disk_io.ts";
import { WorkerPoolDiskIo } from "../deno/worker_pool.ts";
import { StorageLayout } from "../storage/layout.ts";
import { verifyStorage } from "../storage/verify.ts";
import type { Bitfield } from "../util/bitfield.ts";
import { toHex } from "../util/bytes.ts";
import {
  CliError,
  type CliIo,
  formatBytes,
  fsReason,
  loadTorrent,
  parseCommand,
  safeText,
} from "./common.ts";

/** Files listed by the human output; beyond it only incomplete files are listed. */
const MAX_FILES_SHOWN = 50;

/** Usage text of `verify`. */
export const VERIFY_USAGE: string = `Usage: deno run -A mod.ts verify <file.torrent> <dir> [--json]

Rehashes the torrent's data under <dir> (the save directory: <dir>/<name>/... for a
multi-file torrent, <dir>/<name> for a single file, as "get -o <dir>" writes it) and
reports good pieces, overall and per file. Writes nothing.
Exits 0 when every piece is present and correct, 1 otherwise.

Options:
  --json       print one JSON object: { pieceCount, goodPieces, bitfield (hex), complete,
               files: [{ path, length, goodPieces, totalPieces }] }
  -h, --help   show this help`;

/** Per-file completeness. */
export interface FileReport {
  /** Path below the save directory (starting with the torrent's name), `/`-separated. */
  readonly path: string;
  /** Length in bytes. */
  readonly length: number;
  /** Good pieces among those holding any byte of this file. */
  readonly goodPieces: number;
  /** Pieces holding any byte of this file (0 for an empty file). */
  readonly totalPieces: number;
}

/** What `verify --json` prints. */
export interface VerifyReport {
  /** Number of pieces in the torrent. */
  readonly pieceCount: number;
  /** Pieces whose data hashes correctly. */
  readonly goodPieces: number;
  /** BEP 3 bitfield of the good pieces, hex. */
  readonly bitfield: string;
  /** True when every piece is good. */
  readonly complete: boolean;
  /** Per-file completeness, in torrent order. */
  readonly files: readonly FileReport[];
}

/**
 * Where a torrent's files live under a save directory, as the worker pool wants them.
 * @param meta parsed metainfo
 * @param saveDir the save directory (`get -o DIR`, `verify <torrent> DIR`)
 * @returns the storage spec: root `saveDir`; each file's sanitised path already starts with
 *   the torrent's name (`<name>` for a single file, `<name>/...` for a multi-file torrent)
 * @throws never
 */
export function torrentStorageSpec(meta: Metainfo, saveDir: string): StorageSpec {
  return {
    root: saveDir,
    files: meta.files.map((f) => ({ path: f.path, length: f.length })),
    pieceLength: meta.pieceLength,
    totalLength: meta.totalLength,
    pieceHashes: meta.pieceHashes,
  };
}

/**
 * Builds the report from the good-piece bitfield.
 * @param meta parsed metainfo
 * @param have the pieces that verified
 * @returns counts, the hex bitfield and per-file completeness
 * @throws never
 */
export function verifyReport(meta: Metainfo, have: Bitfield): VerifyReport {
  const layout = new StorageLayout(meta.files, meta.pieceLength);
  const files = meta.files.map((f, i): FileReport => {
    const range = layout.piecesOfFile(i);
    let good = 0;
    if (range) { for (let p = range.first; p <= range.last; p++) if (have.has(p)) good++; }
    const total = range ? range.last - range.first + 1 : 0;
    return { path: f.path.join("/"), length: f.length, goodPieces: good, totalPieces: total };
  });
  return {
    pieceCount: meta.pieceCount,
    goodPieces: have.count,
    bitfield: toHex(have.toBytes()),
    complete: have.count === meta.pieceCount,
    files,
  };
}

/**
 * Runs `verify`.
 * @param args the arguments after `verify`
 * @param io where output goes
 * @returns 0 when every piece is good, 1 otherwise
 * @throws {CliError} on a bad flag, an unreadable torrent or a missing directory (exit 2)
 */
export async function verifyCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommand(args, { json: { type: "boolean" } });
  if (values.help) {
    io.stdout(VERIFY_USAGE);
    return 0;
  }
  if (positionals.length !== 2) {
    throw new CliError("verify takes <file.torrent> <dir> (see verify --help)");
  }
  const [torrentPath, saveDir] = positionals as [string, string];
  const meta = await loadTorrent(torrentPath);
  await requireDirectory(saveDir);
  const have = await hashAll(meta, saveDir, io);
  const report = verifyReport(meta, have);
  if (values.json === true) io.stdout(JSON.stringify(report));
  else for (const line of reportLines(meta, report, have)) io.stdout(line);
  return report.complete ? 0 : 1;
}

/** Fails with exit 2 unless `path` is an existing directory. */
async function requireDirectory(path: string): Promise<void> {
  let isDirectory: boolean;
  try {
    isDirectory = (await Deno.stat(path)).isDirectory;
  } catch (e) {
    throw new CliError(`Cannot verify in "${safeText(path)}": ${fsReason(e)}`, 2, { cause: e });
  }
  if (!isDirectory) throw new CliError(`Cannot verify in "${safeText(path)}": not a directory`);
}

/** Hashes every piece in the worker pool, showing progress on a terminal. */
async function hashAll(meta: Metainfo, saveDir: string, io: CliIo): Promise<Bitfield> {
  const disk = await WorkerPoolDiskIo.create();
  try {
    const id = await disk.open(torrentStorageSpec(meta, saveDir));
    const onProgress = (done: number) =>
      io.status(`verifying: ${done}/${meta.pieceCount} pieces checked`);
    const have = await verifyStorage(disk, id, meta.pieceHashes, {
      onProgress,
      pieceLength: meta.pieceLength,
    });
    await disk.close(id);
    return have;
  } finally {
    await disk.shutdown();
  }
}

/** The human-readable report. */
function reportLines(meta: Metainfo, report: VerifyReport, have: Bitfield): string[] {
  const percent = report.pieceCount === 0 ? 100 : (100 * report.goodPieces) / report.pieceCount;
  const lines = [
    `${safeText(meta.name)}: ${report.goodPieces}/${report.pieceCount} pieces good ` +
    `(${percent.toFixed(1)}%), ${meta.pieceCount} × ${formatBytes(meta.pieceLength)}`,
  ];
  // Many files: list only the incomplete ones, so the problems stay on screen.
  const many = report.files.length > MAX_FILES_SHOWN;
  const shown = many ? report.files.filter((f) => f.goodPieces < f.totalPieces) : report.files;
  for (const f of shown.slice(0, MAX_FILES_SHOWN)) {
    const state = f.goodPieces === f.totalPieces ? "ok  " : f.goodPieces === 0 ? "bad " : "part";
    lines.push(
      `  ${state} ${`${f.goodPieces}/${f.totalPieces}`.padStart(11)}  ${safeText(f.path)}`,
    );
  }
  const hidden = report.files.length - Math.min(shown.length, MAX_FILES_SHOWN);
  if (hidden > 0) {
    const incomplete = Math.max(0, shown.length - MAX_FILES_SHOWN);
    lines.push(`  ... ${hidden} more files (${incomplete} of them incomplete)`);
  }
  if (report.complete) lines.push("complete");
  else {
    const bad = report.pieceCount - report.goodPieces;
    const pieces = bad === 1 ? "piece" : "pieces";
    lines.push(`incomplete: ${bad} ${pieces} bad or missing: ${badRanges(have, meta.pieceCount)}`);
  }
  return lines;
}

/** Bad piece indices as ranges ("3, 7-9"), at most 20 ranges then "...". */
function badRanges(have: Bitfield, pieceCount: number): string {
  const ranges: string[] = [];
  for (let i = 0; i < pieceCount; i++) {
    if (have.has(i)) continue;
    let end = i;
    while (end + 1 < pieceCount && !have.has(end + 1)) end++;
    if (ranges.length === 20) return `${ranges.join(", ")}, ...`;
    ranges.push(end === i ? `${i}` : `${i}-${end}`);
    i = end;
  }
  return ranges.join(", ");
}
