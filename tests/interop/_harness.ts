/**
 * Shared helpers for interop tests against python3-libtorrent (see
 * /work/shared/reference/INTEROP.md): availability detection, the skip-or-fail rule, and
 * a Python runner with a hard timeout.
 *
 * The rule: when libtorrent is missing, an interop test is ignored with one console line,
 * unless `SWARMD_REQUIRE_INTEROP=1`, in which case it runs and fails.
 *
 * ```ts
 * Deno.test({ name, ignore: await requireInterop(name), fn });
 * // or, equivalently:
 * await interopTest(name, async () => { ... });
 * ```
 * @module
 */

/** The interpreter with the Debian bindings (a pyenv `python3` on PATH may lack them). */
export const PYTHON = "/usr/bin/python3";
const SKIP_LINE =
  "skipping interop: python3-libtorrent not installed (apt-get install python3-libtorrent)";

let available: Promise<boolean> | undefined;
let skipPrinted = false;

/**
 * Whether `/usr/bin/python3 -c "import libtorrent"` succeeds (cached).
 * @returns true when the bindings import
 */
export function libtorrentAvailable(): Promise<boolean> {
  available ??= (async () => {
    try {
      const { code } = await new Deno.Command(PYTHON, {
        args: ["-c", "import libtorrent"],
        stdout: "null",
        stderr: "null",
      }).output();
      return code === 0;
    } catch {
      return false; // no interpreter at all: libtorrent is simply unavailable
    }
  })();
  return available;
}

/**
 * Whether interop tests must run (`SWARMD_REQUIRE_INTEROP=1`).
 * @returns true when a missing libtorrent must fail the test
 */
export function interopRequired(): boolean {
  return Deno.env.get("SWARMD_REQUIRE_INTEROP") === "1";
}

/**
 * Decides whether the interop test `name` is ignored, printing the skip line once.
 * @param _name the test name (kept for call sites; the skip line is printed once per file)
 * @returns the value for `Deno.test`'s `ignore`
 */
export async function requireInterop(_name: string): Promise<boolean> {
  if (await libtorrentAvailable() || interopRequired()) return false;
  if (!skipPrinted) console.log(SKIP_LINE);
  skipPrinted = true;
  return true;
}

/**
 * Registers an interop test that is ignored (or fails, when required) without libtorrent.
 * @param name the test name
 * @param fn the test body
 * @returns once the test is registered
 * @throws {Error} inside the test when libtorrent is required but missing
 */
export async function interopTest(name: string, fn: () => Promise<void>): Promise<void> {
  await requireInterop(name); // prints the skip line once
  gatedTest(name, await libtorrentAvailable(), "python3-libtorrent is not installed", fn);
}

/**
 * Registers a test that needs an outside peer: ignored while `present` is false, unless
 * interop is required (`SWARMD_REQUIRE_INTEROP=1`): then it fails saying what is missing.
 * The caller prints its own skip line.
 * @param name the test name
 * @param present whether what it needs is installed
 * @param missing what the failure says is missing, e.g. "transmission-cli is not installed"
 * @param fn the test body
 */
export function gatedTest(
  name: string,
  present: boolean,
  missing: string,
  fn: () => Promise<void>,
): void {
  Deno.test({
    name,
    ignore: !present && !interopRequired(),
    fn: async () => {
      if (!present) throw new Error(`${name}: SWARMD_REQUIRE_INTEROP=1 but ${missing}`);
      await fn();
    },
  });
}

/** Output of {@linkcode runPython}. */
export interface PythonResult {
  /** Exit code. */
  readonly code: number;
  /** Standard output as text. */
  readonly stdout: string;
  /** Standard error as text. */
  readonly stderr: string;
}

/**
 * Runs a Python script with `/usr/bin/python3 -c script args...`, killing it after
 * `timeoutMs`.
 * @param script the Python source
 * @param args arguments (`sys.argv[1:]`)
 * @param options the hard timeout
 * @returns exit code and output
 * @throws {Error} when the script runs past the timeout (it is killed first)
 */
