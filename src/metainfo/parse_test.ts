import { resolve, sep } from "node:path";
import { assert, assertEquals, assertThrows } from "../../tests/assert.ts";
import { BencodeLimitError, BencodeSyntaxError, type Encodable, encode } from "../bencode/mod.ts";
import { MetainfoError } from "../errors.ts";
import { fromLatin1, toHex, utf8 } from "../util/bytes.ts";
import { sha1 } from "../util/sha1.ts";
import { parseInfoDictionary, parseTorrent } from "./parse.ts";
import { MAX_PIECE_COUNT, readInfo } from "./_info.ts";

type Dict = Record<string, Encodable | undefined>;

function hashes(count: number): Uint8Array {
  return new Uint8Array(count * 20).map((_, i) => i % 251);
}

/** A valid multi-file info dictionary, with `overrides` applied (undefined deletes). */
function multiInfo(overrides: Dict = {}): Dict {
  return {
    name: "root",
    "piece length": 16384,
    pieces: hashes(3),
    files: [
      { length: 20000, path: ["a.bin"] },
      { length: 20000, path: ["sub", "b.bin"] },
      { length: 100, path: ["sub", "deeper", "c.txt"] },
    ],
    ...overrides,
  };
}

function torrent(info: Dict, outer: Dict = {}): Uint8Array {
  return encode({ announce: "http://tracker.example/announce", info, ...outer });
}

function singleInfo(overrides: Dict = {}): Dict {
  return { name: "file.bin", "piece length": 16384, pieces: hashes(1), length: 5, ...overrides };
}

function expectError(bytes: Uint8Array, field: string, fragment: string): MetainfoError {
  const e = assertThrows(() => parseTorrent(bytes), MetainfoError, fragment);
  assertEquals(e.field, field);
  return e;
}

Deno.test("parseTorrent() loads a multi-file torrent with offsets and rooted paths", () => {
  const meta = parseTorrent(torrent(multiInfo(), { comment: "hi", "creation date": 1700000000 }));
  assertEquals(meta.name, "root");
  assertEquals(meta.isMultiFile, true);
  assertEquals(meta.pieceCount, 3);
  assertEquals(meta.totalLength, 40100);
  assertEquals(meta.files.map((f) => [f.path.join("/"), f.length, f.offset]), [
    ["root/a.bin", 20000, 0],
    ["root/sub/b.bin", 20000, 20000],
    ["root/sub/deeper/c.txt", 100, 40000],
  ]);
  assertEquals(meta.files[1]!.displayPath, "root/sub/b.bin");
  assertEquals(meta.announce, "http://tracker.example/announce");
  assertEquals(meta.announceList, [["http://tracker.example/announce"]]);
  assertEquals(meta.comment, "hi");
  assertEquals(meta.creationDate, 1700000000);
  assertEquals(meta.renamed, []);
  assertEquals(meta.isPrivate, false);
});

Deno.test("parseTorrent() loads a single-file torrent", () => {
  const meta = parseTorrent(torrent(singleInfo({ private: 1 })));
  assertEquals(meta.isMultiFile, false);
  assertEquals(meta.isPrivate, true);
  assertEquals(meta.files, [{
    path: ["file.bin"],
    length: 5,
    offset: 0,
    displayPath: "file.bin",
    rawPath: ["file.bin"],
    isPadding: false,
    isSymlink: false,
  }]);
});

Deno.test("parseTorrent() hashes the raw info bytes of an unsorted dictionary (B5)", () => {
  const info = "d6:lengthi5e4:name1:x6:pieces20:" + "\u0001".repeat(20) +
    "12:piece lengthi16384ee"; // "pieces" before "piece length": unsorted
  const bytes = fromLatin1(`d4:info${info}e`);
  const meta = parseTorrent(bytes);
  assertEquals(meta.infoHashHex, toHex(sha1(fromLatin1(info))));
  assertEquals(meta.infoBytes, fromLatin1(info));
  const sorted = encode(readInfoDict(meta.infoBytes));
  assert(toHex(sha1(sorted)) !== meta.infoHashHex);
});

