/**
 * Transmission's RPC (protocol 16, as Transmission 3.00 speaks it; docs/rpc-spec.md of
 * Transmission): one JSON request in, one JSON response out. Every method validates its
 * arguments; a bad request, an unknown method or field, or an argument swarmd does not
 * support is an error `result` naming it, never a crash and never half applied.
 *
 * The HTTP side (the session-id handshake, authentication, host check, body cap) is in
 * `http_guard.ts` and the Deno server; platform services (paths, downloads of `.torrent`
 * URLs, free space, the port test) come in as {@linkcode RpcServices}.
 *
 * Layer: driver (acts on the library).
 * @module
 */
import { MetainfoError } from "../errors.ts";
import { BencodeSyntaxError } from "../bencode/mod.ts";
import { parseTorrent } from "../metainfo/mod.ts";
import type { Library, LibraryEntry } from "./library.ts";
import type { TorrentPrefs } from "./library_types.ts";
import { SPEED_UNIT, TORRENT_FIELDS, torrentRows } from "./rpc_torrent.ts";
import { sessionGet, sessionSet } from "./rpc_session.ts";
import { type Args, args, RpcError } from "./rpc_args.ts";

import type { RpcResponse, RpcServices } from "./rpc_types.ts";

export { RpcError } from "./rpc_args.ts";
export type { RpcResponse, RpcServices } from "./rpc_types.ts";

type Method = (a: Args, s: RpcServices) => Promise<Record<string, unknown> | void>;

const METHODS: Readonly<Record<string, Method>> = {
  "session-get": (a, s) => Promise.resolve(sessionGet(a, s)),
  "session-set": (a, s) => sessionSet(a, s),
  "session-stats": (_a, s) => Promise.resolve(sessionStats(s)),
  "session-close": (_a, s) => Promise.resolve(void s.close()),
  "torrent-get": (a, s) => Promise.resolve(torrentGet(a, s)),
  "torrent-add": torrentAdd,
  "torrent-start": (a, s) => s.library.start(s.library.select(a.ids())),
  "torrent-start-now": (a, s) => s.library.start(s.library.select(a.ids()), true),
  "torrent-stop": (a, s) => s.library.stop(s.library.select(a.ids())),
  "torrent-verify": (a, s) => s.library.verify(s.library.select(a.ids())),
  "torrent-remove": (a, s) =>
    s.library.remove(s.library.select(a.ids()), a.bool("delete-local-data") ?? false),
  "torrent-set": torrentSet,
  "torrent-set-location": async (a, s) => {
    const location = await s.confine(a.string("location", true)!);
    await s.library.setLocation(s.library.select(a.ids()), location, a.bool("move") ?? false);
  },
  "queue-move-top": (a, s) => queueMove(a, s, "top"),
  "queue-move-up": (a, s) => queueMove(a, s, "up"),
  "queue-move-down": (a, s) => queueMove(a, s, "down"),
  "queue-move-bottom": (a, s) => queueMove(a, s, "bottom"),
  "free-space": async (a, s) => {
    const path = await s.confine(a.string("path", true)!);
    const { free, total } = await s.freeSpace(path);
    return { path, "size-bytes": free, total_size: total };
  },
  "port-test": async (_a, s) => ({ "port-is-open": await s.portTest() }),
};

/**
 * Answers one request (already parsed from JSON).
 * @param request the request object
 * @param services the daemon
 * @returns the response; errors are in `result`
 */
export async function handleRpc(request: unknown, services: RpcServices): Promise<RpcResponse> {
  if (typeof request !== "object" || request === null || Array.isArray(request)) {
    return { result: "invalid request: expected a JSON object" };
  }
  const r = request as Record<string, unknown>;
  const tag = typeof r.tag === "number" && Number.isFinite(r.tag) ? { tag: r.tag } : {};
  if (typeof r.method !== "string") return { result: "invalid request: no method", ...tag };
  const method = Object.hasOwn(METHODS, r.method) ? METHODS[r.method] : undefined;
  if (!method) return { result: `method name not recognized: ${r.method}`, ...tag };
  if (r.arguments !== undefined && (typeof r.arguments !== "object" || r.arguments === null)) {
    return { result: "invalid request: arguments must be an object", ...tag };
  }
  try {
    const out = await method(args(r.method, r.arguments ?? {}), services);
    return { result: "success", arguments: out ?? {}, ...tag };
  } catch (e) {
    return { result: errorResult(e), ...tag };
  }
}

