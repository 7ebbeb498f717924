/**
 * `create <path> -o <out.torrent>`: makes a v1 .torrent (BEP 3) from a file or a directory.
 * Walks the files (deterministic order, symlinks skipped), hashes every piece, then builds
 * the metainfo with BEP 12 tracker tiers, BEP 19 web seeds and the BEP 27 private flag, and
 * writes it. Hashing runs on hash workers and on the main isolate too (`piece_hasher.ts`):
 * `create` serves no peers, so the main isolate has nothing better to do, and it hashes from
 * the start while the workers load.
 *
 * Layer: platform (CLI).
 * @module
 */
import { hashContent } from "../deno/piece_hasher.ts";
import { collectFiles, type WalkResult } from "../deno/walk.ts";
import { StorageError } from "../errors.ts";
import { buildTorrent, choosePieceLength, parseTorrent } from "../metainfo/mod.ts";
import {
  CliError,
  type CliIo,
  formatBytes,
  fsReason,
  listFlag,
  parseByteSize,
  parseCommand,
  safeText,
  stringFlag,
  VERSION,
} from "./common.ts";

/** Smallest piece length accepted by `--piece-length` (16 KiB, one block). */
export const MIN_PIECE_LENGTH = 16 * 1024;
/** Largest piece length accepted by `--piece-length` (64 MiB). */
export const MAX_PIECE_LENGTH = 64 * 1024 * 1024;
/** Most pieces a torrent may have (RELIABILITY limits: 2^21). */
const MAX_PIECES = 2 ** 21;

/** Usage text of `create`. */
export const CREATE_USAGE: string =
  `Usage: deno run -A mod.ts create <path> -o <out.torrent> [options]

Makes a .torrent from a file or a directory. A directory's regular files are taken in
byte order of their paths, hidden files included, symbolic links skipped (with a warning).
Pieces are hashed on every core.

Options:
  -o, --output FILE        where to write the .torrent (required)
  --tracker URL            announce URL; repeat the flag for more tiers (each flag is its
                           own tier, as mktorrent -a does); a comma-separated value puts
                           several URLs in one tier: --tracker udp://a/ann,http://b/ann
  --piece-length BYTES     piece length: a power of two from 16K to 64M (e.g. 262144,
                           256K, 1M); default: chosen from the total size
  --private                set the private flag (BEP 27: trackers only, no DHT/PEX)
  --web-seed URL           a BEP 19 web seed (repeatable)
  --comment TEXT           a comment
  --no-date                leave out the creation date
  --force                  overwrite the output file if it exists
  --json                   print one JSON object instead of text
  -h, --help               show this help`;

/** What `create` made. */
export interface CreateResult {
  /** Hex info-hash. */
  readonly infoHash: string;
  /** Torrent name. */
  readonly name: string;
  /** Piece length in bytes. */
  readonly pieceLength: number;
  /** Number of pieces. */
  readonly pieceCount: number;
  /** Sum of file lengths in bytes. */
  readonly totalLength: number;
  /** Number of files. */
  readonly fileCount: number;
  /** The .torrent written. */
  readonly path: string;
}

/** The checked flags of one `create` run. */
interface CreateFlags {
  readonly source: string;
  readonly output: string;
  readonly force: boolean;
  readonly trackers: string[][];
  readonly webSeeds: string[];
  readonly pieceLength: number | undefined;
  readonly isPrivate: boolean;
  readonly comment: string | undefined;
  readonly noDate: boolean;
  readonly json: boolean;
}

/**
 * Runs `create`.
 * @param args the arguments after `create`
 * @param io where output goes
 * @returns 0 once the .torrent is written
 * @throws {CliError} on bad flags, an unreadable source, empty content or an existing output
 *   (exit 2); a `StorageError` when reading the source fails midway (exit 1)
 */
