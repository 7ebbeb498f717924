import { assertEquals, assertRejects } from "../../tests/assert.ts";
import { StorageError } from "../errors.ts";
import { CONFORMANCE_CASES, fixture } from "./disk_io_conformance_test.ts";
import { MemoryDiskIo } from "./memory_disk_io.ts";

for (const c of CONFORMANCE_CASES) {
  Deno.test(`MemoryDiskIo.${c.name}`, () =>
    c.run((options) =>
      Promise.resolve({
        disk: new MemoryDiskIo(options),
        root: "/mem",
        cleanup: () => Promise.resolve(),
      })
    ));
}

Deno.test("MemoryDiskIo.writePiece() rejects with StorageError when failWrites says so", async () => {
  const disk = new MemoryDiskIo({ failWrites: (index) => index === 1 });
  const { spec, pieces } = fixture("/mem");
  const id = await disk.open(spec);
  assertEquals(await disk.writePiece(id, 0, pieces[0]!), true);
  await assertRejects(() => disk.writePiece(id, 1, pieces[1]!), StorageError, "injected");
  assertEquals(await disk.hashPieces(id, 1, 1), new Uint8Array(20));
  await disk.shutdown();
});

Deno.test("MemoryDiskIo.putFile() and removeFile() edit files like a user would", async () => {
  let now = 1000;
  const disk = new MemoryDiskIo({ now: () => now });
  const { spec, pieces } = fixture("/mem");
  const id = await disk.open(spec);
  for (const [i, p] of pieces.entries()) await disk.writePiece(id, i, p);
  assertEquals((await disk.statFiles(id))[3], { length: 5, mtimeMs: 1000 });
  now = 2000;
  disk.putFile(id, 3, new Uint8Array(5));
  assertEquals((await disk.statFiles(id))[3], { length: 5, mtimeMs: 2000 });
  assertEquals(disk.fileBytes(id, 3), new Uint8Array(5));
  disk.removeFile(id, 0);
  assertEquals((await disk.statFiles(id))[0], undefined);
  assertEquals(disk.fileBytes(id, 0), undefined);
  await assertRejects(() => disk.read(id, 0, 0, 1), StorageError);
  await disk.shutdown();
});
