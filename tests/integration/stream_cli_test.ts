/**
 * `get --stream` as a user runs it, over real loopback TCP and HTTP, against our own
 * `seed` capped at 1 MiB/s: the stream and playlist URLs come as JSON events, an HTTP
 * client reads with random seeks and sequentially while the file downloads (every byte
 * checked), twenty readers that hang up early release their slots, a range past the end
 * is a 416, the file is still served once complete, and a second `get --stream` over the
 * finished download prints `stream:` lines and serves from disk. SIGTERM ends both with 0.
 * @module
 */
import { join } from "node:path";
import { assert, assertEquals } from "../assert.ts";
import { makeVideo, startGet, timedRange } from "../interop/_stream_helpers.ts";
import { spawnCli } from "./_cli_swarm.ts";

/** A port the OS just gave out and took back (TCP and UDP free on 127.0.0.1 now). */
function freePort(): number {
  for (let i = 0; i < 20; i++) {
    const tcp = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const { port } = tcp.addr as Deno.NetAddr;
    try {
      Deno.listenDatagram({ hostname: "127.0.0.1", port, transport: "udp" }).close();
      return port;
    } catch {
      // the UDP port is taken (our seeder's uTP needs it too): try another
    } finally {
      tcp.close();
    }
  }
  throw new Error("no free TCP+UDP port on 127.0.0.1");
}

const SIZE = 6 * 1024 * 1024;

Deno.test("get --stream serves a downloading file: seeks, a sequential read, hang-ups, 416", async () => {
  const root = await Deno.makeTempDir({ prefix: "swarmd-stream-cli-" });
  const video = await makeVideo(root, SIZE, 128 * 1024);
  const port = freePort();
  const seeder = spawnCli([
    ...["seed", video.torrentPath, join(root, "src"), "--port", String(port)],
    ...["--host", "127.0.0.1", "--no-dht", "--no-lsd", "--max-upload", "1M", "--quiet"],
  ]);
  const peer = ["--peer", `127.0.0.1:${port}`, "--port", "0", "--host", "127.0.0.1"];
  peer.push("--no-dht", "--no-lsd");
  const get = startGet(video.torrentPath, ["-o", join(root, "dl"), ...peer, "--stream"]);
  try {
    const stream = await get.waitFor((e) => e.type === "stream", 30_000);
    const url = String(stream.event.url);
    assertEquals(stream.event.path, "video.mp4");
    const playlist = await get.waitFor((e) => e.type === "stream-playlist", 5_000);
    const m3u = await (await fetch(String(playlist.event.url))).text();
    assert(m3u.startsWith("#EXTM3U\n") && m3u.includes(url), m3u);
    const head = await fetch(url, { method: "HEAD" });
    assertEquals([head.status, head.headers.get("content-length")], [200, String(SIZE)]);
    assertEquals(head.headers.get("content-type"), "video/mp4");
    // twenty readers that hang up after their first bytes (or before any) free their slots
    for (let k = 0; k < 20; k++) {
      const controller = new AbortController();
      const res = await fetch(url, {
        signal: controller.signal,
        headers: { range: `bytes=${k}-` },
      });
      const reader = res.body!.getReader();
      if (k % 2 === 0) await Promise.race([reader.read(), new Promise((r) => setTimeout(r, 200))]);
      controller.abort();
      await reader.cancel().catch(() => {});
    }
    const seeks = (async () => {
      for (const start of [5_000_000, 123_456, 3_333_333, SIZE - 10]) {
        const r = await timedRange(url, start, Math.min(SIZE - 1, start + 200_000));
        assertEquals(r.status, 206);
        assertEquals(r.body, video.data.subarray(start, Math.min(SIZE, start + 200_001)));
      }
    })();
    const whole = await timedRange(url, 0, SIZE - 1);
    await seeks;
    assertEquals(whole.body, video.data);
    assertEquals((await timedRange(url, SIZE, SIZE + 10)).status, 416);
    await get.waitFor((e) => e.type === "torrent-completed", 60_000);
    assertEquals((await timedRange(url, 7, 99)).body, video.data.subarray(7, 100));
    assertEquals(await get.stop(), 0);
    // the finished download, streamed again from disk, with text output
    const fromDisk = ["-o", join(root, "dl"), ...peer, "--stream", "--quiet"];
    const text = spawnCli(["get", video.torrentPath, ...fromDisk]);
    const lines = text.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let out = "";
    while (!out.includes("playlist: ")) {
      const { value, done } = await lines.read();
      if (done) break;
      out += value;
    }
    const again = /^stream: (\S+) {2}video\.mp4$/m.exec(out);
    assert(again, `no stream: line in ${JSON.stringify(out)}`);
    assertEquals((await timedRange(again[1]!, 1000, 1999)).body, video.data.subarray(1000, 2000));
    text.kill("SIGTERM");
    lines.releaseLock();
    await text.stdout.cancel().catch(() => {});
    await text.stderr.cancel().catch(() => {});
    assertEquals((await text.status).code, 0);
    // The seeder served both gets and must still be running.
    const early = await Promise.race([seeder.status, new Promise((r) => setTimeout(r, 0))]);
    if (early !== undefined) {
      const stderr = await new Response(seeder.stderr).text();
      throw new Error(`our seeder exited early (${JSON.stringify(early)}): ${stderr}`);
    }
  } finally {
    await get.stop();
    try {
      seeder.kill("SIGTERM");
    } catch {
      // it exited already: the check above reports why
    }
    await seeder.status;
    await seeder.stdout.cancel().catch(() => {});
    await seeder.stderr.cancel().catch(() => {});
    await Deno.remove(root, { recursive: true });
  }
});
