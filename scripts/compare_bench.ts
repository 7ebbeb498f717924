/**
 * Compares two `deno bench --json` reports (STYLE §8): for every benchmark, the
 * baseline and current mean time per iteration and their ratio; a benchmark slower
 * than the threshold (default 1.25×), or one that failed in the current run, is flagged.
 *
 * Run:
 *   deno bench -A --json bench/ > /tmp/current.json
 *   deno run -A scripts/compare_bench.ts bench/baselines/<date>.json /tmp/current.json [--threshold 1.25]
 *
 * Exit codes: 0 nothing flagged, 1 something flagged, 2 bad arguments or an unreadable
 * report. ADVISORY for now: on the shared 2-core machine the same code varies by 1.5–2×
 * between runs (other jobs share the cores), so exit 1 means "look again", not "reverted".
 * It becomes a gate once repeated runs of one commit stay inside the threshold.
 *
 * Report shape read here (Deno 2.9.6, `version: 1`): `{ version, runtime, cpu, benches:
 * [{ origin, group, name, baseline, results: [{ ok: { n, min, max, avg, p75, p99, p995,
 * p999, ... } } | { failed: { message, ... } }] }] }`; times are nanoseconds. A bench file
 * that fails to load is simply absent from `benches`.
 * @module
 */

/** One benchmark's outcome in a report. */
export interface BenchEntry {
  /** `<file>: [<group>] <name>`; the file is the origin's last path segment. */
  readonly key: string;
  /** Mean time per iteration in nanoseconds, or `undefined` when the bench failed. */
  readonly avgNs: number | undefined;
  /** The failure message of a failed bench. */
  readonly failure?: string;
}

/** One row of the comparison. */
export interface BenchComparison {
  /** The benchmark key (see {@linkcode BenchEntry.key}). */
  readonly key: string;
  /** Baseline mean in ns; `undefined` when missing or failed there. */
  readonly baselineNs: number | undefined;
  /** Current mean in ns; `undefined` when missing or failed there. */
  readonly currentNs: number | undefined;
  /** `current / baseline`, when both are known. */
  readonly ratio: number | undefined;
  /** `"ok"`, `"slower"` (ratio over the threshold), `"failed"` (now), `"new"` or `"gone"`. */
  readonly status: "ok" | "slower" | "failed" | "new" | "gone";
}

/**
 * Reads a `deno bench --json` report.
 * @param text the report's JSON text
 * @returns one entry per benchmark, in report order
 * @throws {SyntaxError} when the text is not JSON
 * @throws {TypeError} when the JSON does not have the version-1 shape
 */
export function parseBenchReport(text: string): BenchEntry[] {
  const report: unknown = JSON.parse(text);
  if (!isObject(report) || report.version !== 1 || !Array.isArray(report.benches)) {
    throw new TypeError("Cannot read bench report: expected { version: 1, benches: [...] }");
  }
  return report.benches.map((bench: unknown, i: number) => {
    if (!isObject(bench) || typeof bench.name !== "string" || !Array.isArray(bench.results)) {
      throw new TypeError(`Cannot read bench report: entry ${i} has no name or results`);
    }
    const file = typeof bench.origin === "string" ? bench.origin.split("/").pop() : "?";
    const group = typeof bench.group === "string" ? `[${bench.group}] ` : "";
    const key = `${file}: ${group}${bench.name}`;
    const result: unknown = bench.results[0];
    if (isObject(result) && isObject(result.ok) && typeof result.ok.avg === "number") {
      return { key, avgNs: result.ok.avg };
    }
    const failed = isObject(result) && isObject(result.failed) ? result.failed : undefined;
    const message = failed && typeof failed.message === "string" ? failed.message : "no result";
    return { key, avgNs: undefined, failure: message };
  });
}

/**
 * Pairs the benchmarks of two reports by key and rates each.
 * @param baseline entries of the baseline report
 * @param current entries of the current report
 * @param threshold slowdown factor above which a benchmark is `"slower"` (e.g. 1.25)
 * @returns one row per key: the current report's order, then keys only in the baseline
 * @throws {RangeError} when `threshold` is not a number above 0
 */
