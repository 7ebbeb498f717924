import { assertEquals } from "../../tests/assert.ts";
import { createStreamHandler, type StreamableTorrent } from "./stream_http.ts";
import type { ReadStreamOptions, TorrentFileInfo } from "./torrent_handle.ts";

const HASH = "0123456789abcdef0123456789abcdef01234567";
const DATA = new Uint8Array(1000).map((_, i) => i & 0xff);

function file(index: number, path: string, length: number, more = {}): TorrentFileInfo {
  return { index, path, length, offset: 0, isPadding: false, isSelected: true, ...more };
}

function fakeTorrent(files: TorrentFileInfo[] | undefined): StreamableTorrent {
  return {
    infoHash: HASH,
    files: () => files,
    createReadStream(i: number, o: ReadStreamOptions = {}) {
      if (i === 3) throw new RangeError("Cannot read file 3: piece 0 is not selected for download");
      if (i === 4) throw new RangeError("Cannot read: 16 readers open");
      const bytes = DATA.slice(o.start ?? 0, (o.end ?? 999) + 1);
      return new ReadableStream({
        start(c) {
          c.enqueue(bytes);
          c.close();
        },
      });
    },
  };
}

const FILES = [
  file(0, "show/e01.mkv", 1000),
  file(1, "show/pad", 10, { isPadding: true }),
  file(2, "show/empty.txt", 0),
  file(3, "show/skipped.mp4", 1000, { isSelected: false }),
  file(4, "show/busy.mp3", 1000),
];
const handler = createStreamHandler(
  { torrent: (hex) => hex === HASH ? fakeTorrent(FILES) : undefined },
  { allowedHosts: ["127.0.0.1", "localhost"] },
);

async function get(path: string, init: RequestInit = {}, host = "127.0.0.1:8000") {
  const res = await handler(new Request(`http://${host}${path}`, init));
  const body = new Uint8Array(await res.arrayBuffer());
  return { res, body, header: (name: string) => res.headers.get(name) };
}

// [name, path, request headers, status, Content-Range, body bytes start..end]
const cases: [string, string, Record<string, string>, number, string | null, [number, number]?][] =
  [
    ["serves the whole file", `/stream/${HASH}/0`, {}, 200, null, [0, 999]],
    ["accepts a name after the index", `/stream/${HASH}/0/e01.mkv`, {}, 200, null, [0, 999]],
    ["accepts an upper-case hash", `/stream/${HASH.toUpperCase()}/0`, {}, 200, null, [0, 999]],
    ["serves a range", `/stream/${HASH}/0`, { range: "bytes=10-19" }, 206, "bytes 10-19/1000", [
      10,
      19,
    ]],
    [
      "serves a suffix range",
      `/stream/${HASH}/0`,
      { range: "bytes=-10" },
      206,
      "bytes 990-999/1000",
      [
        990,
        999,
      ],
    ],
    [
      "serves a range with our ETag in If-Range",
      `/stream/${HASH}/0`,
      {
        range: "bytes=5-",
        "if-range": `"${HASH}-0"`,
      },
      206,
      "bytes 5-999/1000",
      [5, 999],
    ],
    [
      "serves the whole file for a stale If-Range",
      `/stream/${HASH}/0`,
      {
        range: "bytes=5-",
        "if-range": '"other"',
      },
      200,
      null,
      [0, 999],
    ],
    [
      "refuses a range past the end",
      `/stream/${HASH}/0`,
      { range: "bytes=1000-" },
      416,
      "bytes */1000",
    ],
    ["refuses a backwards range", `/stream/${HASH}/0`, { range: "bytes=9-1" }, 416, "bytes */1000"],
    [
      "refuses an absurd range",
      `/stream/${HASH}/0`,
      {
        range: "bytes=99999999999999999999999-",
      },
      416,
      "bytes */1000",
    ],
    ["serves an empty file", `/stream/${HASH}/2`, {}, 200, null],
    ["404s a padding file", `/stream/${HASH}/1`, {}, 404, null],
    ["404s a file index past the end", `/stream/${HASH}/9`, {}, 404, null],
    ["404s an unknown hash", `/stream/${"f".repeat(40)}/0`, {}, 404, null],
    ["404s a malformed hash", `/stream/xyz/0`, {}, 404, null],
    ["404s a path outside the routes", `/etc/passwd`, {}, 404, null],
    ["404s a path climbing out", `/stream/${HASH}/0/../../../etc/passwd`, {}, 404, null],
    ["404s an encoded slash", `/stream/${HASH}%2F0`, {}, 404, null],
    ["404s a huge index", `/stream/${HASH}/99999999999999999999`, {}, 404, null],
    ["409s a skipped file's unfetched bytes", `/stream/${HASH}/3`, {}, 409, null],
    ["503s a torrent at its reader cap", `/stream/${HASH}/4`, {}, 503, null],
  ];
