/**
 * Metainfo interop with libtorrent (python3-libtorrent 2.0): both directions of
 * .torrent creation, unsorted info dictionaries (RELIABILITY B5), hybrid v1/v2 torrents
 * (BEP 52 via v1) and the automatic piece size.
 * @module
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { assertEquals } from "../assert.ts";
import { buildTorrent, choosePieceLength, parseTorrent } from "../../src/metainfo/mod.ts";
import { collectFiles } from "../../src/deno/walk.ts";
import { concatBytes, fromLatin1 } from "../../src/util/bytes.ts";
import { SeededRandom } from "../../src/util/prng.ts";
import { interopTest, runPythonJson } from "./_harness.ts";

/** What libtorrent reports about a .torrent: `[path, size, offset, isPad]` per file. */
interface LtInfo {
  infoHash: string;
  name: string;
  pieces: number;
  pieceLength: number;
  files: [string, number, number, boolean][];
  checkedPieces?: number;
}

const LT_DESCRIBE = `
import libtorrent as lt, json
def describe(ti):
    f = ti.files()
    return {"infoHash": str(ti.info_hashes().v1), "name": ti.name(), "pieces": ti.num_pieces(),
            "pieceLength": ti.piece_length(),
            "files": [[f.file_path(i), f.file_size(i), f.file_offset(i),
                       bool(f.file_flags(i) & lt.file_storage.flag_pad_file)]
                      for i in range(f.num_files())]}
`;

const LT_CREATE = LT_DESCRIBE + `
import sys
content, parent, out, mode = sys.argv[1:5]
fs = lt.file_storage()
lt.add_files(fs, content)
flags = lt.create_torrent.v1_only if mode == "v1" else 0
ct = lt.create_torrent(fs, 16384, flags=flags)
lt.set_piece_hashes(ct, parent)
open(out, "wb").write(lt.bencode(ct.generate()))
print(json.dumps(describe(lt.torrent_info(out))))
`;

const LT_READ_AND_CHECK = LT_DESCRIBE + `
import sys, time
path = sys.argv[1]
ti = lt.torrent_info(path)
result = describe(ti)
if len(sys.argv) > 2:
    ses = lt.session({"listen_interfaces": "127.0.0.1:0", "enable_dht": False,
        "enable_lsd": False, "enable_upnp": False, "enable_natpmp": False,
        "alert_mask": lt.alert.category_t.status_notification})
    h = ses.add_torrent({"ti": ti, "save_path": sys.argv[2]})
    deadline = time.time() + 20
    checked = False
    while not checked and time.time() < deadline:
        ses.wait_for_alert(200)
        checked = any(isinstance(a, lt.torrent_checked_alert) for a in ses.pop_alerts())
    result["checkedPieces"] = sum(1 for p in h.status().pieces if p)
print(json.dumps(result))
`;

const LT_AUTO_PIECE = `
import libtorrent as lt, json, sys
out = []
for size in sys.argv[1:]:
    fs = lt.file_storage()
    fs.add_file("d/f", int(size))
    out.append(lt.create_torrent(fs, 0, flags=lt.create_torrent.v1_only).piece_length())
print(json.dumps(out))
`;

/** Files whose pieces cross file boundaries, in a nested tree. */
const TREE: [string, number][] = [
  ["a.bin", 20_000],
  ["nested/b.bin", 50_000],
  ["nested/deeper/c.txt", 3],
  ["nested/deeper/empty.dat", 0],
  ["z.bin", 16_384 * 2 + 7],
];