function readInfoDict(bytes: Uint8Array): Map<string, Encodable> {
  const out = new Map<string, Encodable>();
  const meta = parseInfoDictionary(bytes);
  out.set("length", meta.totalLength);
  out.set("name", meta.name);
  out.set("piece length", meta.pieceLength);
  out.set("pieces", meta.pieceHashes);
  return out;
}

Deno.test("parseTorrent() rejects bad pieces and piece lengths naming the field (B7)", () => {
  const cases: [Dict, string, string][] = [
    [{ pieces: hashes(3).subarray(0, 59) }, "info.pieces", "not a multiple of 20"],
    [{ pieces: hashes(2) }, "info.pieces", "2 piece hashes, but 40100 bytes"],
    [{ pieces: hashes(4) }, "info.pieces", "need 3"],
    [{ pieces: undefined }, "info.pieces", "is missing"],
    [{ pieces: 5 }, "info.pieces", "is not a string"],
    [{ "piece length": 0 }, "info.piece length", "must be positive, got 0"],
    [{ "piece length": -16384 }, "info.piece length", "must be positive"],
    [{ "piece length": undefined }, "info.piece length", "is missing"],
    [{ "piece length": "16384" }, "info.piece length", "is not an integer"],
    [{ "piece length": 2 ** 30 }, "info.piece length", "more than the limit"],
  ];
  for (const [overrides, field, fragment] of cases) {
    expectError(torrent(multiInfo(overrides)), field, fragment);
  }
});

Deno.test("parseTorrent() accepts a piece length that is not a power of two", () => {
  const meta = parseTorrent(torrent(multiInfo({ "piece length": 10000, pieces: hashes(5) })));
  assertEquals(meta.pieceCount, 5);
});

Deno.test("parseTorrent() rejects more than 2^21 pieces and lengths over 2^53 (B8)", () => {
  const many = torrent(singleInfo({
    length: (MAX_PIECE_COUNT + 1) * 16384,
    pieces: new Uint8Array((MAX_PIECE_COUNT + 1) * 20),
  }));
  const e = expectError(many, "(bencode)", "exceeds");
  assert(e.cause instanceof BencodeLimitError);
  const direct = new Map<string, number | Uint8Array>([
    ["name", utf8("x")],
    ["piece length", 16384],
    ["length", (MAX_PIECE_COUNT + 1) * 16384],
    ["pieces", new Uint8Array((MAX_PIECE_COUNT + 1) * 20)],
  ]);
  const limit = assertThrows(
    () => readInfo(direct),
    MetainfoError,
    `${MAX_PIECE_COUNT + 1} pieces, more than the limit of ${MAX_PIECE_COUNT}`,
  );
  assertEquals(limit.field, "info.pieces");
  const huge = multiInfo({
    files: [{ length: 2 ** 52, path: ["a"] }, { length: 2 ** 52, path: ["b"] }],
  });
  expectError(torrent(huge), "info.files", "more than 2^53-1");
  const overflow = fromLatin1(
    "d4:infod6:lengthi9007199254740992e4:name1:x12:piece lengthi16384e6:pieces0:ee",
  );
  const e2 = expectError(overflow, "(bencode)", "integer out of safe range");
  assert(e2.cause instanceof BencodeSyntaxError);
});

