import { assert, assertEquals, assertThrows } from "../../tests/assert.ts";
import { fuzzCases } from "../../tests/fuzz.ts";
import { encode } from "../bencode/mod.ts";
import type { FileStat } from "./disk_io.ts";
import { Bitfield } from "../util/bitfield.ts";
import { StorageLayout } from "./layout.ts";
import { decodeResume, encodeResume, piecesToRecheck, type ResumeData } from "./resume.ts";

const INFO_HASH = new Uint8Array(20).fill(0xab);
const EXPECTED = { infoHash: INFO_HASH, pieceCount: 10, fileCount: 3 };

function sample(): ResumeData {
  const have = new Bitfield(10);
  for (const i of [0, 3, 9]) have.set(i);
  return {
    infoHash: INFO_HASH,
    pieceCount: 10,
    have,
    files: [{ length: 7, mtimeMs: 1700000000123 }, undefined, { length: 0, mtimeMs: 5 }],
  };
}

/** A valid resume dictionary with `patch` applied, encoded. */
function patched(patch: Record<string, unknown>): Uint8Array {
  const base: Record<string, unknown> = {
    format: "swarmd-resume",
    version: 1,
    "info-hash": INFO_HASH,
    pieces: 10,
    have: new Uint8Array(2),
    files: [[1, 2], [], [3, 4]],
    ...patch,
  };
  for (const [k, v] of Object.entries(base)) if (v === undefined) delete base[k];
  return encode(base as Parameters<typeof encode>[0]);
}

Deno.test("decodeResume() round-trips encodeResume()", () => {
  const data = sample();
  const back = decodeResume(encodeResume(data), EXPECTED);
  assert(!("error" in back), JSON.stringify(back));
  assertEquals([...back.have.indices()], [0, 3, 9]);
  assertEquals(back.files, data.files);
  assertEquals(back.infoHash, INFO_HASH);
});

Deno.test("encodeResume() rounds mtimes down to whole milliseconds", () => {
  const data = { ...sample(), files: [{ length: 1, mtimeMs: 10.75 }, undefined, undefined] };
  const back = decodeResume(encodeResume(data), EXPECTED);
  assert(!("error" in back));
  assertEquals(back.files[0], { length: 1, mtimeMs: 10 });
  assertThrows(() => encodeResume({ ...data, pieceCount: 11 }), RangeError);
});

Deno.test("decodeResume() answers an error for bad resume data (RELIABILITY F2)", () => {
  const rows: [string, Uint8Array, string][] = [
    ["empty", new Uint8Array(0), "bencode"],
    ["garbage", new TextEncoder().encode("not bencode at all"), "bencode"],
    ["truncated", encodeResume(sample()).subarray(0, 40), "bencode"],
    ["a list", encode([1, 2]), "not a dictionary"],
    ["other format", patched({ format: "other" }), "format"],
    ["version 2", patched({ version: 2 }), "format"],
    ["other info-hash", patched({ "info-hash": new Uint8Array(20) }), "another torrent"],
    ["no info-hash", patched({ "info-hash": undefined }), "another torrent"],
    ["info-hash wrong type", patched({ "info-hash": 5 }), "malformed"],
    ["piece count", patched({ pieces: 11 }), "pieces"],
    ["bitfield too short", patched({ have: new Uint8Array(1) }), "bitfield"],
    ["bitfield too long", patched({ have: new Uint8Array(3) }), "bitfield"],
    ["bitfield spare bits", patched({ have: new Uint8Array([0, 0x01]) }), "bitfield"],
    ["file count", patched({ files: [[1, 2]] }), "files"],
    ["file entry not a list", patched({ files: [5, [], []] }), "file entry"],
    ["file entry of 3", patched({ files: [[1, 2, 3], [], []] }), "file entry"],
    ["negative length", patched({ files: [[-1, 2], [], []] }), "file entry"],
    ["text length", patched({ files: [["x", 2], [], []] }), "file entry"],
  ];
  for (const [name, bytes, includes] of rows) {
    const result = decodeResume(bytes, EXPECTED);
    assert("error" in result, `${name}: expected an error`);
    assert(result.error.includes(includes), `${name}: "${result.error}"`);
  }
});

Deno.test("decodeResume() never throws on truncated or mutated bytes (fuzz)", () => {
  const valid = encodeResume(sample());
  for (let n = 0; n < valid.length; n++) {
    assert("error" in decodeResume(valid.subarray(0, n), EXPECTED));
  }
  fuzzCases("resume", (random) => {
    const bytes = valid.slice();
    const flips = 1 + random.int(4);
    for (let i = 0; i < flips; i++) bytes[random.int(bytes.length)] = random.int(256);
    decodeResume(bytes, EXPECTED); // must return, never throw
  }, (bytes) => void decodeResume(bytes, EXPECTED));
});

/** Layout "4 4 0 6", 4-byte pieces: files 0 and 1 hold pieces 0 and 1, file 3 pieces 2-3. */
function recheckCase(haveMask: string, now: (FileStat | undefined)[]) {
  const layout = new StorageLayout([{ length: 4 }, { length: 4 }, { length: 0 }, { length: 6 }], 4);
  const have = new Bitfield(4);
  [...haveMask].forEach((c, i) => c === "x" && have.set(i));
  const files = [
    { length: 4, mtimeMs: 1 },
    { length: 4, mtimeMs: 1 },
    { length: 0, mtimeMs: 1 },
    { length: 6, mtimeMs: 1 },
  ];
  const plan = piecesToRecheck({ infoHash: INFO_HASH, pieceCount: 4, have, files }, now, layout);
  return { trusted: [...plan.trusted.indices()], recheck: plan.recheck };
}

Deno.test("piecesToRecheck() rechecks only pieces of changed files (RELIABILITY F5)", () => {
  const same = { length: 4, mtimeMs: 1.9 }; // sub-millisecond differences are ignored
  const last = { length: 6, mtimeMs: 1 };
  const empty = { length: 0, mtimeMs: 1 };
  const rows: [string, (FileStat | undefined)[], number[], number[]][] = [
    ["xxxx", [same, same, empty, last], [0, 1, 2, 3], []],
    ["xxxx", [same, { length: 4, mtimeMs: 2 }, empty, last], [0, 2, 3], [1]],
    ["x...", [same, { length: 3, mtimeMs: 1 }, empty, last], [0], [1]], // unrecorded piece too
    ["xxxx", [same, same, undefined, { length: 6, mtimeMs: 9 }], [0, 1], [2, 3]], // empty file ignored
    ["xxxx", [undefined, same, empty, last], [1, 2, 3], []], // missing: neither
    ["....", [same, same, empty, last], [], []],
  ];
  for (const [mask, now, trusted, recheck] of rows) {
    assertEquals(recheckCase(mask, now), { trusted, recheck }, `${mask} ${JSON.stringify(now)}`);
  }
});

Deno.test("piecesToRecheck() treats a file recorded as missing as changed once it appears", () => {
  const layout = new StorageLayout([{ length: 4 }, { length: 4 }], 4);
  const resume = {
    infoHash: INFO_HASH,
    pieceCount: 2,
    have: new Bitfield(2),
    files: [undefined, undefined],
  };
  const plan = piecesToRecheck(resume, [{ length: 4, mtimeMs: 1 }, undefined], layout);
  assertEquals(plan.recheck, [0]);
  assertThrows(() => piecesToRecheck(resume, [undefined], layout), RangeError);
});