export async function runPython(
  script: string,
  args: readonly string[],
  options: { timeoutMs: number },
): Promise<PythonResult> {
  const child = new Deno.Command(PYTHON, {
    args: ["-c", script, ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      child.kill("SIGKILL");
    } catch {
      // already exited between the timer firing and the kill: nothing to stop
    }
  }, options.timeoutMs);
  try {
    const out = await child.output();
    const decoder = new TextDecoder();
    if (timedOut) throw new Error(`Python script killed after ${options.timeoutMs} ms`);
    return {
      code: out.code,
      stdout: decoder.decode(out.stdout),
      stderr: decoder.decode(out.stderr),
    };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs a Python script that prints one JSON value, and parses it.
 * @param script the Python source
 * @param args arguments
 * @param timeoutMs the hard timeout
 * @returns the parsed JSON
 * @throws {Error} on a non-zero exit, a timeout or output that is not JSON
 */
export async function runPythonJson<T>(
  script: string,
  args: readonly string[],
  timeoutMs = 30_000,
): Promise<T> {
  const result = await runPython(script, args, { timeoutMs });
  if (result.code !== 0) {
    throw new Error(`Python exited with ${result.code}: ${result.stderr.slice(-2000)}`);
  }
  return JSON.parse(result.stdout) as T;
}

/**
 * Whether every path in `paths` exists (a program, a web client); when one is missing and
 * interop is not required, prints `skipLine` and the test is ignored.
 * @param paths files that must exist
 * @param skipLine what to print when skipping
 * @returns `present`, and `ignore` for `Deno.test`
 */
export async function requireFiles(
  paths: readonly string[],
  skipLine: string,
): Promise<{ present: boolean; ignore: boolean }> {
  let present = true;
  for (const path of paths) present &&= await Deno.stat(path).then(() => true, () => false);
  const ignore = !present && !interopRequired();
  if (ignore) console.log(skipLine);
  return { present, ignore };
}

/**
 * Settles as `work` does, or rejects once `ms` have passed, whichever comes first.
 * @param work what to wait for
 * @param o the bound in ms, and what the error says (a function is called only then: a
 *   state dump for the failure message)
 * @returns what `work` resolves with
 * @throws {Error} `No result in N ms: <detail>` when the bound passes first
 */
export async function within<T>(
  work: Promise<T>,
  o: { ms: number; detail: string | (() => string) },
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const detail = typeof o.detail === "string" ? o.detail : o.detail();
      reject(new Error(`No result in ${o.ms} ms: ${detail}`));
    }, o.ms);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Stops a child process: SIGTERM, SIGKILL when it still runs `graceMs` later; waits for
 * its exit and for the readers of its output (`pumps`).
 * @param child the process
 * @param pumps promises that end when its output streams are drained
 * @param graceMs time between the two signals
 */
export async function stopChild(
  child: Deno.ChildProcess,
  pumps: readonly Promise<void>[] = [],
  graceMs = 3000,
): Promise<void> {
  const kill = (signal: Deno.Signal) => {
    try {
      child.kill(signal);
    } catch {
      // it has exited already: nothing to stop
    }
  };
  kill("SIGTERM");
  const timer = setTimeout(() => kill("SIGKILL"), graceMs);
  try {
    await child.status;
    await Promise.all(pumps);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Waits until `host:port` accepts a TCP connection (an aria2 seed is listening).
 * @param host the address
 * @param port the port
 * @param ms how long to try
 * @returns true once it accepts, false after `ms`
 */
export async function accepting(host: string, port: number, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      (await Deno.connect({ hostname: host, port })).close();
      return true;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return false;
}

/**
 * Reads a child's output stream to its end, handing each decoded piece of text to `add`.
 * @param stream its piped stdout or stderr
 * @param add receives the text
 */
export async function pumpText(
  stream: ReadableStream<Uint8Array>,
  add: (text: string) => void,
): Promise<void> {
  const decoder = new TextDecoder();
  try {
    for await (const chunk of stream) add(decoder.decode(chunk, { stream: true }));
  } catch {
    // the stream ends with the process, which the caller's stop waits for
  }
}
