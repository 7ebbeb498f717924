import { deepStrictEqual as assertEquals } from "node:assert";
import { type RequestContext, UploadQueue } from "./upload_queue.ts";

const KIB = 1024;

function context(over: Partial<RequestContext> = {}): RequestContext {
  return {
    pieceCount: 4,
    canServe: (i) => i !== 3,
    pieceSize: (i) => i === 2 ? 20 * KIB : 64 * KIB,
    choking: false,
    refuses: () => false,
    ...over,
  };
}

Deno.test("UploadQueue.offer() queues valid requests and refuses the rest", () => {
  const cases: [string, number, number, number, Partial<RequestContext>, string][] = [
    ["a whole block", 0, 0, 16 * KIB, {}, "queued"],
    ["the short last block", 2, 16 * KIB, 4 * KIB, {}, "queued"],
    ["past the piece's end", 2, 16 * KIB, 16 * KIB, {}, "refused"],
    ["longer than 16 KiB", 0, 0, 32 * KIB, {}, "refused"],
    ["length 0", 0, 0, 0, {}, "refused"],
    ["a piece we lack", 3, 0, 16 * KIB, {}, "refused"],
    ["a piece past the end", 9, 0, 16 * KIB, {}, "refused"],
    ["while we choke it", 0, 0, 16 * KIB, { choking: true }, "refused"],
    ["left to others by the seed policy", 0, 0, 16 * KIB, { refuses: () => true }, "refused"],
  ];
  for (const [what, index, begin, length, over, verdict] of cases) {
    const q = new UploadQueue({ maxIncomingRequests: 500 });
    assertEquals(q.offer({ index, begin, length }, context(over), 5), verdict, what);
    assertEquals(q.length, verdict === "queued" ? 1 : 0, what);
    assertEquals(q.lastRequestAt, verdict === "queued" ? 5 : 0, what);
  }
});

Deno.test("UploadQueue caps its queue and closes a peer after 300 bad requests (PW6, PW7)", () => {
  const q = new UploadQueue({ maxIncomingRequests: 3 });
  const r = { index: 0, begin: 0, length: 16 * KIB };
  const verdicts = [0, 1, 2, 3].map(() => q.offer(r, context(), 0));
  assertEquals(verdicts, ["queued", "queued", "queued", "refused"]);
  q.assertInvariants();
  const bad = new UploadQueue({ maxIncomingRequests: 3 });
  let closedAt = 0;
  for (let i = 1; i <= 400 && closedAt === 0; i++) {
    if (bad.offer(r, context({ choking: true }), 0) === "close") closedAt = i;
  }
  assertEquals(closedAt, 301);
});

Deno.test("UploadQueue closes a peer that floods valid requests past the cap it was told (PW7)", () => {
  const q = new UploadQueue({ maxIncomingRequests: 500, invalidRequestLimit: 300 });
  const verdicts = new Map<string, number>();
  let closedAt = 0;
  for (let i = 1; i <= 100_000 && closedAt === 0; i++) {
    const v = q.offer({ index: i % 3, begin: 0, length: 16 * KIB }, context(), 0);
    verdicts.set(v, (verdicts.get(v) ?? 0) + 1);
    if (v === "close") closedAt = i;
  }
  assertEquals(closedAt, 801); // 500 queued, 300 refused, then closed
  assertEquals(q.length, 500);
  assertEquals(verdicts.get("refused"), 300);
  q.assertInvariants();
});

Deno.test("UploadQueue: CANCEL drops one request, a choke all of them, a failed read its piece", () => {
  const q = new UploadQueue({ maxIncomingRequests: 10 });
  for (const [index, begin] of [[0, 0], [0, 16 * KIB], [1, 0], [2, 0]]) {
    q.offer({ index: index!, begin: begin!, length: 16 * KIB }, context(), 0);
  }
  assertEquals(q.cancel({ index: 0, begin: 16 * KIB, length: 16 * KIB }), true);
  assertEquals(q.cancel({ index: 0, begin: 16 * KIB, length: 16 * KIB }), false);
  q.dropPiece(1);
  assertEquals(q.peek(), { index: 0, begin: 0, length: 16 * KIB });
  assertEquals(q.clear().map((r) => r.index), [0, 2]);
  assertEquals(q.length, 0);
});
