/**
 * Runs Debian's `opentracker` for interop tests (see /work/shared/reference/INTEROP.md):
 * availability detection, and a started tracker with an info-hash whitelist that is
 * stopped by its PID. opentracker chroots into its directory and drops to `nobody` before
 * it reads the whitelist, so the directory and file must be world-readable.
 * @module
 */

let available: Promise<boolean> | undefined;

/**
 * Whether the `opentracker` binary can be started (cached).
 * @returns true when it runs
 */
export function opentrackerAvailable(): Promise<boolean> {
  available ??= (async () => {
    try {
      await new Deno.Command("opentracker", { args: ["-h"], stdout: "null", stderr: "null" })
        .output();
      return true;
    } catch {
      return false; // not installed: interop tests skip (or fail when required)
    }
  })();
  return available;
}

/** A running opentracker. */
export interface Opentracker {
  /** `http://127.0.0.1:PORT/announce`. */
  readonly httpUrl: string;
  /** `udp://127.0.0.1:PORT/announce`. */
  readonly udpUrl: string;
  /** The one port of both. */
  readonly port: number;
  /** Process id (benchmarks read its CPU time). */
  readonly pid: number;
  /** Kills the process and removes its directory. */
  stop(): Promise<void>;
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  return port;
}

/**
 * Starts opentracker on 127.0.0.1 (HTTP and UDP on one port) serving `whitelist` only, and
 * waits (at most 5 s) until it answers HTTP.
 * @param whitelist 40-hex-digit info-hashes
 * @returns the tracker
 * @throws {Error} when it does not come up in time (the process is killed first)
 */
export async function startOpentracker(whitelist: readonly string[]): Promise<Opentracker> {
  const dir = await Deno.makeTempDir({ prefix: "opentracker-" });
  await Deno.chmod(dir, 0o755);
  await Deno.writeTextFile(`${dir}/whitelist`, whitelist.join("\n") + "\n", { mode: 0o644 });
  const port = freePort();
  const child = new Deno.Command("opentracker", {
    args: [
      "-i",
      "127.0.0.1",
      "-p",
      String(port),
      "-P",
      String(port),
      "-d",
      dir,
      "-w",
      "whitelist",
      "-A",
      "127.0.0.1",
    ],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const stop = async () => {
    try {
      child.kill("SIGKILL");
    } catch {
      // already exited: nothing to kill
    }
    await child.status;
    await Deno.remove(dir, { recursive: true });
  };
  const httpUrl = `http://127.0.0.1:${port}/announce`;
  for (let i = 0; i < 100; i++) {
    try {
      await (await fetch(`http://127.0.0.1:${port}/stats`)).body?.cancel();
      // the whitelist loads on a thread of its own: wait until a listed hash is accepted
      const probe =
        `${httpUrl}?info_hash=${whitelist[0]!.replace(/../g, "%$&")}&peer_id=${
          "-PROBE-".padEnd(20, "x")
        }` +
        `&port=1&uploaded=0&downloaded=0&left=0&event=stopped`;
      if (!(await (await fetch(probe)).text()).includes("failure")) {
        const udpUrl = `udp://127.0.0.1:${port}/announce`;
        return { httpUrl, udpUrl, port, pid: child.pid, stop };
      }
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  await stop();
  throw new Error("opentracker did not start within 5 s");
}
