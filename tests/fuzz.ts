/**
 * Seeded fuzz harness (STYLE §7): runs `FUZZ_CASES` cases (default 2,000) per codec,
 * each from its own seed, and replays saved crashers from `tests/fixtures/fuzz/<name>/`.
 * A failure names its seed so it can be replayed with `FUZZ_SEED`.
 *
 * Long mode (`deno task fuzz`: 200,000 cases, every test named "fuzz"): a case that
 * takes longer than `FUZZ_CASE_MS` (default 5,000) fails as a hang, naming its seed, and
 * each run prints `fuzz <name>: <cases> cases, <replayed> replayed in <s> s, slowest
 * <ms> ms (seed <n>)`. `scripts/fuzz_report.ts` runs every target of
 * `tests/fuzz_targets.ts` and tabulates those lines; a new parser (uTP's packet parser
 * is next) gets a target there and a `fuzzCases()` test beside its code.
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
  const run = new FuzzRun(name);
  for (const seed of run.seeds) {
    const at = performance.now();
    try {
      generated(new SeededRandom(seed));
    } catch (e) {
      run.fail(seed, e);
    }
    run.done(seed, at);
  }
  run.finish(replay ? replayCorpus(name, replay) : 0);
}

/**
 * {@linkcode fuzzCases} for a parser whose outcome is read asynchronously (a `Response`).
 * @param name codec name; the corpus folder
 * @param generated one case from a seeded PRNG
 * @param replay one saved input
 */
export async function fuzzCasesAsync(
  name: string,
  generated: (random: SeededRandom) => Promise<void>,
  replay?: (bytes: Uint8Array) => Promise<void>,
): Promise<void> {
  const run = new FuzzRun(name);
  for (const seed of run.seeds) {
    const at = performance.now();
    try {
      await generated(new SeededRandom(seed));
    } catch (e) {
      run.fail(seed, e);
    }
    run.done(seed, at);
  }
  let replayed = 0;
  for (const bytes of corpus(name)) {
    await replay?.(bytes);
    replayed++;
  }
  run.finish(replay ? replayed : 0);
}

/** The seeds, the hang check and the summary line of one fuzz run. */
class FuzzRun {
  readonly seeds: number[];
  readonly #name: string;
  readonly #maxCaseMs = Number(Deno.env.get("FUZZ_CASE_MS") ?? 5000);
  readonly #started = performance.now();
  #slowest = 0;
  #slowestSeed = 0;

  constructor(name: string) {
    this.#name = name;
    const count = Number(Deno.env.get("FUZZ_CASES") ?? 2000);
    const only = Deno.env.get("FUZZ_SEED");
    this.seeds = only ? [Number(only)] : Array.from({ length: count }, (_, i) => i + 1);
  }

  fail(seed: number, e: unknown): never {
    throw new Error(`fuzz ${this.#name}: seed ${seed} failed (replay: FUZZ_SEED=${seed})`, {
      cause: e,
    });
  }

  done(seed: number, startedAt: number): void {
    const ms = performance.now() - startedAt;
    if (ms > this.#slowest) [this.#slowest, this.#slowestSeed] = [ms, seed];
    if (ms > this.#maxCaseMs) {
      throw new Error(
        `fuzz ${this.#name}: seed ${seed} took ${Math.round(ms)} ms, over FUZZ_CASE_MS ` +
          `${this.#maxCaseMs}: a hang or a blow-up (replay: FUZZ_SEED=${seed})`,
      );
    }
  }

  finish(replayed: number): void {
    if (Deno.env.get("FUZZ_CASES") === undefined) return;
    const s = ((performance.now() - this.#started) / 1000).toFixed(1);
    console.log(
      `fuzz ${this.#name}: ${this.seeds.length} cases, ${replayed} replayed in ${s} s, ` +
        `slowest ${this.#slowest.toFixed(1)} ms (seed ${this.#slowestSeed})`,
    );
  }
}

/** Replays `tests/fixtures/fuzz/<name>/`; returns how many inputs it held. */
function replayCorpus(name: string, replay: (bytes: Uint8Array) => void): number {
  let n = 0;
  for (const bytes of corpus(name)) {
    replay(bytes);
    n++;
  }
  return n;
}

/** The saved inputs of `tests/fixtures/fuzz/<name>/` (none when the folder is absent). */
function* corpus(name: string): Generator<Uint8Array> {
  const dir = new URL(`./fixtures/fuzz/${name}/`, import.meta.url);
  let entries: Deno.DirEntry[] = [];
  try {
    entries = [...Deno.readDirSync(dir)];
  } catch {
    return; // no corpus yet
  }
  for (const entry of entries) {
    if (entry.isFile) yield Deno.readFileSync(new URL(entry.name, dir));
  }
}
