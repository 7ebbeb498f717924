/**
 * Completion means on disk (RELIABILITY rule 4), `get` run as a child process against a
 * loopback seeder: a download folder deleted mid-download is an error (exit 1), never a
 * completion; a byte flipped in a verified piece with the file's mtime put back is caught
 * by the resume spot check and fetched again; resume data never follows a symlink
 * planted as `<dir>/.swarmd`.
 * @module
 */
import { join } from "node:path";
import { assert, assertEquals } from "../assert.ts";
import { digestOf, Lines, runCli, spawnCli, withSeeder } from "./_cli_swarm.ts";

/** 1.5 MiB in 24 pieces of 64 KiB, two files. */
const FILES: [string, number][] = [["a.bin", 1_000_000], ["b.bin", 572_864]];
/** 16 pieces: the resume spot check (16 pieces) covers every one. */
const SMALL: [string, number][] = [["a.bin", 700_000], ["b.bin", 300_000]];

Deno.test("get: a download folder deleted mid-download is an error, not a completion", async () => {
  await withSeeder(FILES, async ({ root, torrent, peerArgs }) => {
    const dl = join(root, "dl");
    // 128 KiB/s: about 12 s for the whole payload; the folder goes after 3 pieces.
    const args = ["get", torrent, "-o", dl, ...peerArgs, "--max-download", "128K", "--json"];
    const child = spawnCli([...args, "--timeout", "60"], { signal: AbortSignal.timeout(60_000) });
    const out = new Lines(child.stdout);
    let verified = 0;
    await out.until((line) => line.includes('"piece-verified"') && ++verified >= 3);
    await Deno.remove(join(dl, "payload"), { recursive: true });
    const deletedAt = performance.now();
    const [status, stderr, lines] = await Promise.all([
      child.status,
      new Response(child.stderr).text(),
      out.rest(),
    ]);
    const took = performance.now() - deletedAt;
    assertEquals(status.code, 1, stderr);
    assert(!lines.some((l) => l.includes('"torrent-completed"')), "never reported complete");
    const errors = stderr.trimEnd().split("\n");
    assertEquals(errors.length, 1, stderr);
    // A write after the deletion may make the folder again (the file then exists, short):
    // either way the file named is the one whose verified bytes are gone.
    assert(
      errors[0]!.startsWith(`error: Cannot finish the download: "${join(dl, "payload")}/`) &&
        /is missing \(deleted or moved while downloading\)|shorter than the \d+ bytes verified into it \(deleted, truncated or replaced while downloading\)/
          .test(errors[0]!),
      errors[0],
    );
    assert(took < 8_000, `exited ${Math.round(took)} ms after the deletion`);
    const summary = JSON.parse(lines.findLast((l) => l.includes('"summary"'))!);
    assertEquals([summary.outcome, typeof summary.error], ["error", "string"]);
  });
});

Deno.test("get: a byte flipped in a verified piece with its mtime put back is fetched again", async () => {
  await withSeeder(SMALL, async ({ root, torrent, peerArgs, digests }) => {
    const dl = join(root, "dl");
    const first = await runCli(["get", torrent, "-o", dl, ...peerArgs, "--timeout", "60"]);
    assertEquals(first.code, 0, first.stderr);
    const file = join(dl, "payload", "a.bin");
    const { atime, mtime } = await Deno.stat(file);
    const bytes = await Deno.readFile(file);
    bytes[5 * 65536 + 100]! ^= 0x01; // piece 5
    await Deno.writeFile(file, bytes);
    await Deno.utime(file, atime!, mtime!); // same size, same mtime: the stat check passes
    const second = await runCli(["get", torrent, "-o", dl, ...peerArgs, "--json"]);
    assertEquals(second.code, 0, second.stderr);
    const warning = second.stdout.split("\n").find((l) => l.includes('"storage-warning"'));
    assert(warning?.includes("piece 5 fails its hash"), second.stdout);
    const check = JSON.parse(second.stdout.split("\n").find((l) => l.includes("check-finished"))!);
    assertEquals([check.usedResume, check.piecesHave], [false, 15]);
    assertEquals(await digestOf(file), digests[0], "the piece was fetched again");
  });
});

Deno.test("get: resume data never follows a symlink planted as <dir>/.swarmd", async () => {
  await withSeeder(FILES, async ({ root, torrent, peerArgs, digests }) => {
    const dl = join(root, "dl"), outside = join(root, "outside");
    await Deno.mkdir(dl);
    await Deno.mkdir(outside);
    await Deno.symlink(outside, join(dl, ".swarmd"));
    const r = await runCli(["get", torrent, "-o", dl, ...peerArgs, "--timeout", "60"]);
    assertEquals(r.code, 0, r.stderr);
    assertEquals(await digestOf(join(dl, "payload", "a.bin")), digests[0]);
    assertEquals([...Deno.readDirSync(outside)], [], "nothing written outside the root");
    assert(
      r.stderr.includes(`warning: Cannot save resume data: Cannot use file "${dl}/.swarmd/`) &&
        r.stderr.includes(`"${dl}/.swarmd" is a symlink`),
      r.stderr,
    );
  });
});
