/**
 * `get <file.torrent|magnet:> [-o DIR] ...`: download, exit 0 once every wanted byte
 * is verified on disk (or keep seeding with `--seed`).
 *
 * Layer: platform (CLI).
 * @module
 */
import { CliError, type CliIo, loadTorrent, parseCommand, stringFlag } from "./common.ts";
import { PEER_OPTIONS, PEER_OPTIONS_HELP, runTorrent } from "./torrent_run.ts";

const HELP = `Usage: deno run -A mod.ts get <file.torrent|magnet:> [-o DIR] [options]

Downloads a torrent into DIR (default "."): files go to DIR/<name>. Exits 0 once every
byte is verified on disk; with --seed, keeps seeding until interrupted.

Options:
  -o, --output DIR        save path (default ".")
  --seed                  keep seeding after the download completes
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
  });
  if (values.help) {
    io.stdout(HELP);
    return 0;
  }
  if (positionals.length !== 1) throw new CliError("get takes one torrent file or magnet link");
  const source = positionals[0]!;
  if (source.startsWith("magnet:")) {
    throw new CliError("Magnet links need metadata exchange (BEP 9), which is not available yet");
  }
  const meta = await loadTorrent(source);
  return await runTorrent(meta, io, {
    dir: stringFlag(values.output) ?? ".",
    seed: values.seed === true,
    values,
  });
}
