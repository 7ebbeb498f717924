/**
 * Storage faults as a user meets them, `get` run as a child process against a loopback
 * seeder: each fault no retry can fix ends the run within seconds with exit 1 and one
 * `error:` line on stderr naming the path and the cause (aria2 stops at once too, with
 * its own exit code); what was verified stays on disk, with resume data saying so (on a
 * full disk too); nothing is written outside the download directory. Faults that need root (a tmpfs, an immutable directory) are skipped
 * with a note where they cannot be set up.
 * @module
 */
import { join } from "node:path";
import { assert, assertEquals } from "../assert.ts";
import { type CliRun, runCli, type SeederContext, withSeeder } from "./_cli_swarm.ts";
import { parseTorrent } from "../../src/metainfo/mod.ts";
import { decodeResume } from "../../src/storage/resume.ts";

/** 1.5 MiB in 24 pieces of 64 KiB, two files. */
const FILES: [string, number][] = [["a.bin", 1_000_000], ["b.bin", 572_864]];
const IS_ROOT = Deno.uid() === 0;

/** Exit 1 within `maxMs`, one stderr line: `error: ...` holding each fragment. */
function assertStops(r: CliRun, maxMs: number, ...fragments: string[]): string {
  assertEquals(r.code, 1, `exit code; stderr: ${r.stderr}`);
  const lines = r.stderr.trimEnd().split("\n");
  assertEquals(lines.length, 1, `one stderr line, got: ${r.stderr}`);
  const line = lines[0]!;
  assert(line.startsWith("error: Cannot "), line);
  for (const f of fragments) assert(line.includes(f), `"${f}" missing from: ${line}`);
  assert(r.ms < maxMs, `exited after ${r.ms} ms: ${line}`);
  assert(!r.stdout.includes("Complete"), r.stdout);
  assertEquals(r.stdout.trimEnd().split("\n").filter((l) => l.startsWith("Stopped: ")).length, 1);
  return line;
}

/** Mounts a tmpfs of `size` on a fresh directory for `fn`, unmounting after; false if refused. */
async function withTmpfs(
  options: string,
  fn: (dir: string) => Promise<void>,
): Promise<boolean> {
  const dir = await Deno.makeTempDir({ prefix: "swarmd-tmpfs-" });
  try {
    const mount = await new Deno.Command("mount", {
      args: ["-t", "tmpfs", "-o", options, "tmpfs", dir],
      stdout: "null",
      stderr: "null",
    }).output().catch(() => undefined);
    if (!mount?.success) return false;
    try {
      await fn(dir);
    } finally {
      await new Deno.Command("umount", { args: [dir] }).output();
    }
    return true;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function get(ctx: SeederContext, out: string, ...more: string[]): Promise<CliRun> {
  return runCli(["get", ctx.torrent, "-o", out, ...ctx.peerArgs, "--timeout", "60", ...more]);
}

Deno.test("get stops at once with one error line when storage fails for good", async (t) => {
  await withSeeder(FILES, async (ctx) => {
    await t.step("-o names a regular file: exit 1, not a directory", async () => {
      const file = join(ctx.root, "afile");
      await Deno.writeTextFile(file, "x");
      const r = await get(ctx, file);
      assertStops(r, 15_000, `"${file}"`, "is not a directory");
      assertEquals(await Deno.readTextFile(file), "x");
    });

    await t.step("-o names a directory we cannot write: exit 1, permission", async () => {
      const dir = join(ctx.root, "locked");
      await Deno.mkdir(dir);
      // root writes through mode bits: an immutable directory (ext4, chattr) refuses it too
      const lock = IS_ROOT
        ? await new Deno.Command("chattr", { args: ["+i", dir], stderr: "null" }).output()
          .then((o) => o.success, () => false)
        : (await Deno.chmod(dir, 0o555), true);
      if (!lock) return console.log("  skipped: cannot make a directory unwritable here");
      try {
        const r = await get(ctx, dir);
        assertStops(r, 15_000, `"${dir}`, IS_ROOT ? "(EPERM)" : "(EACCES)");
      } finally {
        if (IS_ROOT) await new Deno.Command("chattr", { args: ["-i", dir] }).output();
        else await Deno.chmod(dir, 0o755);
      }
      assertEquals([...Deno.readDirSync(dir)], []);
    });

    await t.step("a symlink planted inside the download directory: exit 1, refused", async () => {
      const dl = join(ctx.root, "dl-link"), outside = join(ctx.root, "outside");
      await Deno.mkdir(dl);
      await Deno.mkdir(outside);
      await Deno.symlink(outside, join(dl, "payload"));
      const r = await get(ctx, dl);
      assertStops(r, 15_000, `"${join(dl, "payload")}" is a symlink`);
      assertEquals([...Deno.readDirSync(outside)], [], "nothing written outside the root");
    });

    await t.step("a read-only file system: exit 1, EROFS", async () => {
      const ran = await withTmpfs("ro,size=1m", async (dir) => {
        const r = await get(ctx, dir);
        assertStops(r, 15_000, `"${dir}`, "read-only file system (EROFS)");
      });
      if (!ran) console.log("  skipped: cannot mount a tmpfs here");
    });

    await t.step(
      "no space left: exit 1, says how much more is needed, keeps verified pieces",
      async () => {
        const ran = await withTmpfs("size=1m", async (dir) => {
          const r = await get(ctx, dir);
          const line = assertStops(
            r,
            15_000,
            "no space left on device (ENOSPC)",
            "more free space",
          );
          const needed = /; ([\d.]+ KiB) more free space is needed to finish$/.exec(line);
          assert(needed, line);
          // What was verified is still there: verify finds those pieces good.
          const verify = await runCli(["verify", ctx.torrent, dir, "--json"]);
          const good = JSON.parse(verify.stdout).goodPieces as number;
          const kept = /Stopped: payload, ([\d.]+ KiB) of/.exec(r.stdout);
          assert(good > 0 && good < 24, `pieces kept: ${good}; ${r.stdout}`);
          assertEquals(kept?.[1], `${(good * 64).toFixed(0)} KiB`, r.stdout);
          // ...and so is the resume data, rewritten in place on the full disk.
          const meta = parseTorrent(await Deno.readFile(ctx.torrent));
          const bytes = await Deno.readFile(join(dir, ".swarmd", `${meta.infoHashHex}.resume`));
          const resume = decodeResume(bytes, {
            infoHash: meta.infoHash,
            pieceCount: meta.pieceCount,
            fileCount: meta.files.length,
          });
          assert(!("error" in resume), JSON.stringify(resume));
          assertEquals(resume.have.count, good, "the resume data records every kept piece");
        });
        if (!ran) console.log("  skipped: cannot mount a tmpfs here");
      },
    );
  });
});
