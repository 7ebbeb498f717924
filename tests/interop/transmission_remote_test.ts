/**
 * Transmission's own command-line remote (transmission-remote 3.00, Debian's
 * transmission-cli) drives the daemon unchanged: add, list, info, file list, session info,
 * stop, start, set a limit, remove. Skipped with a message when transmission-remote is not
 * installed, unless SWARMD_REQUIRE_INTEROP=1.
 * @module
 */
import { join } from "node:path";
import { assert, assertEquals } from "../assert.ts";
import { requireFiles } from "./_harness.ts";
import {
  makePayload,
  RpcClient,
  spawnDaemon,
  startSeeder,
  waitFor,
} from "../integration/_daemon.ts";

const REMOTE = "/usr/bin/transmission-remote";
const { present: available, ignore } = await requireFiles(
  [REMOTE],
  "skipping: transmission-remote not installed (apt-get install transmission-cli)",
);

async function remote(port: number, ...args: string[]): Promise<string> {
  const out = await new Deno.Command(REMOTE, {
    args: [`127.0.0.1:${port}`, ...args],
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
    signal: AbortSignal.timeout(30_000),
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  assertEquals(out.code, 0, `transmission-remote ${args.join(" ")}: ${text}`);
  return text;
}

Deno.test({
  name:
    "transmission-remote 3.00 drives the daemon: add, list, info, files, stop, start, limits, remove",
  ignore,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    if (!available) throw new Error(`${REMOTE} is required (SWARMD_REQUIRE_INTEROP=1)`);
    const root = await Deno.makeTempDir({ prefix: "swarmd-tr-" });
    const payload = await makePayload(join(root, "p"), "album", [["01.flac", 300_000], [
      "02.flac",
      200_000,
    ]]);
    const seeder = await startSeeder(payload.torrent, payload.srcDir);
    const daemon = await spawnDaemon([
      "--state",
      join(root, "state"),
      "--download-dir",
      join(root, "dl"),
      "--allow-local-peers",
    ]);
    try {
      const port = Number(new URL(daemon.url).port);
      assert((await remote(port, "-a", payload.torrentPath)).includes("success"));
      seeder.torrent.addPeers([{ host: "127.0.0.1", port: daemon.peerPort }]);
      const rpc = new RpcClient(daemon.url);
      await waitFor(
        "the download",
        async () =>
          (await rpc.call("torrent-get", { fields: ["percentDone"] })).torrents[0]?.percentDone ===
            1,
      );
      const list = await remote(port, "-l");
      assert(/ 1 +100% .* album/.test(list), list);
      assert(/Sum:/.test(list), list);
      const info = await remote(port, "-t", "1", "-i");
      assert(info.includes("Name: album"), info);
      assert(info.includes("Percent Done: 100%"), info);
      const files = await remote(port, "-t", "1", "-f");
      assert(files.includes("album/01.flac") && files.includes("album/02.flac"), files);
      const session = await remote(port, "-si");
      assert(session.includes("RPC version: 16"), session);
      await remote(port, "-t", "1", "-S");
      await waitFor("stopped", async () => (await remote(port, "-l")).includes("Stopped"));
      await remote(port, "-t", "1", "-s");
      // a seed with nobody to serve shows as "Idle" in transmission-remote's list
      await waitFor("seeding", async () => /Idle|Seeding/.test(await remote(port, "-l")));
      assertEquals((await rpc.call("torrent-get", { fields: ["status"] })).torrents[0].status, 6);
      await remote(port, "-t", "1", "-u", "250");
      const limited =
        (await rpc.call("torrent-get", { fields: ["uploadLimit", "uploadLimited"] })).torrents[0];
      assertEquals(limited, { uploadLimit: 250, uploadLimited: true });
      await remote(port, "-t", "1", "-r");
      assertEquals((await rpc.call("torrent-get", { fields: ["id"] })).torrents, []);
      assertEquals(await daemon.stop(), 0);
    } finally {
      await daemon.kill();
      await seeder.client.close();
      await Deno.remove(root, { recursive: true }).catch(() => {});
    }
  },
});
