/**
 * The daemon over real HTTP and loopback TCP, in process: the Transmission RPC's HTTP
 * rules (409 session-id handshake, tags, body cap, Host check, basic auth), a download
 * from a seeding swarmd driven only through the RPC (add, get with every field, stop,
 * start, file priorities, limits, move, remove with data), path confinement, the watch
 * folder and the argv-only completion command.
 * @module
 */
import { join } from "node:path";
import { assert, assertEquals } from "../assert.ts";
import { startDaemon } from "../../src/deno/daemon.ts";
import { hashPassword } from "../../src/deno/password.ts";
import { TORRENT_FIELDS } from "../../src/daemon/rpc_torrent.ts";
import { makePayload, RpcClient, sha256, startSeeder, waitFor } from "./_daemon.ts";

const OPTS = { sanitizeOps: false, sanitizeResources: false };
const ENGINE = { allowLocalPeers: true, enableDht: false, listenHost: "127.0.0.1" };

async function withDaemon(
  fn: (
    ctx: { root: string; rpc: RpcClient; url: string; peerPort: number; dl: string },
  ) => Promise<void>,
  extra: Record<string, unknown> = {},
): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "swarmd-daemon-" });
  const dl = join(root, "dl");
  const daemon = await startDaemon({
    rpcPort: 0,
    peerPort: 0,
    stateDir: join(root, "state"),
    downloadDir: dl,
    allowedDirs: [join(root, "other")],
    workers: 1,
    engine: ENGINE,
    ...extra,
  });
  try {
    await fn({
      root,
      rpc: new RpcClient(daemon.url),
      url: daemon.url,
      peerPort: daemon.peerPort,
      dl,
    });
  } finally {
    await daemon.close();
    await Deno.remove(root, { recursive: true }).catch(() => {});
  }
}

/** GET / with a chosen Host header (fetch does not let one set it), first line of the answer. */
async function rawGet(url: string, host: string): Promise<string> {
  const { hostname, port } = new URL(url);
  const conn = await Deno.connect({ hostname, port: Number(port) });
  try {
    await conn.write(
      new TextEncoder().encode(`GET / HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`),
    );
    const buf = new Uint8Array(4096);
    const n = await conn.read(buf);
    return new TextDecoder().decode(buf.subarray(0, n ?? 0));
  } finally {
    conn.close();
  }
}

Deno.test({
  name: "daemon RPC: 409 handshake, tag echo, errors for bad requests, body cap, Host check",
  ...OPTS,
  fn: () =>
    withDaemon(async ({ url, rpc }) => {
      const first = await fetch(`${url}/transmission/rpc`, { method: "POST", body: "{}" });
      await first.body?.cancel();
      assertEquals(first.status, 409);
      const id = first.headers.get("X-Transmission-Session-Id");
      assert(id && id.length > 20);
      const answer = await rpc.request({
        method: "session-get",
        arguments: { fields: ["rpc-version"] },
        tag: 7,
      });
      assertEquals(answer, { result: "success", arguments: { "rpc-version": 16 }, tag: 7 });
      assertEquals(
        (await rpc.request({ method: "no-such" })).result,
        "method name not recognized: no-such",
      );
      assertEquals((await rpc.request([1, 2])).result, "invalid request: expected a JSON object");
      assert(
        (await rpc.request({ method: "torrent-get", arguments: { fields: ["nope"] } })).result
          .includes("nope"),
      );
      assert(
        (await rpc.request({ method: "torrent-add", arguments: {} })).result.includes(
          "filename or metainfo",
        ),
      );
      assert(
        (await rpc.request({ method: "torrent-add", arguments: { metainfo: "!!" } })).result
          .includes("base64"),
      );
      assert(
        (await rpc.request({
          method: "torrent-add",
          arguments: { metainfo: btoa("d4:spam3:egge") },
        })).result
          .startsWith("invalid or corrupt torrent file"),
      );
      assert(
        (await rpc.request({ method: "torrent-set", arguments: { labels: ["x"] } })).result
          .includes("labels"),
      );
      assert(
        (await rpc.request({ method: "session-set", arguments: { "alt-speed-enabled": true } }))
          .result.includes("alt-speed-enabled"),
      );
      // a front-end that sends back what it read is fine
      assertEquals(
        (await rpc.request({ method: "session-set", arguments: { "alt-speed-enabled": false } }))
          .result,
        "success",
      );
      assert(
        (await rpc.request({ method: "port-test" })).result.startsWith("port-test: not available"),
      );
      const notJson = await fetch(rpc.url, {
        method: "POST",
        headers: { "X-Transmission-Session-Id": id },
        body: "{",
      });
      assertEquals((await notJson.json()).result, "invalid request: body is not JSON");
      const big = await fetch(rpc.url, {
        method: "POST",
        headers: { "X-Transmission-Session-Id": id },
        body: new Uint8Array(17 * 1024 * 1024),
      });
      await big.body?.cancel();
      assertEquals(big.status, 413);
      // DNS rebinding: a foreign Host is refused, IP literals and localhost are not
      assert((await rawGet(url, "attacker.example")).startsWith("HTTP/1.1 421"));
      assert((await rawGet(url, "localhost:9091")).startsWith("HTTP/1.1 200"));
      assert((await rawGet(url, "127.0.0.1")).startsWith("HTTP/1.1 200"));
      const page = await fetch(`${url}/`);
      assert((await page.text()).includes("<title>swarmd</title>"));
      assertEquals(page.headers.get("x-frame-options"), "DENY");
    }),
});