export async function createCommand(args: string[], io: CliIo): Promise<number> {
  const flags = readFlags(args);
  if (flags === "help") {
    io.stdout(CREATE_USAGE);
    return 0;
  }
  if (!flags.force) await refuseExisting(flags.output);
  const walk = await walkSource(flags.source, io);
  const totalLength = walk.files.reduce((sum, f) => sum + f.length, 0);
  if (totalLength === 0) {
    throw new CliError(`Cannot create a torrent from "${safeText(flags.source)}": no data`);
  }
  const pieceLength = flags.pieceLength ?? choosePieceLength(totalLength);
  const pieceCount = Math.ceil(totalLength / pieceLength);
  if (pieceCount > MAX_PIECES) {
    throw new CliError(
      `Too many pieces (${pieceCount} > ${MAX_PIECES}): use a larger --piece-length`,
    );
  }
  const pieceHashes = await hashSource(walk, pieceLength, io);
  const bytes = buildTorrent({
    name: walk.name,
    files: walk.files,
    pieceLength,
    pieceHashes,
    trackers: flags.trackers,
    isPrivate: flags.isPrivate,
    webSeeds: flags.webSeeds,
    ...(flags.comment === undefined ? {} : { comment: flags.comment }),
    createdBy: `swarmd/${VERSION}`,
    ...(flags.noDate ? {} : { creationDate: Math.floor(Date.now() / 1000) }),
  });
  const meta = parseTorrent(bytes);
  await writeOutput(flags.output, bytes, flags.force);
  const result: CreateResult = {
    infoHash: meta.infoHashHex,
    name: meta.name,
    pieceLength,
    pieceCount,
    totalLength,
    fileCount: walk.files.length,
    path: flags.output,
  };
  if (flags.json) io.stdout(JSON.stringify(result));
  else for (const line of resultLines(result)) io.stdout(line);
  return 0;
}

/** Parses and checks `create`'s flags (bad input throws before any file is touched). */
function readFlags(args: string[]): CreateFlags | "help" {
  const { values, positionals } = parseCommand(args, {
    output: { type: "string", short: "o" },
    tracker: { type: "string", multiple: true },
    "piece-length": { type: "string" },
    private: { type: "boolean" },
    "web-seed": { type: "string", multiple: true },
    comment: { type: "string" },
    "no-date": { type: "boolean" },
    force: { type: "boolean" },
    json: { type: "boolean" },
  });
  if (values.help) return "help";
  if (positionals.length !== 1) throw new CliError("create takes one <path> (see create --help)");
  const output = stringFlag(values.output);
  if (output === undefined) throw new CliError("create needs -o <out.torrent>");
  return {
    source: positionals[0]!,
    output,
    force: values.force === true,
    trackers: trackerTiers(listFlag(values.tracker)),
    webSeeds: listFlag(values["web-seed"]).map((u) => checkUrl("web-seed", u, WEB_SEED)),
    pieceLength: pieceLengthFlag(stringFlag(values["piece-length"])),
    isPrivate: values.private === true,
    comment: stringFlag(values.comment),
    noDate: values["no-date"] === true,
    json: values.json === true,
  };
}

/** Schemes accepted for announce URLs. */
const ANNOUNCE = ["http:", "https:", "udp:", "ws:", "wss:"];
/** Schemes accepted for web seeds. */
const WEB_SEED = ["http:", "https:"];

/**
 * Turns `--tracker` values into BEP 12 tiers: one tier per flag, comma-separated URLs share one.
 * @param values the flag's values, in order
 * @returns the tiers (empty when no tracker was given)
 * @throws {CliError} for a URL that is not http(s)/udp/ws(s) (exit 2)
 */
export function trackerTiers(values: readonly string[]): string[][] {
  return values
    .map((v) => v.split(",").map((u) => u.trim()).filter((u) => u !== ""))
    .filter((tier) => tier.length > 0)
    .map((tier) => tier.map((u) => checkUrl("tracker", u, ANNOUNCE)));
}

/** Returns `url` when it parses and has one of `schemes`, else throws a bad-input error. */
function checkUrl(flag: string, url: string, schemes: readonly string[]): string {
  const parsed = URL.canParse(url) ? new URL(url) : undefined;
  if (parsed === undefined || !schemes.includes(parsed.protocol)) {
    const allowed = schemes.map((s) => s.slice(0, -1)).join(", ");
    throw new CliError(`Invalid --${flag}: "${safeText(url)}" is not a URL (${allowed})`);
  }
  return url;
}

/**
 * Parses `--piece-length`: bytes or a size like `256K`; a power of two from 16 KiB to 64 MiB.
 * @param text the flag's value, or `undefined`
 * @returns the piece length in bytes, or `undefined` to choose automatically
 * @throws {CliError} when out of range or not a power of two (exit 2)
 */
