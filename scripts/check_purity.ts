/**
 * Fails when core or driver code touches the platform (STYLE §1): only the roof
 * (`src/deno/`, `src/cli/`) and `workers/` may use `Deno.*`, workers,
 * timers, the wall clock, `performance.now`, `Math.random`, `crypto.getRandomValues`
 * or `console`. Tests are exempt. Run: `deno run -A scripts/check_purity.ts`.
 * @module
 */
import { listTs } from "./_walk.ts";

const FORBIDDEN: [RegExp, string][] = [
  [/\bDeno\./, "Deno.*"],
  [/\bnew Worker\b/, "Worker"],
  [/\bset(Timeout|Interval)\s*\(/, "timers"],
  [/\bDate\.now\s*\(/, "Date.now"],
  [/\bnew Date\s*\(\s*\)/, "new Date()"],
  [/\bperformance\.now\s*\(/, "performance.now"],
  [/\bMath\.random\s*\(/, "Math.random"],
  [/\bcrypto\.getRandomValues\b/, "crypto.getRandomValues"],
  [/\bconsole\./, "console"],
];

function isPlatform(path: string): boolean {
  return path.startsWith("src/deno/") || path.startsWith("src/cli/") ||
    path.endsWith("_test.ts");
}

const hits: string[] = [];
for (const path of listTs("src")) {
  if (isPlatform(path)) continue;
  const lines = Deno.readTextFileSync(path).split("\n");
  let inBlockComment = false;
  lines.forEach((raw, i) => {
    let line = raw;
    if (inBlockComment) {
      const end = line.indexOf("*/");
      if (end < 0) return;
      line = line.slice(end + 2);
      inBlockComment = false;
    }
    line = line.replace(/\/\*.*?\*\//g, "");
    const start = line.indexOf("/*");
    if (start >= 0) {
      line = line.slice(0, start);
      inBlockComment = true;
    }
    line = line.replace(/\/\/.*$/, "");
    for (const [re, what] of FORBIDDEN) {
      if (re.test(line)) hits.push(`${path}:${i + 1}: ${what}: ${raw.trim()}`);
    }
  });
}
if (hits.length > 0) {
  console.error(
    `Purity check failed: platform calls outside the platform layer\n${hits.join("\n")}`,
  );
  Deno.exit(1);
}
console.log("purity: ok");
