/**
 * The command-line dispatcher: `get`, `seed`, `create`, `info`, `verify`, `tracker`, plus
 * `--help`, `--version` and `--debug` (accepted anywhere). Maps errors to exit codes
 * (DESIGN "Command line"): 0 success, 1 runtime failure, 2 bad input; errors are one line on
 * stderr, with a stack trace only under `--debug`.
 *
 * Every command is loaded with a dynamic import, so a command whose module is not written
 * yet fails alone ("not available yet", exit 1) and start-up only loads what runs.
 *
 * Layer: platform (CLI).
 * @module
 */
import { MetainfoError, StorageError } from "../errors.ts";
import { BencodeSyntaxError } from "../bencode/mod.ts";
import { CliError, type CliIo, denoIo, fsReason, safeText, VERSION } from "./common.ts";

export type { CliIo } from "./common.ts";

/** A command's entry point: takes the arguments after its name, resolves to an exit code. */
export type Command = (args: string[], io: CliIo) => Promise<number>;

/** Loads one command's entry point. */
type Loader = () => Promise<Command>;

const COMMANDS: Readonly<Record<string, { usage: string; summary: string; load: Loader }>> = {
  get: {
    usage: "get <file.torrent|magnet:> [-o DIR]",
    summary: "download a torrent",
    load: async () => (await import("./get_command.ts")).getCommand,
  },
  seed: {
    usage: "seed <file.torrent> <dir>",
    summary: "verify the data under <dir>, then seed it",
    load: async () => (await import("./seed_command.ts")).seedCommand,
  },
  create: {
    usage: "create <path> -o <out.torrent>",
    summary: "make a .torrent from a file or a directory",
    load: async () => (await import("./create_command.ts")).createCommand,
  },
  info: {
    usage: "info <file.torrent|magnet:>",
    summary: "show what a torrent or magnet link holds",
    load: async () => (await import("./info_command.ts")).infoCommand,
  },
  verify: {
    usage: "verify <file.torrent> <dir>",
    summary: "rehash the data under <dir>, report good pieces",
    load: async () => (await import("./verify_command.ts")).verifyCommand,
  },
  tracker: {
    usage: "tracker [--http-port N] [--udp-port N]",
    summary: "run a BitTorrent tracker (HTTP and UDP)",
    load: async () => (await import("./tracker_command.ts")).trackerCommand,
  },
  daemon: {
    usage: "daemon [--rpc-port N] [--download-dir DIR] [--watch DIR]",
    summary: "run many torrents as a service: Transmission RPC and a web UI",
    load: async () => (await import("./daemon_command.ts")).daemonCommand,
  },
};

/** How help texts name the program when run as `deno run -A mod.ts`. */
export const MOD_PROGRAM = "deno run -A mod.ts";

/** The tool's usage text. */
export const USAGE: string = `swarmd ${VERSION}: a BitTorrent engine for Deno

Usage: deno run -A mod.ts <command> [options]

Commands:
${Object.values(COMMANDS).map((c) => `  ${c.usage}\n      ${c.summary}`).join("\n")}

Options:
  -h, --help   show this help; "<command> --help" shows a command's flags
  --version    print the version
  --debug      print stack traces on errors (accepted anywhere)

Exit codes: 0 success, 1 runtime failure, 2 bad input.`;

/**
 * Runs the command line.
 * @param args the arguments after the program name (e.g. `Deno.args`)
 * @param io where output goes; defaults to the real terminal
 * @param program how help texts name the program: `"swarmd"` for the installed command
 *   (`cli.ts`, `deno install`, `deno compile`), `deno run -A mod.ts` by default
 * @returns the process exit code: 0 success, 1 runtime failure, 2 bad input
 * @throws never: every error becomes an exit code and one line on stderr
 */
export function main(args: string[], io: CliIo = denoIo(), program = MOD_PROGRAM): Promise<number> {
  return run(args, program === MOD_PROGRAM ? io : renamed(io, program));
}

