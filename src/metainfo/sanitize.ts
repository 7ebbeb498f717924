/**
 * Path sanitising: no file named by a torrent is ever written outside the download
 * directory (RELIABILITY rule 2, rows P1–P5; BEP 3 `path`/`name`).
 *
 * Policy: MAP, never reject (as libtorrent does), except for the two hard caps below.
 * The mapping is a pure function of the input text, so it is the same on every OS:
 *
 * - components `""` and `"."` are dropped; `".."` becomes `"_"` (never traverses);
 * - `/`, `\`, `:`, `*`, `?`, `"`, `<`, `>`, `|`, C0/C1 control characters (NUL included),
 *   DEL and U+2028/U+2029 become `"_"` (a component can never hold a separator, a drive
 *   letter or an NTFS stream name);
 * - bidi controls and zero-width characters (U+00AD, U+061C, U+180E, U+200B–U+200F,
 *   U+202A–U+202E, U+2060–U+2064, U+2066–U+2069, U+FEFF) are removed;
 * - lone UTF-16 surrogates become U+FFFD; trailing dots and spaces are removed;
 *   a component left empty becomes `"_"`;
 * - Windows device names (CON, PRN, AUX, NUL, COM1–9, LPT1–9, COM¹²³, LPT¹²³, CONIN$,
 *   CONOUT$), with any extension, get `"_"` after the base: `nul.txt` → `nul_.txt`;
 * - a component over {@linkcode MAX_COMPONENT_BYTES} UTF-8 bytes is shortened, keeping
 *   an extension of up to 32 bytes;
 * - a path with every component dropped becomes `["_"]`;
 * - duplicates, compared case-insensitively after NFC normalisation (so case-only and
 *   NFC/NFD clashes count), and a file whose path is also a directory of another file,
 *   are renamed `name.1.ext`, `name.2.ext`…; directories win over files.
 *
 * Rejected with a {@linkcode MetainfoError}: a path deeper than {@linkcode MAX_PATH_DEPTH}
 * components, a sanitised path longer than {@linkcode MAX_PATH_BYTES}, and more than
 * {@linkcode MAX_RENAMES} duplicate renames.
 *
 * Layer: core (pure).
 * @module
 */
import { MetainfoError } from "../errors.ts";

/** Most components one file path may have (libtorrent: 100 directory levels). */
export const MAX_PATH_DEPTH = 100;
/** Longest component in UTF-8 bytes (NAME_MAX on Linux, NTFS and APFS). */
export const MAX_COMPONENT_BYTES = 255;
/** Longest sanitised relative path in UTF-8 bytes, joined with "/" (PATH_MAX on Linux). */
export const MAX_PATH_BYTES = 4096;
/** Most duplicate renames in one torrent (libtorrent: 500). */
export const MAX_RENAMES = 500;

/** One path the sanitiser changed, both sides joined with "/". */
export interface PathRename {
  /** The path as the torrent spelled it. */
  readonly from: string;
  /** The path that will be used on disk, relative to the download directory. */
  readonly to: string;
}

/** Result of {@linkcode sanitizePaths}. */
export interface SanitizedPaths {
  /** One sanitised, unique path per input path, in input order. */
  readonly paths: string[][];
  /** Every path that changed, in input order. */
  readonly renamed: PathRename[];
}

/** Options for {@linkcode sanitizePaths}. */
export interface SanitizeOptions {
  /** Field name used in errors about the whole list, e.g. `"info.files"`; default `"path"`. */
  readonly field?: string;
  /** Field name used in errors about path `index`; default `` `${field}[${index}]` ``. */
  readonly fieldOf?: (index: number) => string;
}

