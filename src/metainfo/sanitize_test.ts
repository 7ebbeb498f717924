import { resolve, sep } from "node:path";
import { assert, assertEquals, assertThrows } from "../../tests/assert.ts";
import { MetainfoError } from "../errors.ts";
import { utf8 } from "../util/bytes.ts";
import {
  MAX_COMPONENT_BYTES,
  MAX_RENAMES,
  sanitizeComponent,
  sanitizePath,
  sanitizePaths,
} from "./sanitize.ts";

/** True when joining `path` under a root can never leave the root. */
function staysInside(path: readonly string[]): boolean {
  const root = resolve("/dl");
  const full = resolve(root, ...path);
  return full.startsWith(root + sep) &&
    path.every((c) => c !== "" && c !== "." && c !== ".." && !/[/\\:\0]/.test(c));
}

Deno.test("sanitizeComponent() maps hostile components (P1, P3)", () => {
  const cases: [string, string][] = [
    ["..", "_"],
    [".", ""],
    ["", ""],
    ["/etc/x", "_etc_x"],
    ["C:\\", "C__"],
    ["\\\\?\\", "____"],
    ["a\\..\\b", "a_.._b"],
    ["CON", "CON_"],
    ["con", "con_"],
    ["nul.txt", "nul_.txt"],
    ["COM1", "COM1_"],
    ["lpt9.tar.gz", "lpt9_.tar.gz"],
    ["COM¹", "COM¹_"],
    ["CONIN$", "CONIN$_"],
    ["AUX .txt", "AUX_ .txt"],
    ["CONSOLE", "CONSOLE"],
    ["COM10", "COM10"],
    ["name.", "name"],
    ["name. . ", "name"],
    ["...", "_"],
    ["   ", "_"],
    ["a:b", "a_b"],
    ["a\u0000b\u0007c\u007f", "a_b_c_"],
    ["tab\there", "tab_here"],
    ['x<y>z|w?v*u"', "x_y_z_w_v_u_"],
    ["evil\u202Etxt.exe", "eviltxt.exe"],
    ["zero\u200Bwidth\uFEFF", "zerowidth"],
    ["..\u200B", "_"],
    ["\u200B", "_"],
    ["lone\uD800x", "lone\uFFFDx"],
    ["normal name (1).mkv", "normal name (1).mkv"],
    [".hidden", ".hidden"],
    ["ünïcödé 日本", "ünïcödé 日本"],
  ];
  for (const [input, expected] of cases) {
    assertEquals(sanitizeComponent(input), expected, JSON.stringify(input));
  }
});

Deno.test("sanitizeComponent() shortens a 300-byte component keeping its extension (P5)", () => {
  const long = "a".repeat(296) + ".mkv";
  const out = sanitizeComponent(long);
  assertEquals(utf8(out).length, MAX_COMPONENT_BYTES);
  assert(out.endsWith(".mkv"));
  const wide = "日".repeat(100) + ".txt"; // 304 bytes
  const cut = sanitizeComponent(wide);
  assert(utf8(cut).length <= MAX_COMPONENT_BYTES);
  assert(cut.endsWith(".txt") && !cut.includes("\uFFFD"));
  const noExt = "b".repeat(300) + "." + "c".repeat(40); // extension too long to keep
  assertEquals(utf8(sanitizeComponent(noExt)).length, MAX_COMPONENT_BYTES);
});

Deno.test("sanitizeComponent() gives the same output on every call (deterministic)", () => {
  const input = "A:\\..\u202E/CON.txt. ";
  assertEquals(sanitizeComponent(input), sanitizeComponent(input));
  assertEquals(sanitizeComponent(input), "A__.._CON.txt");
});