export function compareBenchmarks(
  baseline: readonly BenchEntry[],
  current: readonly BenchEntry[],
  threshold: number,
): BenchComparison[] {
  if (!(threshold > 0)) throw new RangeError(`Invalid threshold: ${threshold}`);
  const before = new Map(baseline.map((e) => [e.key, e]));
  const rows: BenchComparison[] = [];
  for (const now of current) {
    const then = before.get(now.key);
    before.delete(now.key);
    const baselineNs = then?.avgNs;
    const currentNs = now.avgNs;
    const ratio = baselineNs !== undefined && currentNs !== undefined && baselineNs > 0
      ? currentNs / baselineNs
      : undefined;
    const status = currentNs === undefined
      ? "failed"
      : then === undefined || baselineNs === undefined
      ? "new"
      : ratio !== undefined && ratio > threshold
      ? "slower"
      : "ok";
    rows.push({ key: now.key, baselineNs, currentNs, ratio, status });
  }
  for (const gone of before.values()) {
    rows.push({
      key: gone.key,
      baselineNs: gone.avgNs,
      currentNs: undefined,
      ratio: undefined,
      status: "gone",
    });
  }
  return rows;
}

/**
 * Formats a time in nanoseconds with a readable unit.
 * @param ns nanoseconds, or `undefined`
 * @returns e.g. `"812 ns"`, `"4.21 µs"`, `"118.3 ms"`, or `"-"`
 */
export function formatNs(ns: number | undefined): string {
  if (ns === undefined) return "-";
  if (ns < 1e3) return `${ns.toFixed(0)} ns`;
  if (ns < 1e6) return `${(ns / 1e3).toPrecision(3)} µs`;
  if (ns < 1e9) return `${(ns / 1e6).toPrecision(4)} ms`;
  return `${(ns / 1e9).toPrecision(3)} s`;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null;
}

function parseArgs(args: readonly string[]): { files: string[]; threshold: number } {
  const files: string[] = [];
  let threshold = 1.25;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--threshold" || arg.startsWith("--threshold=")) {
      const value = arg.includes("=") ? arg.slice(arg.indexOf("=") + 1) : args[++i];
      threshold = Number(value);
      if (!(threshold > 0)) throw new RangeError(`Invalid --threshold: ${value}`);
    } else if (arg.startsWith("-")) throw new RangeError(`Unknown flag: ${arg}`);
    else files.push(arg);
  }
  if (files.length !== 2) {
    throw new RangeError("Expected two reports: <baseline.json> <current.json>");
  }
  return { files, threshold };
}

function printTable(rows: readonly BenchComparison[], threshold: number): void {
  const width = Math.min(90, Math.max(20, ...rows.map((r) => r.key.length)));
  const line = (key: string, a: string, b: string, c: string, d: string) =>
    console.log(
      `${key.padEnd(width)}  ${a.padStart(11)}  ${b.padStart(11)}  ${c.padStart(7)}  ${d}`,
    );
  line("benchmark", "baseline", "current", "ratio", "");
  for (const r of rows) {
    const key = r.key.length > width ? `${r.key.slice(0, width - 1)}…` : r.key;
    const ratio = r.ratio === undefined ? "-" : `${r.ratio.toFixed(2)}x`;
    const flag = r.status === "ok"
      ? ""
      : r.status === "slower"
      ? `SLOWER (> ${threshold}x)`
      : r.status.toUpperCase();
    line(key, formatNs(r.baselineNs), formatNs(r.currentNs), ratio, flag);
  }
}

async function main(args: readonly string[]): Promise<number> {
  let rows: BenchComparison[], threshold: number;
  try {
    const parsed = parseArgs(args);
    threshold = parsed.threshold;
    const [baseline, current] = await Promise.all(
      parsed.files.map(async (f) => parseBenchReport(await Deno.readTextFile(f))),
    );
    rows = compareBenchmarks(baseline!, current!, threshold);
  } catch (e) {
    console.error(`compare_bench: ${e instanceof Error ? e.message : String(e)}`);
    console.error(
      "Usage: deno run -A scripts/compare_bench.ts <baseline.json> <current.json> [--threshold 1.25]",
    );
    return 2;
  }
  printTable(rows, threshold);
  const flagged = rows.filter((r) => r.status === "slower" || r.status === "failed");
  console.log(
    flagged.length === 0
      ? `\nNo benchmark slower than ${threshold}x (advisory check).`
      : `\n${flagged.length} flagged (advisory until numbers are stable on this machine).`,
  );
  return flagged.length === 0 ? 0 : 1;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
