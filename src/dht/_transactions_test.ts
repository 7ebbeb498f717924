import { assert, assertEquals } from "../../tests/assert.ts";
import { SeededRandom } from "../util/prng.ts";
import { TransactionTable } from "./_transactions.ts";

const A = { host: "1.1.1.1", port: 1 };
const B = { host: "2.2.2.2", port: 1 };

Deno.test("TransactionTable.take() matches only the right id from the right source (D6)", () => {
  const table = new TransactionTable<string>(new SeededRandom(1));
  const t = table.open(A, 0, "ctx")!;
  assertEquals(t.length, 4);
  assertEquals(table.take(new Uint8Array([9, 9, 9, 9]), A), undefined, "unknown id");
  assertEquals(table.take(t, B), undefined, "wrong source");
  assertEquals(table.take(t, { host: "1.1.1.1", port: 2 }), undefined, "wrong port");
  assertEquals(table.take(t, A)?.context, "ctx", "the wrong source did not cancel it");
  assertEquals(table.take(t, A), undefined, "answered once only");
});

Deno.test("TransactionTable.open() issues distinct ids and stops at its bound", () => {
  const table = new TransactionTable<number>(new SeededRandom(2), 100);
  const ids = new Set<string>();
  for (let i = 0; i < 100; i++) ids.add(String(table.open(A, 0, i)));
  assertEquals(ids.size, 100);
  assertEquals(table.open(A, 0, 101), undefined);
  assertEquals(table.drain().length, 100);
  assertEquals(table.size, 0);
  assert(table.open(A, 0, 1) !== undefined);
});
