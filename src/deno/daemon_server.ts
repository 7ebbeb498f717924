/**
 * The daemon's HTTP server (Deno.serve): the Transmission RPC at `/transmission/rpc`, the
 * web UI at `/` (its files under `web/`, served from the package whether it runs from a
 * checkout, an install or JSR), and a table of extra routes by path prefix, so that
 * streams (`/stream/<info-hash>/<file>`) can plug in. Every route passes the host check and
 * authentication; the RPC also needs the session id, and its body is capped before it is
 * read.
 *
 * Layer: platform.
 * @module
 */
import { type GuardPolicy, guardRequest, MAX_RPC_BODY_BYTES } from "../daemon/http_guard.ts";
import { handleRpc, type RpcServices } from "../daemon/rpc.ts";
import { readStreamCapped } from "./read_capped.ts";

/** A route handler for a path prefix (after the guard passed). */
export type RouteHandler = (request: Request, url: URL) => Response | Promise<Response>;

/** Options of {@linkcode serveDaemon}. */
export interface DaemonServerOptions {
  /** Address to bind. */
  readonly hostname: string;
  /** Port to bind (0 = any). */
  readonly port: number;
  /** The RPC's services. */
  readonly rpc: RpcServices;
  /** Host whitelist, credentials, session id (read per request). */
  readonly policy: () => GuardPolicy;
  /** Extra routes by path prefix, e.g. `"/stream/"`. */
  readonly routes?: ReadonlyMap<string, RouteHandler>;
  /** Called after `session-close` was answered. */
  readonly onClose?: () => void;
  /**
   * A directory served at `/transmission/web/` (Transmission's `TRANSMISSION_WEB_HOME`), e.g.
   * Transmission's own web client, which then drives this daemon.
   */
  readonly webHome?: string;
}

/** A running server. */
export interface DaemonServer {
  /** Base URL, e.g. `http://127.0.0.1:9091`. */
  readonly url: string;
  /** The bound port. */
  readonly port: number;
  /** Stops accepting and finishes requests in flight. */
  close(): Promise<void>;
}

const WEB_FILES: Readonly<Record<string, string>> = {
  "/": "index.html",
  "/index.html": "index.html",
  "/app.js": "app.js",
  "/rpc.js": "rpc.js",
  "/view.js": "view.js",
  "/style.css": "style.css",
};

const TYPES: Readonly<Record<string, string>> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  png: "image/png",
  gif: "image/gif",
  svg: "image/svg+xml",
  ico: "image/x-icon",
  json: "application/json",
};

/** Security headers on every response: no framing (clickjacking), no sniffing, same-origin only. */
const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "x-frame-options": "DENY",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "content-security-policy":
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'",
};

/** For the optional web home (Transmission's client uses inline styles and handlers). */
const RELAXED_CSP =
  "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'; frame-ancestors 'none'";

/**
 * Starts the server.
 * @param options address, services, policy and routes
 * @returns the server
 * @throws {Deno.errors.AddrInUse} when the port is taken
 */
export function serveDaemon(options: DaemonServerOptions): DaemonServer {
  const cache = new Map<string, Uint8Array>();
  const server = Deno.serve({
    hostname: options.hostname,
    port: options.port,
    onListen: () => {},
  }, async (request) => {
    const url = new URL(request.url);
    try {
      const response = await route(request, url, options, cache);
      const relaxed = response.headers.get("x-relaxed-csp") === "1";
      response.headers.delete("x-relaxed-csp");
      for (const [k, v] of Object.entries(SECURITY_HEADERS)) response.headers.set(k, v);
      if (relaxed) response.headers.set("content-security-policy", RELAXED_CSP);
      return response;
    } catch {
      return text(500, "Internal error");
    }
  });
  const addr = server.addr as Deno.NetAddr;
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  return {
    url: `http://${host}:${addr.port}`,
    port: addr.port,
    close: () => server.shutdown(),
  };
}

