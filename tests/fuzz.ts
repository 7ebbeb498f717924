/**
 * Seeded fuzz harness (STYLE §7): runs `FUZZ_CASES` cases (default 2,000) per codec,
 * each from its own seed, and replays saved crashers from `tests/fixtures/fuzz/<name>/`.
 * A failure names its seed so it can be replayed with `FUZZ_SEED`.
 * @module
 */
import { SeededRandom } from "../src/util/prng.ts";
import type { Random } from "../src/runtime/types.ts";

/** Options of {@linkcode mutate}. */
export interface MutateOptions {
  /** Bytes worth inserting (a codec's syntax: `d`, `e`, `:`...); random bytes otherwise. */
  readonly tokens?: ArrayLike<number>;
  /** Most edits per input; default 4. */
  readonly maxEdits?: number;
  /**
   * Longest run an edit inserts, deletes, overwrites or duplicates; default 1 (single
   * bytes). Handshakes with paddings want long runs (an MSE pad is up to 512 bytes).
   */
  readonly maxRun?: number;
}

/**
 * A valid input, damaged: 1..`maxEdits` edits, each a bit flip, random bytes, an inserted
 * token or run, a deleted run, a duplicated run, or a truncation. The one mutator every
 * codec's fuzz test shares.
 * @param random the case's PRNG
 * @param input a valid encoding (not modified)
 * @returns the damaged copy
 */
export function mutate(random: Random, input: Uint8Array, options: MutateOptions = {}): Uint8Array {
  const out = [...input];
  const tokens = options.tokens;
  const maxRun = options.maxRun ?? 1;
  const run = () => 1 + random.int(maxRun);
  for (let n = 1 + random.int(options.maxEdits ?? 4); n > 0; n--) {
    const at = random.int(out.length + 1);
    switch (random.int(maxRun > 1 ? 6 : 5)) {
      case 0:
        if (at < out.length) out[at]! ^= 1 << random.int(8);
        break;
      case 1:
        for (let i = at, end = at + run(); i < Math.min(end, out.length); i++) {
          out[i] = random.int(256);
        }
        break;
      case 2:
        if (tokens && random.int(4) > 0) out.splice(at, 0, tokens[random.int(tokens.length)]!);
        else out.splice(at, 0, ...random.bytes(run()));
        break;
      case 3:
        out.splice(at, run());
        break;
      case 4:
        if (random.int(3) === 0) out.length = at;
        break;
      default:
        out.splice(at, 0, ...out.slice(at, at + run()));
    }
  }
  return new Uint8Array(out);
}

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