Deno.test({
  name: "daemon RPC: a non-loopback RPC needs credentials; basic auth is checked",
  ...OPTS,
  fn: async () => {
    const root = await Deno.makeTempDir({ prefix: "swarmd-daemon-" });
    try {
      let refused = "";
      await startDaemon({
        rpcHost: "0.0.0.0",
        rpcPort: 0,
        peerPort: 0,
        stateDir: join(root, "s"),
        downloadDir: join(root, "d"),
      })
        .catch((e) => refused = e.message);
      assert(refused.includes("without a user name and password"), refused);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
    await withDaemon(async ({ url }) => {
      const none = await fetch(`${url}/transmission/rpc`, { method: "POST", body: "{}" });
      await none.body?.cancel();
      assertEquals(none.status, 401);
      const wrong = new RpcClient(url, { user: "admin", password: "nope" });
      assert(
        await wrong.request({ method: "session-stats" }).then(
          () => false,
          (e) => e.message.includes("401"),
        ),
      );
      const right = new RpcClient(url, { user: "admin", password: "s3cret" });
      assertEquals((await right.call("session-stats")).torrentCount, 0);
    }, { rpcUser: "admin", rpcPasswordHash: hashPassword("s3cret") });
  },
});

Deno.test({
  name:
    "daemon RPC: add, download from a peer, every torrent-get field, stop/start, priorities, move, remove",
  ...OPTS,
  fn: () =>
    withDaemon(async ({ root, rpc, peerPort, dl }) => {
      const payload = await makePayload(join(root, "p"), "set", [["one.bin", 600_000], [
        "two.bin",
        400_000,
      ]]);
      const seeder = await startSeeder(payload.torrent, payload.srcDir);
      try {
        const added = await rpc.call("torrent-add", {
          metainfo: btoa(String.fromCharCode(...payload.torrent)),
          "files-unwanted": [1],
        });
        const { id, hashString } = added["torrent-added"];
        const dup = await rpc.call("torrent-add", {
          metainfo: btoa(String.fromCharCode(...payload.torrent)),
        });
        assertEquals(dup["torrent-duplicate"].id, id);
        seeder.torrent.addPeers([{ host: "127.0.0.1", port: peerPort }]);
        const get = async (fields: string[]) =>
          (await rpc.call("torrent-get", { ids: [hashString], fields })).torrents[0];
        await waitFor("file one", async () => (await get(["status"])).status === 6, 60_000);
        const one = await get([
          "files",
          "fileStats",
          "percentDone",
          "sizeWhenDone",
          "wanted",
          "priorities",
        ]);
        assertEquals(one.fileStats.map((f: { wanted: boolean }) => f.wanted), [true, false]);
        assertEquals(one.files[0].bytesCompleted, 600_000);
        assertEquals(one.wanted, [1, 0]);
        assertEquals(one.percentDone, 1);
        // every field answers, in both formats
        const all = Object.keys(TORRENT_FIELDS);
        const full = await get(all);
        assertEquals(Object.keys(full).sort(), [...all].sort());
        assertEquals(full.hashString, hashString);
        assertEquals(full.downloadDir, dl);
        assert(Array.isArray(full.peers) && typeof full.peersConnected === "number");
        const table = await rpc.call("torrent-get", { fields: ["id", "name"], format: "table" });
        assertEquals(table.torrents, [["id", "name"], [id, "set"]]);
        // want the second file now: it downloads too
        await rpc.call("torrent-set", {
          ids: [id],
          "files-wanted": [1],
          "priority-high": [1],
          uploadLimit: 500,
          uploadLimited: true,
        });
        await waitFor("file two", async () =>
          (await get(["percentDone", "sizeWhenDone"])).sizeWhenDone === 1_000_000 &&
          (await get(["percentDone"])).percentDone === 1, 60_000);
        const prefs = await get(["priorities", "uploadLimit", "uploadLimited"]);
        assertEquals(prefs, { priorities: [0, 1], uploadLimit: 500, uploadLimited: true });
        assertEquals(sha256(await Deno.readFile(join(dl, "set", "two.bin"))), payload.digests[1]);
        // stop and start
        await rpc.call("torrent-stop", { ids: id });
        assertEquals(await get(["status", "peersConnected"]), { status: 0, peersConnected: 0 });
        await rpc.call("torrent-start", { ids: [id] });
        await waitFor("seeding again", async () =>
          (await get(["status"])).status === 6, 30_000);
        // moves are confined to the configured roots
        const outside = await rpc.request({
          method: "torrent-set-location",
          arguments: { ids: [id], location: "/etc", move: true },
        });
        assert(outside.result.includes("outside the allowed directories"), outside.result);
        const escape = await rpc.request({
          method: "torrent-add",
          arguments: { filename: "/etc/passwd" },
        });
        assert(escape.result.includes("outside the allowed directories"), escape.result);
        const other = join(root, "other", "moved");
        await rpc.call("torrent-set-location", { ids: [id], location: other, move: true });
        await waitFor("seeding after the move", async () =>
          (await get(["status", "downloadDir"])).status === 6, 30_000);
        assertEquals((await get(["downloadDir"])).downloadDir, other);
        assertEquals(
          sha256(await Deno.readFile(join(other, "set", "one.bin"))),
          payload.digests[0],
        );
        const free = await rpc.call("free-space", { path: other });
        assert(free["size-bytes"] > 0 && free.total_size >= free["size-bytes"]);
        // session statistics and limits
        await rpc.call("session-set", {
          "speed-limit-down": 300,
          "speed-limit-down-enabled": true,
          "download-queue-size": 3,
        });
        const session = await rpc.call("session-get");
        assertEquals([
          session["speed-limit-down"],
          session["speed-limit-down-enabled"],
          session["download-queue-size"],
        ], [300, true, 3]);
        // the peer sources as they run: ENGINE turns the DHT off, the rest is on by default
        assertEquals(
          ["dht", "pex", "utp", "lpd"].map((f) =>
            session[`${f}-enabled`]
          ),
          [false, true, true, true],
        );
        const stats = await rpc.call("session-stats");
        assertEquals(stats.torrentCount, 1);
        assert(stats["current-stats"].downloadedBytes >= 1_000_000);
        // remove with its data: only its own files go
        await rpc.call("torrent-remove", { ids: [id], "delete-local-data": true });
        assert(
          !(await Deno.stat(join(other, "set", "one.bin")).then(() =>
            true, () =>
            false)),
        );
        assert(
          await Deno.stat(other).then((s) =>
            s.isDirectory
          ),
        );
        const recent = await rpc.call("torrent-get", { ids: "recently-active", fields: ["id"] });
        assertEquals(recent.removed, [id]);
        assertEquals((await rpc.call("torrent-get", { fields: ["id"] })).torrents, []);
      } finally {
        await seeder.client.close();
      }
    }),
});

Deno.test({
  name:
    "daemon: the watch folder adds .torrent files; the completion command gets names as single arguments",
  ...OPTS,
  fn: async () => {
    const root = await Deno.makeTempDir({ prefix: "swarmd-daemon-" });
    const watch = join(root, "watch");
    await Deno.mkdir(watch, { recursive: true });
    const marker = join(root, "hook.json");
    // a name that would run a command if a shell ever saw it (RELIABILITY C2)
    const evil = "x; touch pwned-by-hook; $(touch pwned-by-hook) `touch pwned-by-hook`";
    const payload = await makePayload(join(root, "p"), evil, [[evil, 200_000]]);
    const seeder = await startSeeder(payload.torrent, payload.srcDir);
    const daemon = await startDaemon({
      rpcPort: 0,
      peerPort: 0,
      stateDir: join(root, "state"),
      downloadDir: join(root, "dl"),
      watchDir: watch,
      workers: 1,
      engine: ENGINE,
      onComplete: [
        "/usr/bin/python3",
        "-c",
        "import sys, json, os; open(sys.argv[1], 'w').write(json.dumps([sys.argv[2:], os.environ['TR_TORRENT_NAME']]))",
        marker,
        "{name}",
        "{hash}",
      ],
    });
    try {
      await Deno.writeFile(join(watch, "drop.torrent"), payload.torrent);
      await Deno.writeFile(join(watch, "junk.torrent"), new TextEncoder().encode("not bencode"));
      const rpc = new RpcClient(daemon.url);
      const t = await waitFor(
        "the watch folder",
        async () => (await rpc.call("torrent-get", { fields: ["hashString"] })).torrents[0],
      );
      assert(await Deno.stat(join(watch, "drop.torrent.added")).then(() => true));
      assert(
        await waitFor(
          "junk renamed",
          () => Deno.stat(join(watch, "junk.torrent.invalid")).then(() => true),
        ),
      );
      seeder.torrent.addPeers([{ host: "127.0.0.1", port: daemon.peerPort }]);
      const ran = await waitFor(
        "the completion command",
        () => Deno.readTextFile(marker).then(JSON.parse, () => undefined),
        60_000,
      ).catch(async (e) => {
        const fields = ["status", "percentDone", "errorString", "peersConnected", "doneDate"];
        console.log(JSON.stringify(await rpc.call("torrent-get", { fields })));
        throw e;
      });
      assertEquals(ran, [[evil, t.hashString], evil]);
      assert(!(await Deno.stat("pwned-by-hook").then(() => true, () => false)));
    } finally {
      await daemon.close();
      await seeder.client.close();
      await Deno.remove(root, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name:
    "daemon RPC: torrent-add by magnet link (metadata from the peer) and by URL; seeding ratio limit",
  ...OPTS,
  fn: () =>
    withDaemon(async ({ root, rpc, peerPort, dl }) => {
      const first = await makePayload(join(root, "m"), "mag", [["m.bin", 400_000]]);
      const second = await makePayload(join(root, "u"), "url", [["u.bin", 300_000]]);
      const seedA = await startSeeder(first.torrent, first.srcDir);
      const seedB = await startSeeder(second.torrent, second.srcDir);
      const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) =>
        new URL(req.url).pathname === "/u.torrent"
          ? new Response(second.torrent as BodyInit)
          : new Response("no", { status: 404 }));
      try {
        const hex = seedA.torrent.infoHash;
        const magnet = `magnet:?xt=urn:btih:${hex}&dn=mag&x.pe=127.0.0.1:${seedA.client.port}`;
        const viaMagnet = (await rpc.call("torrent-add", { filename: magnet }))["torrent-added"];
        assertEquals(viaMagnet.hashString, hex);
        const url = `http://127.0.0.1:${server.addr.port}/u.torrent`;
        const viaUrl = (await rpc.call("torrent-add", { filename: url }))["torrent-added"];
        assertEquals(viaUrl.name, "url");
        const missing = await rpc.request({
          method: "torrent-add",
          arguments: { filename: `http://127.0.0.1:${server.addr.port}/none.torrent` },
        });
        assert(missing.result.includes("HTTP 404"), missing.result);
        seedB.torrent.addPeers([{ host: "127.0.0.1", port: peerPort }]);
        const get = async (id: number, fields: string[]) =>
          (await rpc.call("torrent-get", { ids: [id], fields })).torrents[0];
        await waitFor("both downloads", async () =>
          (await get(viaMagnet.id, ["percentDone"])).percentDone === 1 &&
          (await get(viaUrl.id, ["percentDone"])).percentDone === 1, 60_000);
        const m = await get(viaMagnet.id, [
          "metadataPercentComplete",
          "name",
          "files",
          "magnetLink",
        ]);
        assertEquals([m.metadataPercentComplete, m.name, m.files.length], [1, "mag", 1]);
        assert(m.magnetLink.startsWith(`magnet:?xt=urn:btih:${hex}`));
        assertEquals(sha256(await Deno.readFile(join(dl, "mag", "m.bin"))), first.digests[0]);
        // pointing a torrent elsewhere without moving looks for the data there
        const empty = join(root, "other", "empty");
        await rpc.call("torrent-set-location", { ids: [viaMagnet.id], location: empty });
        await waitFor("nothing found there", async () => {
          const t = await get(viaMagnet.id, ["downloadDir", "percentDone", "status"]);
          return t.downloadDir === empty && t.status === 4 && t.percentDone === 0;
        }, 10_000);
        await rpc.call("torrent-set-location", { ids: [viaMagnet.id], location: dl });
        await waitFor("the data found again", async () =>
          (await get(viaMagnet.id, ["percentDone", "status"])).status === 6, 10_000);
        // a ratio limit of 0 is reached at once: the seed stops, finished
        await rpc.call("torrent-set", { ids: [viaUrl.id], seedRatioMode: 1, seedRatioLimit: 0 });
        await waitFor("the ratio limit", async () => {
          const t = await get(viaUrl.id, ["status", "isFinished"]);
          return t.status === 0 && t.isFinished;
        }, 10_000);
      } finally {
        await server.shutdown();
        await seedA.client.close();
        await seedB.client.close();
      }
    }),
});
