/**
 * Fails when a file in `src/` passes 500 lines or any other source file passes 800, and
 * lists the others over 500 for review (STYLE §4). Run: `deno run -A scripts/check_file_size.ts`.
 * @module
 */
import { listTs } from "./_walk.ts";

const HARD = 800, REVIEW = 500;
const over: string[] = [], review: string[] = [];
for (const dir of ["src", "workers", "scripts", "bench", "tests"]) {
  for (const path of listTs(dir)) {
    const n = Deno.readTextFileSync(path).split("\n").length;
    if (n > (dir === "src" ? REVIEW : HARD)) over.push(`${path}: ${n} lines`);
    else if (n > REVIEW) review.push(`${path}: ${n} lines`);
  }
}
if (review.length) console.log(`over ${REVIEW} lines (review):\n  ${review.join("\n  ")}`);
if (over.length) {
  console.error(
    `File size check failed (src/ over ${REVIEW} lines, others over ${HARD}):\n  ${
      over.join("\n  ")
    }`,
  );
  Deno.exit(1);
}
console.log("file size: ok");