export function pieceLengthFlag(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = parseByteSize("piece-length", text);
  const isPowerOfTwo = Number.isSafeInteger(n) && n > 0 && (n & (n - 1)) === 0;
  if (!isPowerOfTwo || n < MIN_PIECE_LENGTH || n > MAX_PIECE_LENGTH) {
    throw new CliError(
      `Invalid --piece-length: "${safeText(text)}" is not a power of two from 16K to 64M`,
    );
  }
  return n;
}

/** Fails early when the output exists, so no time is spent hashing for nothing. */
async function refuseExisting(output: string): Promise<void> {
  try {
    await Deno.lstat(output);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return;
    throw new CliError(`Cannot write "${safeText(output)}": ${fsReason(e)}`, 2, { cause: e });
  }
  throw new CliError(`Output "${safeText(output)}" exists (use --force to overwrite)`);
}

/** The source's files, with bad-input failures mapped to exit 2 and skips reported. */
async function walkSource(path: string, io: CliIo): Promise<WalkResult> {
  let walk: WalkResult;
  try {
    walk = await collectFiles(path);
  } catch (e) {
    // The walk reports a StorageError (op "walk") whose cause is the file-system error.
    const cause = e instanceof StorageError ? e.cause : e;
    const isBadPath = cause instanceof Deno.errors.NotFound ||
      cause instanceof Deno.errors.PermissionDenied;
    const message = isBadPath
      ? `Cannot create a torrent from "${safeText(path)}": ${fsReason(cause)}`
      : e instanceof StorageError
      ? safeText(e.message.split("\n")[0]!)
      : undefined;
    if (message === undefined) throw e;
    throw new CliError(message, 2, { cause: e });
  }
  for (const s of walk.skipped) io.stderr(`warning: skipped "${safeText(s.path)}": ${s.reason}`);
  return walk;
}

/** Hashes every piece of the source on every core, showing progress on a terminal. */
async function hashSource(walk: WalkResult, pieceLength: number, io: CliIo): Promise<Uint8Array> {
  let shown = -1;
  const onProgress = (done: number, pieceCount: number) => {
    const percent = Math.floor((100 * done) / pieceCount);
    if (percent === shown) return;
    shown = percent;
    io.status(`hashing: ${percent}% (${done}/${pieceCount} pieces)`);
  };
  const hashes = await hashContent({
    root: walk.root,
    files: walk.files.map((f) => ({
      path: f.path.length === 0 ? [walk.name] : f.path,
      length: f.length,
    })),
    pieceLength,
  }, { useCallingThread: true, onProgress });
  const unreadable = firstZeroDigest(hashes);
  if (unreadable !== undefined) {
    throw new CliError(
      `Cannot read piece ${unreadable} of the source: a file shrank or became unreadable`,
      1,
    );
  }
  return hashes;
}

/**
 * The first piece whose digest is 20 zero bytes: the pool's mark for a piece it could not read
 * in full (a real SHA-1 is never all zeros in practice).
 */
function firstZeroDigest(hashes: Uint8Array): number | undefined {
  for (let at = 0; at < hashes.length; at += 20) {
    let zero = true;
    for (let k = 0; k < 20 && zero; k++) zero = hashes[at + k] === 0;
    if (zero) return at / 20;
  }
  return undefined;
}

/** Writes the .torrent; without `force` the create is exclusive (never clobbers a file). */
async function writeOutput(output: string, bytes: Uint8Array, force: boolean): Promise<void> {
  try {
    await Deno.writeFile(output, bytes, force ? {} : { createNew: true });
  } catch (e) {
    if (e instanceof Deno.errors.AlreadyExists) {
      throw new CliError(`Output "${safeText(output)}" exists (use --force to overwrite)`, 2, {
        cause: e,
      });
    }
    const isBadPath = e instanceof Deno.errors.NotFound ||
      e instanceof Deno.errors.PermissionDenied;
    throw new CliError(`Cannot write "${safeText(output)}": ${fsReason(e)}`, isBadPath ? 2 : 1, {
      cause: e,
    });
  }
}

/** The human-readable summary. */
function resultLines(r: CreateResult): string[] {
  return [
    `created ${safeText(r.path)}`,
    `  name:      ${safeText(r.name)}`,
    `  info-hash: ${r.infoHash}`,
    `  pieces:    ${r.pieceCount} × ${formatBytes(r.pieceLength)} (${r.pieceLength} bytes)`,
    `  size:      ${formatBytes(r.totalLength)} in ${r.fileCount} file${
      r.fileCount === 1 ? "" : "s"
    }`,
  ];
}