/**
 * Help and usage texts are written once, naming `deno run -A mod.ts`; under another program
 * name every line that names it is rewritten on the way out.
 */
function renamed(io: CliIo, program: string): CliIo {
  const fix = (line: string) => line.replaceAll(MOD_PROGRAM, program);
  return {
    isTerminal: io.isTerminal,
    stdout: (line) => io.stdout(fix(line)),
    stderr: (line) => io.stderr(fix(line)),
    status: (line) => io.status(line),
  };
}

async function run(args: string[], io: CliIo): Promise<number> {
  const { rest, debug } = takeDebug(args);
  const [name, ...commandArgs] = rest;
  if (name === undefined) {
    io.stderr(USAGE);
    return 2;
  }
  if (name === "--help" || name === "-h" || name === "help") {
    if (name === "help" && commandArgs[0] !== undefined) {
      return run([commandArgs[0], "--help"], io);
    }
    io.stdout(USAGE);
    return 0;
  }
  if (name === "--version" || name === "-V") {
    io.stdout(`swarmd ${VERSION}`);
    return 0;
  }
  const entry = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (entry === undefined) {
    io.stderr(`error: Unknown command "${safeText(name)}" (try --help)`);
    return 2;
  }
  try {
    const command = await loadCommand(name, entry.load);
    return await command(commandArgs, io);
  } catch (e) {
    return reportError(e, io, debug);
  }
}

/**
 * Removes every `--debug` before a `--` terminator.
 * @param args raw arguments
 * @returns the other arguments and whether `--debug` was present
 */
function takeDebug(args: string[]): { rest: string[]; debug: boolean } {
  const end = args.indexOf("--");
  const head = end < 0 ? args : args.slice(0, end);
  const tail = end < 0 ? [] : args.slice(end);
  const rest = head.filter((a) => a !== "--debug");
  return { rest: [...rest, ...tail], debug: rest.length !== head.length };
}

/** Imports a command's module; a module that does not exist yet is a one-line failure. */
async function loadCommand(name: string, load: Loader): Promise<Command> {
  try {
    const command = await load();
    if (typeof command !== "function") throw new Error(`Module exports no ${name}Command`);
    return command;
  } catch (e) {
    const missing = e instanceof TypeError && /Module not found/.test(e.message) &&
      e.message.includes(`${name}_command.ts`);
    if (missing) throw new CliError(`The "${name}" command is not available yet`, 1, { cause: e });
    throw e;
  }
}

/**
 * Prints one error line (plus the stack under `--debug`) and picks the exit code.
 * @param e the error that ended the command
 * @param io where to print
 * @param debug whether to print the stack
 * @returns 2 for bad input, 1 for anything else
 */
function reportError(e: unknown, io: CliIo, debug: boolean): number {
  const { message, exitCode } = describeError(e);
  io.stderr(`error: ${message}`);
  if (debug && e instanceof Error) {
    io.stderr(e.stack ?? String(e));
    if (e.cause instanceof Error) io.stderr(`caused by: ${e.cause.stack ?? e.cause.message}`);
  }
  return exitCode;
}

/** Classifies an error: the one-line message and the exit code. */
function describeError(e: unknown): { message: string; exitCode: number } {
  const first = (text: string) => text.split("\n")[0]!;
  if (e instanceof CliError) return { message: first(e.message), exitCode: e.exitCode };
  if (e instanceof MetainfoError) {
    return { message: `${first(e.message)} (field "${e.field}")`, exitCode: 2 };
  }
  if (e instanceof BencodeSyntaxError) return { message: first(e.message), exitCode: 2 };
  if (e instanceof StorageError) {
    const where = e.path === undefined ? "" : ` (${safeText(e.path)})`;
    return { message: `${first(e.message)}${where}`, exitCode: 1 };
  }
  if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.PermissionDenied) {
    return { message: `${fsReason(e)}: ${first((e as Error).message)}`, exitCode: 2 };
  }
  if (e instanceof Error) return { message: first(e.message) || e.name, exitCode: 1 };
  return { message: String(e), exitCode: 1 };
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
