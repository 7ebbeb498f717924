/**
 * The sending half of BEP 11 `ut_pex` for one peer connection: remembers which peers
 * this connection was told about and builds the next message from a snapshot of our
 * current peers.
 *
 * Policy (PARAMETERS §2.3, RELIABILITY limits): the first message may go out as soon
 * as the extension handshake is done (the driver creates the sender then); after
 * that at most one message per `intervalMs` (default 60 s, as libtorrent, anacrolix
 * and rqbit); at most 50 added and 50 dropped peers per message, the rest in later
 * messages; flags are filled from the snapshot (seed, reachable, encryption, uTP,
 * holepunch); the receiving peer itself is never included. Nothing is sent when
 * nothing changed. Hosts that are not IP literals cannot be sent and are skipped.
 *
 * Invariant: `told` holds only encodable addresses, never a recipient address.
 *
 * Layer: core (no I/O; time comes in as `now`).
 * @module
 */
import type { PeerAddress } from "../runtime/types.ts";
import { COMPACT_V4_LENGTH, compactEntry } from "./_compact.ts";
import { encodePex, PEX_MAX_PEERS_PER_MESSAGE, PexFlags } from "./ut_pex.ts";

/** One of our current peers, as the sender sees it. */
export interface PexPeerInfo {
  /** The peer's listen address (an IP literal). */
  readonly addr: PeerAddress;
  /** The peer has every piece (or is upload-only). */
  readonly isSeed: boolean;
  /** We connected to it (outgoing), so others can too. */
  readonly reachable: boolean;
  /** It prefers encrypted connections. */
  readonly prefersEncryption?: boolean;
  /** It supports uTP. */
  readonly supportsUtp?: boolean;
  /** It supports ut_holepunch. */
  readonly supportsHolepunch?: boolean;
}

/** Options for {@linkcode PexSender}. */
export interface PexSenderOptions {
  /** The addresses the receiving peer is known under (connection and listen address). */
  readonly recipient: PeerAddress | readonly PeerAddress[];
  /** Least time between two messages in ms; default 60 s. */
  readonly intervalMs?: number;
  /** Most added (and most dropped) peers per message; default 50. */
  readonly maxPeersPerMessage?: number;
}

/**
 * The flags byte for one peer.
 * @param peer the peer
 * @returns the {@linkcode PexFlags} bits that hold for it
 * @example
 * ```ts
 * import { pexFlagsOf, PexFlags } from "./mod.ts";
 * import { strictEqual } from "node:assert";
 * const addr = { host: "198.51.100.7", port: 6881 };
 * strictEqual(pexFlagsOf({ addr, isSeed: true, reachable: true }), PexFlags.seed | PexFlags.reachable);
 * ```
 */
export function pexFlagsOf(peer: PexPeerInfo): number {
  return (peer.prefersEncryption ? PexFlags.prefersEncryption : 0) |
    (peer.isSeed ? PexFlags.seed : 0) | (peer.supportsUtp ? PexFlags.utp : 0) |
    (peer.supportsHolepunch ? PexFlags.holepunch : 0) | (peer.reachable ? PexFlags.reachable : 0);
}

interface Lists {
  added: PeerAddress[];
  addedFlags: number[];
  added6: PeerAddress[];
  added6Flags: number[];
  dropped: PeerAddress[];
  dropped6: PeerAddress[];
}

/**
 * Builds the ut_pex messages for one connection.
 *
 * @example
 * ```ts
 * import { decodePex, PexSender } from "./mod.ts";
 * import { strictEqual } from "node:assert";
 * const sender = new PexSender({ recipient: { host: "198.51.100.1", port: 6881 } });
 * const peers = [{ addr: { host: "198.51.100.2", port: 6881 }, isSeed: true, reachable: true }];
 * strictEqual(decodePex(sender.build(0, peers)!).added.length, 1);
 * strictEqual(sender.build(30_000, []), undefined); // at most one message a minute
 * strictEqual(decodePex(sender.build(60_000, [])!).dropped.length, 1);
 * ```
 */
