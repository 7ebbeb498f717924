import { assertEquals, assertThrows } from "../../tests/assert.ts";
import { decode } from "../bencode/mod.ts";
import { fromUtf8 } from "../util/bytes.ts";
import { buildTorrent, choosePieceLength, type CreateOptions } from "./create.ts";
import { parseTorrent } from "./parse.ts";

const BASE: CreateOptions = {
  name: "dir",
  files: [{ path: ["a"], length: 10 }, { path: ["b", "c"], length: 20000 }],
  pieceLength: 16384,
  pieceHashes: new Uint8Array(40).fill(7),
};

Deno.test("choosePieceLength() follows libtorrent's size table from 16 KiB to 16 MiB", () => {
  const cases: [number, number][] = [
    [0, 16384],
    [1000, 16384],
    [2_684_355, 16384],
    [2_684_356, 32768],
    [10_737_418, 32768],
    [10_737_419, 65536],
    [100 * 2 ** 20, 131072],
    [2 ** 30, 524288],
    [10 * 2 ** 30, 1048576],
    [100 * 2 ** 30, 4194304],
    [1000 * 2 ** 30, 16777216],
    [Number.MAX_SAFE_INTEGER, 16777216],
  ];
  for (const [total, expected] of cases) {
    assertEquals(choosePieceLength(total), expected, `${total}`);
  }
  assertThrows(() => choosePieceLength(-1), RangeError);
  assertThrows(() => choosePieceLength(1.5), RangeError);
});

Deno.test("buildTorrent() writes a multi-file torrent that parses back", () => {
  const bytes = buildTorrent({
    ...BASE,
    trackers: [["udp://a.example:1/announce", "udp://b.example:1/announce"], []],
    webSeeds: ["http://w.example/"],
    comment: "c",
    createdBy: "swarmd test",
    creationDate: 1_700_000_000,
    isPrivate: true,
  });
  const meta = parseTorrent(bytes);
  assertEquals(meta.files.map((f) => [f.path.join("/"), f.length, f.offset]), [
    ["dir/a", 10, 0],
    ["dir/b/c", 20000, 10],
  ]);
  assertEquals(meta.announce, "udp://a.example:1/announce");
  assertEquals(meta.announceList, [["udp://a.example:1/announce", "udp://b.example:1/announce"]]);
  assertEquals(meta.urlList, ["http://w.example/"]);
  assertEquals([meta.comment, meta.createdBy, meta.creationDate], ["c", "swarmd test", 1.7e9]);
  assertEquals(meta.isPrivate, true);
  assertEquals(meta.pieceHashes, BASE.pieceHashes);
});

Deno.test("buildTorrent() writes a single-file torrent with sorted keys and no extras", () => {
  const bytes = buildTorrent({
    name: "f.bin",
    files: [{ path: [], length: 3 }],
    pieceLength: 16384,
    pieceHashes: new Uint8Array(20),
    trackers: [["http://t.example/a"]],
  });
  const text = fromUtf8(bytes);
  assertEquals(
    text.slice(0, 71),
    "d8:announce18:http://t.example/a4:infod6:lengthi3e4:name5:f.bin12:piece",
  );
  const root = decode(bytes) as Map<string, unknown>;
  assertEquals([...root.keys()], ["announce", "info"]);
  assertEquals(parseTorrent(bytes).isMultiFile, false);
});

Deno.test("buildTorrent() rejects bad options with RangeError", () => {
  const cases: [Partial<CreateOptions>, string][] = [
    [{ files: [] }, "no files"],
    [{ name: "" }, "bad path component"],
    [{ name: "a/b" }, "bad path component"],
    [{ files: [{ path: ["..", "x"], length: 1 }] }, "bad path component"],
    [{ files: [{ path: [], length: 1 }, { path: ["x"], length: 1 }] }, "empty path"],
    [{ files: [{ path: ["x"], length: -1 }] }, "bad length"],
    [{ files: [{ path: ["x"], length: 0 }], pieceHashes: new Uint8Array() }, "total length 0"],
    [{ pieceLength: 0 }, "bad piece length"],
    [{ pieceHashes: new Uint8Array(20) }, "20 bytes of piece hashes, 40 needed"],
  ];
  for (const [change, fragment] of cases) {
    assertThrows(() => buildTorrent({ ...BASE, ...change }), RangeError, fragment);
  }
});
