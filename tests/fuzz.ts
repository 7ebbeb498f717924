/**
 * Seeded fuzz harness (STYLE §7): runs `FUZZ_CASES` cases (default 2,000) per codec,
 * each from its own seed, and replays saved crashers from `tests/fixtures/fuzz/<name>/`.
 * A failure names its seed so it can be replayed with `FUZZ_SEED`.
 * @module
 */
import { SeededRandom } from "../src/util/prng.ts";

/**
 * Runs generated cases, then replays the crasher corpus.
 * @param name codec name; the corpus folder
 * @param generated one case from a seeded PRNG
 * @param replay one saved input
 */
export function fuzzCases(
  name: string,
  generated: (random: SeededRandom) => void,
  replay?: (bytes: Uint8Array) => void,
): void {
  const count = Number(Deno.env.get("FUZZ_CASES") ?? 2000);
  const only = Deno.env.get("FUZZ_SEED");
  const seeds = only ? [Number(only)] : Array.from({ length: count }, (_, i) => i + 1);
  for (const seed of seeds) {
    try {
      generated(new SeededRandom(seed));
    } catch (e) {
      throw new Error(`fuzz ${name}: seed ${seed} failed (replay: FUZZ_SEED=${seed})`, {
        cause: e,
      });
    }
  }
  if (!replay) return;
  const dir = new URL(`./fixtures/fuzz/${name}/`, import.meta.url);
  let entries: Deno.DirEntry[] = [];
  try {
    entries = [...Deno.readDirSync(dir)];
  } catch {
    return; // no corpus yet
  }
  for (const entry of entries) {
    if (entry.isFile) replay(Deno.readFileSync(new URL(entry.name, dir)));
  }
}