export class PexSender {
  readonly #recipient: Set<string>;
  readonly #intervalMs: number;
  readonly #max: number;
  /** What this peer was told, by compact-entry key. */
  readonly #told = new Map<string, Told>();
  #lastSentAt: number | undefined;

  /**
   * Creates the sender for one connection (once the extension handshake is done).
   * @param options the recipient's addresses and the limits
   * @throws {RangeError} when a limit is not a positive integer
   */
  constructor(options: PexSenderOptions) {
    const r = options.recipient;
    const recipients = (isAddress(r) ? [r] : r).map(compactEntry);
    this.#recipient = new Set(recipients.filter((e) => e !== undefined).map(entryKey));
    this.#intervalMs = positive("intervalMs", options.intervalMs ?? 60_000);
    this.#max = positive(
      "maxPeersPerMessage",
      options.maxPeersPerMessage ?? PEX_MAX_PEERS_PER_MESSAGE,
    );
  }

  /** When the last message was built, in ms; `undefined` before the first. */
  get lastSentAt(): number | undefined {
    return this.#lastSentAt;
  }

  /** How many peers the recipient currently knows about from us. */
  get toldCount(): number {
    return this.#told.size;
  }

  /**
   * Builds the next message, if one is due and something changed.
   * @param now the current time in ms on the injected clock
   * @param currentPeers our current peers (listen addresses), in preference order
   * @returns the payload to send, or `undefined` when it is too early or nothing changed
   * @throws never for peer-controlled input; hosts that are not IP literals are skipped
   */
  build(now: number, currentPeers: readonly PexPeerInfo[]): Uint8Array | undefined {
    if (this.#lastSentAt !== undefined && now < this.#lastSentAt + this.#intervalMs) {
      return undefined;
    }
    const current = this.#snapshot(currentPeers);
    const lists: Lists = {
      added: [],
      addedFlags: [],
      added6: [],
      added6Flags: [],
      dropped: [],
      dropped6: [],
    };
    let added = 0, dropped = 0;
    for (const [key, entry] of current) {
      if (added === this.#max) break;
      if (this.#told.has(key)) continue;
      (entry.isV4 ? lists.added : lists.added6).push(entry.addr);
      (entry.isV4 ? lists.addedFlags : lists.added6Flags).push(pexFlagsOf(entry.peer));
      this.#told.set(key, entry);
      added++;
    }
    for (const [key, entry] of this.#told) {
      if (dropped === this.#max) break;
      if (current.has(key)) continue;
      (entry.isV4 ? lists.dropped : lists.dropped6).push(entry.addr);
      this.#told.delete(key);
      dropped++;
    }
    if (added === 0 && dropped === 0) return undefined;
    this.#lastSentAt = now;
    return encodePex(lists);
  }

  /** Encodable peers by compact-entry key, recipient and duplicates left out. */
  #snapshot(currentPeers: readonly PexPeerInfo[]): Map<string, Told & { peer: PexPeerInfo }> {
    const current = new Map<string, Told & { peer: PexPeerInfo }>();
    for (const peer of currentPeers) {
      const entry = compactEntry(peer.addr);
      if (entry === undefined) continue;
      const key = entryKey(entry);
      if (this.#recipient.has(key) || current.has(key)) continue;
      current.set(key, { addr: peer.addr, isV4: entry.length === COMPACT_V4_LENGTH, peer });
    }
    return current;
  }
}

/** A peer the recipient was told about. */
interface Told {
  readonly addr: PeerAddress;
  readonly isV4: boolean;
}

/** The compact entry as a string: canonical, since equal addresses encode equally. */
function entryKey(entry: Uint8Array): string {
  return String.fromCharCode(...entry);
}

function isAddress(value: PeerAddress | readonly PeerAddress[]): value is PeerAddress {
  return !Array.isArray(value);
}

function positive(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new RangeError(`Cannot create PexSender: ${name} ${value} is not a positive integer`);
  }
  return value;
}
