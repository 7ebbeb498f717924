/**
 * Failures a user can understand, from the command line: one summary line at the end of a
 * run (no duplicate "complete" lines), `--json` lines with their time, a `--log FILE` of
 * dials, handshakes, choke state, tracker and DHT traffic with timestamps, and the no-peers
 * explanation naming every source tried.
 * @module
 */
import { join } from "node:path";
import { assert, assertEquals } from "../assert.ts";
import { runCli, withSeeder } from "./_cli_swarm.ts";

const FILES: [string, number][] = [["a.bin", 700_000], ["b.bin", 300_000]];
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z /;

/** A local port with nothing listening (bound, then released). */
function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

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
          "--peer",
          `127.0.0.1:${port}`,
          "--port",
          "0",
          "--host",
          "127.0.0.1",
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
        has(/event peer 127\.0\.0\.1:\d+ connected \(we dialled, handshake done, client /);
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

Deno.test("get with no peer explains every source it tried", async () => {
  const root = await Deno.makeTempDir({ prefix: "swarmd-lonely-" });
  try {
    const src = join(root, "one.bin");
    await Deno.writeFile(src, new Uint8Array(100_000).fill(7));
    const torrent = join(root, "one.torrent");
    assertEquals((await runCli(["create", src, "-o", torrent])).code, 0);
    const tracker = `http://127.0.0.1:${closedPort()}/announce`;
    const r = await runCli([
      "get",
      torrent,
      "-o",
      join(root, "dl"),
      "--port",
      "0",
      "--host",
      "127.0.0.1",
      "--no-dht",
      "--tracker",
      tracker,
      "--timeout",
      "3",
    ]);
    assertEquals(r.code, 1, r.stderr);
    // (tracker warnings come first; the tracker client words them)
    const lines = r.stderr.trimEnd().split("\n").filter((l) => !l.startsWith("warning: "));
    assertEquals(lines.length, 1, r.stderr);
    const line = lines[0]!;
    assert(
      line.startsWith("error: not complete after 3 s (0 of 100000 bytes); no peers after "),
      line,
    );
    assert(line.includes(`trackers: ${tracker} (`) && line.includes("failure"), line);
    assert(line.includes("DHT: off (--no-dht); PEX: no connected peer to ask"), line);
    assert(/Stopped: one\.bin, 0 B of 97\.7 KiB verified/.test(r.stdout), r.stdout);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
