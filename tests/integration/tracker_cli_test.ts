/**
 * The `tracker` command as a user runs it: a child process started the way a JSR user
 * starts it (`deno run -A --no-config mod.ts tracker`, so no `--unstable-net` from
 * deno.json), announced to over HTTP and UDP by our own clients, and kept up while the
 * process runs out of file descriptors (`ulimit -n 256`, then 400 idle connections).
 * Every child is killed in `finally`; every wait is bounded.
 * @module
 */
import { assert, assertEquals } from "../assert.ts";
import type { AnnounceParams } from "../../src/tracker/types.ts";
import { trackerClients } from "../tracker_clients.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

interface Tracker {
  readonly http: string;
  readonly udp: string;
  readonly child: Deno.ChildProcess;
  /** Standard error so far. */
  stderr(): string;
  /** SIGTERM, then the exit code and stdout's last line. */
  stop(): Promise<{ code: number; last: string }>;
}

/** Starts `tracker` in a child, through `bash -c` so a `ulimit` can come first. */
async function startTracker(prefix = ""): Promise<Tracker> {
  const config = Deno.env.get("TRACKER_TEST_CONFIG") ?? "--no-config"; // to try older commits
  const command = `${prefix}exec "${Deno.execPath()}" run -A ${config} --quiet mod.ts tracker ` +
    "--host 127.0.0.1 --http-port 0 --udp-port 0";
  const child = new Deno.Command("bash", {
    args: ["-c", command],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines: string[] = [];
  let err = "";
  const decoder = new TextDecoder();
  const stdout = (async () => {
    let text = "";
    for await (const chunk of child.stdout) {
      text += decoder.decode(chunk, { stream: true });
      const parts = text.split("\n");
      text = parts.pop()!;
      lines.push(...parts);
    }
  })();
  const stderr = (async () => {
    for await (const chunk of child.stderr) err += decoder.decode(chunk, { stream: true });
  })();
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch {
      // already exited
    }
    const timer = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch {
        // exited meanwhile
      }
    }, 10_000);
    const { code } = await child.status;
    clearTimeout(timer);
    await Promise.all([stdout, stderr]);
    return { code, last: lines.at(-1) ?? "" };
  };
  const exited = child.status.then(() => true);
  for (let i = 0; i < 300 && !lines.some((l) => l.startsWith("stats on")); i++) {
    if (await Promise.race([exited, new Promise((r) => setTimeout(() => r(false), 100))])) break;
  }
  const url = (scheme: string) =>
    lines.find((l) => l.startsWith(`tracker listening on ${scheme}://`))?.split(" ").at(-1);
  const http = url("http"), udp = url("udp");
  if (!http || !udp) {
    await stop();
    throw new Error(`tracker did not start: ${lines.join("\n")}\n${err}`);
  }
  return { http, udp, child, stderr: () => err, stop };
}

function params(n: number): AnnounceParams {
  return {
    infoHash: new Uint8Array(20).fill(0x5a),
    peerId: new Uint8Array(20).fill(n),
    port: 7000 + n,
    uploaded: 0,
    downloaded: 0,
    left: n === 1 ? 0 : 1,
    event: "started",
  };
}

/** True while the child has not exited. */
async function isRunning(child: Deno.ChildProcess): Promise<boolean> {
  const exited = await Promise.race([
    child.status.then(() => true),
    new Promise<false>((r) => setTimeout(() => r(false), 50)),
  ]);
  return !exited;
}

Deno.test("tracker runs as a JSR user runs it (--no-config) and answers HTTP and UDP announces", async () => {
  const tracker = await startTracker();
  const { http, udp } = await trackerClients(10_000);
  try {
    const a = await http.announce(tracker.http, params(1));
    const b = await udp.announce(tracker.udp, params(2));
    assertEquals([a.complete, a.incomplete], [1, 0]);
    assertEquals([b.complete, b.incomplete, b.peers], [1, 1, [{ host: "127.0.0.1", port: 7001 }]]);
    // Without the unstable flag the UDP socket is node:dgram, and the tracker says so once.
    assert(tracker.stderr().includes("node:dgram"), tracker.stderr());
  } finally {
    udp.close();
    const { code, last } = await tracker.stop();
    assertEquals([code, last], [0, "tracker stopped"]);
  }
});

Deno.test("tracker survives running out of file descriptors (ulimit -n 256, 400 idle connections)", async () => {
  // Deno.serve's accept loop ended the process on EMFILE:
  // `Uncaught (in promise) Http: Error: Too many open files`.
  const tracker = await startTracker("ulimit -n 256; ");
  const { http, udp } = await trackerClients(10_000);
  const port = Number(new URL(tracker.http).port);
  const idle: Deno.TcpConn[] = [];
  try {
    const deadline = performance.now() + 20_000;
    for (let i = 0; i < 400 && performance.now() < deadline; i++) {
      idle.push(await Deno.connect({ hostname: "127.0.0.1", port }));
    }
    assertEquals(idle.length, 400);
    const during = await http.announce(tracker.http, params(1));
    assertEquals(during.complete, 1);
    assertEquals((await udp.announce(tracker.udp, params(2))).complete, 1);
    for (const c of idle.splice(0)) c.close();
    const after = await http.announce(tracker.http, params(3));
    assertEquals([after.complete, after.incomplete], [1, 2]);
    assert(await isRunning(tracker.child), "tracker still running");
    const s = await (await fetch(tracker.http.replace("/announce", "/stats?format=json"))).json();
    assert(s.http_accept_errors > 0 || s.http_evicted > 0, JSON.stringify(s));
    assert(!/Uncaught|error/i.test(tracker.stderr()), tracker.stderr());
  } finally {
    for (const c of idle) c.close();
    udp.close();
    const { code, last } = await tracker.stop();
    assertEquals([code, last], [0, "tracker stopped"]);
  }
});
