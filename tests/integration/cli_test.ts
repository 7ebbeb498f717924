/**
 * The command line as a user runs it: each case starts the CLI as a subprocess and checks
 * its exit code (0 success, 1 runtime failure, 2 bad input), stdout and its one-line stderr.
 * Flow: `create` → `info --json` → `verify` on a multi-file tree whose pieces cross file
 * boundaries, with a nested directory, an empty file and a hidden file.
 * @module
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { assert, assertEquals } from "../assert.ts";
import { decode, getBytes, getDict, isDict } from "../../src/bencode/mod.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const PIECE = 16 * 1024;

/** mod.ts once it runs the CLI, else the dispatcher's own entry point ($SWARMD_CLI_ENTRY wins). */
function entryPoint(): string {
  const chosen = Deno.env.get("SWARMD_CLI_ENTRY");
  if (chosen) return chosen;
  try {
    if (Deno.readTextFileSync(join(ROOT, "mod.ts")).includes("cli/main.ts")) return "mod.ts";
  } catch {
    // No mod.ts yet: fall through to the dispatcher.
  }
  return "src/cli/main.ts";
}
const ENTRY = entryPoint();

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI with `args`; bounded by a 30 s kill switch. */
async function cli(...args: string[]): Promise<Run> {
  const command = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", ENTRY, ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(30_000),
  });
  const out = await command.output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** Asserts a one-line `error: ...` on stderr and the exit code. */
function assertFailure(run: Run, code: number, ...fragments: string[]): void {
  assertEquals(run.code, code, `exit code; stderr: ${run.stderr}`);
  const lines = run.stderr.trimEnd().split("\n");
  assertEquals(lines.length, 1, `one stderr line, got: ${run.stderr}`);
  assert(lines[0]!.startsWith("error: "), lines[0]);
  for (const f of fragments) assert(lines[0]!.includes(f), `"${f}" missing from: ${lines[0]}`);
}

/** Deterministic file content: byte i is (seed + i * 31) & 0xff. */
function content(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (seed + i * 31) & 0xff;
  return bytes;
}

/** The tree, in the order the torrent lists it (path components as UTF-8 bytes). */
const TREE: [string, number][] = [
  [".hidden", 5_000],
  ["a.bin", 40_000],
  ["empty.txt", 0],
  ["nested/deep/b.bin", 70_000],
  ["z.bin", 30_000],
];

async function makeTree(dir: string): Promise<Uint8Array[]> {
  const datas: Uint8Array[] = [];
  for (const [i, [path, length]] of TREE.entries()) {
    const full = join(dir, "payload", path);
    await Deno.mkdir(join(full, ".."), { recursive: true });
    const data = content(length, i * 7 + 1);
    await Deno.writeFile(full, data);
    datas.push(data);
  }
  return datas;
}

/** SHA-1 of every piece of the concatenated files, as the torrent must hold them. */
function expectedPieces(datas: Uint8Array[]): Uint8Array {
  const all = new Uint8Array(datas.reduce((n, d) => n + d.length, 0));
  let at = 0;
  for (const d of datas) {
    all.set(d, at);
    at += d.length;
  }
  const out: number[] = [];
  for (let p = 0; p < all.length; p += PIECE) {
    out.push(...createHash("sha1").update(all.subarray(p, p + PIECE)).digest());
  }
  return new Uint8Array(out);
}