Deno.test("parseTorrent() rejects no files, negative sizes and empty paths (B9)", () => {
  const cases: [Dict, string, string][] = [
    [multiInfo({ files: [] }), "info.files", "no files"],
    [multiInfo({ files: "x" }), "info.files", "is not a list"],
    [multiInfo({ files: [{ length: -1, path: ["a"] }] }), "info.files[0].length", "negative"],
    [singleInfo({ length: -5 }), "info.length", "is negative (-5)"],
    [singleInfo({ length: undefined }), "info.length", "is missing"],
    [multiInfo({ files: [{ length: 1, path: [] }] }), "info.files[0].path", "empty list"],
    [multiInfo({ files: [{ length: 1, path: ["", ""] }] }), "info.files[0].path", "only empty"],
    [multiInfo({ files: [{ length: 1 }] }), "info.files[0].path", "is missing"],
    [multiInfo({ files: [{ length: 1, path: "a" }] }), "info.files[0].path", "is not a list"],
    [multiInfo({ files: [{ length: 1, path: [1] }] }), "info.files[0].path", "not a string"],
    [multiInfo({ files: [{ path: ["a"] }] }), "info.files[0].length", "is missing"],
    [multiInfo({ files: [5] }), "info.files[0]", "is not a dictionary"],
    [singleInfo({ length: 0, pieces: hashes(0) }), "info.length", "0 bytes"],
    [multiInfo({ files: [{ length: 0, path: ["a"] }], pieces: hashes(0) }), "info.files", "0 b"],
    [singleInfo({ name: undefined }), "info.name", "is missing"],
    [singleInfo({ name: 7 }), "info.name", "is not a string"],
  ];
  for (const [info, field, fragment] of cases) expectError(torrent(info), field, fragment);
  expectError(encode({ announce: "x" }), "info", "is missing");
  expectError(encode({ info: [] }), "info", "is not a dictionary");
  expectError(encode([1]), "(root)", "not a dictionary");
});

Deno.test("parseTorrent() fails cleanly on every prefix of a valid torrent (B10, exhaustive)", () => {
  const bytes = torrent(multiInfo(), { "announce-list": [["udp://t.example:1/a"]] });
  parseTorrent(bytes);
  for (let end = 0; end < bytes.length; end++) {
    const e = assertThrows(() => parseTorrent(bytes.subarray(0, end)), MetainfoError);
    assertEquals(e.field, "(bencode)");
    assert(e.cause instanceof BencodeSyntaxError);
  }
});

/** True when joining `path` under a root can never leave the root. */
function staysInside(path: readonly string[]): boolean {
  const root = resolve("/dl");
  return resolve(root, ...path).startsWith(root + sep) &&
    path.every((c) => c !== "" && c !== "." && c !== ".." && !/[/\\:\0]/.test(c));
}

Deno.test("parseTorrent() maps hostile file paths inside the root and reports them (P1)", () => {
  const hostile = [["..", "..", "etc", "passwd"], ["/etc/x"], ["C:\\", "w"], ["\\\\?\\C:\\x"], [
    "a\\..\\b",
  ], [".", "y"]];
  const info = multiInfo({
    files: hostile.map((path) => ({ length: 1, path })),
    pieces: hashes(1),
  });
  const meta = parseTorrent(torrent(info));
  for (const f of meta.files) assert(staysInside(f.path), f.path.join("/"));
  assertEquals(meta.files.map((f) => f.path.join("/")), [
    "root/_/_/etc/passwd",
    "root/_etc_x",
    "root/C__/w",
    "root/____C__x",
    "root/a_.._b",
    "root/y",
  ]);
  assertEquals(meta.renamed.length, 6);
  assertEquals(meta.renamed[0], { from: "root/../../etc/passwd", to: "root/_/_/etc/passwd" });
});

Deno.test("parseTorrent() sanitises a single-file name with ../ or / (P2)", () => {
  const cases: [string, string][] = [
    ["../../x", ".._.._x"],
    ["/etc/passwd", "_etc_passwd"],
    ["..", "_"],
    [".", "_"],
    ["", "_"],
    ["CON", "CON_"],
  ];
  for (const [name, expected] of cases) {
    const meta = parseTorrent(torrent(singleInfo({ name })));
    assertEquals(meta.name, expected);
    assertEquals(meta.files[0]!.path, [expected]);
    assertEquals(meta.renamed, [{ from: name, to: expected }]);
    assertEquals(meta.displayName, name);
  }
  const multi = parseTorrent(torrent(multiInfo({ name: "../up" })));
  assertEquals(multi.files[0]!.path, [".._up", "a.bin"]);
});

Deno.test("parseTorrent() renames reserved names and control characters (P3)", () => {
  const names = ["CON", "nul.txt", "COM1", "dot.", "space ", "a:b", "bell\u0007", "rlo\u202Ex"];
  const info = multiInfo({
    files: names.map((n) => ({ length: 1, path: [n] })),
    pieces: hashes(1),
  });
  const meta = parseTorrent(torrent(info));
  assertEquals(meta.files.map((f) => f.path[1]), [
    "CON_",
    "nul_.txt",
    "COM1_",
    "dot",
    "space",
    "a_b",
    "bell_",
    "rlox",
  ]);
});

