/**
 * The `swarmd` command: the same command line as `deno run -A mod.ts`, with help texts
 * that name it `swarmd`. Install it with
 * `deno install -g -A -n swarmd cli.ts` (or from the package: `.../cli`), or build a
 * binary with `deno task compile`.
 *
 * @module
 */
import { main } from "./src/cli/main.ts";

if (import.meta.main) {
  Deno.exit(await main(Deno.args, undefined, "swarmd"));
}
