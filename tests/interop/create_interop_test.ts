/**
 * Interop: the info-hash our `create` computes is the one the reference tools compute.
 *
 * - python3-libtorrent reads our .torrent (`lt.torrent_info(path).info_hash()`) and gets
 *   our info-hash, file list and piece count.
 * - libtorrent creates a torrent over the same single file with the same piece length
 *   (`create_torrent(..., flags=v1_only)`: 2.0 makes hybrid v1+v2 torrents by default)
 *   and gets the same info-hash. The info-hash is SHA-1 of the info dictionary only, so
 *   the keys outside it that differ (libtorrent writes "creation date", we write "created
 *   by", a tracker and a comment) do not matter; keys inside it (name, length, piece length,
 *   pieces, private) must be byte-identical, which is what the equal hashes prove.
 * - For a directory, libtorrent's `add_files` keeps the directory's listing order (and moves
 *   empty files last), so its hash differs by design; mktorrent sorts paths as bytes like
 *   we do, so a multi-file torrent is compared against `mktorrent -d` instead.
 *
 * Skipped with one printed line when python3-libtorrent is missing, unless
 * SWARMD_REQUIRE_INTEROP=1 (then it fails).
 * @module
 */
import { join } from "node:path";
import { assertEquals } from "../assert.ts";
import { interopRequired, interopTest, runPythonJson } from "./_harness.ts";
import { main } from "../../src/cli/main.ts";
import type { CliIo } from "../../src/cli/common.ts";

const LIBTORRENT = `
import json, os, sys
import libtorrent as lt

def describe(path):
    ti = lt.torrent_info(path)
    fs = ti.files()
    return {
        "infoHash": str(ti.info_hash()),
        "pieces": ti.num_pieces(),
        "pieceLength": ti.piece_length(),
        "private": ti.priv(),
        "files": [[fs.file_path(i).replace(os.sep, "/"), fs.file_size(i)] for i in range(fs.num_files())],
    }

if sys.argv[1] == "read":
    print(json.dumps(describe(sys.argv[2])))
else:
    source, piece_length, private, out = sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1", sys.argv[5]
    fs = lt.file_storage()
    lt.add_files(fs, source)
    ct = lt.create_torrent(fs, piece_length, flags=lt.create_torrent.v1_only)
    ct.set_priv(private)
    lt.set_piece_hashes(ct, os.path.dirname(source))
    with open(out, "wb") as f:
        f.write(lt.bencode(ct.generate()))
    print(json.dumps(describe(out)))
`;

interface Described {
  infoHash: string;
  pieces: number;
  pieceLength: number;
  private: boolean;
  files: [string, number][];
}

/** Runs our CLI in process; resolves to the `--json` object `create` printed. */
async function create(args: string[]): Promise<{ infoHash: string; pieceCount: number }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = {
    stdout: (line) => out.push(line),
    stderr: (line) => err.push(line),
    status: () => {},
    isTerminal: false,
  };
  const code = await main(["create", ...args, "--json"], io);
  assertEquals(code, 0, err.join("\n"));
  return JSON.parse(out.join("\n"));
}

/** Deterministic, incompressible-enough content. */
function content(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    bytes[i] = x & 0xff;
  }
  return bytes;
}

const SINGLE_FILE_CASES = [
  { name: "short last piece", length: 1_000_001, pieceLength: 65_536, isPrivate: false },
  { name: "exact pieces, private", length: 4 * 16_384, pieceLength: 16_384, isPrivate: true },
  { name: "one short piece", length: 1_000, pieceLength: 262_144, isPrivate: false },
];

await interopTest("create: info-hash equals libtorrent's for a single file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "swarmd-interop-" });
  try {
    for (const [i, c] of SINGLE_FILE_CASES.entries()) {
      const source = join(dir, `file-${i}.bin`);
      await Deno.writeFile(source, content(c.length, i + 1));
      const ours = join(dir, `ours-${i}.torrent`);
      const flags = c.isPrivate ? ["--private"] : [];
      const made = await create([
        source,
        "-o",
        ours,
        "--piece-length",
        String(c.pieceLength),
        "--tracker",
        "http://127.0.0.1:6969/announce",
        "--comment",
        "outside the info dict",
        ...flags,
      ]);
      const read = await runPythonJson<Described>(LIBTORRENT, ["read", ours]);
      const theirs = await runPythonJson<Described>(LIBTORRENT, [
        "create",
        source,
        String(c.pieceLength),
        c.isPrivate ? "1" : "0",
        join(dir, `lt-${i}.torrent`),
      ]);
      const expected = {
        infoHash: made.infoHash,
        pieces: Math.ceil(c.length / c.pieceLength),
        pieceLength: c.pieceLength,
        private: c.isPrivate,
        files: [[`file-${i}.bin`, c.length]],
      };
      assertEquals(read, expected, `${c.name}: libtorrent reading our torrent`);
      assertEquals(theirs, expected, `${c.name}: libtorrent creating its own`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

const TREE: [string, number][] = [
  [".hidden", 5_000],
  ["B.bin", 3_000],
  ["a.bin", 40_000],
  ["empty.txt", 0],
  ["nested/deep/b.bin", 70_000],
  ["z.bin", 30_000],
];

await interopTest(
  "create: a directory reads back in libtorrent and hashes like mktorrent",
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "swarmd-interop-" });
    try {
      for (const [i, [path, length]] of TREE.entries()) {
        await Deno.mkdir(join(dir, "payload", path, ".."), { recursive: true });
        await Deno.writeFile(join(dir, "payload", path), content(length, 100 + i));
      }
      const ours = join(dir, "ours.torrent");
      const made = await create([join(dir, "payload"), "-o", ours, "--piece-length", "32K"]);
      const read = await runPythonJson<Described>(LIBTORRENT, ["read", ours]);
      assertEquals(read.infoHash, made.infoHash);
      assertEquals(read.files, TREE.map(([path, length]) => [`payload/${path}`, length]));
      assertEquals(read.pieces, Math.ceil(148_000 / 32_768));

      const mktorrent = await mktorrentHash(join(dir, "payload"), join(dir, "mk.torrent"));
      if (mktorrent !== undefined) assertEquals(mktorrent, made.infoHash, "mktorrent -l 15");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

/** mktorrent's info-hash for `source` at 32 KiB pieces, or `undefined` when not installed. */
async function mktorrentHash(source: string, out: string): Promise<string | undefined> {
  let result: Deno.CommandOutput;
  try {
    result = await new Deno.Command("mktorrent", {
      args: ["-l", "15", "-d", "-o", out, source],
      stdout: "null",
      stderr: "piped",
      signal: AbortSignal.timeout(30_000),
    }).output();
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound) || interopRequired()) throw e;
    console.log("skipping the mktorrent comparison: mktorrent not installed");
    return undefined;
  }
  assertEquals(result.code, 0, new TextDecoder().decode(result.stderr));
  return (await runPythonJson<Described>(LIBTORRENT, ["read", out])).infoHash;
}
