import fc from "fast-check";
import { assert, assertEquals, assertThrows } from "../../tests/assert.ts";
import { type FileSpan, StorageLayout } from "./layout.ts";

/** Builds a layout from a fixture like "5 0 7" (file lengths) and a piece length. */
function layoutOf(lengths: string, pieceLength: number): StorageLayout {
  return new StorageLayout(
    lengths.split(" ").map((n) => ({ length: Number(n) })),
    pieceLength,
  );
}

/** Spans as "file:offset+length" strings, for one-line expectations. */
function show(spans: FileSpan[]): string {
  return spans.map((s) => `${s.fileIndex}:${s.fileOffset}+${s.length}`).join(" ");
}

Deno.test("StorageLayout.spans() maps pieces across file boundaries", () => {
  const rows: [string, number, number, number | undefined, number | undefined, string][] = [
    // files, pieceLength, index, begin, length, expected
    ["10", 4, 0, undefined, undefined, "0:0+4"],
    ["10", 4, 2, undefined, undefined, "0:8+2"], // short last piece
    ["3 5 2", 4, 0, undefined, undefined, "0:0+3 1:0+1"],
    ["3 5 2", 4, 1, undefined, undefined, "1:1+4"],
    ["3 5 2", 4, 2, undefined, undefined, "2:0+2"],
    ["3 0 0 5", 4, 0, undefined, undefined, "0:0+3 3:0+1"], // zero-length files skipped
    ["0 4 0", 4, 0, undefined, undefined, "1:0+4"],
    ["1 1 1 1 1", 5, 0, 1, 3, "1:0+1 2:0+1 3:0+1"],
    ["3 5 2", 4, 0, 2, 0, ""],
  ];
  for (const [files, plen, index, begin, length, expected] of rows) {
    assertEquals(show(layoutOf(files, plen).spans(index, begin, length)), expected, files);
  }
});

Deno.test("StorageLayout.pieceSize() gives the short last piece", () => {
  const layout = layoutOf("3 5 2", 4);
  assertEquals(layout.pieceCount, 3);
  assertEquals([0, 1, 2].map((i) => layout.pieceSize(i)), [4, 4, 2]);
  assertEquals(layoutOf("0 0", 4).pieceCount, 0);
  assertEquals(layoutOf("8", 4).pieceSize(1), 4);
});

Deno.test("StorageLayout.piecesOfFile() and filesOfPiece() agree", () => {
  const layout = layoutOf("3 0 5 2", 4);
  assertEquals(layout.piecesOfFile(0), { first: 0, last: 0 });
  assertEquals(layout.piecesOfFile(1), undefined);
  assertEquals(layout.piecesOfFile(2), { first: 0, last: 1 });
  assertEquals(layout.piecesOfFile(3), { first: 2, last: 2 });
  assertEquals(layout.filesOfPiece(0), [0, 2]);
  assertEquals(layout.filesOfPiece(2), [3]);
  assertEquals(layout.fileOffsets, [0, 3, 3, 8]);
});

Deno.test("StorageLayout rejects bad arguments with RangeError", () => {
  assertThrows(() => layoutOf("5", 0), RangeError, "piece length");
  assertThrows(() => layoutOf("-1", 4), RangeError, "file 0");
  assertThrows(() => new StorageLayout([{ length: 2 ** 53 - 1 }, { length: 2 }], 4), RangeError);
  const layout = layoutOf("10", 4);
  assertThrows(() => layout.spans(3), RangeError, "Piece 3");
  assertThrows(() => layout.spans(2, 1, 2), RangeError, "exceeds");
  assertThrows(() => layout.spans(0, -1, 1), RangeError);
  assertThrows(() => layout.piecesOfFile(1), RangeError);
  assertThrows(() => layout.fileAt(10), RangeError);
});

const arbitraryLayout = fc.record({
  lengths: fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 50 })), {
    minLength: 1,
    maxLength: 12,
  }),
  pieceLength: fc.integer({ min: 1, max: 40 }),
});

Deno.test("StorageLayout.spans() of every piece tile the content exactly once, in order", () => {
  fc.assert(
    fc.property(arbitraryLayout, ({ lengths, pieceLength }) => {
      const layout = new StorageLayout(lengths.map((length) => ({ length })), pieceLength);
      let file = 0;
      let offset = 0; // next expected byte inside `file`
      for (let index = 0; index < layout.pieceCount; index++) {
        let sum = 0;
        for (const span of layout.spans(index)) {
          while (file < lengths.length && offset === lengths[file]) [file, offset] = [file + 1, 0];
          assert(span.length > 0, "span of zero length");
          assertEquals([span.fileIndex, span.fileOffset], [file, offset]);
          offset += span.length;
          assert(offset <= lengths[file]!, "span beyond its file");
          sum += span.length;
        }
        assertEquals(sum, layout.pieceSize(index));
      }
      while (file < lengths.length && offset === lengths[file]) [file, offset] = [file + 1, 0];
      assertEquals(file, lengths.length, "content not fully covered");
    }),
    { seed: 42, numRuns: 500 },
  );
});

Deno.test("StorageLayout.spans() of a block equals the matching slice of the piece's spans", () => {
  fc.assert(
    fc.property(arbitraryLayout, fc.nat(), fc.nat(), fc.nat(), (l, i, b, n) => {
      const layout = new StorageLayout(l.lengths.map((length) => ({ length })), l.pieceLength);
      if (layout.pieceCount === 0) return;
      const index = i % layout.pieceCount;
      const size = layout.pieceSize(index);
      const begin = b % size;
      const length = n % (size - begin + 1);
      const bytesOf = (spans: FileSpan[]) =>
        spans.flatMap((s) =>
          Array.from({ length: s.length }, (_, k) => `${s.fileIndex}@${s.fileOffset + k}`)
        );
      assertEquals(
        bytesOf(layout.spans(index, begin, length)),
        bytesOf(layout.spans(index)).slice(begin, begin + length),
      );
    }),
    { seed: 7, numRuns: 500 },
  );
});

Deno.test("StorageLayout.piecesOfFile() covers exactly the pieces whose spans name the file", () => {
  fc.assert(
    fc.property(arbitraryLayout, ({ lengths, pieceLength }) => {
      const layout = new StorageLayout(lengths.map((length) => ({ length })), pieceLength);
      for (let f = 0; f < lengths.length; f++) {
        const expected: number[] = [];
        for (let p = 0; p < layout.pieceCount; p++) {
          if (layout.filesOfPiece(p).includes(f)) expected.push(p);
        }
        const range = layout.piecesOfFile(f);
        const actual = range
          ? Array.from({ length: range.last - range.first + 1 }, (_, k) => range.first + k)
          : [];
        assertEquals(actual, expected);
      }
    }),
    { seed: 3, numRuns: 300 },
  );
});
