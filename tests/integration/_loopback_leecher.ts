/** A real Session over loopback TCP, downloading one torrent into memory, for wire-level tests. */
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
export async function withLoopbackLeecher(
  meta: Metainfo,
  fn: (leecher: LoopbackLeecher) => Promise<void>,
  overrides: Partial<Settings> = {},
): Promise<void> {
  const disk = new MemoryDiskIo();
  const session = new Session({
    settings: testSettings({ listenHost: "127.0.0.1", listenPort: 0, ...overrides }),
    network: DENO_NETWORK,
    clock: SYSTEM_CLOCK,
    random: SECURE_RANDOM,
    disk,
  });
  try {
    const addr = await session.listen();
    const torrent = await session.add(meta, { dir: "/dl" });
    await fn({ port: addr.port, disk, torrent });
  } finally {
    await session.close();
    await disk.shutdown();
  }
}
