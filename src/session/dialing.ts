/**
 * Outgoing connections for one torrent (either phase): takes due addresses from the
 * peer list within the per-torrent connection cap and the half-open cap, skips ones we
 * are already connected to, and feeds dial failures back as back-off.
 *
 * Layer: driver.
 * @module
 */
import type { PeerConnection } from "../net/peer_connection.ts";
import type { PeerAddress } from "../runtime/types.ts";
import type { TorrentContext } from "./context.ts";
import { addressKey, type PeerList } from "./peer_list.ts";

/** Dials a torrent's candidate peers. */
export class PeerDialer {
  readonly #ctx: TorrentContext;
  readonly #list: PeerList;
  readonly #peers: ReadonlyMap<string, PeerConnection>;
  readonly #infoHashHex: string;
  #dialing = 0;

  /** Binds to a torrent's peer list and connections. */
  constructor(
    ctx: TorrentContext,
    list: PeerList,
    peers: ReadonlyMap<string, PeerConnection>,
    infoHashHex: string,
  ) {
    this.#ctx = ctx;
    this.#list = list;
    this.#peers = peers;
    this.#infoHashHex = infoHashHex;
  }

  /** Dials due addresses up to the caps; does nothing while `wanted` is false. */
  connectMore(wanted = true): void {
    const s = this.#ctx.settings;
    const now = this.#ctx.clock.now();
    while (
      this.#peers.size + this.#dialing < s.maxConnectionsPerTorrent && this.#dialing < s.maxHalfOpen
    ) {
      const addr = this.#list.nextToDial(now);
      if (!addr) return;
      if (this.#isConnectedTo(addr)) {
        this.#list.connected(addr, now);
        continue;
      }
      if (!wanted) {
        this.#list.disconnected(addr, now, false);
        return;
      }
      this.#dialing++;
      this.#ctx.dial(addr, this.#infoHashHex).then((ok) => {
        this.#dialing--;
        if (!ok) this.#list.disconnected(addr, this.#ctx.clock.now(), true);
      });
    }
  }

  #isConnectedTo(addr: PeerAddress): boolean {
    const key = addressKey(addr);
    for (const p of this.#peers.values()) {
      if (p.id === key || (p.listenAddr && addressKey(p.listenAddr) === key)) return true;
    }
    return false;
  }
}
