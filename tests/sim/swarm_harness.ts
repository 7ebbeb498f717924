/**
 * Builds whole swarms of real {@linkcode Session}s on a {@linkcode VirtualClock}, a
 * {@linkcode SimNetwork} and {@linkcode MemoryDiskIo}s: deterministic per seed.
 * @module
 */
import { Session } from "../../src/session/session.ts";
import { type Settings, testSettings } from "../../src/session/settings.ts";
import type { Torrent } from "../../src/session/torrent_handle.ts";
import { buildTorrent } from "../../src/metainfo/create.ts";
import { type Metainfo, parseTorrent } from "../../src/metainfo/mod.ts";
import { MemoryDiskIo } from "../../src/storage/mod.ts";
import { SeededRandom } from "../../src/util/prng.ts";
import { sha1 } from "../../src/util/sha1.ts";
import { concatBytes } from "../../src/util/bytes.ts";
import type { PeerAddress } from "../../src/runtime/types.ts";
import type { ResumeStore } from "../../src/session/context.ts";
import { VirtualClock } from "./virtual_clock.ts";
import { SimNetwork } from "./sim_network.ts";

/** A payload and its torrent. */
export interface SimTorrent {
  readonly meta: Metainfo;
  readonly pieces: Uint8Array[];
}

/** Deterministic payload of `pieceCount` pieces (the last one shorter), and its torrent. */
export function makeSimTorrent(pieceCount: number, pieceLength: number, seed = 1): SimTorrent {
  const random = new SeededRandom(seed);
  const pieces: Uint8Array[] = [];
  for (let i = 0; i < pieceCount; i++) {
    pieces.push(random.bytes(i === pieceCount - 1 ? pieceLength - 1000 : pieceLength));
  }
  const total = pieces.reduce((n, p) => n + p.length, 0);
  const bytes = buildTorrent({
    name: "sim.bin",
    files: [{ path: [], length: total }],
    pieceLength,
    pieceHashes: concatBytes(pieces.map((p) => sha1(p))),
  });
  return { meta: parseTorrent(bytes), pieces };
}

/** One simulated client. */
export interface SimPeer {
  readonly session: Session;
  readonly disk: MemoryDiskIo;
  readonly address: PeerAddress;
  torrent: Torrent | undefined;
}

/** A swarm on one virtual clock. */
export class SimSwarm {
  readonly clock = new VirtualClock();
  readonly net: SimNetwork;
  readonly peers: SimPeer[] = [];
  readonly #seed: number;

  /** `uploadBytesPerSecond` is every host's uplink (0 = unlimited). */
  constructor(options: { seed: number; latencyMs?: number; uploadBytesPerSecond?: number }) {
    this.#seed = options.seed;
    this.net = new SimNetwork(this.clock, {
      latencyMs: options.latencyMs ?? 10,
      uploadBytesPerSecond: options.uploadBytesPerSecond ?? 0,
    });
  }

  /** Starts a session on host `10.0.x.y` for peer number `n`. */
  async addPeer(
    n: number,
    settings: Partial<Settings> = {},
    disk?: MemoryDiskIo,
    resumeStore?: ResumeStore,
  ): Promise<SimPeer> {
    const host = `10.0.${Math.floor(n / 250)}.${(n % 250) + 1}`;
    const d = disk ?? new MemoryDiskIo();
    const session = new Session({
      settings: testSettings({ listenPort: 6881, ...settings }),
      network: this.net.host(host),
      clock: this.clock,
      random: new SeededRandom(this.#seed * 1000 + n),
      disk: d,
      storageFiles: d,
      ...(resumeStore ? { resumeStore } : {}),
    });
    const address = await session.listen();
    const peer: SimPeer = {
      session,
      disk: d,
      address: { host, port: address.port },
      torrent: undefined,
    };
    this.peers.push(peer);
    return peer;
  }

  /** Checks every torrent's invariants (picker, peer list); throws on a violation. */
  assertInvariants(): void {
    for (const p of this.peers) for (const t of p.session.torrents()) t.assertInvariants();
  }

  /** Like `clock.runUntil`, checking every torrent's invariants after each step. */
  async runChecked(done: () => boolean, maxMs: number, stepMs = 100): Promise<number> {
    const start = this.clock.now();
    while (!done() && this.clock.now() - start < maxMs) {
      await this.clock.advance(stepMs);
      this.assertInvariants();
    }
    return this.clock.now() - start;
  }

  /** Closes every session. */
  async close(): Promise<void> {
    const closing = Promise.all(this.peers.map((p) => p.session.close()));
    await this.clock.runUntil(closing, 60_000);
  }
}

/** The storage layout of `t` under `dir`, to open on a disk. */
export function storageOf(t: SimTorrent, dir: string) {
  return {
    root: dir,
    files: t.meta.files.map((f) => ({ path: f.path, length: f.length })),
    pieceLength: t.meta.pieceLength,
    totalLength: t.meta.totalLength,
    pieceHashes: t.meta.pieceHashes,
  };
}

/** A disk that already holds every piece of `t` (a seeder's). */
export async function seededDisk(t: SimTorrent, dir: string): Promise<MemoryDiskIo> {
  const disk = new MemoryDiskIo();
  const id = await disk.open(storageOf(t, dir));
  for (let i = 0; i < t.pieces.length; i++) await disk.writePiece(id, i, t.pieces[i]!.slice());
  await disk.close(id);
  return disk;
}
