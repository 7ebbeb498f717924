/**
 * Read-only views of a torrent: its statistics snapshot, its peers' lines, and the
 * invariant check the tests and the simulator run.
 *
 * Layer: driver (reads state only).
 * @module
 */
import type { Clock } from "../runtime/types.ts";
import type { TorrentState, TorrentStats, TrackerSummary } from "./events.ts";
import type { TorrentData } from "./torrent_data.ts";
import type { TransferCounter } from "./transfer_counter.ts";
import type { Peer } from "./peer.ts";
import type { PiecePicker } from "../picker/mod.ts";
import { type PeerInfo, peerInfo } from "./peer_info.ts";

/** What a snapshot reads from the torrent. */
export interface StatsSource {
  /** Hex info-hash. */
  readonly infoHashHex: string;
  /** Display name. */
  readonly name: string;
  /** Payload counters. */
  readonly transfer: TransferCounter;
  /** Live peers. */
  readonly peers: ReadonlyMap<string, Peer>;
  /** Known addresses. */
  readonly peerList: { readonly size: number; assertInvariants(): void };
  /** Session services (the clock). */
  readonly ctx: { readonly clock: Clock };
  /** Why the state is `"error"`, when it is. */
  readonly error: string | undefined;
}

/**
 * Builds a {@linkcode TorrentStats}.
 * @param t the torrent
 * @param d its piece work, once the metadata is known
 * @param state its lifecycle state
 * @param trackers tracker status, when it has trackers
 * @returns the snapshot
 */
export function torrentStats(
  t: StatsSource,
  d: TorrentData | undefined,
  state: TorrentState,
  trackers: readonly TrackerSummary[] | undefined,
): TorrentStats {
  let seeds = 0;
  for (const p of t.peers.values()) if (p.isSeed) seeds++;
  const wanted = d?.bytesWanted ?? 0;
  return {
    infoHash: t.infoHashHex,
    name: t.name,
    bytesVerified: d ? Math.max(0, wanted - d.picker.wantedRemainingBytes) : 0,
    bytesWanted: wanted,
    piecesHave: d?.picker.haveCount ?? 0,
    pieceCount: d?.pieceCount ?? 0,
    ...t.transfer.rates(t.ctx.clock.now()),
    bytesDownloaded: t.transfer.bytesDownloaded,
    bytesUploaded: t.transfer.bytesUploaded,
    peersUsed: t.transfer.peersUsed,
    peers: t.peers.size,
    seeds,
    knownPeers: t.peerList.size,
    state,
    ...(state === "error" && t.error !== undefined ? { errorString: t.error } : {}),
    ...(trackers ? { trackers } : {}),
  };
}

/**
 * One line of state per connected peer (libtorrent's `get_peer_info`).
 * @param t the torrent
 * @param picker its picker, once the metadata is known
 * @returns the lines
 */
export function peerInfos(t: StatsSource, picker: PiecePicker | undefined): PeerInfo[] {
  const now = t.ctx.clock.now();
  return [...t.peers.values()].map((p) => peerInfo(p, now, picker));
}

/**
 * Checks a torrent's invariants (picker, peer list, every peer's request queues).
 * @param t the torrent
 * @param picker its picker, once the metadata is known
 * @throws {Error} on a violation
 */
export function assertTorrentInvariants(t: StatsSource, picker: PiecePicker | undefined): void {
  picker?.assertInvariants();
  t.peerList.assertInvariants();
  for (const p of t.peers.values()) {
    p.requests.assertInvariants();
    p.uploads.assertInvariants();
  }
}