async function route(
  request: Request,
  url: URL,
  options: DaemonServerOptions,
  cache: Map<string, Uint8Array>,
): Promise<Response> {
  const policy = options.policy();
  // transmission-remote 3.00 posts to "/transmission/rpc/"
  const isRpc = url.pathname === "/transmission/rpc" || url.pathname === "/transmission/rpc/";
  const refusal = guardRequest(request.headers, policy, isRpc);
  if (refusal) return new Response(refusal.body, refusal);
  if (isRpc) return await rpc(request, options);
  for (const [prefix, handler] of options.routes ?? []) {
    if (url.pathname.startsWith(prefix)) return await handler(request, url);
  }
  if (url.pathname === "/transmission/web" || url.pathname.startsWith("/transmission/web/")) {
    if (!options.webHome) return new Response(null, { status: 301, headers: { location: "/" } });
    if (url.pathname === "/transmission/web") {
      return new Response(null, { status: 301, headers: { location: "/transmission/web/" } });
    }
    return await webHomeFile(options.webHome, url.pathname.slice("/transmission/web/".length));
  }
  const file = Object.hasOwn(WEB_FILES, url.pathname) ? WEB_FILES[url.pathname] : undefined;
  if (!file || (request.method !== "GET" && request.method !== "HEAD")) {
    return text(404, "Not found");
  }
  let body = cache.get(file);
  if (!body) {
    body = await readAsset(file);
    cache.set(file, body);
  }
  return new Response(request.method === "HEAD" ? null : body as BodyInit, {
    headers: { "content-type": TYPES[file.split(".").pop()!]!, "cache-control": "no-cache" },
  });
}

async function rpc(request: Request, options: DaemonServerOptions): Promise<Response> {
  if (request.method !== "POST") return text(405, "Use POST");
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > MAX_RPC_BODY_BYTES) return text(413, "Request body too large");
  const body = await readStreamCapped(request.body, MAX_RPC_BODY_BYTES);
  if (body === undefined) return text(413, "Request body too large");
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(body));
  } catch {
    return json({ result: "invalid request: body is not JSON" });
  }
  const answer = await handleRpc(parsed, options.rpc);
  const method = (parsed as { method?: unknown } | null)?.method;
  if (method === "session-close" && answer.result === "success") {
    setTimeout(() => options.onClose?.(), 50);
  }
  return json(answer);
}

/** A file below `home` (no `..`, no hidden names, regular files only; symlinks resolved inside). */
async function webHomeFile(home: string, rest: string): Promise<Response> {
  let parts: string[];
  try {
    parts = decodeURIComponent(rest || "index.html").split("/");
  } catch {
    return text(400, "Bad path");
  }
  if (parts.some((p) => p === "" || p.startsWith(".") || p.includes("\\") || p.includes("\0"))) {
    return text(404, "Not found");
  }
  try {
    const root = await Deno.realPath(home);
    const path = await Deno.realPath(`${root}/${parts.join("/")}`);
    if (!path.startsWith(`${root}/`) || !(await Deno.stat(path)).isFile) {
      return text(404, "Not found");
    }
    const type = TYPES[path.split(".").pop()!.toLowerCase()] ?? "application/octet-stream";
    const response = new Response(await Deno.readFile(path), { headers: { "content-type": type } });
    // Transmission's client uses inline styles and handlers; its pages get that much leeway
    response.headers.set("x-relaxed-csp", "1");
    return response;
  } catch {
    return text(404, "Not found");
  }
}

/** A web UI file from the package (file: or https: URL alike). */
async function readAsset(name: string): Promise<Uint8Array> {
  const url = new URL(`../../web/${name}`, import.meta.url);
  if (url.protocol === "file:") return await Deno.readFile(url);
  const response = await fetch(url);
  if (!response.ok) throw new Error(`Cannot load ${name}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

function text(status: number, body: string): Response {
  return new Response(body, { status, headers: { "content-type": "text/plain; charset=utf-8" } });
}

function json(value: unknown): Response {
  return new Response(JSON.stringify(value), {
    headers: { "content-type": "application/json; charset=utf-8" },
  });
}
