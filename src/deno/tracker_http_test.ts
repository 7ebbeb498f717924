import { assert, assertEquals } from "../../tests/assert.ts";
import { TrackerServer } from "./tracker_server.ts";

const ANNOUNCE = `/announce?info_hash=${"%42".repeat(20)}&peer_id=${"-XX0001-".padEnd(20, "x")}` +
  `&port=6881&uploaded=0&downloaded=0&left=1&event=started`;

function connect(port: number): Promise<Deno.TcpConn> {
  return Deno.connect({ hostname: "127.0.0.1", port });
}

/** Resolves to the time the server closed `conn` (read EOF or reset), or undefined past `deadline`. */
async function closedAt(conn: Deno.Conn, deadline: number): Promise<number | undefined> {
  const buffer = new Uint8Array(1024);
  const timer = setTimeout(() => conn.close(), Math.max(0, deadline - performance.now()));
  try {
    while ((await conn.read(buffer)) !== null) { /* a response to the partial request: read on */ }
    return performance.now();
  } catch {
    return performance.now() < deadline ? performance.now() : undefined; // reset, or our timer
  } finally {
    clearTimeout(timer);
  }
}

async function stats(server: TrackerServer): Promise<Record<string, number>> {
  const a = server.httpAddr!;
  return await (await fetch(`http://${a.host}:${a.port}/stats?format=json`)).json();
}

function closeAll(conns: Deno.Conn[]): void {
  for (const c of conns) {
    try {
      c.close();
    } catch {
      // closed by the server already
    }
  }
}

Deno.test("TrackerServer closes slowloris connections within the header timeout (TS5)", async () => {
  const server = await TrackerServer.start({
    httpPort: 0,
    udpPort: false,
    httpHeaderTimeoutMs: 300,
  });
  const port = server.httpAddr!.port;
  const conns = await Promise.all(Array.from({ length: 50 }, () => connect(port)));
  try {
    const start = performance.now();
    const partial = new TextEncoder().encode("GET /announce?info_hash=");
    await Promise.all(conns.map((c) => c.write(partial)));
    // Keep dribbling a byte now and then: the deadline counts from the connection, not the
    // last byte. Once closed, a write fails; that is fine.
    const dribble = setInterval(() => {
      for (const c of conns) c.write(new Uint8Array([0x41])).catch(() => {});
    }, 50);
    const deadline = start + 10_000; // the default header timeout: far above the 300 ms set
    const closed = await Promise.all(conns.map((c) => closedAt(c, deadline)));
    clearInterval(dribble);
    assertEquals(closed.filter((t) => t === undefined).length, 0, "all closed before 10 s");
    const s = await stats(server);
    assertEquals(s.http_timed_out, 50);
  } finally {
    closeAll(conns);
    await server.close();
  }
});

Deno.test("TrackerServer holds at most maxHttpConnections open and still answers an honest client", async () => {
  const server = await TrackerServer.start({ httpPort: 0, udpPort: false, maxHttpConnections: 8 });
  const port = server.httpAddr!.port;
  const idle: Deno.TcpConn[] = [];
  try {
    for (let i = 0; i < 40; i++) idle.push(await connect(port));
    const response = await fetch(`http://127.0.0.1:${port}${ANNOUNCE}`, {
      signal: AbortSignal.timeout(10_000),
    });
    assert((await response.text()).includes("8:intervali1800e"));
    const s = await stats(server);
    assert(s.http_open! <= 8, `open ${s.http_open}`);
    assert(s.http_evicted! >= 32, `evicted ${s.http_evicted}`);
  } finally {
    closeAll(idle);
    await server.close();
  }
});

Deno.test("TrackerServer answers pipelined keep-alive requests and refuses an 8 KiB+ request line with 414", async () => {
  const server = await TrackerServer.start({ httpPort: 0, udpPort: false });
  const conn = await connect(server.httpAddr!.port);
  try {
    const two =
      `GET ${ANNOUNCE} HTTP/1.1\r\nHost: t\r\n\r\nGET /stats?format=json HTTP/1.1\r\n\r\n`;
    await conn.write(new TextEncoder().encode(two));
    let text = "";
    const buffer = new Uint8Array(8192);
    for (let i = 0; i < 100 && (text.match(/HTTP\/1\.1 200/g) ?? []).length < 2; i++) {
      const n = await conn.read(buffer);
      if (n === null) break;
      text += new TextDecoder().decode(buffer.subarray(0, n));
    }
    assertEquals((text.match(/HTTP\/1\.1 200 OK\r\n/g) ?? []).length, 2, text);
    assert(text.includes('"announces":1'), text);
    const long = await connect(server.httpAddr!.port);
    await long.write(new TextEncoder().encode(`GET /${"a".repeat(9000)}`));
    const n = await long.read(buffer);
    long.close();
    assert(new TextDecoder().decode(buffer.subarray(0, n ?? 0)).startsWith("HTTP/1.1 414"));
  } finally {
    conn.close();
    await server.close();
  }
});