Deno.test("sanitizePath() keeps every escape attempt inside the root (P1)", () => {
  const cases: string[][] = [
    ["..", "..", "etc", "passwd"],
    ["/etc/x"],
    ["C:\\", "Windows"],
    ["\\\\?\\C:\\x"],
    ["a\\..\\b"],
    [".", "..", "."],
    ["", "", ""],
    ["..\\..\\x"],
    ["~", "x"],
  ];
  for (const input of cases) {
    const out = sanitizePath(input);
    assert(staysInside(out), `${JSON.stringify(input)} -> ${JSON.stringify(out)}`);
  }
  assertEquals(sanitizePath([".", "", "."]), ["_"]);
  assertEquals(sanitizePath(["..", "etc"]), ["_", "etc"]);
});

Deno.test("sanitizePath() rejects 10,000 levels and a 5,000-byte path (P5)", () => {
  const deep = Array.from({ length: 10_000 }, () => "d");
  const e = assertThrows(() => sanitizePath(deep, "info.files[0].path"), MetainfoError, "10000");
  assertEquals(e.field, "info.files[0].path");
  const long = Array.from({ length: 20 }, () => "x".repeat(250));
  assertThrows(() => sanitizePath(long), MetainfoError, "exceed the limit of 4096");
  assertEquals(sanitizePath(Array.from({ length: 100 }, () => "d")).length, 100);
});

Deno.test("sanitizePaths() renames duplicates, case clashes and file/directory clashes (P4)", () => {
  const cases: { input: string[][]; paths: string[][] }[] = [
    { input: [["a.txt"], ["a.txt"]], paths: [["a.txt"], ["a.1.txt"]] },
    { input: [["a.txt"], ["A.TXT"], ["a.TXT"]], paths: [["a.txt"], ["A.1.TXT"], ["a.2.TXT"]] },
    { input: [["a"], ["a", "b"]], paths: [["a.1"], ["a", "b"]] },
    { input: [["a", "b"], ["A"]], paths: [["a", "b"], ["A.1"]] },
    { input: [["x"], ["x"], ["x.1"]], paths: [["x"], ["x.1"], ["x.1.1"]] },
    { input: [["caf\u00e9"], ["cafe\u0301"]], paths: [["caf\u00e9"], ["cafe\u0301.1"]] },
    { input: [["d", "f"], ["d", "f."]], paths: [["d", "f"], ["d", "f.1"]] },
    { input: [["..", "x"], ["_", "x"]], paths: [["_", "x"], ["_", "x.1"]] },
    { input: [[".hidden"], [".hidden"]], paths: [[".hidden"], [".hidden.1"]] },
  ];
  for (const { input, paths } of cases) {
    assertEquals(sanitizePaths(input).paths, paths, JSON.stringify(input));
  }
});

Deno.test("sanitizePaths() reports every changed path", () => {
  const { renamed } = sanitizePaths([["ok"], ["..", "x"], ["ok"], ["a:b"]]);
  assertEquals(renamed, [
    { from: "../x", to: "_/x" },
    { from: "ok", to: "ok.1" },
    { from: "a:b", to: "a_b" },
  ]);
});

Deno.test("sanitizePaths() stops after 500 renames (P4)", () => {
  const ok = Array.from({ length: MAX_RENAMES + 1 }, () => ["same"]);
  assertEquals(sanitizePaths(ok).paths.at(-1), [`same.${MAX_RENAMES}`]);
  const tooMany = Array.from({ length: MAX_RENAMES + 2 }, () => ["same"]);
  const e = assertThrows(
    () => sanitizePaths(tooMany, { field: "info.files" }),
    MetainfoError,
    "more than 500 duplicate",
  );
  assertEquals(e.field, "info.files");
});

Deno.test("sanitizePaths() keeps a renamed long name within 255 bytes", () => {
  const long = "n".repeat(251) + ".bin";
  const { paths } = sanitizePaths([[long], [long]]);
  assertEquals(utf8(paths[1]![0]!).length <= MAX_COMPONENT_BYTES, true);
  assert(paths[1]![0]!.endsWith(".1.bin"));
});
