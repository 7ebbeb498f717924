/**
 * `seed <file.torrent> <dir> ...`: verify the data under the save path, then seed it
 * until SIGINT/SIGTERM (clean stop).
 *
 * Layer: platform (CLI).
 * @module
 */
import { CliError, type CliIo, loadTorrent, parseCommand } from "./common.ts";
import { PEER_OPTIONS, PEER_OPTIONS_HELP, runTorrent } from "./torrent_run.ts";

const HELP = `Usage: deno run -A mod.ts seed <file.torrent> <dir> [options]

<dir> is the save path holding the content as "get -o <dir>" writes it (<dir>/<name>).
Verifies the data (or trusts matching resume data), then seeds until interrupted;
pieces that are missing are downloaded from peers.

Options:
  --super-seed            BEP 16: reveal pieces one at a time so each leaves this seed
                          about once (for an initial seeder with little upload)
${PEER_OPTIONS_HELP}`;

/**
 * Runs `seed`.
 * @param args arguments after `seed`
 * @param io output
 * @returns exit code
 * @throws {CliError} on bad input (exit 2)
 */
export async function seedCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommand(args, {
    ...PEER_OPTIONS,
    "super-seed": { type: "boolean" },
  });
  if (values.help) {
    io.stdout(HELP);
    return 0;
  }
  if (positionals.length !== 2) throw new CliError("seed takes a torrent file and a directory");
  const meta = await loadTorrent(positionals[0]!);
  return await runTorrent(meta, io, {
    dir: positionals[1]!,
    seed: true,
    values,
    superSeed: values["super-seed"] === true,
  });
}