async function withTree(fn: (parent: string, content: string) => Promise<void>): Promise<void> {
  const parent = await Deno.makeTempDir({ prefix: "swarmd_interop_" });
  try {
    const content = join(parent, "content");
    const random = new SeededRandom(42);
    for (const [path, length] of TREE) {
      await Deno.mkdir(join(content, path, ".."), { recursive: true });
      await Deno.writeFile(join(content, path), random.bytes(length));
    }
    await fn(parent, content);
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
}

function ourFiles(bytes: Uint8Array): LtInfo["files"] {
  return parseTorrent(bytes).files.map((f) => [f.path.join("/"), f.length, f.offset, f.isPadding]);
}

for (const mode of ["v1", "hybrid"] as const) {
  await interopTest(
    `parseTorrent() matches libtorrent on a ${mode} torrent it created`,
    async () => {
      await withTree(async (parent, content) => {
        const out = join(parent, "lt.torrent");
        const lt = await runPythonJson<LtInfo>(LT_CREATE, [content, parent, out, mode]);
        const bytes = await Deno.readFile(out);
        const meta = parseTorrent(bytes);
        assertEquals(meta.infoHashHex, lt.infoHash);
        assertEquals(meta.name, lt.name);
        assertEquals(meta.pieceCount, lt.pieces);
        assertEquals(meta.isHybrid, mode === "hybrid");
        // Every file, zero-length and BEP 47 padding files included, in the same order.
        assertEquals(ourFiles(bytes), lt.files);
        assertEquals(meta.renamed, []);
      });
    },
  );
}

function pieceHashes(data: Uint8Array, pieceLength: number): Uint8Array {
  const parts: Uint8Array[] = [];
  for (let at = 0; at < data.length; at += pieceLength) {
    parts.push(createHash("sha1").update(data.subarray(at, at + pieceLength)).digest());
  }
  return concatBytes(parts);
}

await interopTest("buildTorrent() output loads and verifies in libtorrent", async () => {
  await withTree(async (parent, content) => {
    const walked = await collectFiles(content);
    const data = concatBytes(
      await Promise.all(walked.files.map((f) => Deno.readFile(join(walked.root, ...f.path)))),
    );
    const pieceLength = 16_384;
    const bytes = buildTorrent({
      name: walked.name,
      files: walked.files,
      pieceLength,
      pieceHashes: pieceHashes(data, pieceLength),
      trackers: [["udp://tracker.example:6969/announce"]],
      createdBy: "swarmd interop",
    });
    const out = join(parent, "ours.torrent");
    await Deno.writeFile(out, bytes);
    const lt = await runPythonJson<LtInfo>(LT_READ_AND_CHECK, [out, parent]);
    const meta = parseTorrent(bytes);
    assertEquals(lt.infoHash, meta.infoHashHex);
    assertEquals(lt.name, "content");
    assertEquals(lt.pieces, meta.pieceCount);
    assertEquals(lt.files, ourFiles(bytes));
    assertEquals(lt.files.map((f) => f[0]), TREE.map(([p]) => `content/${p}`));
    assertEquals(lt.checkedPieces, meta.pieceCount);
  });
});

await interopTest("parseTorrent() and libtorrent agree on an unsorted info dict (B5)", async () => {
  const pieces = "\u00aa".repeat(20);
  const info = `d6:pieces20:${pieces}4:name8:unsorted12:piece lengthi16384e6:lengthi5ee`;
  const bytes = fromLatin1(`d8:announce18:http://t.example/a4:info${info}e`);
  const dir = await Deno.makeTempDir({ prefix: "swarmd_interop_" });
  try {
    const path = join(dir, "unsorted.torrent");
    await Deno.writeFile(path, bytes);
    const lt = await runPythonJson<LtInfo>(LT_READ_AND_CHECK, [path]);
    const meta = parseTorrent(bytes);
    assertEquals(meta.infoHashHex, lt.infoHash);
    assertEquals([meta.name, meta.totalLength, meta.pieceCount], ["unsorted", 5, 1]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

await interopTest("choosePieceLength() matches libtorrent's automatic piece size", async () => {
  const sizes = [1, 2_684_355, 2_684_356, 10_737_419, 100 * 2 ** 20, 3 * 2 ** 30, 2 ** 40];
  const lt = await runPythonJson<number[]>(LT_AUTO_PIECE, sizes.map(String));
  assertEquals(sizes.map(choosePieceLength), lt);
});

/** Whether `mktorrent` runs (it prints its banner and exits non-zero without arguments). */
async function mktorrentAvailable(): Promise<boolean> {
  try {
    await new Deno.Command("mktorrent", { stdout: "null", stderr: "null" }).output();
    return true;
  } catch {
    return false; // not installed: the comparison is skipped with a message
  }
}

const hasMktorrent = await mktorrentAvailable();
if (!hasMktorrent) console.log("skipping mktorrent comparison: mktorrent not installed");

Deno.test({
  name: "collectFiles() + buildTorrent() give mktorrent's info-hash (order, hidden, empty)",
  ignore: !hasMktorrent,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "swarmd_interop_" });
    try {
      const content = join(dir, "c");
      const random = new SeededRandom(7);
      // " " and "." sort before "/": mktorrent orders whole paths, not components.
      const tree: [string, number][] = [
        ["foo/x", 30_000],
        ["foo.txt", 20_000],
        ["foo bar", 3],
        [".hidden", 2],
        ["foo/.g/y", 40_000],
        ["empty", 0],
      ];
      for (const [path, length] of tree) {
        await Deno.mkdir(join(content, path, ".."), { recursive: true });
        await Deno.writeFile(join(content, path), random.bytes(length));
      }
      const out = join(dir, "mk.torrent");
      const mk = await new Deno.Command("mktorrent", {
        args: ["-l", "15", "-o", out, content],
        stdout: "null",
        stderr: "piped",
      }).output();
      assertEquals(mk.code, 0, new TextDecoder().decode(mk.stderr));
      const walked = await collectFiles(content);
      const data = concatBytes(
        await Promise.all(walked.files.map((f) => Deno.readFile(join(walked.root, ...f.path)))),
      );
      const ours = parseTorrent(buildTorrent({
        name: walked.name,
        files: walked.files,
        pieceLength: 32_768,
        pieceHashes: pieceHashes(data, 32_768),
      }));
      const theirs = parseTorrent(await Deno.readFile(out));
      assertEquals(
        ours.files.map((f) => f.path.join("/")),
        theirs.files.map((f) => f.path.join("/")),
      );
      assertEquals(ours.infoHashHex, theirs.infoHashHex);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
