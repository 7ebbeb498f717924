/**
 * The installable `swarmd` command: `deno install` of cli.ts gives a command whose help
 * texts name `swarmd` (every command's), while `deno run -A mod.ts` keeps its own name.
 * @module
 */
import { join } from "node:path";
import { assert } from "../assert.ts";

const ROOT = new URL("../..", import.meta.url).pathname;
const COMMANDS = ["get", "seed", "create", "info", "verify", "tracker", "daemon"];

async function run(program: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(program, {
    args,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
    signal: AbortSignal.timeout(120_000),
  }).output();
  return new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
}

Deno.test("deno install gives a swarmd command whose help says swarmd, for every command", async () => {
  const root = await Deno.makeTempDir({ prefix: "swarmd-install-" });
  try {
    const installed = await run(Deno.execPath(), [
      "install",
      "-g",
      "-A",
      "-n",
      "swarmd",
      "--root",
      root,
      "--config",
      join(ROOT, "deno.json"),
      join(ROOT, "cli.ts"),
    ]);
    const bin = join(root, "bin", "swarmd");
    assert(await Deno.stat(bin).then((s) => s.isFile), installed);
    const help = await run(bin, ["--help"]);
    assert(help.includes("Usage: swarmd <command>"), help);
    for (const command of COMMANDS) {
      const text = await run(bin, [command, "--help"]);
      assert(text.includes(`swarmd ${command}`), `${command}: ${text}`);
      assert(!text.includes("mod.ts"), `${command}: ${text}`);
    }
    const unknown = await run(bin, ["nope"]);
    assert(unknown.includes("Unknown command"), unknown);
    const direct = await run(Deno.execPath(), ["run", "-A", join(ROOT, "mod.ts"), "--help"]);
    assert(direct.includes("Usage: deno run -A mod.ts <command>"), direct);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
