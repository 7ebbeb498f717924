/**
 * `session-get` and `session-set` (Transmission RPC 16). Settings swarmd applies are
 * changed; any other key is accepted only when it asks for what swarmd already does (so a
 * front-end that sends back the values it read still works), else the request fails
 * naming the key. The completion command cannot be set over the RPC: it runs a program,
 * so only the operator's config file names it.
 *
 * Layer: driver.
 * @module
 */
import type { DaemonSettings } from "./library_types.ts";
import { type Args, RpcError } from "./rpc_args.ts";
import type { RpcServices } from "./rpc_types.ts";

/** What each settable key changes, and the type it takes. */
const SETTABLE: Readonly<Record<string, [keyof DaemonSettings, "bool" | "count" | "number"]>> = {
  "start-added-torrents": ["startAddedTorrents", "bool"],
  "download-queue-enabled": ["downloadQueueEnabled", "bool"],
  "download-queue-size": ["downloadQueueSize", "count"],
  "seed-queue-enabled": ["seedQueueEnabled", "bool"],
  "seed-queue-size": ["seedQueueSize", "count"],
  "seedRatioLimited": ["seedRatioLimited", "bool"],
  "seedRatioLimit": ["seedRatioLimit", "number"],
  "idle-seeding-limit-enabled": ["idleSeedingLimitEnabled", "bool"],
  "idle-seeding-limit": ["idleSeedingLimit", "count"],
  "speed-limit-down-enabled": ["speedLimitDownEnabled", "bool"],
  "speed-limit-down": ["speedLimitDown", "count"],
  "speed-limit-up-enabled": ["speedLimitUpEnabled", "bool"],
  "speed-limit-up": ["speedLimitUp", "count"],
};

const READ_ONLY = new Set([
  "blocklist-size",
  "config-dir",
  "download-dir-free-space",
  "rpc-version",
  "rpc-version-minimum",
  "rpc-version-semver",
  "session-id",
  "units",
  "version",
]);

/** Every session argument with its current value. */
function sessionValues(s: RpcServices): Record<string, unknown> {
  const set = s.library.settings;
  const engine = s.library.session.settings;
  const values: Record<string, unknown> = {
    "alt-speed-down": 50,
    "alt-speed-enabled": false,
    "alt-speed-time-begin": 540,
    "alt-speed-time-day": 127,
    "alt-speed-time-enabled": false,
    "alt-speed-time-end": 1020,
    "alt-speed-up": 50,
    "blocklist-enabled": false,
    "blocklist-size": 0,
    "blocklist-url": "",
    "cache-size-mb": Math.round(engine.readCacheBytes / (1024 * 1024)),
    "config-dir": s.configDir,
    "dht-enabled": s.features.dht,
    "download-dir": set.downloadDir,
    "encryption": "tolerated",
    "incomplete-dir": set.downloadDir,
    "incomplete-dir-enabled": false,
    "lpd-enabled": s.features.lsd,
    "peer-limit-global": engine.maxConnections,
    "peer-limit-per-torrent": engine.maxConnectionsPerTorrent,
    "peer-port": s.peerPort,
    "peer-port-random-on-start": false,
    "pex-enabled": s.features.pex,
    "port-forwarding-enabled": false,
    "queue-stalled-enabled": false,
    "queue-stalled-minutes": 30,
    "rename-partial-files": false,
    "rpc-version": 16,
    "rpc-version-minimum": 1,
    "rpc-version-semver": "5.2.0",
    "script-torrent-done-enabled": s.doneScript !== "",
    "script-torrent-done-filename": s.doneScript,
    "session-id": s.sessionId(),
    "trash-original-torrent-files": false,
    "units": {
      "speed-units": ["kB/s", "MB/s", "GB/s", "TB/s"],
      "speed-bytes": 1000,
      "size-units": ["kB", "MB", "GB", "TB"],
      "size-bytes": 1000,
      "memory-units": ["KiB", "MiB", "GiB", "TiB"],
      "memory-bytes": 1024,
    },
    "utp-enabled": s.features.utp,
    "version": s.version,
  };
  for (const [key, [field]] of Object.entries(SETTABLE)) values[key] = set[field];
  return values;
}

/**
 * `session-get`: every argument, or those named in `fields`.
 * @throws {RpcError} for an unknown field
 */
export async function sessionGet(a: Args, s: RpcServices): Promise<Record<string, unknown>> {
  const values = sessionValues(s);
  const fields = a.stringArray("fields");
  const wanted = fields ?? [...Object.keys(values), "download-dir-free-space"];
  const unknown = wanted.filter((f) =>
    !Object.hasOwn(values, f) && f !== "download-dir-free-space"
  );
  if (unknown.length > 0) {
    throw new RpcError(`session-get: unknown field(s): ${unknown.join(", ")}`);
  }
  if (wanted.includes("download-dir-free-space")) {
    values["download-dir-free-space"] = await s.freeSpace(s.library.settings.downloadDir)
      .then((f) => f.free, () => -1);
  }
  return Object.fromEntries(wanted.map((f) => [f, values[f]]));
}

/**
 * `session-set`: checks every key first, then applies them together.
 * @throws {RpcError} for a read-only or unsupported key, or a bad value
 */
export async function sessionSet(a: Args, s: RpcServices): Promise<void> {
  const current = sessionValues(s);
  const changes: Record<string, unknown> = {};
  for (const [key, [field, type]] of Object.entries(SETTABLE)) {
    const v = type === "bool" ? a.bool(key) : a.number(key, 0);
    if (v === undefined) continue;
    changes[field] = type === "count" ? Math.round(v as number) : v;
  }
  const dir = a.string("download-dir");
  if (dir !== undefined) changes.downloadDir = await s.confine(dir);
  // keys without a setter: fine when they ask for what already is, else refused
  const rejected = a.unused().filter((key) =>
    READ_ONLY.has(key) || !Object.hasOwn(current, key) ||
    JSON.stringify(current[key]) !== JSON.stringify(a.raw(key))
  );
  if (rejected.length > 0) throw new RpcError(`session-set: not supported: ${rejected.join(", ")}`);
  s.library.setSettings(changes as Partial<DaemonSettings>);
}