Deno.test("parseTorrent() renames duplicate and clashing paths (P4)", () => {
  const files = [["a"], ["A"], ["a", "b"], ["x.txt"], ["x.txt"]];
  const info = multiInfo({ files: files.map((path) => ({ length: 1, path })), pieces: hashes(1) });
  const meta = parseTorrent(torrent(info));
  assertEquals(meta.files.map((f) => f.path.join("/")), [
    "root/a.1",
    "root/A.2",
    "root/a/b",
    "root/x.txt",
    "root/x.1.txt",
  ]);
  const many = Array.from({ length: 502 }, () => ({ length: 1, path: ["dup"] }));
  expectError(torrent(multiInfo({ files: many, pieces: hashes(1) })), "info.files", "500");
});

Deno.test("parseTorrent() rejects 10,000 levels, shortens 300-byte names (P5)", () => {
  const deep = Array.from({ length: 10_000 }, () => "d");
  expectError(
    torrent(multiInfo({ files: [{ length: 1, path: deep }], pieces: hashes(1) })),
    "info.files[0].path",
    "10000 components, more than 100",
  );
  const long = "z".repeat(296) + ".iso";
  const meta = parseTorrent(torrent(singleInfo({ name: long })));
  assertEquals(utf8(meta.name).length, 255);
  assert(meta.name.endsWith(".iso"));
  const wide = Array.from({ length: 20 }, () => "w".repeat(250));
  expectError(
    torrent(multiInfo({ files: [{ length: 1, path: wide }], pieces: hashes(1) })),
    "info.files[0].path",
    "exceed the limit of 4096",
  );
});

Deno.test("parseTorrent() replaces invalid UTF-8 and prefers valid .utf-8 keys (P8)", () => {
  const bad = new Uint8Array([0x61, 0xff, 0xfe, 0x62]);
  const meta = parseTorrent(torrent(singleInfo({ name: bad })));
  assertEquals(meta.name, "a\uFFFD\uFFFDb");
  assertEquals(parseTorrent(torrent(singleInfo({ name: bad }))).name, meta.name);
  const both = parseTorrent(torrent(singleInfo({ name: "legacy", "name.utf-8": "modern" })));
  assertEquals(both.name, "modern");
  const badUtf8Key = parseTorrent(torrent(singleInfo({ name: "legacy", "name.utf-8": bad })));
  assertEquals(badUtf8Key.name, "legacy");
  const files = [{ length: 1, path: [bad], "path.utf-8": ["good"] }, { length: 1, path: [bad] }];
  const multi = parseTorrent(torrent(multiInfo({ files, pieces: hashes(1) })));
  assertEquals(multi.files.map((f) => f.path[1]), ["good", "a\uFFFD\uFFFDb"]);
});

Deno.test("parseTorrent() refuses a v2-only torrent and loads a hybrid through v1 (BEP 52)", () => {
  const v2 = { name: "x", "piece length": 16384, "meta version": 2, "file tree": {} };
  expectError(torrent(v2), "info.meta version", "v2-only torrents are not supported");
  const hybrid = multiInfo({
    "meta version": 2,
    "file tree": {},
    files: [
      { length: 20000, path: ["a.bin"] },
      { length: 12768, path: [".pad", "12768"], attr: "p" },
      { length: 100, path: ["b.bin"] },
      { length: 16284, path: [".pad", "16284"], attr: "p" },
      { length: 10, path: ["c.bin"] },
    ],
    pieces: hashes(4),
  });
  const meta = parseTorrent(torrent(hybrid));
  assertEquals(meta.isHybrid, true);
  assertEquals(meta.files.map((f) => [f.path.join("/"), f.offset, f.isPadding]), [
    ["root/a.bin", 0, false],
    ["root/.pad/12768", 20000, true],
    ["root/b.bin", 32768, false],
    ["root/.pad/16284", 32868, true],
    ["root/c.bin", 49152, false],
  ]);
  assertEquals(meta.renamed, []);
});

