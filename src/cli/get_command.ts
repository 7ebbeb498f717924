/**
 * `get <file.torrent|magnet:> [-o DIR] ...`: download, exit 0 once every wanted byte
 * is verified on disk (or keep seeding with `--seed`).
 *
 * Layer: platform (CLI).
 * @module
 */
import { CliError, type CliIo, loadTorrent, parseCommand, safeText, stringFlag } from "./common.ts";
import { type MagnetLink, parseMagnet } from "../metainfo/mod.ts";
import { MetainfoError } from "../errors.ts";
import { PEER_OPTIONS, PEER_OPTIONS_HELP, runTorrent } from "./torrent_run.ts";

const HELP = `Usage: deno run -A mod.ts get <file.torrent|magnet:> [-o DIR] [options]

Downloads a torrent into DIR (default "."): files go to DIR/<name>. Exits 0 once every
byte is verified on disk; with --seed, keeps seeding until interrupted.

Options:
  -o, --output DIR        save path (default ".")
  --seed                  keep seeding after the download completes
  --files LIST            download only these files (indices as "info" lists them,
                          from 0), e.g. 0,2-4; the others are skipped
  --sequential            download pieces in order (streaming) instead of rarest first
${PEER_OPTIONS_HELP}`;

/**
 * Runs `get`.
 * @param args arguments after `get`
 * @param io output
 * @returns exit code
 * @throws {CliError} on bad input (exit 2)
 */
export async function getCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommand(args, {
    ...PEER_OPTIONS,
    output: { type: "string", short: "o" },
    seed: { type: "boolean" },
    files: { type: "string" },
    sequential: { type: "boolean" },
  });
  if (values.help) {
    io.stdout(HELP);
    return 0;
  }
  if (positionals.length !== 1) throw new CliError("get takes one torrent file or magnet link");
  const source = positionals[0]!;
  const files = stringFlag(values.files);
  const common = { dir: stringFlag(values.output) ?? ".", seed: values.seed === true, values };
  if (source.startsWith("magnet:")) {
    const link = loadMagnet(source);
    const selectOnly = files !== undefined
      ? selectFiles(files, 1 << 20).flatMap((p, i) => p > 0 ? [i] : [])
      : link.selectOnly;
    return await runTorrent(link, io, { ...common, ...(selectOnly ? { selectOnly } : {}) });
  }
  const meta = await loadTorrent(source);
  return await runTorrent(meta, io, {
    ...common,
    ...(files !== undefined ? { filePriorities: selectFiles(files, meta.files.length) } : {}),
  });
}

/**
 * Parses `--files 0,2-4` into per-file priorities (4 for chosen files, 0 for the rest).
 * @param text the flag value
 * @param fileCount files in the torrent
 * @returns one priority per file
 * @throws {CliError} on a malformed list or an index out of range (exit 2)
 */
export function selectFiles(text: string, fileCount: number): number[] {
  const priorities = new Array<number>(fileCount).fill(0);
  for (const part of text.split(",")) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    const first = m ? Number(m[1]) : NaN, last = m?.[2] !== undefined ? Number(m[2]) : first;
    if (!m || first > last || last >= fileCount) {
      throw new CliError(`Invalid --files: "${text}" (files are numbered 0 to ${fileCount - 1})`);
    }
    for (let i = first; i <= last; i++) priorities[i] = 4;
  }
  return priorities;
}

/**
 * Parses a magnet link; a malformed one is a one-line {@linkcode CliError} (exit 2).
 * @param uri the link
 * @returns the parsed link
 * @throws {CliError} naming the bad parameter
 */
export function loadMagnet(uri: string): MagnetLink {
  try {
    return parseMagnet(uri);
  } catch (e) {
    if (!(e instanceof MetainfoError)) throw e;
    throw new CliError(`Cannot read magnet link: ${safeText(e.message)} (field "${e.field}")`, 2, {
      cause: e,
    });
  }
}
