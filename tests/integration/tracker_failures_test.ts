/**
 * Tracker client failures as a user meets them, on real loopback sockets: a dead HTTP port,
 * an HTTP 500, a `failure reason`, an HTTP tracker that never answers, a dead UDP port and
 * unresolvable hosts over HTTP and UDP. Each tracker gets its own tier, so one announce
 * round tries them all; each must produce one warning naming its URL and its reason.
 * @module
 */
import { assert, assertEquals } from "../assert.ts";
import { SECURE_RANDOM, SYSTEM_CLOCK } from "../../src/deno/clock.ts";
import { DenoHttpFetcher } from "../../src/deno/http.ts";
import { TrackerServer } from "../../src/deno/tracker_server.ts";
import { bindUdp, resolveHost } from "../../src/deno/udp.ts";
import type { Logger } from "../../src/runtime/types.ts";
import { HttpTrackerClient } from "../../src/tracker/http_client.ts";
import { TrackerClient } from "../../src/tracker/tracker_client.ts";
import { UdpTrackerClient } from "../../src/tracker/udp_client.ts";

/** A port nothing listens on (TCP and UDP): bound, then released. */
function deadPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  return port;
}

Deno.test("TrackerClient explains each dead tracker once: URL and reason, HTTP and UDP alike", async () => {
  const abort = new AbortController();
  const http500 = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: abort.signal, onListen() {} },
    () => new Response("oops", { status: 500 }),
  );
  const silent = Deno.listen({ hostname: "127.0.0.1", port: 0 }); // accepts, never answers
  const privateTracker = await TrackerServer.start({
    httpPort: 0,
    udpPort: false,
    allowlist: ["ab".repeat(20)],
  });
  const udp = new UdpTrackerClient({
    socket: await bindUdp({ host: "127.0.0.1", port: 0 }),
    clock: SYSTEM_CLOCK,
    random: SECURE_RANDOM,
    retransmitBaseMs: 100,
    resolve: async (host) => {
      const found = await resolveHost(host);
      if (found.length === 0) throw new Error(`no address for ${host}`);
      return found[0]!;
    },
  });
  const cases: [string, string][] = [
    [`http://127.0.0.1:${deadPort()}/announce`, "connection refused"],
    [`http://127.0.0.1:${http500.addr.port}/announce`, "tracker answered HTTP 500"],
    [
      `http://127.0.0.1:${privateTracker.httpAddr!.port}/announce`,
      `tracker refused: "Requested download is not authorized"`,
    ],
    [`http://127.0.0.1:${silent.addr.port}/announce`, "timed out after 500 ms"],
    [`udp://127.0.0.1:${deadPort()}/announce`, "timed out after 300 ms (2 tries)"],
    ["http://tracker.invalid/announce", `cannot resolve "tracker.invalid"`],
    ["udp://tracker.invalid:6969/announce", `cannot resolve "tracker.invalid"`],
  ];
  const warnings: string[] = [];
  const logger: Logger = {
    debug() {},
    info() {},
    warn: (m) => warnings.push(m),
    error: (m) => warnings.push(`error: ${m}`),
  };
  const client = new TrackerClient({
    infoHash: new Uint8Array(20).fill(0x11),
    peerId: new Uint8Array(20).fill(0x22),
    port: 6881,
    trackers: cases.map(([url]) => [url]),
    clock: SYSTEM_CLOCK,
    random: SECURE_RANDOM,
    http: new HttpTrackerClient({ fetcher: new DenoHttpFetcher(), timeoutMs: 500 }),
    udp,
    stats: () => ({ uploaded: 0, downloaded: 0, left: 1 }),
    onPeers: () => {},
    logger,
  });
  try {
    client.start();
    const deadline = performance.now() + 15_000; // one round takes about 1 s
    while (warnings.length < cases.length && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assertEquals(
      warnings,
      cases.map(([url, reason]) => `Cannot announce to "${url}": ${reason}`),
    );
    const status = client.status();
    assert(status.every((s) => s.fails === 1 && s.lastError !== undefined), JSON.stringify(status));
  } finally {
    await client.stop(100);
    udp.close();
    silent.close();
    abort.abort();
    await http500.finished;
    await privateTracker.close();
  }
});
