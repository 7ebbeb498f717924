/** Lists the project's TypeScript sources for the check scripts. @module */

/** Every `.ts` file below `dir` (relative paths, sorted), skipping hidden folders. */
export function listTs(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of Deno.readDirSync(d)) {
      if (e.name.startsWith(".")) continue;
      const p = `${d}/${e.name}`;
      if (e.isDirectory) walk(p);
      else if (e.isFile && e.name.endsWith(".ts")) out.push(p);
    }
  };
  try {
    walk(dir);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return out.sort();
}
