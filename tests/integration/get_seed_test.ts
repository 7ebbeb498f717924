/**
 * `get` and `seed` as a user runs them, over real loopback TCP: a selective download
 * with --files, an interrupted download that resumes from its resume data (SIGTERM keeps
 * verified data), and the exit codes for bad input and for no peers in time (whose error
 * names every source tried and what it answered).
 * @module
 */
import { join } from "node:path";
import { assert, assertEquals } from "../assert.ts";
import {
  closedPort,
  digestOf,
  runCli as run,
  spawnCli as deno,
  withSeeder as withFiles,
} from "./_cli_swarm.ts";
import type { SeederContext } from "./_cli_swarm.ts";

const FILES: [string, number][] = [["a.bin", 700_000], ["b.bin", 1_300_000], ["c.bin", 500_000]];

/** The three-file payload, seeded. */
function withSeeder(fn: (ctx: SeederContext) => Promise<void>): Promise<void> {
  return withFiles(FILES, fn);
}

Deno.test("get --files downloads only the chosen files, verified", async () => {
  await withSeeder(async ({ root, torrent, port, digests }) => {
    const dl = join(root, "dl");
    const r = await run([
      "get",
      torrent,
      "-o",
      dl,
      "--peer",
      `127.0.0.1:${port}`,
      "--port",
      "0",
      "--host",
      "127.0.0.1",
      "--files",
      "0,2",
      "--timeout",
      "50",
      "--quiet",
    ]);
    assertEquals(r.code, 0, r.stderr);
    assertEquals(await digestOf(join(dl, "payload", "a.bin")), digests[0]);
    assertEquals(await digestOf(join(dl, "payload", "c.bin")), digests[2]);
    const b = await digestOf(join(dl, "payload", "b.bin"));
    assert(b !== digests[1], "the skipped file was not downloaded in full");
  });
});

Deno.test("get stopped by SIGTERM keeps verified pieces and resumes from resume data", async () => {
  await withSeeder(async ({ root, torrent, port, digests }) => {
    const dl = join(root, "dl");
    const peerArgs = ["--peer", `127.0.0.1:${port}`, "--port", "0", "--host", "127.0.0.1"];
    // A slow first run (256 KiB/s): stopped after about a second.
    const first = deno(["get", torrent, "-o", dl, ...peerArgs, "--max-download", "256K", "--json"]);
    const reader = first.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let verified = 0, buffered = "";
    while (verified < 3) {
      const { value, done } = await reader.read();
      if (done) break;
      buffered += value;
      verified = (buffered.match(/"piece-verified"/g) ?? []).length;
    }
    first.kill("SIGTERM");
    const status = await first.status;
    reader.releaseLock();
    await first.stdout.cancel().catch(() => {});
    await first.stderr.cancel().catch(() => {});
    assertEquals(status.code, 1, "an interrupted, unfinished download exits 1");
    assert(verified >= 3, `pieces verified before the stop: ${verified}`);
    // Second run: resume data is trusted (no rehash) and the download completes.
    const second = await run(["get", torrent, "-o", dl, ...peerArgs, "--json", "--timeout", "50"]);
    assertEquals(second.code, 0, second.stderr);
    const check = second.stdout.split("\n").find((l) => l.includes('"check-finished"'));
    assert(check?.includes('"usedResume":true'), `resume data used: ${check}`);
    const had = JSON.parse(check!).piecesHave as number;
    assert(had >= 3, `pieces kept across the restart: ${had}`);
    for (const [i, [name]] of FILES.entries()) {
      assertEquals(await digestOf(join(dl, "payload", name)), digests[i]);
    }
  });
});

Deno.test("get: bad input exits 2, no peers in time exits 1 and says why", async () => {
  const root = await Deno.makeTempDir({ prefix: "swarmd-get-bad-" });
  try {
    const garbage = join(root, "bad.torrent");
    await Deno.writeTextFile(garbage, "d4:infoi1ee");
    const bad = await run(["get", garbage, "-o", root]);
    assertEquals(bad.code, 2);
    assert(bad.stderr.startsWith("error: ") && bad.stderr.includes("bad.torrent"), bad.stderr);
    const src = join(root, "one.bin");
    await Deno.writeFile(src, new Uint8Array(100_000).fill(7));
    const torrent = join(root, "one.torrent");
    assertEquals((await run(["create", src, "-o", torrent])).code, 0);
    const badPeer = await run(["get", torrent, "--peer", "nowhere"]);
    assertEquals(badPeer.code, 2, badPeer.stderr);
    const badFiles = await run(["get", torrent, "--files", "3"]);
    assertEquals(badFiles.code, 2, badFiles.stderr);
    // No peer anywhere: the error explains every source tried, and what it answered.
    const tracker = `http://127.0.0.1:${closedPort()}/announce`;
    const lonely = await run([
      "get",
      torrent,
      "-o",
      join(root, "dl"),
      "--port",
      "0",
      "--host",
      "127.0.0.1",
      "--timeout",
      "2",
      "--no-dht",
      "--no-lsd",
      "--tracker",
      tracker,
    ]);
    assertEquals(lonely.code, 1, lonely.stderr);
    // (tracker warnings come first; the tracker client words them)
    const errors = lonely.stderr.trimEnd().split("\n").filter((l) => !l.startsWith("warning: "));
    assertEquals(errors.length, 1, lonely.stderr);
    const line = errors[0]!;
    assert(line.startsWith("error: not complete after 2 s (0 of 100000 bytes); no peers after "));
    assert(line.includes(`trackers: ${tracker} (`) && line.includes("failure"), line);
    assert(line.includes("DHT: off (--no-dht); PEX: no connected peer to ask"), line);
    assert(/Stopped: one\.bin, 0 B of 97\.7 KiB verified/.test(lonely.stdout), lonely.stdout);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
