/**
 * Two uTP connection cores joined by an in-memory link whose every packet the test can
 * see, drop, hold back or forge; time is a plain number the test moves. Invariants of
 * both cores are checked after every delivery.
 * @module
 */
import { BufferPool } from "../src/net/utp/buffer_pool.ts";
import { UtpConnection } from "../src/net/utp/connection.ts";
import { newHeader, parsePacket, type UtpHeader } from "../src/net/utp/packet.ts";
import { resolveUtpSettings, type UtpSettings } from "../src/net/utp/settings.ts";

/** One packet on the link, with its parsed header. */
export interface LinkPacket {
  /** Sender side: "a" (the dialer) or "b" (the acceptor). */
  readonly from: "a" | "b";
  /** The datagram (a copy). */
  readonly bytes: Uint8Array;
  /** Its header. */
  readonly h: UtpHeader;
}

/** Decides each packet's fate: deliver (true) or drop (false). */
export type LinkFilter = (p: LinkPacket, index: number) => boolean;

/** A dialer `a` and an acceptor `b` (created when `a`'s SYN is delivered). */
export class CoreLink {
  /** The clock, ms. */
  now = 1_000_000;
  /** The settings both sides use. */
  readonly settings: Readonly<UtpSettings>;
  /** The dialer. */
  readonly a: UtpConnection;
  /** The acceptor, once a SYN arrived. */
  b: UtpConnection | undefined;
  /** Every packet sent, in order (including dropped ones). */
  readonly log: LinkPacket[] = [];
  /** Packets in flight, delivered by {@linkcode deliver}. */
  queue: LinkPacket[] = [];
  /** Fate of each packet; default: deliver. */
  filter: LinkFilter = () => true;
  readonly #pool: BufferPool;

  /**
   * Makes the link and the dialer (not yet connecting).
   * @param settings overrides
   * @param ids the dialer's receive id (send id = +1)
   */
  constructor(settings: Partial<UtpSettings> = {}, ids = { recvId: 1000 }) {
    this.settings = resolveUtpSettings(settings);
    this.#pool = new BufferPool(this.settings.packetBytes, 64);
    this.a = this.#core("a", (ids.recvId + 1) & 0xffff, ids.recvId);
  }

  /** Sends the SYN and runs until both sides are connected. */
  connect(aSeq = 100, bSeq = 5000): void {
    this.a.connect(aSeq, this.now);
    this.run({ bSeq });
  }

  /**
   * Delivers queued packets (and what they cause) until the link is quiet or `limit`
   * rounds passed. Each round delivers the whole queue, then flushes both sides (the
   * driver's end-of-batch flush) and their owed ACKs.
   * @param options the acceptor's initial sequence number, round limit, ms per round
   */
  run(options: { bSeq?: number; limit?: number; stepMs?: number } = {}): void {
    for (let round = 0; round < (options.limit ?? 10_000); round++) {
      this.now += options.stepMs ?? 1;
      const batch = this.queue;
      this.queue = [];
      for (const p of batch) this.deliver(p, options.bSeq ?? 5000);
      this.flush();
      if (this.queue.length === 0) return;
    }
  }

  /** The end-of-batch flush on both sides, owed ACKs included. */
  flush(): void {
    for (const c of [this.a, this.b]) {
      if (c?.flush(this.now)) c.flushAck(this.now);
    }
    this.check();
  }

  /**
   * Delivers one packet to its receiver.
   * @param p the packet
   * @param bSeq the acceptor's initial sequence number, if this SYN creates it
   */
  deliver(p: LinkPacket, bSeq = 5000): void {
    const h = parsePacket(p.bytes, newHeader());
    if (p.from === "a") {
      if (!this.b && h.type === 4) {
        this.b = this.#core("b", h.connectionId, (h.connectionId + 1) & 0xffff);
        this.b.acceptSyn(h, bSeq, this.now);
      } else this.b?.onPacket(h, p.bytes, this.now);
    } else this.a.onPacket(h, p.bytes, this.now);
    this.check();
  }

  /**
   * Forges a packet to a side, as if from its peer.
   * @param to the receiving side
   * @param bytes the datagram
   */
  inject(to: "a" | "b", bytes: Uint8Array): void {
    this.deliver({ from: to === "a" ? "b" : "a", bytes, h: parsePacket(bytes, newHeader()) });
  }

  /**
   * Advances the clock and runs both sides' timers.
   * @param ms how far
   */
  tick(ms: number): void {
    this.now += ms;
    this.a.onTick(this.now);
    this.b?.onTick(this.now);
    this.check();
  }

  /** Packets `side` sent, parsed. */
  sent(side: "a" | "b"): LinkPacket[] {
    return this.log.filter((p) => p.from === side);
  }

  /** Checks both cores' invariants. */
  check(): void {
    this.a.assertInvariants();
    this.b?.assertInvariants();
  }

  /**
   * Reads everything readable on `side`.
   * @param side which core
   * @returns the bytes
   */
  drain(side: "a" | "b"): Uint8Array {
    const c = side === "a" ? this.a : this.b;
    const out = new Uint8Array(c?.readableBytes ?? 0);
    if (c) c.read(out);
    return out;
  }

  #core(side: "a" | "b", sendId: number, recvId: number): UtpConnection {
    return new UtpConnection({
      sendId,
      recvId,
      settings: this.settings,
      packetBytes: this.settings.packetBytes,
      pool: this.#pool,
      sink: (buf, length) => {
        const bytes = buf.slice(0, length);
        const p = { from: side, bytes, h: parsePacket(bytes, newHeader()) };
        const index = this.log.length;
        this.log.push(p);
        if (this.filter(p, index)) this.queue.push(p);
      },
    });
  }
}
