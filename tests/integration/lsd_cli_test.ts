/**
 * Local Service Discovery (BEP 14) from the command line, on loopback (multicast to the
 * LSD group joined on a 127.0.0.x address stays on this machine): a bare magnet (no
 * tracker, no peer) with the DHT off finds a seed on another address through LSD alone, with
 * default flags otherwise; with `--no-lsd` the same get finds nobody and says LSD is off.
 * @module
 */
import { join } from "node:path";
import { assert, assertEquals } from "../assert.ts";
import { freshStateEnv, runCli, sha256, withCliSeed } from "./_cli_swarm.ts";

Deno.test("lsd: a bare magnet finds a seed on the LAN (here: loopback) by LSD alone", async () => {
  const root = await Deno.makeTempDir({ prefix: "swarmd-lsd-" });
  // random content: an info-hash no other test seeds (they would answer our LSD announces)
  const data = new Uint8Array(1_500_000);
  for (let i = 0; i < data.length; i += 65536) crypto.getRandomValues(data.subarray(i, i + 65536));
  await Deno.mkdir(join(root, "src"));
  await Deno.writeFile(join(root, "src", "data.bin"), data);
  const torrent = join(root, "p.torrent");
  const made = await runCli(["create", join(root, "src", "data.bin"), "-o", torrent, "--json"]);
  assertEquals(made.code, 0, made.stderr);
  const magnet = `magnet:?xt=urn:btih:${JSON.parse(made.stdout).infoHash}`;
  try {
    const seedArgs = [
      torrent,
      join(root, "src"),
      "--port",
      "0",
      "--host",
      "127.0.0.111",
      "--no-dht",
    ];
    await withCliSeed(seedArgs, async () => {
      const env = freshStateEnv(root);
      const log = join(root, "get.log");
      const got = await runCli([
        ...["get", magnet, "-o", join(root, "dl"), "--port", "0", "--host", "127.0.0.112"],
        ...["--no-dht", "--timeout", "30", "--log", log],
      ], { env, timeoutMs: 40_000 });
      assertEquals(got.code, 0, got.stderr);
      assertEquals(sha256(await Deno.readFile(join(root, "dl", "data.bin"))), sha256(data));
      const lines = (await Deno.readTextFile(log)).split("\n");
      assert(lines.some((l) => l.includes("debug LSD: announced")), lines.join("\n"));
      assert(
        lines.some((l) => /event peer 127\.0\.0\.111:\d+ connected/.test(l)),
        lines.join("\n"),
      );

      const without = await runCli([
        ...["get", magnet, "-o", join(root, "dl2"), "--port", "0", "--host", "127.0.0.113"],
        ...["--no-dht", "--no-lsd", "--timeout", "3"],
      ], { env, timeoutMs: 20_000 });
      assertEquals(without.code, 1, without.stderr);
      assert(without.stderr.includes("PEX: no connected peer to ask; LSD: off"), without.stderr);
    });
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
