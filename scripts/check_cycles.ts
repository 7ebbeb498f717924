/**
 * Fails on import cycles between source files and on imports that flow the wrong way
 * (DESIGN principle 2: nothing imports `src/cli/`, core never imports `src/session/`).
 * Run: `deno run -A scripts/check_cycles.ts`.
 * @module
 */
import { dirname, join, normalize } from "node:path";
import { listTs } from "./_walk.ts";

// Type-only imports are erased at run time and form no cycle; every other import counts.
const IMPORT = /^\s*(?:import|export)\s(?!type\s)[^;]*?from\s+"(\.[^"]+)"/gms;
const graph = new Map<string, string[]>();
for (const file of [...listTs("src"), ...listTs("workers"), "mod.ts"]) {
  if (file.endsWith("_test.ts")) continue;
  let text: string;
  try {
    text = Deno.readTextFileSync(file);
  } catch {
    continue;
  }
  const deps = [...text.matchAll(IMPORT)].map((m) => normalize(join(dirname(file), m[1]!)));
  graph.set(normalize(file), deps);
}

const problems: string[] = [];
for (const [file, deps] of graph) {
  for (const dep of deps) {
    if (dep.startsWith("src/cli/") && !file.startsWith("src/cli/") && file !== "mod.ts") {
      problems.push(`${file} imports the CLI (${dep})`);
    }
    const coreDirs = ["src/bencode/", "src/util/", "src/wire/", "src/picker/", "src/choker/"];
    if (coreDirs.some((d) => file.startsWith(d)) && dep.startsWith("src/session/")) {
      problems.push(`${file} (core) imports the session (${dep})`);
    }
  }
}

const state = new Map<string, "visiting" | "done">();
function visit(file: string, stack: string[]): void {
  const s = state.get(file);
  if (s === "done") return;
  if (s === "visiting") {
    problems.push(`import cycle: ${[...stack.slice(stack.indexOf(file)), file].join(" -> ")}`);
    return;
  }
  state.set(file, "visiting");
  for (const dep of graph.get(file) ?? []) visit(dep, [...stack, file]);
  state.set(file, "done");
}
for (const file of graph.keys()) visit(file, []);

if (problems.length) {
  console.error(`Import check failed:\n  ${[...new Set(problems)].join("\n  ")}`);
  Deno.exit(1);
}
console.log(`imports: ok (${graph.size} files, no cycles)`);