function errorResult(e: unknown): string {
  if (e instanceof RpcError) return e.message;
  if (e instanceof MetainfoError || e instanceof BencodeSyntaxError) {
    return `invalid or corrupt torrent file: ${e.message}`;
  }
  return e instanceof Error ? e.message : String(e);
}

function sessionStats(s: RpcServices): Record<string, unknown> {
  const entries = s.library.entries();
  let down = 0, up = 0, active = 0;
  for (const e of entries) {
    const st = e.torrent.stats();
    down += st.downloadBps;
    up += st.uploadBps;
    if (st.state !== "paused" && st.state !== "stopped") active++;
  }
  const { cumulative, current } = s.library.sessionTotals();
  return {
    activeTorrentCount: active,
    pausedTorrentCount: entries.length - active,
    torrentCount: entries.length,
    downloadSpeed: down,
    uploadSpeed: up,
    "cumulative-stats": cumulative,
    "current-stats": current,
  };
}

function torrentGet(a: Args, s: RpcServices): Record<string, unknown> {
  const fields = a.stringArray("fields", true)!;
  const unknown = fields.filter((f) => !Object.hasOwn(TORRENT_FIELDS, f));
  if (unknown.length > 0) {
    throw new RpcError(`torrent-get: unknown field(s): ${unknown.join(", ")}`);
  }
  const format = a.string("format") ?? "objects";
  if (format !== "objects" && format !== "table") {
    throw new RpcError(`torrent-get: format must be "objects" or "table"`);
  }
  const ids = a.ids();
  const entries = s.library.select(ids);
  const torrents = torrentRows(entries, fields, s.library.settings, s.wallClock() / 1000, {
    table: format === "table",
    peerLimit: s.library.session.settings.maxConnectionsPerTorrent,
  });
  return ids === "recently-active"
    ? { torrents, removed: s.library.recentlyRemoved() }
    : { torrents };
}

async function torrentAdd(a: Args, s: RpcServices): Promise<Record<string, unknown>> {
  const filename = a.string("filename");
  const metainfo = a.string("metainfo");
  if ((filename === undefined) === (metainfo === undefined)) {
    throw new RpcError("torrent-add: give exactly one of filename or metainfo");
  }
  const dirArg = a.string("download-dir");
  const dir = dirArg === undefined ? undefined : await s.confine(dirArg);
  const paused = a.bool("paused");
  const choices = fileChoices(a);
  a.ignore("peer-limit", "bandwidthPriority", "cookies", "labels");
  let source: { torrent: Uint8Array } | { magnet: string };
  if (filename?.startsWith("magnet:")) source = { magnet: filename };
  else if (filename !== undefined) source = { torrent: await s.fetchTorrent(filename) };
  else source = { torrent: fromBase64(metainfo!) };
  const fileCount = "torrent" in source ? countFiles(source.torrent) : 0;
  const priorities = choices.apply(fileCount, undefined);
  const { entry, duplicate } = await s.library.add(source, {
    ...(dir !== undefined ? { dir } : {}),
    ...(paused !== undefined ? { paused } : {}),
    ...(priorities ? { filePriorities: priorities } : {}),
  });
  const info = { id: entry.id, name: entry.torrent.name, hashString: entry.record.infoHash };
  return duplicate ? { "torrent-duplicate": info } : { "torrent-added": info };
}

/** Files in a torrent (the library parses it again; this only sizes the file choices). */
function countFiles(bytes: Uint8Array): number {
  return parseTorrent(bytes).files.length;
}

function fromBase64(text: string): Uint8Array {
  try {
    const raw = atob(text.replace(/\s+/g, ""));
    return Uint8Array.from(raw, (c) => c.charCodeAt(0));
  } catch {
    throw new RpcError("torrent-add: metainfo is not valid base64");
  }
}

