/**
 * Failures a user can understand, from the command line: one summary line at the end of a
 * run (no duplicate "complete" lines), `--json` lines with their time, a `--log FILE` of
 * dials, handshakes, choke state, tracker and DHT traffic with timestamps. (The no-peers
 * explanation is checked with the other exit codes in get_seed_test.ts.)
 * @module
 */
import { join } from "node:path";
import { assert, assertEquals } from "../assert.ts";
import { closedPort, runCli, withSeeder } from "./_cli_swarm.ts";

const FILES: [string, number][] = [["a.bin", 700_000], ["b.bin", 300_000]];
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z /;

Deno.test("get ends with one summary line, --json lines carry their time, --log records the run", async (t) => {
  await withSeeder(FILES, async ({ root, torrent, peerArgs, port }) => {
    await t.step("one summary line and no duplicate complete lines", async () => {
      const r = await runCli(["get", torrent, "-o", join(root, "dl1"), ...peerArgs]);
      assertEquals(r.code, 0, r.stderr);
      const lines = r.stdout.trimEnd().split("\n");
      assertEquals(lines.filter((l) => /complete/i.test(l)).length, 1, r.stdout);
      const last = lines.at(-1)!;
      assert(
        /^Complete: payload, 977 KiB verified in .*dl1; downloaded 977 KiB in [\d.]+s \([\d.]+ [KMG]iB\/s average\) from 1 peer; uploaded 0 B$/
          .test(last),
        last,
      );
    });

    await t.step("--json: every line has its time, the last one is the summary", async () => {
      const r = await runCli(["get", torrent, "-o", join(root, "dl2"), ...peerArgs, "--json"]);
      assertEquals(r.code, 0, r.stderr);
      const objects = r.stdout.trimEnd().split("\n").map((l) => JSON.parse(l));
      for (const o of objects) assert(!Number.isNaN(Date.parse(o.time)), JSON.stringify(o));
      const summary = objects.at(-1);
      assertEquals([summary.type, summary.outcome, summary.peersUsed], ["summary", "complete", 1]);
      assertEquals(summary.bytesVerified, 1_000_000);
    });

    await t.step(
      "--log FILE: timestamped dials, handshakes, choke state, trackers, DHT",
      async () => {
        const log = join(root, "logs", "run.log");
        const dead = closedPort();
        const r = await runCli([
          "get",
          torrent,
          "-o",
          join(root, "dl3"),
          ...peerArgs.filter((a) => a !== "--no-dht"), // the DHT runs: its traffic is logged
          "--tracker",
          `http://127.0.0.1:${dead}/announce`,
          "--dht-bootstrap",
          `127.0.0.1:${dead}`,
          "--log",
          log,
        ]);
        assertEquals(r.code, 0, r.stderr);
        const lines = (await Deno.readTextFile(log)).trimEnd().split("\n");
        for (const l of lines) assert(ISO.test(l), l);
        const has = (re: RegExp) =>
          assert(lines.some((l) => re.test(l)), `${re} in:\n${lines.join("\n")}`);
        has(new RegExp(`debug dialing 127\\.0\\.0\\.1:${port}`));
        has(
          /event peer 127\.0\.0\.1:\d+ connected \(we dialled( over uTP)?, handshake done, client /,
        );
        has(/debug 127\.0\.0\.1:\d+ sent unchoke/);
        has(/event piece \d+ verified and written/);
        has(new RegExp(`tracker http://127\\.0\\.0\\.1:${dead}/announce`));
        has(/debug DHT (announce|lookup) started/);
        has(/event download complete: every piece verified and on disk/);
        assert(!r.stderr.includes(ISO.source), "the log went to the file, not stderr");
      },
    );

    await t.step("--log naming a symlink is refused (exit 2, one line)", async () => {
      const target = join(root, "target.log");
      await Deno.writeTextFile(target, "");
      await Deno.symlink(target, join(root, "link.log"));
      const r = await runCli([
        "get",
        torrent,
        "-o",
        join(root, "dl4"),
        "--log",
        join(root, "link.log"),
      ]);
      assertEquals(r.code, 2, r.stderr);
      assertEquals(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
      assert(
        r.stderr.startsWith("error: Invalid --log: ") && r.stderr.includes("symlink"),
        r.stderr,
      );
      assertEquals(await Deno.readTextFile(target), "");
    });
  });
});