Deno.test("cli create → info --json → verify round-trips a multi-file tree", async () => {
  const dir = await Deno.makeTempDir({ prefix: "swarmd-cli-" });
  try {
    const datas = await makeTree(dir);
    const torrent = join(dir, "payload.torrent");
    const created = await cli(
      "create",
      join(dir, "payload"),
      "-o",
      torrent,
      "--piece-length",
      "16K",
      "--tracker",
      "http://127.0.0.1:1/announce,udp://127.0.0.1:2",
      "--tracker",
      "http://127.0.0.1:3/announce",
      "--web-seed",
      "http://127.0.0.1:4/files/",
      "--comment",
      "cli test",
      "--no-date",
      "--json",
    );
    assertEquals(created.code, 0, created.stderr);
    const made = JSON.parse(created.stdout);
    const total = TREE.reduce((n, [, len]) => n + len, 0);
    assertEquals(made.pieceCount, Math.ceil(total / PIECE));
    assertEquals([made.pieceLength, made.totalLength, made.fileCount], [PIECE, total, 5]);

    const raw = decode(await Deno.readFile(torrent));
    const info = isDict(raw) ? getDict(raw, "info") : undefined;
    const pieces = info && getBytes(info, "pieces");
    assertEquals(pieces, expectedPieces(datas), "piece hashes computed in the worker pool");

    const [shown, verified, human] = await Promise.all([
      cli("info", torrent, "--json"),
      cli("verify", torrent, dir, "--json"),
      cli("info", torrent),
    ]);
    assertEquals(shown.code, 0, shown.stderr);
    const meta = JSON.parse(shown.stdout);
    assertEquals(meta.infoHash, made.infoHash);
    assertEquals(meta.name, "payload");
    assertEquals(meta.files, TREE.map(([path, length]) => ({ path: `payload/${path}`, length })));
    assertEquals(meta.trackers, [
      ["http://127.0.0.1:1/announce", "udp://127.0.0.1:2"],
      ["http://127.0.0.1:3/announce"],
    ]);
    assertEquals(meta.webSeeds, ["http://127.0.0.1:4/files/"]);
    assertEquals([meta.private, meta.comment, meta.creationDate], [false, "cli test", null]);
    assertEquals(meta.createdBy.startsWith("swarmd/"), true);

    assertEquals(verified.code, 0, verified.stderr);
    const report = JSON.parse(verified.stdout);
    assertEquals([report.complete, report.goodPieces], [true, made.pieceCount]);
    assertEquals(report.files[2], {
      path: "payload/empty.txt",
      length: 0,
      goodPieces: 0,
      totalPieces: 0,
    });

    assertEquals(human.code, 0);
    assert(
      human.stdout.includes(made.infoHash) && human.stdout.includes("payload/nested/deep/b.bin"),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli verify exits 1 and reports the piece holding a corrupted byte", async () => {
  const dir = await Deno.makeTempDir({ prefix: "swarmd-cli-" });
  try {
    await makeTree(dir);
    const torrent = join(dir, "t.torrent");
    const created = await cli(
      "create",
      join(dir, "payload"),
      "-o",
      torrent,
      "--piece-length",
      "16384",
    );
    assertEquals(created.code, 0, created.stderr);
    // nested/deep/b.bin starts at byte 45000; its byte 20000 is content byte 65000: piece 3.
    const path = join(dir, "payload", "nested", "deep", "b.bin");
    const data = await Deno.readFile(path);
    data[20_000] = data[20_000]! ^ 0xff;
    await Deno.writeFile(path, data);

    const [json, human] = await Promise.all([
      cli("verify", torrent, dir, "--json"),
      cli("verify", torrent, dir),
    ]);
    assertEquals(json.code, 1, json.stderr);
    const report = JSON.parse(json.stdout);
    const count = Math.ceil(145_000 / PIECE);
    assertEquals([report.complete, report.pieceCount, report.goodPieces], [
      false,
      count,
      count - 1,
    ]);
    const bits = parseInt(report.bitfield.slice(0, 2), 16);
    assertEquals(bits & 0x10, 0, "piece 3 (bit 0x10 of byte 0) is bad");
    const b = report.files.find((f: { path: string }) => f.path === "payload/nested/deep/b.bin");
    assertEquals([b.goodPieces, b.totalPieces], [5, 6]);
    assertEquals(human.code, 1);
    assert(human.stdout.includes("1 piece bad or missing: 3"), human.stdout);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli exits 2 with one error line naming the file on bad input", async () => {
  const dir = await Deno.makeTempDir({ prefix: "swarmd-cli-" });
  try {
    const garbage = join(dir, "garbage.torrent");
    await Deno.writeTextFile(
      garbage,
      "d4:infod6:lengthi5e4:name1:x12:piece lengthi16384e6:pieces3:abcee",
    );
    const notBencode = join(dir, "text.torrent");
    await Deno.writeTextFile(notBencode, "hello, world");
    const existing = join(dir, "exists.torrent");
    await Deno.writeTextFile(existing, "");
    const [missing, bad, text, flag, unknown, pieceLength, exists, noDir, none] = await Promise
      .all([
        cli("info", join(dir, "missing.torrent")),
        cli("info", garbage),
        cli("verify", notBencode, dir),
        cli("info", "--bogus", garbage),
        cli("frobnicate"),
        cli("create", garbage, "-o", join(dir, "x.torrent"), "--piece-length", "3000"),
        cli("create", garbage, "-o", existing),
        cli("verify", garbage, join(dir, "nowhere")),
        cli("create", join(dir, "nothing-here"), "-o", join(dir, "y.torrent")),
      ]);
    assertFailure(missing, 2, "missing.torrent", "not found");
    assertFailure(bad, 2, "garbage.torrent", "info.pieces");
    assertFailure(text, 2, "text.torrent", "(bencode)");
    assertFailure(flag, 2, "bogus");
    assertFailure(unknown, 2, "frobnicate");
    assertFailure(pieceLength, 2, "--piece-length", "3000");
    assertFailure(exists, 2, "exists.torrent", "--force");
    assertFailure(noDir, 2, "garbage.torrent");
    assertFailure(none, 2, "nothing-here");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli --debug adds the stack trace to the error line", async () => {
  const [plain, debug] = await Promise.all([
    cli("info", "/nonexistent/x.torrent"),
    cli("--debug", "info", "/nonexistent/x.torrent"),
  ]);
  assertFailure(plain, 2, "x.torrent");
  assertEquals(debug.code, 2);
  assert(debug.stderr.split("\n").length > 2, debug.stderr);
  assert(debug.stderr.includes("    at "), debug.stderr);
});

Deno.test("cli --help and --version exit 0 for the tool and every command", async () => {
  const commands = ["create", "info", "verify", "get", "seed", "tracker"];
  const runs = await Promise.all([
    cli("--help"),
    cli("--version"),
    ...commands.map((c) => cli(c, "--help")),
  ]);
  assertEquals(runs[0]!.code, 0);
  for (const c of commands) assert(runs[0]!.stdout.includes(c), `${c} listed in --help`);
  assert(/^swarmd \d+\.\d+\.\d+/.test(runs[1]!.stdout), runs[1]!.stdout);
  for (const [i, c] of commands.entries()) {
    const run = runs[i + 2]!;
    const exists = await Deno.stat(join(ROOT, "src/cli", `${c}_command.ts`)).then(
      () => true,
      () => false,
    );
    if (!exists) {
      assertFailure(run, 1, "not available yet");
      continue;
    }
    assertEquals(run.code, 0, `${c} --help: ${run.stderr}`);
    assert(run.stdout.includes("Usage:") && run.stdout.includes(c), run.stdout);
  }
  const create = runs[2]!.stdout;
  for (const flag of ["--output", "--tracker", "--piece-length", "--private", "--web-seed"]) {
    assert(create.includes(flag), `create --help lists ${flag}`);
  }
});

Deno.test("cli info prints magnet links and escapes terminal controls in names", async () => {
  const dir = await Deno.makeTempDir({ prefix: "swarmd-cli-" });
  try {
    const hex = "0123456789abcdef0123456789abcdef01234567";
    const evil = join(dir, "red\x1b[31mname.bin");
    await Deno.writeFile(evil, content(1000, 3));
    const torrent = join(dir, "evil.torrent");
    const created = await cli("create", evil, "-o", torrent);
    assertEquals(created.code, 0, created.stderr);
    const magnet =
      `magnet:?xt=urn:btih:${hex}&dn=bad%1Bname&tr=udp%3A%2F%2F127.0.0.1%3A9&x.pe=127.0.0.1:6881`;
    const [human, json, text] = await Promise.all([
      cli("info", torrent),
      cli("info", magnet, "--json"),
      cli("info", magnet),
    ]);
    assertEquals(human.code, 0, human.stderr);
    assert(!human.stdout.includes("\x1b") && !created.stdout.includes("\x1b"), human.stdout);
    assertEquals(json.code, 0, json.stderr);
    const link = JSON.parse(json.stdout);
    assertEquals(link.infoHash, hex);
    assertEquals(link.trackers, ["udp://127.0.0.1:9"]);
    assertEquals(link.peers, ["127.0.0.1:6881"]);
    assertEquals(text.code, 0);
    assert(text.stdout.includes(hex) && !text.stdout.includes("\x1b"), text.stdout);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