const MAX_EXTENSION_BYTES = 32;
/** Components of plain printable ASCII need no mapping beyond the trailing/reserved checks. */
const PLAIN_RE = /^[\x20-\x7E]*$/;
const ASCII_SPECIAL_RE = /[/\\:*?"<>|]/;
const MAX_COUNTER_TRIES = 1000;
const STRIP_RE = /[\u00AD\u061C\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]/g;
// deno-lint-ignore no-control-regex
const REPLACE_RE = /[\u0000-\u001F\u007F-\u009F/\\:*?"<>|\u2028\u2029]/g;
const TRAILING_RE = /[. ]+$/;
const RESERVED = new Set([
  "CON",
  "PRN",
  "AUX",
  "NUL",
  "CONIN$",
  "CONOUT$",
  ...[..."123456789¹²³"].flatMap((d) => [`COM${d}`, `LPT${d}`]),
]);

/**
 * Maps one path component to a name that is safe on every OS (see the module rules).
 *
 * @param text one component as decoded from the torrent
 * @returns the safe name, or `""` when the component is to be dropped (`""` or `"."`)
 * @throws never
 * @example
 * ```ts
 * import { sanitizeComponent } from "./sanitize.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * assertEquals(sanitizeComponent(".."), "_");
 * assertEquals(sanitizeComponent("a/b:c"), "a_b_c");
 * assertEquals(sanitizeComponent("nul.txt"), "nul_.txt");
 * assertEquals(sanitizeComponent("."), "");
 * ```
 */
export function sanitizeComponent(text: string): string {
  if (text === "" || text === ".") return "";
  if (text === "..") return "_";
  let s = text;
  if (!PLAIN_RE.test(s)) s = s.toWellFormed().replace(STRIP_RE, "").replace(REPLACE_RE, "_");
  else if (ASCII_SPECIAL_RE.test(s)) s = s.replace(REPLACE_RE, "_");
  s = s.replace(TRAILING_RE, "");
  if (s === "") return "_";
  s = guardReserved(s);
  return shorten(s, "");
}

/**
 * Sanitises one path's components without de-duplication: drops empty and `"."`
 * components and maps the rest with {@linkcode sanitizeComponent}.
 *
 * @param components the path components as decoded from the torrent
 * @param field field name used in errors
 * @returns the sanitised components; `["_"]` when nothing is left
 * @throws {MetainfoError} when the path is deeper than {@linkcode MAX_PATH_DEPTH} or longer
 *   than {@linkcode MAX_PATH_BYTES} once sanitised
 * @example
 * ```ts
 * import { sanitizePath } from "./sanitize.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * assertEquals(sanitizePath(["..", "", ".", "etc", "passwd"]), ["_", "etc", "passwd"]);
 * ```
 */
export function sanitizePath(components: readonly string[], field = "path"): string[] {
  if (components.length > MAX_PATH_DEPTH) {
    throw new MetainfoError(
      field,
      `Cannot use path: ${components.length} components exceed the limit of ${MAX_PATH_DEPTH}`,
    );
  }
  const out: string[] = [];
  for (const c of components) {
    const safe = sanitizeComponent(c);
    if (safe !== "") out.push(safe);
  }
  if (out.length === 0) out.push("_");
  const bytes = out.reduce((n, c) => n + utf8Length(c), out.length - 1);
  if (bytes > MAX_PATH_BYTES) {
    throw new MetainfoError(
      field,
      `Cannot use path: ${bytes} bytes exceed the limit of ${MAX_PATH_BYTES}`,
    );
  }
  return out;
}

/**
 * Sanitises a torrent's file paths and makes them unique (see the module rules), so
 * that every path is relative, stays below the download directory and names its own file.
 *
 * @param paths one component list per file, in torrent order
 * @param options error field name
 * @returns the sanitised paths and the list of changed ones
 * @throws {MetainfoError} on a path deeper than {@linkcode MAX_PATH_DEPTH} or longer than
 *   {@linkcode MAX_PATH_BYTES}, or more than {@linkcode MAX_RENAMES} duplicate renames
 * @example
 * ```ts
 * import { sanitizePaths } from "./sanitize.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const { paths, renamed } = sanitizePaths([["d", "a.txt"], ["d", "A.TXT"], ["..", "x"]]);
 * assertEquals(paths, [["d", "a.txt"], ["d", "A.1.TXT"], ["_", "x"]]);
 * assertEquals(renamed, [{ from: "d/A.TXT", to: "d/A.1.TXT" }, { from: "../x", to: "_/x" }]);
 * ```
 */
export function sanitizePaths(
  paths: readonly (readonly string[])[],
  options: SanitizeOptions = {},
): SanitizedPaths {
  const field = options.field ?? "path";
  const fieldOf = options.fieldOf ?? ((i: number) => `${field}[${i}]`);
  const safe = paths.map((p, i) => sanitizePath(p, fieldOf(i)));
  const directories = new Set<string>();
  for (const p of safe) {
    let key = "";
    for (let i = 0; i < p.length - 1; i++) {
      key += (i === 0 ? "" : "/") + foldKey(p[i]!);
      directories.add(key);
    }
  }
  const taken = new Set<string>();
  const nextCounter = new Map<string, number>();
  let renames = 0;
  const renamed: PathRename[] = [];
  safe.forEach((p, i) => {
    let key = p.map(foldKey).join("/");
    if (directories.has(key) || taken.has(key)) {
      if (++renames > MAX_RENAMES) {
        throw new MetainfoError(
          field,
          `Cannot use paths: more than ${MAX_RENAMES} duplicate file names`,
        );
      }
      p[p.length - 1] = uniqueName(p, key, { directories, taken, nextCounter }, field);
      key = p.map(foldKey).join("/");
    }
    taken.add(key);
    const original = paths[i]!;
    if (p.length !== original.length || p.some((c, j) => c !== original[j])) {
      renamed.push({ from: original.join("/"), to: p.join("/") });
    }
  });
  return { paths: safe, renamed };
}

interface NameState {
  readonly directories: Set<string>;
  readonly taken: Set<string>;
  readonly nextCounter: Map<string, number>;
}

/** Finds the first free `name.N.ext` for the last component of `path`. */
function uniqueName(path: string[], key: string, state: NameState, field: string): string {
  const last = path[path.length - 1]!;
  const parentKey = path.slice(0, -1).map(foldKey).join("/");
  const start = state.nextCounter.get(key) ?? 1;
  for (let n = start; n < start + MAX_COUNTER_TRIES; n++) {
    const candidate = withCounter(last, n);
    const candidateKey = (parentKey === "" ? "" : parentKey + "/") + foldKey(candidate);
    if (!state.directories.has(candidateKey) && !state.taken.has(candidateKey)) {
      state.nextCounter.set(key, n + 1);
      return candidate;
    }
  }
  throw new MetainfoError(field, `Cannot use paths: no free name for "${last}"`);
}

/** The de-duplication key: case-insensitive and normalisation-insensitive. */
function foldKey(component: string): string {
  return (PLAIN_RE.test(component) ? component : component.normalize("NFC")).toLowerCase();
}

/** UTF-8 length of well-formed text, without encoding it. */
function utf8Length(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** `name.ext` → `name.N.ext`, shortened if needed. */
function withCounter(component: string, n: number): string {
  const [stem, ext] = splitExtension(component);
  return shorten(stem, `.${n}${ext}`);
}

function splitExtension(component: string): [string, string] {
  const dot = component.lastIndexOf(".");
  if (dot <= 0) return [component, ""];
  const ext = component.slice(dot);
  if (utf8Length(ext) > MAX_EXTENSION_BYTES) return [component, ""];
  return [component.slice(0, dot), ext];
}

/** Appends `"_"` to a Windows device-name base (`CON`, `nul.txt`, `LPT1 .x`). */
function guardReserved(s: string): string {
  const dot = s.indexOf(".");
  const base = (dot < 0 ? s : s.slice(0, dot)).replace(/ +$/, "");
  if (!RESERVED.has(base.toUpperCase())) return s;
  return base + "_" + s.slice(base.length);
}

/**
 * Shortens `stem + ext` to {@linkcode MAX_COMPONENT_BYTES}, cutting the stem at a code
 * point boundary. With `ext` empty, an extension is split off `stem` first.
 */
function shorten(stem: string, ext: string): string {
  const whole = stem + ext;
  if (whole.length * 3 <= MAX_COMPONENT_BYTES || utf8Length(whole) <= MAX_COMPONENT_BYTES) {
    return whole;
  }
  if (ext === "") [stem, ext] = splitExtension(stem);
  const budget = MAX_COMPONENT_BYTES - utf8Length(ext);
  let used = 0;
  let cut = "";
  for (const ch of stem) {
    const size = utf8Length(ch);
    if (used + size > budget) break;
    used += size;
    cut += ch;
  }
  if (ext === "") cut = cut.replace(TRAILING_RE, "");
  return (cut === "" ? "_" : cut) + ext;
}
