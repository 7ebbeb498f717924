/**
 * The fuzz long mode's figures: runs the fuzz tests of every target in
 * `tests/fuzz_targets.ts`, one `deno test` process each, with `FUZZ_CASES` cases
 * (default 200,000, as `deno task fuzz`), and prints a table of cases, corpus inputs
 * replayed, seconds and the slowest case per parser. Exits 1 when a test fails (a crash,
 * or a case over `FUZZ_CASE_MS`: a hang) or a target that is not pending printed nothing.
 *
 *   deno run -A scripts/fuzz_report.ts [--cases N] [--only NAME]
 * @module
 */
import { FUZZ_TARGETS } from "../tests/fuzz_targets.ts";

const args = Deno.args;
const flag = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const cases = flag("--cases") ?? Deno.env.get("FUZZ_CASES") ?? "200000";
const only = flag("--only");
const root = new URL("../", import.meta.url);
const LINE = /^fuzz (\S+): (\d+) cases, (\d+) replayed in ([\d.]+) s, slowest ([\d.]+) ms/;

const rows: string[] = [];
let failed = false;
for (const target of FUZZ_TARGETS) {
  if (only && !target.names.includes(only)) continue;
  if (target.pending) {
    rows.push(`| ${target.names[0]} | ${target.parsers} | pending: ${target.pending} | | | |`);
    continue;
  }
  const started = performance.now();
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["test", "-A", "--filter", "fuzz", target.test],
    cwd: root,
    env: { FUZZ_CASES: cases, NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  const lines = text.split("\n").map((l) => LINE.exec(l.trim())).filter((m) => m !== null);
  if (out.code !== 0 || lines.length < target.names.length) {
    failed = true;
    console.error(`${target.test}: exit ${out.code}, ${lines.length} summary lines\n${text}`);
    console.error(new TextDecoder().decode(out.stderr));
  }
  for (const m of lines) {
    rows.push(`| ${m[1]} | ${target.parsers} | ${m[2]} | ${m[3]} | ${m[4]} | ${m[5]} |`);
  }
  const s = ((performance.now() - started) / 1000).toFixed(0);
  console.error(`${target.test}: ${lines.length} runs, exit ${out.code}, ${s} s`);
}
console.log(`FUZZ_CASES=${cases}\n`);
console.log("| fuzz name | parsers | cases | corpus replayed | seconds | slowest case (ms) |");
console.log("|---|---|---|---|---|---|");
for (const row of rows) console.log(row);
if (failed) Deno.exit(1);