/** `files-wanted`, `files-unwanted` and `priority-*` of torrent-add and torrent-set. */
function fileChoices(a: Args) {
  const lists = {
    wanted: a.intArray("files-wanted"),
    unwanted: a.intArray("files-unwanted"),
    high: a.intArray("priority-high"),
    normal: a.intArray("priority-normal"),
    low: a.intArray("priority-low"),
  };
  const any = Object.values(lists).some((l) => l !== undefined);
  return {
    any,
    /** Applies the choices to `current` (default all 4); an empty list means every file. */
    apply(count: number, current: readonly number[] | undefined): number[] | undefined {
      if (!any || count === 0) return undefined;
      const p = [...(current ?? new Array(count).fill(4))];
      const each = (list: number[] | undefined, fn: (i: number) => void) => {
        if (list === undefined) return;
        const indices = list.length === 0 ? p.map((_, i) => i) : list;
        for (const i of indices) {
          if (i >= count) throw new RpcError(`file index ${i} out of range (${count} files)`);
          fn(i);
        }
      };
      // wanted first; a priority then applies to the files that are wanted
      each(lists.unwanted, (i) => p[i] = 0);
      each(lists.wanted, (i) => p[i] = p[i] === 0 ? 4 : p[i]!);
      const prio = (level: number) => (i: number) => p[i] = p[i] === 0 ? 0 : level;
      each(lists.high, prio(7));
      each(lists.normal, prio(4));
      each(lists.low, prio(1));
      return p;
    },
  };
}

async function torrentSet(a: Args, s: RpcServices): Promise<void> {
  const entries = s.library.select(a.ids());
  const choices = fileChoices(a);
  const prefs: { -readonly [K in keyof TorrentPrefs]?: TorrentPrefs[K] } = {};
  const down = a.number("downloadLimit", 0), up = a.number("uploadLimit", 0);
  if (down !== undefined) prefs.downloadLimit = Math.round(down * SPEED_UNIT);
  if (up !== undefined) prefs.uploadLimit = Math.round(up * SPEED_UNIT);
  const downLimited = a.bool("downloadLimited"), upLimited = a.bool("uploadLimited");
  if (downLimited !== undefined) prefs.downloadLimited = downLimited;
  if (upLimited !== undefined) prefs.uploadLimited = upLimited;
  const ratioMode = a.mode("seedRatioMode"), idleMode = a.mode("seedIdleMode");
  if (ratioMode !== undefined) prefs.seedRatioMode = ratioMode;
  if (idleMode !== undefined) prefs.seedIdleMode = idleMode;
  const ratio = a.number("seedRatioLimit", 0), idle = a.number("seedIdleLimit", 0);
  if (ratio !== undefined) prefs.seedRatioLimit = ratio;
  if (idle !== undefined) prefs.seedIdleLimit = Math.round(idle);
  const position = a.number("queuePosition", 0);
  const locationArg = a.string("location");
  const location = locationArg === undefined ? undefined : await s.confine(locationArg);
  if (a.bool("honorsSessionLimits") === false) {
    throw new RpcError("torrent-set: honorsSessionLimits=false is not supported");
  }
  a.ignore("bandwidthPriority", "peer-limit");
  a.checkAllUsed();
  for (const e of entries) {
    const files = e.torrent.metainfo?.files.length ?? 0;
    const priorities = choices.apply(files, e.torrent.filePriorities);
    s.library.setPrefs(e, { ...prefs, ...(priorities ? { filePriorities: priorities } : {}) });
  }
  if (position !== undefined) moveTo(s.library, entries, Math.round(position));
  if (location !== undefined) await s.library.setLocation(entries, location, false);
}

function queueMove(
  a: Args,
  s: RpcServices,
  where: "top" | "up" | "down" | "bottom",
): Promise<void> {
  const chosen = s.library.select(a.ids());
  const order = orderedQueue(s.library);
  for (const e of where === "down" || where === "top" ? [...chosen].reverse() : chosen) {
    const at = order.indexOf(e);
    order.splice(at, 1);
    const to = where === "top"
      ? 0
      : where === "bottom"
      ? order.length
      : where === "up"
      ? Math.max(0, at - 1)
      : Math.min(order.length, at + 1);
    order.splice(to, 0, e);
  }
  renumber(s.library, order);
  return Promise.resolve();
}

function moveTo(library: Library, entries: readonly LibraryEntry[], position: number): void {
  const order = orderedQueue(library).filter((e) => !entries.includes(e));
  order.splice(Math.min(position, order.length), 0, ...entries);
  renumber(library, order);
}

function orderedQueue(library: Library): LibraryEntry[] {
  return library.entries().sort((x, y) =>
    x.record.prefs.queuePosition - y.record.prefs.queuePosition || x.id - y.id
  );
}

function renumber(library: Library, order: readonly LibraryEntry[]): void {
  order.forEach((e, i) => {
    if (e.record.prefs.queuePosition !== i) library.setPrefs(e, { queuePosition: i });
  });
  library.tick();
}
