/**
 * Tracker interop on loopback (issue 4):
 * 1. our HTTP and UDP clients (and a `TrackerClient`) announce to a real opentracker and get
 *    each other's peers back;
 * 2. a python3-libtorrent seeder (127.0.0.2) and leecher (127.0.0.3) find each other through
 *    OUR `TrackerServer` only (no DHT, LSD or PEX), over HTTP and over UDP, and the leecher
 *    finishes a download verified by SHA-256; our tracker client is handed both libtorrent
 *    peers, and our `get` (127.0.0.4, the tracker its only peer source) finishes the same
 *    download from them.
 * Tests skip when a binary is missing, unless SWARMD_REQUIRE_INTEROP=1 (then they fail).
 * Every wait is bounded; every process is killed in `finally`.
 * @module
 */
import { assert, assertEquals } from "../assert.ts";
import { interopRequired, libtorrentAvailable, PYTHON } from "./_harness.ts";
import { opentrackerAvailable, startOpentracker } from "./_opentracker.ts";
import { trackerClients } from "../tracker_clients.ts";
import { type CliRun, runCli } from "../integration/_cli_swarm.ts";
import { SECURE_RANDOM, SYSTEM_CLOCK } from "../../src/deno/clock.ts";
import { TrackerServer } from "../../src/deno/tracker_server.ts";
import type { PeerAddress } from "../../src/runtime/types.ts";
import { TrackerClient } from "../../src/tracker/mod.ts";
import type { AnnounceParams } from "../../src/tracker/mod.ts";
import { fromHex, toHex } from "../../src/util/bytes.ts";

