/**
 * A small HTTP(S) file server for web-seed tests (Python's http.server ignores Range):
 * it serves a directory with single `bytes` ranges (206, Content-Range), keeps
 * connections alive, and misbehaves on purpose under a first path segment naming a mode:
 *
 * - `/ok/<path>`: correct answers;
 * - `/404/…`, `/500/…`: that status;
 * - `/short/…`: half the range, then the body ends;
 * - `/long/…`: the range plus 1,000 more bytes, declared;
 * - `/ignore-range/…`: 200 with the whole file;
 * - `/corrupt/…`: the range with every byte flipped;
 * - `/redirect/…`: a 302 to `/ok/…`; `/loop/…`: a 302 to itself;
 * - `/slow/…`: correct answers at about 1 MiB/s (16 KiB every 16 ms).
 *
 * Requests are counted per mode. Bound to 127.0.0.1; stopped by `close()`.
 * @module
 */
import { join } from "node:path";

/** A running test server. */
export interface RangeServer {
  /** `http(s)://127.0.0.1:port`. */
  readonly origin: string;
  /** Requests per mode. */
  readonly counts: Map<string, number>;
  /** Body bytes answered per mode (as declared or sent). */
  readonly bytes: Map<string, number>;
  /** Stops the server. */
  close(): Promise<void>;
}

/**
 * Starts serving `root`.
 * @param tls a certificate and key (PEM) for https
 */
export async function startRangeServer(
  root: string,
  tls?: { cert: string; key: string },
): Promise<RangeServer> {
  const counts = new Map<string, number>();
  const bytes = new Map<string, number>();
  const { promise: listening, resolve } = Promise.withResolvers<Deno.NetAddr>();
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: (addr) => resolve(addr as Deno.NetAddr),
    ...(tls ?? {}),
  }, async (req) => {
    const res = await handle(req, root, counts);
    const mode = new URL(req.url).pathname.split("/")[1] ?? "";
    const length = Number(res.headers.get("content-length") ?? 0);
    bytes.set(mode, (bytes.get(mode) ?? 0) + length);
    return res;
  });
  const addr = await listening;
  return {
    origin: `${tls ? "https" : "http"}://127.0.0.1:${addr.port}`,
    counts,
    bytes,
    close: () => server.shutdown(),
  };
}

async function handle(req: Request, root: string, counts: Map<string, number>): Promise<Response> {
  const url = new URL(req.url);
  const [, mode = "", ...rest] = url.pathname.split("/");
  counts.set(mode, (counts.get(mode) ?? 0) + 1);
  const path = rest.map(decodeURIComponent);
  if (path.some((c) => c === ".." || c === "")) return new Response("bad path", { status: 400 });
  if (mode === "404") return new Response("not found", { status: 404 });
  if (mode === "500") return new Response("oops", { status: 500 });
  if (mode === "redirect") {
    return new Response(null, { status: 302, headers: { location: `/ok/${rest.join("/")}` } });
  }
  if (mode === "loop") {
    return new Response(null, { status: 302, headers: { location: url.pathname } });
  }
  let file: Deno.FsFile;
  try {
    file = await Deno.open(join(root, ...path));
  } catch {
    return new Response("not found", { status: 404 });
  }
  let size: number, start: number, end: number;
  const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.get("range") ?? "");
  try {
    size = (await file.stat()).size;
    start = m && mode !== "ignore-range" ? Number(m[1]) : 0;
    end = Math.min(m && mode !== "ignore-range" && m[2] ? Number(m[2]) : size - 1, size - 1);
    if (m && mode !== "ignore-range" && start > end) {
      file.close();
      return new Response(null, { status: 416, headers: { "content-range": `bytes */${size}` } });
    }
  } catch (e) {
    file.close();
    throw e;
  }
  const data = await readAt(file, start, end - start + 1); // only the bytes asked for
  if (!m || mode === "ignore-range") {
    return new Response(data, { status: 200, headers: { "content-length": String(size) } });
  }
  let body = data;
  const headers = { "content-range": `bytes ${start}-${end}/${size}` };
  if (mode === "corrupt") body = body.map((b) => b ^ 0xff);
  if (mode === "long") body = new Uint8Array([...body, ...new Uint8Array(1000)]);
  if (mode === "short") {
    // the right Content-Range, but only half the bytes (a chunked body that ends early)
    const half = body.slice(0, body.length >> 1);
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(half);
        c.close();
      },
    });
    return new Response(stream, { status: 206, headers });
  }
  if (mode === "slow") {
    let at = 0;
    const slow = new ReadableStream<Uint8Array>({
      async pull(c) {
        if (at >= body.length) return c.close();
        await new Promise((r) => setTimeout(r, 16));
        c.enqueue(body.slice(at, at += 16_384));
      },
    });
    return new Response(slow, {
      status: 206,
      headers: { ...headers, "content-length": String(body.length) },
    });
  }
  return new Response(body, {
    status: 206,
    headers: { ...headers, "content-length": String(body.length) },
  });
}

/** Reads `length` bytes at `offset` and closes the file. */
async function readAt(file: Deno.FsFile, offset: number, length: number) {
  try {
    const out = new Uint8Array(length);
    await file.seek(offset, Deno.SeekMode.Start);
    for (let got = 0; got < length;) {
      const n = await file.read(out.subarray(got));
      if (n === null) break;
      got += n;
    }
    return out;
  } finally {
    file.close();
  }
}

/** A test CA and a server certificate it signed, for 127.0.0.1 and localhost (PEM). */
export interface TestTls {
  /** The server certificate. */
  readonly cert: string;
  /** Its key. */
  readonly key: string;
  /** The CA certificate a client must trust. */
  readonly ca: string;
}

/**
 * Makes a test CA and a server certificate with openssl (rustls refuses a self-signed
 * certificate used directly as a server's).
 * @returns the PEMs, or undefined when openssl is missing or fails
 */
export async function testTls(): Promise<TestTls | undefined> {
  const dir = await Deno.makeTempDir({ prefix: "swarmd-tls-" });
  const at = (name: string) => join(dir, name);
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  const steps = [
    [
      "req",
      "-x509",
      ...ec,
      "-days",
      "1",
      "-subj",
      "/CN=swarmd test CA",
      "-keyout",
      at("ca.key"),
      "-out",
      at("ca.pem"),
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
    ],
    ["req", ...ec, "-subj", "/CN=localhost", "-keyout", at("key.pem"), "-out", at("csr.pem")],
    [
      "x509",
      "-req",
      "-in",
      at("csr.pem"),
      "-CA",
      at("ca.pem"),
      "-CAkey",
      at("ca.key"),
      "-CAcreateserial",
      "-days",
      "1",
      "-out",
      at("cert.pem"),
      "-extfile",
      at("ext.cnf"),
    ],
  ];
  try {
    await Deno.writeTextFile(
      at("ext.cnf"),
      "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n" +
        "extendedKeyUsage=serverAuth\n",
    );
    for (const args of steps) {
      const out = await new Deno.Command("openssl", { args, stdout: "null", stderr: "null" })
        .output();
      if (out.code !== 0) return undefined;
    }
    return {
      cert: await Deno.readTextFile(at("cert.pem")),
      key: await Deno.readTextFile(at("key.pem")),
      ca: await Deno.readTextFile(at("ca.pem")),
    };
  } catch {
    return undefined; // no openssl here
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
