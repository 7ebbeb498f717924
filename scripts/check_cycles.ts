/**
 * Keeps the floors of DESIGN principle 2: every import (type imports and re-exports
 * included) must point to the importing folder itself or to a lower floor, and no chain of
 * imports may come back to where it started.
 *
 *   roof        mod.ts, cli.ts > cli, workers > deno (Deno bindings, the wired client)
 *   drivers     daemon (the many-torrent service, RPC) > session > net > tracker, dht, lsd,
 *               storage, extensions
 *   cores       wire, picker, choker, metainfo > bencode > util
 *   ground      runtime (the platform contract: types.ts), errors.ts
 *
 * Folders on the same floor do not import each other: a shared piece moves down a floor.
 * Run: `deno run -A scripts/check_cycles.ts`.
 * @module
 */
import { dirname, join, normalize } from "node:path";
import { listTs } from "./_walk.ts";

/** Floor of each top-level folder of `src/` (and of the roof entry points). */
const RANKS: Readonly<Record<string, number>> = {
  "errors": 0,
  "runtime": 0,
  "util": 1,
  "bencode": 2,
  "wire": 3,
  "picker": 3,
  "choker": 3,
  "metainfo": 3,
  "tracker": 4,
  "dht": 4,
  "lsd": 4,
  "storage": 4,
  "extensions": 4,
  "net": 5,
  "session": 6,
  "daemon": 6.5,
  "deno": 7,
  "cli": 8,
  "workers": 8,
  "mod.ts": 9,
  "cli.ts": 9,
};

/** Static imports and re-exports (`import type` too) and dynamic `import("...")`. */
const IMPORT = /(?:^\s*(?:import|export)\s[^;]*?from\s+|\bimport\(\s*)"(\.[^"]+\.ts)"/gms;

/** The folder a path belongs to, for {@linkcode RANKS}. */
function folderOf(path: string): string {
  if (path === "mod.ts" || path === "cli.ts") return path;
  const parts = path.split("/");
  if (parts[0] === "workers") return "workers";
  if (parts.length === 2) return parts[1]!.replace(/\.ts$/, "");
  return parts[1]!;
}

const graph = new Map<string, string[]>();
for (const file of [...listTs("src"), ...listTs("workers"), "mod.ts", "cli.ts"]) {
  if (file.endsWith("_test.ts")) continue;
  const text = Deno.readTextFileSync(file);
  const deps = [...text.matchAll(IMPORT)].map((m) => normalize(join(dirname(file), m[1]!)));
  graph.set(normalize(file), deps);
}

const problems: string[] = [];
let upward = 0;
for (const [file, deps] of graph) {
  const from = folderOf(file);
  const fromRank = RANKS[from];
  if (fromRank === undefined) {
    problems.push(`${file}: folder "${from}" has no floor in scripts/check_cycles.ts`);
    continue;
  }
  for (const dep of deps) {
    const to = folderOf(dep);
    if (to === from) continue;
    const toRank = RANKS[to];
    if (toRank === undefined) {
      problems.push(`${file} imports ${dep}: folder "${to}" has no floor`);
    } else if (toRank >= fromRank) {
      upward++;
      problems.push(`${file} (${from}, floor ${fromRank}) imports ${dep} (${to}, floor ${toRank})`);
    }
  }
}

let cycles = 0;
const state = new Map<string, "visiting" | "done">();
function visit(file: string, stack: string[]): void {
  const s = state.get(file);
  if (s === "done") return;
  if (s === "visiting") {
    cycles++;
    problems.push(`import cycle: ${[...stack.slice(stack.indexOf(file)), file].join(" -> ")}`);
    return;
  }
  state.set(file, "visiting");
  for (const dep of graph.get(file) ?? []) visit(dep, [...stack, file]);
  state.set(file, "done");
}
for (const file of graph.keys()) visit(file, []);

// The codec entries of deno.json are usable alone: nothing they load is a Deno binding.
const exportsMap = JSON.parse(Deno.readTextFileSync("deno.json")).exports as Record<string, string>;
for (const [name, entry] of Object.entries(exportsMap)) {
  if (name === "." || name === "./cli") continue; // the package root and the command may
  const seen = new Set<string>();
  const todo = [normalize(entry)];
  while (todo.length > 0) {
    const file = todo.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    if ((RANKS[folderOf(file)] ?? 0) >= RANKS["deno"]!) {
      problems.push(`the "${name}" entry loads ${file}, a Deno binding`);
    }
    todo.push(...(graph.get(file) ?? []));
  }
}

if (problems.length) {
  console.error(
    `Import check failed (${upward} upward, ${cycles} cycles):\n  ${
      [...new Set(problems)].join("\n  ")
    }`,
  );
  Deno.exit(1);
}
console.log(
  `imports: ok (${graph.size} files, 0 upward, 0 cycles, type imports counted; ` +
    `entries ${
      Object.keys(exportsMap).filter((n) => n !== "." && n !== "./cli").join(" ")
    } load no Deno binding)`,
);