async function gate(
  name: string,
  available: () => Promise<boolean>,
  fn: () => Promise<void>,
): Promise<void> {
  const ok = await available();
  if (!ok && !interopRequired()) console.log(`skipping "${name}": binary not installed`);
  Deno.test({
    name,
    ignore: !ok && !interopRequired(),
    fn: async () => {
      if (!ok) {
        throw new Error(`${name}: SWARMD_REQUIRE_INTEROP=1 but a required binary is missing`);
      }
      await fn();
    },
  });
}

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((
    _,
    reject,
  ) => (timer = setTimeout(() => reject(new Error(`${what}: no result in ${ms} ms`)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const HASH_HEX = "5eed".repeat(10);

function params(n: number): AnnounceParams {
  return {
    infoHash: fromHex(HASH_HEX),
    peerId: new TextEncoder().encode(`-SW0100-interop${n}`.padEnd(20, "x")),
    port: 40000 + n,
    uploaded: 0,
    downloaded: 0,
    left: 1000,
    event: "started",
    numwant: 50,
  };
}

const ports = (peers: PeerAddress[]) => peers.map((p) => p.port).sort();

await gate(
  "interop: our HTTP and UDP clients announce to opentracker and see each other",
  opentrackerAvailable,
  async () => {
    const tracker = await startOpentracker([HASH_HEX]);
    const { udp, http } = await trackerClients();
    const found: PeerAddress[] = [];
    const client = new TrackerClient({
      infoHash: fromHex(HASH_HEX),
      peerId: params(3).peerId,
      port: 40003,
      trackers: [[tracker.udpUrl], [tracker.httpUrl]],
      clock: SYSTEM_CLOCK,
      random: SECURE_RANDOM,
      http,
      udp,
      stats: () => ({ uploaded: 0, downloaded: 0, left: 1000 }),
      onPeers: (peers) => found.push(...peers),
    });
    try {
      // opentracker may hand the asker its own address back: look for the other one
      await within(http.announce(tracker.httpUrl, params(1)), 10_000, "HTTP announce");
      const b = await within(udp.announce(tracker.udpUrl, params(2)), 10_000, "UDP announce");
      assert(ports(b.peers).includes(40001), JSON.stringify(b.peers));
      assertEquals([b.complete, b.incomplete], [0, 2]);
      const again = await within(
        http.announce(tracker.httpUrl, { ...params(1), event: undefined }),
        10_000,
        "HTTP re-announce",
      );
      assert(ports(again.peers).includes(40002), JSON.stringify(again.peers));
      const [scrape] = await within(
        udp.scrape(tracker.udpUrl, [fromHex(HASH_HEX)]),
        10_000,
        "UDP scrape",
      );
      assertEquals(scrape!.incomplete, 2);
      client.start();
      for (let i = 0; i < 200 && found.length < 2; i++) await new Promise((r) => setTimeout(r, 25));
      assert(ports(found).includes(40001) && ports(found).includes(40002), JSON.stringify(found));
      assertEquals(client.status()[0]!.lastError, undefined);
      await within(client.stop(3000), 5000, "stop");
      const after = await within(
        http.announce(tracker.httpUrl, { ...params(1), event: undefined }),
        10_000,
        "HTTP after stop",
      );
      assert(!ports(after.peers).includes(40003), JSON.stringify(after.peers)); // `stopped` removed our client
    } finally {
      udp.close();
      await tracker.stop();
    }
  },
);

/** Writes a random payload and a v1 torrent of it; prints the info-hash and the payload's SHA-256. */
const LT_PREPARE = String.raw`
import hashlib, json, os, sys
import libtorrent as lt
work = sys.argv[1]
src = os.path.join(work, "seed"); os.makedirs(src); os.makedirs(os.path.join(work, "leech"))
data = os.urandom(3 * 1024 * 1024 + 12345)
with open(os.path.join(src, "payload.bin"), "wb") as f: f.write(data)
fs = lt.file_storage(); lt.add_files(fs, os.path.join(src, "payload.bin"))
ct = lt.create_torrent(fs, 32768, flags=lt.create_torrent.v1_only); lt.set_piece_hashes(ct, src)
with open(os.path.join(work, "payload.torrent"), "wb") as f: f.write(lt.bencode(ct.generate()))
ti = lt.torrent_info(os.path.join(work, "payload.torrent"))
print(json.dumps({"event": "prepared", "info_hash": str(ti.info_hash()), "sha256": hashlib.sha256(data).hexdigest()}))
`;

/**
 * One libtorrent peer (its own process: libtorrent caches UDP connection ids per tracker in
 * a process-wide table, so two sessions in one process would share one sender's id).
 * The tracker is its only peer source: no DHT, LSD, UPnP or uTP.
 */
const LT_PEER = String.raw`
import hashlib, json, os, sys, time
import libtorrent as lt
from lt_peer import flush_to_disk  # scripts/interop, on PYTHONPATH
work, role, ip, tracker, timeout = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5])
def say(**kw): print(json.dumps(kw), flush=True)
ses = lt.session({"listen_interfaces": ip + ":0", "outgoing_interfaces": ip,
    "allow_multiple_connections_per_ip": True, "enable_lsd": False, "enable_upnp": False,
    "enable_natpmp": False, "enable_dht": False, "dht_bootstrap_nodes": "",
    "enable_outgoing_utp": False, "enable_incoming_utp": False, "ssrf_mitigation": False,
    "alert_mask": lt.alert.category_t.error_notification | lt.alert.category_t.tracker_notification
        | lt.alert.category_t.storage_notification})
atp = lt.add_torrent_params(); atp.ti = lt.torrent_info(os.path.join(work, "payload.torrent"))
atp.save_path = os.path.join(work, "seed" if role == "seed" else "leech"); atp.trackers = [tracker]
if role == "seed": atp.flags |= lt.torrent_flags.seed_mode
h = ses.add_torrent(atp)
deadline, peers, done = time.time() + timeout, set(), False
while time.time() < deadline:
    ses.wait_for_alert(100)
    for a in ses.pop_alerts():
        if isinstance(a, lt.tracker_reply_alert): say(event="tracker-reply", peers=a.num_peers)
        elif isinstance(a, (lt.tracker_error_alert, lt.tracker_warning_alert)): say(event="tracker-error", msg=a.message())
    peers.update(str(p.ip[0]) for p in h.get_peer_info())
    if role == "leech" and not done and h.status().is_seeding:
        done = True
        if not flush_to_disk(ses, h): say(event="flush-timeout")
        with open(os.path.join(work, "leech", "payload.bin"), "rb") as f: digest = hashlib.sha256(f.read()).hexdigest()
        say(event="complete", sha256=digest, peers=sorted(peers))
# peers stay in the swarm until killed (a finished leecher announcing "stopped" would race the test)
if not done: say(event="timeout", role=role, progress=h.status().progress)
`;

interface LtEvent {
  event: string;
  [key: string]: unknown;
}

/** A child process whose stdout is JSON lines. */
function spawnPython(script: string, args: string[]) {
  const child = new Deno.Command(PYTHON, {
    args: ["-c", script, ...args],
    env: { PYTHONPATH: new URL("../../scripts/interop/", import.meta.url).pathname },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const events: LtEvent[] = [];
  const stderr = new Response(child.stderr).text();
  const reading = (async () => {
    let buffer = "";
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      buffer += chunk;
      for (let nl = buffer.indexOf("\n"); nl >= 0; nl = buffer.indexOf("\n")) {
        events.push(JSON.parse(buffer.slice(0, nl)));
        buffer = buffer.slice(nl + 1);
      }
    }
  })();
  return {
    events,
    status: child.status,
    async waitFor(event: string, ms: number): Promise<LtEvent> {
      for (let i = 0; i < ms / 50; i++) {
        const found = events.find((e) => e.event === event);
        if (found) return found;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`no "${event}" in ${ms} ms: ${JSON.stringify(events)}`);
    },
    async kill(): Promise<string> {
      try {
        child.kill("SIGKILL");
      } catch {
        // already exited
      }
      await child.status;
      await reading.catch(() => {});
      return await stderr;
    },
  };
}

/** `get` from the CLI, on 127.0.0.4, with `url` as its only peer source. */
function ourGet(work: string, url: string): Promise<CliRun> {
  return runCli([
    ...["get", `${work}/payload.torrent`, "-o", `${work}/ours`, "--tracker", url],
    ...["--host", "127.0.0.4", "--port", "0", "--allow-local-peers", "--no-dht", "--no-pex"],
    ...["--timeout", "45", "--quiet"],
  ]);
}

async function libtorrentSwarm(transport: "http" | "udp"): Promise<void> {
  const server = await TrackerServer.start({
    host: "127.0.0.1",
    httpPort: 0,
    udpPort: 0,
    intervalS: 60,
  });
  const url = server.announceUrls().find((u) => u.startsWith(transport))!;
  const work = await Deno.makeTempDir({ prefix: "tracker-interop-" });
  const prepare = spawnPython(LT_PREPARE, [work]);
  const { udp, http } = await trackerClients();
  const peers: ReturnType<typeof spawnPython>[] = [];
  try {
    const prepared = await prepare.waitFor("prepared", 30_000);
    const [infoHashHex, sha256] = [String(prepared.info_hash), String(prepared.sha256)];
    const seeder = spawnPython(LT_PEER, [work, "seed", "127.0.0.2", url, "60"]);
    peers.push(seeder);
    await seeder.waitFor("tracker-reply", 20_000);
    const leecher = spawnPython(LT_PEER, [work, "leech", "127.0.0.3", url, "60"]);
    peers.push(leecher);
    await leecher.waitFor("tracker-reply", 20_000);
    const ours = transport === "http" ? http : udp;
    const seen = await within(
      ours.announce(url, { ...params(9), infoHash: fromHex(infoHashHex) }),
      10_000,
      "our announce",
    );
    assertEquals(seen.peers.map((p) => p.host).sort(), ["127.0.0.2", "127.0.0.3"]);
    assertEquals((seen.complete ?? 0) + (seen.incomplete ?? 0), 3); // the leecher may have finished by now
    const complete = await leecher.waitFor("complete", 60_000);
    assertEquals(complete.sha256, sha256);
    assert((complete.peers as string[]).includes("127.0.0.2"), JSON.stringify(complete));
    // Our engine joins the same swarm through the same tracker and finishes too.
    const mine = await ourGet(work, url);
    assertEquals(mine.code, 0, mine.stderr);
    const got = await Deno.readFile(`${work}/ours/payload.bin`);
    assertEquals(toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", got))), sha256);
  } finally {
    for (const p of [prepare, ...peers]) await p.kill();
    udp.close();
    await server.close();
    await Deno.remove(work, { recursive: true });
  }
}

await gate(
  "interop: libtorrent seeder and leecher find each other through our HTTP tracker",
  libtorrentAvailable,
  () => libtorrentSwarm("http"),
);
await gate(
  "interop: libtorrent seeder and leecher find each other through our UDP tracker",
  libtorrentAvailable,
  () => libtorrentSwarm("udp"),
);