for (const [name, path, headers, status, contentRange, bytes] of cases) {
  Deno.test(`createStreamHandler() ${name}`, async () => {
    const { res, body, header } = await get(path, { headers });
    assertEquals(res.status, status, new TextDecoder().decode(body));
    assertEquals(header("content-range"), contentRange);
    assertEquals(header("x-content-type-options"), "nosniff");
    if (bytes) {
      assertEquals(body, DATA.slice(bytes[0], bytes[1] + 1));
      assertEquals(header("content-length"), String(bytes[1] - bytes[0] + 1));
      assertEquals(header("accept-ranges"), "bytes");
      assertEquals(header("content-type"), "video/x-matroska");
      assertEquals(header("etag"), `"${HASH}-0"`);
    }
  });
}

Deno.test("createStreamHandler() answers HEAD with the headers only", async () => {
  const { res, body, header } = await get(`/stream/${HASH}/0`, {
    method: "HEAD",
    headers: { range: "bytes=0-9" },
  });
  assertEquals([res.status, body.length, header("content-length")], [206, 0, "10"]);
  assertEquals(header("content-range"), "bytes 0-9/1000");
});

Deno.test("createStreamHandler() refuses other methods and foreign Host names", async () => {
  assertEquals((await get(`/stream/${HASH}/0`, { method: "POST", body: "x" })).res.status, 405);
  assertEquals((await get(`/stream/${HASH}/0`, {}, "evil.example:8000")).res.status, 403);
  assertEquals((await get(`/stream/${HASH}/0`, {}, "localhost:8000")).res.status, 200);
});

Deno.test("createStreamHandler() serves an M3U playlist of the selected files", async () => {
  const { res, body, header } = await get(`/stream/${HASH}.m3u`);
  assertEquals(res.status, 200);
  assertEquals(header("content-type"), "audio/x-mpegurl; charset=utf-8");
  assertEquals(
    new TextDecoder().decode(body),
    [
      "#EXTM3U",
      "#EXTINF:-1,show/e01.mkv",
      `http://127.0.0.1:8000/stream/${HASH}/0`,
      "#EXTINF:-1,show/busy.mp3",
      `http://127.0.0.1:8000/stream/${HASH}/4`,
      "",
    ].join("\n"),
  );
  assertEquals((await get(`/stream/${"e".repeat(40)}.m3u`)).res.status, 404);
});

Deno.test("createStreamHandler() answers 503 while a magnet's metadata is unknown", async () => {
  const magnet = createStreamHandler({ torrent: () => fakeTorrent(undefined) });
  const res = await magnet(new Request(`http://127.0.0.1/stream/${HASH}/0`));
  assertEquals([res.status, res.headers.get("retry-after")], [503, "1"]);
  await res.body?.cancel();
});

Deno.test("createStreamHandler() names the file in Content-Disposition (RFC 5987)", async () => {
  const named = createStreamHandler({
    torrent: () => fakeTorrent([file(0, "dir/it's (1) é.mkv", 1000)]),
  });
  const res = await named(new Request(`http://127.0.0.1/stream/${HASH}/0`, { method: "HEAD" }));
  assertEquals(
    res.headers.get("content-disposition"),
    "inline; filename*=UTF-8''it%27s%20%281%29%20%C3%A9.mkv",
  );
});
