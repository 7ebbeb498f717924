/**
 * `swarmd daemon` as an operator runs it: a JSON config file with flags overriding it, an
 * RPC password read from a file (only its hash kept), the refusal of a non-loopback RPC
 * without credentials, a second daemon refused on the same state directory, and a clean
 * stop on SIGTERM.
 * @module
 */
import { join } from "node:path";
import { assert, assertEquals } from "../assert.ts";
import { daemonArgv, RpcClient, spawnDaemon } from "./_daemon.ts";

async function runDaemon(args: string[]): Promise<{ code: number; text: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: daemonArgv(args),
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
    signal: AbortSignal.timeout(60_000),
  }).output();
  return {
    code: out.code,
    text: new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr),
  };
}

Deno.test({
  name:
    "daemon command: config file under flags, password file, unsafe binds and a held state refused",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const root = await Deno.makeTempDir({ prefix: "swarmd-config-" });
    const config = join(root, "swarmd.json");
    await Deno.writeTextFile(
      config,
      JSON.stringify({
        downloadDir: join(root, "from-config"),
        downloadQueueSize: 2,
        seedRatioLimit: 1.5,
        speedLimitUp: 300,
        speedLimitDown: null,
        state: join(root, "state"),
      }),
    );
    await Deno.writeTextFile(join(root, "pw"), "correct horse\n");
    const daemon = await spawnDaemon([
      "--config",
      config,
      "--download-dir",
      join(root, "from-flag"),
      "--rpc-user",
      "admin",
      "--rpc-password-file",
      join(root, "pw"),
    ]);
    try {
      const anonymous = await fetch(`${daemon.url}/transmission/rpc`, {
        method: "POST",
        body: "{}",
      });
      await anonymous.body?.cancel();
      assertEquals(anonymous.status, 401);
      const rpc = new RpcClient(daemon.url, { user: "admin", password: "correct horse" });
      const s = await rpc.call("session-get", {
        fields: [
          "download-dir",
          "download-queue-size",
          "seedRatioLimit",
          "seedRatioLimited",
          "speed-limit-up",
          "speed-limit-up-enabled",
          "speed-limit-down-enabled",
        ],
      });
      assertEquals(s, {
        "download-dir": join(root, "from-flag"),
        "download-queue-size": 2,
        seedRatioLimit: 1.5,
        seedRatioLimited: true,
        "speed-limit-up": 300,
        "speed-limit-up-enabled": true,
        "speed-limit-down-enabled": false,
      });
      // the same state directory cannot serve two daemons
      const second = await runDaemon(["--state", join(root, "state"), "--download-dir", root]);
      assertEquals(second.code, 1, second.text);
      assert(second.text.includes("another daemon"), second.text);
      assertEquals(await daemon.stop(), 0);
    } finally {
      await daemon.kill();
    }
    const open = await runDaemon([
      "--rpc-host",
      "0.0.0.0",
      "--state",
      join(root, "s2"),
      "--download-dir",
      root,
    ]);
    assertEquals(open.code, 1, open.text);
    assert(open.text.includes("without a user name and password"), open.text);
    const bad = await runDaemon(["--config", join(root, "pw")]);
    assertEquals(bad.code, 2, bad.text);
    await Deno.remove(root, { recursive: true });
  },
});
