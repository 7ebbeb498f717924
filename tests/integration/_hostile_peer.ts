/**
 * Hand-written peers for hostile-peer tests over real loopback TCP (and the benchmark,
 * scripts/bench_hostile.ts), and a seeding Session to point them at. Every wait is
 * bounded in time; every socket is closed by its owner.
 * @module
 */
import net from "node:net";
import type { Settings } from "../../src/session/settings.ts";
import { SECURE_RANDOM } from "../../src/deno/clock.ts";
import {
  encodeExtensionHandshake,
  encodeHandshake,
  encodeMessage,
  HANDSHAKE_LENGTH,
  WireFramer,
  type WireMessage,
} from "../../src/wire/mod.ts";
import { concatBytes } from "../../src/util/bytes.ts";
import { seededDisk, type SimTorrent } from "../sim/swarm_harness.ts";
import { type LoopbackLeecher, withLoopbackSession } from "./_loopback_leecher.ts";

/** Runs `fn` against a fresh seed of `t` (data in memory), then closes it. */
export async function withLoopbackSeed(
  t: SimTorrent,
  overrides: Partial<Settings>,
  fn: (seed: LoopbackLeecher) => Promise<void>,
): Promise<void> {
  const disk = await seededDisk(t, "/seed");
  await withLoopbackSession(t.meta, { disk, dir: "/seed", seed: true, overrides }, async (s) => {
    for (let i = 0; i < 100 && s.torrent.stats().state !== "seeding"; i++) await sleep(20);
    await fn(s);
  });
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A raw BitTorrent connection driven by the test, byte by byte if it likes. */
export class RawPeer {
  readonly conn: Deno.TcpConn;
  readonly #framer: WireFramer;
  readonly #buf = new Uint8Array(256 * 1024);
  readonly messages: WireMessage[] = [];
  #skip = HANDSHAKE_LENGTH;
  #reading: Promise<number | null> | undefined;
  /** Payload bytes of the stream read so far (handshake excluded). */
  bytesRead = 0;
  /** True once the other side closed. */
  closed = false;

  private constructor(conn: Deno.TcpConn, pieceCount: number) {
    this.conn = conn;
    this.#framer = new WireFramer({ pieceCount });
  }

  /**
   * Connects and sends a handshake (fast extension and BEP 10 on) for `infoHash`.
   * @param extensions also send our BEP 10 handshake offering ut_metadata as id 3
   */
  static async connect(
    port: number,
    t: SimTorrent,
    options: { extensions?: boolean; handshake?: boolean } = {},
  ): Promise<RawPeer> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    const peer = new RawPeer(conn, t.meta.pieceCount);
    if (options.handshake === false) return peer;
    const parts = [
      encodeHandshake({
        infoHash: t.meta.infoHash,
        peerId: SECURE_RANDOM.bytes(20),
        fastExtension: true,
        extensionProtocol: true,
      }),
    ];
    if (options.extensions) {
      const payload = encodeExtensionHandshake({ m: new Map([["ut_metadata", 3]]) });
      parts.push(encodeMessage({ type: "extended", extendedId: 0, payload }));
    }
    await conn.write(concatBytes(parts));
    return peer;
  }

  /** Sends messages (one write). */
  async send(...messages: WireMessage[]): Promise<void> {
    await this.conn.write(concatBytes(messages.map(encodeMessage)));
  }

  /**
   * Reads until `until` holds for a message or the stream ends or `timeoutMs` passes.
   * @returns the message that matched, or undefined
   */
  async readUntil(
    until: (m: WireMessage) => boolean,
    timeoutMs: number,
  ): Promise<WireMessage | undefined> {
    const deadline = Date.now() + timeoutMs;
    let seen = this.messages.length;
    for (;;) {
      for (; seen < this.messages.length; seen++) {
        if (until(this.messages[seen]!)) return this.messages[seen];
      }
      if (this.closed || Date.now() >= deadline) return undefined;
      await this.#readOnce(Math.max(1, deadline - Date.now()));
    }
  }

  /** Reads (and keeps messages) until the other side closes or `timeoutMs` passes. */
  async closedWithin(timeoutMs: number): Promise<boolean> {
    await this.readUntil(() => false, timeoutMs);
    return this.closed;
  }

  /** Closes our side. */
  close(): void {
    try {
      this.conn.close();
    } catch { /* the session closed it first */ }
  }

  async #readOnce(waitMs: number): Promise<void> {
    // One read in flight at a time: a read a timeout left behind still takes bytes.
    this.#reading ??= this.conn.read(this.#buf).catch(() => null).finally(() => {
      this.#reading = undefined;
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const n = await Promise.race([
      this.#reading,
      new Promise<"wait">((r) => timer = setTimeout(() => r("wait"), Math.min(waitMs, 250))),
    ]);
    clearTimeout(timer);
    if (n === "wait") return;
    if (n === null) {
      this.closed = true;
      return;
    }
    const chunk = this.#buf.subarray(Math.min(this.#skip, n), n);
    this.#skip = Math.max(0, this.#skip - n);
    this.bytesRead += chunk.length;
    this.#framer.feed(chunk, (m) => this.messages.push(copy(m)));
  }
}

function copy(m: WireMessage): WireMessage {
  if (m.type === "piece") return { ...m, block: m.block.slice() };
  if (m.type === "bitfield") return { ...m, bitfield: m.bitfield.slice() };
  if (m.type === "extended") return { ...m, payload: m.payload.slice() };
  return m;
}

/** A TCP connection from `localAddress` (node:net can pick the source address). */
export function connectFrom(localAddress: string, port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: "127.0.0.1", port, localAddress });
    s.once("connect", () => resolve(s));
    s.once("error", reject);
  });
}

/** A running burst of silent connections. */
export interface ConnectionBurst {
  /** Connections opened so far. */
  readonly opened: number;
  /** Stops reopening and closes what is open. */
  stop(): Promise<void>;
}

/**
 * Keeps `count` silent connections to `port` open from `addresses`, reopening each
 * `reconnectDelayMs` after the other side closes it (at most 10,000 times each), until
 * `stop()`. A test that runs the session in the same process gives a delay, so the
 * attackers' own reconnect loop does not take the CPU the session needs.
 */
export function connectionBurst(
  port: number,
  o: { count: number; addresses: readonly string[]; reconnectDelayMs?: number },
): ConnectionBurst {
  let stopped = false, opened = 0;
  const open = new Set<net.Socket>();
  const loops = Array.from({ length: o.count }, async (_, i) => {
    for (let round = 0; round < 10_000 && !stopped; round++) {
      const s = await connectFrom(o.addresses[i % o.addresses.length]!, port).catch(() =>
        undefined
      );
      if (!s) {
        await sleep(10);
        continue;
      }
      if (stopped) {
        s.destroy(); // connected after stop() closed the others
        break;
      }
      opened++;
      open.add(s);
      s.on("data", () => {}); // never answers
      await new Promise<void>((r) => {
        s.once("close", () => r());
        s.once("error", () => r());
      });
      open.delete(s);
      if (o.reconnectDelayMs) await sleep(o.reconnectDelayMs);
    }
  });
  return {
    get opened() {
      return opened;
    },
    async stop() {
      stopped = true;
      for (const s of open) s.destroy();
      await Promise.all(loops);
    },
  };
}
