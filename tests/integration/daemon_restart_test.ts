/**
 * `kill -9` of the daemon mid-download, then a restart on the same state directory: the
 * torrent is still there, no piece verified before the kill is lost, and the download
 * finishes with every file matching the source (RELIABILITY F1).
 * @module
 */
import { join } from "node:path";
import { assert, assertEquals } from "../assert.ts";
import {
  assertFilesMatch,
  makePayload,
  RpcClient,
  spawnDaemon,
  startSeeder,
  waitFor,
} from "./_daemon.ts";

Deno.test({
  name: "daemon: kill -9 mid-download, restart: no torrent and no verified piece lost, it finishes",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const root = await Deno.makeTempDir({ prefix: "swarmd-kill-" });
    const payload = await makePayload(join(root, "p"), "big", [["a.bin", 3_000_000], [
      "b.bin",
      2_000_000,
    ]]);
    // slow enough to be caught in the middle: about 10 s for 5 MB
    const seeder = await startSeeder(payload.torrent, payload.srcDir, 512 * 1024);
    const args = [
      "--state",
      join(root, "state"),
      "--download-dir",
      join(root, "dl"),
      "--allow-local-peers",
    ];
    let daemon = await spawnDaemon(args);
    try {
      let rpc = new RpcClient(daemon.url);
      const { hashString } = (await rpc.call("torrent-add", {
        metainfo: btoa(String.fromCharCode(...payload.torrent)),
      }))["torrent-added"];
      seeder.torrent.addPeers([{ host: "127.0.0.1", port: daemon.peerPort }]);
      const get = async () =>
        (await rpc.call("torrent-get", {
          ids: [hashString],
          fields: ["percentDone", "haveValid", "status", "pieces"],
        }))
          .torrents[0];
      const before = await waitFor(
        "40% downloaded",
        async () => {
          const t = await get();
          return t.percentDone >= 0.4 && t.percentDone < 0.9 ? t : undefined;
        },
        60_000,
        50,
      );
      await daemon.kill(); // SIGKILL: no stopped announce, no final resume save
      daemon = await spawnDaemon(args);
      rpc = new RpcClient(daemon.url);
      const after = await waitFor("the check after the restart", async () => {
        const t = await get();
        return t && t.status !== 2 && t.status !== 1 ? t : undefined;
      }, 60_000);
      assert(
        after.haveValid >= before.haveValid,
        `had ${before.haveValid}, now ${after.haveValid}`,
      );
      // every piece verified before the kill is still verified
      const had = Uint8Array.from(atob(before.pieces), (c) => c.charCodeAt(0));
      const has = Uint8Array.from(atob(after.pieces), (c) => c.charCodeAt(0));
      for (let i = 0; i < had.length; i++) {
        assertEquals(had[i]! & ~has[i]!, 0, `piece byte ${i} lost`);
      }
      seeder.torrent.addPeers([{ host: "127.0.0.1", port: daemon.peerPort }]);
      await waitFor("the download to finish", async () => (await get()).percentDone === 1, 90_000);
      await assertFilesMatch(join(root, "dl", "big"), ["a.bin", "b.bin"], payload.digests);
      assertEquals(await daemon.stop(), 0);
    } finally {
      await daemon.kill();
      await seeder.client.close();
      await Deno.remove(root, { recursive: true }).catch(() => {});
    }
  },
});
