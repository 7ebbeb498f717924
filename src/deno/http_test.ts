import { assertEquals, assertRejects } from "../../tests/assert.ts";
import { TrackerError } from "../errors.ts";
import { DenoHttpFetcher } from "./http.ts";

async function gzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(
    new CompressionStream("gzip"),
  );
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

async function withServer(fn: (base: string) => Promise<void>): Promise<void> {
  const bomb = await gzip(new Uint8Array(2 * 1024 * 1024));
  const abort = new AbortController();
  const hanging: (() => void)[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: abort.signal, onListen() {} },
    async (req) => {
      const path = new URL(req.url).pathname;
      if (path === "/ok") return new Response("d8:intervali60ee");
      if (path === "/big") return new Response(new Uint8Array(2 * 1024 * 1024));
      if (path === "/bomb") {
        return new Response(bomb as Uint8Array<ArrayBuffer>, {
          headers: { "content-encoding": "gzip" },
        });
      }
      if (path === "/redirect") {
        return new Response(null, {
          status: 302,
          headers: { location: "/ok" },
        });
      }
      await new Promise<void>((resolve) => hanging.push(resolve));
      return new Response("late");
    },
  );
  try {
    await fn(`http://127.0.0.1:${server.addr.port}`);
  } finally {
    for (const release of hanging) release();
    abort.abort();
    await server.finished;
  }
}

Deno.test("DenoHttpFetcher.fetch() returns status and body and never follows redirects", async () => {
  await withServer(async (base) => {
    const fetcher = new DenoHttpFetcher();
    const ok = await fetcher.fetch(`${base}/ok`, { maxBytes: 1024, timeoutMs: 5000 });
    assertEquals([ok.status, new TextDecoder().decode(ok.body)], [200, "d8:intervali60ee"]);
    const r = await fetcher.fetch(`${base}/redirect`, { maxBytes: 1024, timeoutMs: 5000 });
    assertEquals([r.status, r.location], [302, "/ok"]);
  });
});

Deno.test("DenoHttpFetcher.fetch() aborts past 1 MiB, compressed or not (TC1)", async () => {
  await withServer(async (base) => {
    const fetcher = new DenoHttpFetcher();
    for (const path of ["/big", "/bomb"]) {
      await assertRejects(
        () => fetcher.fetch(`${base}${path}`, { maxBytes: 1024 * 1024, timeoutMs: 5000 }),
        TrackerError,
        "exceeds 1048576",
      );
    }
  });
});

Deno.test("DenoHttpFetcher.fetch() times out, honours abort and refuses other schemes", async () => {
  await withServer(async (base) => {
    const fetcher = new DenoHttpFetcher();
    await assertRejects(
      () => fetcher.fetch(`${base}/hang`, { maxBytes: 1024, timeoutMs: 50 }),
      TrackerError,
      "Timed out after 50 ms",
    );
    const abort = new AbortController();
    const pending = fetcher.fetch(`${base}/hang`, {
      maxBytes: 1024,
      timeoutMs: 5000,
      signal: abort.signal,
    });
    abort.abort();
    await assertRejects(() => pending, TrackerError);
    await assertRejects(
      () => fetcher.fetch("file:///etc/passwd", { maxBytes: 1024, timeoutMs: 50 }),
      TrackerError,
      "not http(s)",
    );
  });
});
