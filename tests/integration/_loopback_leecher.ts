/** A real Session over loopback TCP, downloading (or seeding) one torrent in memory, for wire-level tests. */
import { Session } from "../../src/session/session.ts";
import { type Settings, testSettings } from "../../src/session/settings.ts";
import { DENO_NETWORK } from "../../src/deno/tcp.ts";
import { SECURE_RANDOM, SYSTEM_CLOCK } from "../../src/deno/clock.ts";
import { MemoryDiskIo } from "../../src/storage/mod.ts";
import type { Metainfo } from "../../src/metainfo/mod.ts";
import type { Torrent } from "../../src/session/torrent_handle.ts";

/** What a test gets: the port the session listens on, its disk and its torrent. */
export interface LoopbackLeecher {
  readonly port: number;
  readonly disk: MemoryDiskIo;
  readonly torrent: Torrent;
}

/** Runs `fn` against a fresh leecher of `meta` (with `overrides` to its settings), then closes it. */
export function withLoopbackLeecher(
  meta: Metainfo,
  fn: (leecher: LoopbackLeecher) => Promise<void>,
  overrides: Partial<Settings> = {},
): Promise<void> {
  return withLoopbackSession(meta, { overrides }, fn);
}

/** Options of {@linkcode withLoopbackSession}. */
export interface LoopbackSessionOptions {
  /** The disk (default: an empty MemoryDiskIo). */
  readonly disk?: MemoryDiskIo;
  /** The torrent's save path on it (default `/dl`). */
  readonly dir?: string;
  /** Seed it (the disk holds its data). */
  readonly seed?: boolean;
  /** Settings over the test preset. */
  readonly overrides?: Partial<Settings>;
}

/** Runs `fn` against a fresh session with `meta` added, listening on 127.0.0.1, then closes it. */
export async function withLoopbackSession(
  meta: Metainfo,
  o: LoopbackSessionOptions,
  fn: (session: LoopbackLeecher) => Promise<void>,
): Promise<void> {
  const disk = o.disk ?? new MemoryDiskIo();
  const session = new Session({
    settings: testSettings({ listenHost: "127.0.0.1", listenPort: 0, ...o.overrides }),
    network: DENO_NETWORK,
    clock: SYSTEM_CLOCK,
    random: SECURE_RANDOM,
    disk,
  });
  try {
    const addr = await session.listen();
    const torrent = await session.add(meta, { dir: o.dir ?? "/dl", seed: o.seed ?? false });
    await fn({ port: addr.port, disk, torrent });
  } finally {
    await session.close();
    await disk.shutdown();
  }
}