Deno.test("parseTorrent() never makes a symlink: BEP 47 'l' entries are plain files (P7)", () => {
  const files = [
    { length: 1, path: ["a"] },
    { length: 0, path: ["link"], attr: "l", "symlink path": ["..", "..", "etc"] },
  ];
  const meta = parseTorrent(torrent(multiInfo({ files, pieces: hashes(1) })));
  assertEquals(meta.files[1]!.isSymlink, true);
  assertEquals(meta.files[1]!.path, ["root", "link"]);
  assertEquals(meta.files[1]!.length, 0);
});

Deno.test("parseTorrent() cleans announce-list tiers (BEP 12)", () => {
  const tiers = [
    ["udp://a.example:6969/announce", "not a url", "udp://no-port.example/announce"],
    ["http://b.example/announce", "udp://a.example:6969/announce", "ftp://c.example/"],
    [],
    "https://d.example/announce",
  ];
  const meta = parseTorrent(torrent(singleInfo(), { "announce-list": tiers }));
  assertEquals(meta.announceList, [
    ["udp://a.example:6969/announce"],
    ["http://b.example/announce"],
    ["https://d.example/announce"],
  ]);
  const fallback = parseTorrent(torrent(singleInfo(), { "announce-list": [["bad"]] }));
  assertEquals(fallback.announceList, [["http://tracker.example/announce"]]);
  const none = parseTorrent(encode({ info: singleInfo(), announce: "garbage" }));
  assertEquals(none.announce, undefined);
  assertEquals(none.announceList, []);
  const many = Array.from({ length: 150 }, (_, i) => [`http://t${i}.example/a`]);
  const capped = parseTorrent(torrent(singleInfo(), { "announce-list": many }));
  assertEquals(capped.announceList.flat().length, 100);
});

Deno.test("parseTorrent() reads url-list as a string or a list (BEP 19)", () => {
  const one = parseTorrent(torrent(singleInfo(), { "url-list": "http://seed.example/f" }));
  assertEquals(one.urlList, ["http://seed.example/f"]);
  const list = parseTorrent(
    torrent(singleInfo(), { "url-list": ["https://s.example/", "udp://x:1/", 3] }),
  );
  assertEquals(list.urlList, ["https://s.example/"]);
});

Deno.test("parseTorrent() ignores outer fields of the wrong type", () => {
  const meta = parseTorrent(torrent(singleInfo(), {
    announce: 5,
    "announce-list": "x",
    comment: [1],
    "created by": 2,
    "creation date": "today",
    "url-list": { a: 1 },
  }));
  assertEquals(meta.announce, undefined);
  assertEquals(meta.comment, undefined);
  assertEquals(meta.createdBy, undefined);
  assertEquals(meta.creationDate, undefined);
  assertEquals(meta.urlList, []);
});

Deno.test("parseInfoDictionary() hashes the given bytes and attaches extras (BEP 9)", () => {
  const info = encode(multiInfo());
  const meta = parseInfoDictionary(info, {
    trackers: [["udp://t.example:1/announce", "bad"]],
    webSeeds: ["http://w.example/"],
  });
  assertEquals(meta.infoHash, sha1(info));
  assertEquals(meta.infoHashHex, toHex(sha1(info)));
  assertEquals(meta.announceList, [["udp://t.example:1/announce"]]);
  assertEquals(meta.urlList, ["http://w.example/"]);
  assertEquals(meta.announce, undefined);
  const same = parseTorrent(torrent(multiInfo()));
  assertEquals(same.infoHashHex, meta.infoHashHex);
  const e = assertThrows(() => parseInfoDictionary(info.subarray(1)), MetainfoError);
  assertEquals(e.field, "(bencode)");
});

Deno.test("parseTorrent() keeps each file's unsanitised path for web-seed URLs", () => {
  const meta = parseTorrent(torrent(multiInfo({
    name: "dir",
    pieces: hashes(1),
    files: [{ length: 3, path: ["..", "a b.txt"] }, { length: 2, path: ["c"] }],
  })));
  assertEquals(meta.files.map((f) => f.rawPath), [["dir", "..", "a b.txt"], ["dir", "c"]]);
  assertEquals(meta.files[0]!.path.includes(".."), false);
});
