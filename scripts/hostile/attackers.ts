/**
 * The hostile peers of the issue, over real loopback sockets, for
 * `scripts/bench_hostile.ts`: a request flood, a ut_metadata flood, a peer that pins
 * pieces and never reads, a byte-a-second dripper, a burst of silent connections and a
 * DHT query flood from many addresses. Every loop is bounded in count and time.
 * @module
 */
import {
  encodeExtensionHandshake,
  encodeHandshake,
  encodeMessage,
  WireFramer,
  type WireMessage,
} from "../../src/wire/mod.ts";
import { encodeMetadataRequest } from "../../src/extensions/mod.ts";
import { LOCAL_EXTENSION_IDS } from "../../src/session/extension_hub.ts";
import { encodeKrpc, type KrpcQuery } from "../../src/dht/krpc.ts";
import { concatBytes } from "../../src/util/bytes.ts";

/** The torrent a hostile peer names. */
export interface Target {
  readonly port: number;
  readonly infoHash: Uint8Array;
  readonly pieceCount: number;
  readonly pieceLength: number;
}

/** What a flood achieved. */
export interface FloodResult {
  /** Ms from the first hostile byte until the peer saw its connection closed; undefined if not. */
  readonly closedAfterMs: number | undefined;
  /** Bytes the peer got back (read only once the flood was written). */
  readonly bytesAnswered: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Connects and handshakes; with `unchoke`, also says interested and waits for UNCHOKE. */
async function open(t: Target, o: { extensions?: boolean; unchoke?: boolean }) {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: t.port });
  const parts = [
    encodeHandshake({
      infoHash: t.infoHash,
      peerId: crypto.getRandomValues(new Uint8Array(20)),
      fastExtension: true,
      extensionProtocol: true,
    }),
  ];
  if (o.extensions) {
    const payload = encodeExtensionHandshake({ m: new Map([["ut_metadata", 3]]) });
    parts.push(encodeMessage({ type: "extended", extendedId: 0, payload }));
  }
  if (o.unchoke) parts.push(encodeMessage({ type: "interested" }));
  await conn.write(concatBytes(parts));
  if (!o.unchoke) return conn;
  const framer = new WireFramer({ pieceCount: t.pieceCount });
  const buf = new Uint8Array(64 * 1024);
  let skip = 68, unchoked = false;
  const deadline = Date.now() + 10_000;
  while (!unchoked && Date.now() < deadline) {
    const n = await conn.read(buf);
    if (n === null) throw new Error("closed before the unchoke");
    framer.feed(buf.subarray(Math.min(skip, n), n), (m) => unchoked ||= m.type === "unchoke");
    skip = Math.max(0, skip - n);
  }
  return conn;
}

/** Reads until EOF or the deadline; returns bytes read and whether EOF came. */
async function drain(conn: Deno.Conn, deadline: number): Promise<{ bytes: number; eof: boolean }> {
  const buf = new Uint8Array(1 << 20);
  let bytes = 0;
  while (Date.now() < deadline) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const n = await Promise.race([
      conn.read(buf).catch(() => null),
      new Promise<"wait">((r) => timer = setTimeout(() => r("wait"), deadline - Date.now())),
    ]);
    clearTimeout(timer);
    if (n === null) return { bytes, eof: true };
    if (n === "wait") break;
    bytes += n;
  }
  return { bytes, eof: false };
}

/** `count` valid block requests, cycling over every block of the torrent. */
export function blockRequests(t: Target, count: number, first = 0): WireMessage[] {
  const perPiece = Math.ceil(t.pieceLength / 16384);
  return Array.from({ length: count }, (_, i) => {
    const block = (first + i) % (t.pieceCount * perPiece);
    const index = Math.floor(block / perPiece);
    return { type: "request", index, begin: (block % perPiece) * 16384, length: 16384 };
  });
}

/** Writes `messages` in slices of `slice`, stopping at the first failed write. */
async function writeAll(conn: Deno.Conn, messages: WireMessage[], slice = 1000): Promise<void> {
  for (let i = 0; i < messages.length; i += slice) {
    const ok = await conn.write(concatBytes(messages.slice(i, i + slice).map(encodeMessage)))
      .then(() => true, () => false);
    if (!ok) return;
  }
}

/** Opens a peer, writes `messages` without reading, then reads until closed or timed out. */
async function flood(
  t: Target,
  o: { extensions?: boolean; unchoke?: boolean },
  messages: WireMessage[],
  timeoutMs: number,
): Promise<FloodResult> {
  const conn = await open(t, o);
  try {
    const started = Date.now();
    await writeAll(conn, messages);
    const { bytes, eof } = await drain(conn, started + timeoutMs);
    return { closedAfterMs: eof ? Date.now() - started : undefined, bytesAnswered: bytes };
  } finally {
    closeQuietly(conn);
  }
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch { /* closed by the seed */ }
}

/** An unchoked peer sends `count` valid REQUESTs and reads nothing until they are written. */
export function requestFlood(t: Target, o: { count: number; timeoutMs: number }) {
  return flood(t, { unchoke: true }, blockRequests(t, o.count), o.timeoutMs);
}

/** A peer sends `count` ut_metadata requests and reads nothing until they are written. */
export function metadataFlood(t: Target, o: { count: number; timeoutMs: number }) {
  const message: WireMessage = {
    type: "extended",
    extendedId: LOCAL_EXTENSION_IDS.ut_metadata, // the id a swarmd seed tells its peers
    payload: encodeMetadataRequest(0),
  };
  return flood(
    t,
    { extensions: true },
    Array.from({ length: o.count }, () => message),
    o.timeoutMs,
  );
}

/** A peer that queues `count` requests (at most the seed's cap) and then never reads. */
export async function pinner(t: Target, count = 500): Promise<{ close(): void }> {
  const conn = await open(t, { unchoke: true });
  await writeAll(conn, blockRequests(t, count));
  return { close: () => closeQuietly(conn) };
}

/** Drips a REQUEST one byte every `intervalMs`, reading all the while; ms until closed. */
export async function drip(
  t: Target,
  o: { intervalMs: number; timeoutMs: number },
): Promise<number | undefined> {
  const conn = await open(t, { unchoke: true });
  const started = Date.now();
  let closed = false;
  const reading = drain(conn, started + o.timeoutMs).then((r) => closed = r.eof);
  try {
    const bytes = encodeMessage({ type: "request", index: 0, begin: 0, length: 16384 });
    for (let i = 0; Date.now() - started < o.timeoutMs && !closed; i++) {
      await conn.write(bytes.subarray(i % bytes.length, i % bytes.length + 1)).catch(() => {});
      await sleep(o.intervalMs);
    }
    await reading;
    return closed ? Date.now() - started : undefined;
  } finally {
    closeQuietly(conn);
  }
}

export { connectionBurst } from "../../tests/integration/_hostile_peer.ts";

/** Sends DHT queries at `rate` per second for `seconds` from `addresses` (127.x.y.z). */
export async function dhtFlood(
  port: number,
  o: { rate: number; seconds: number; addresses: number },
): Promise<number> {
  const sockets = Array.from({ length: o.addresses }, (_, i) =>
    Deno.listenDatagram({
      transport: "udp",
      hostname: `127.${1 + (i >> 16)}.${(i >> 8) & 255}.${1 + (i & 255) % 254}`,
      port: 0,
    }));
  const ids = sockets.map(() => crypto.getRandomValues(new Uint8Array(20)));
  const rnd = (n: number) => crypto.getRandomValues(new Uint8Array(n));
  const started = performance.now();
  let sent = 0;
  try {
    while (performance.now() - started < o.seconds * 1000) {
      const due = Math.floor(((performance.now() - started) / 1000) * o.rate);
      for (; sent < due; sent++) {
        const i = sent % sockets.length;
        const base = { kind: "query" as const, transactionId: rnd(4), id: ids[i]! };
        const q: KrpcQuery = sent % 3 === 0
          ? { ...base, method: "ping" }
          : sent % 3 === 1
          ? { ...base, method: "find_node", target: rnd(20) }
          : { ...base, method: "get_peers", infoHash: rnd(20) };
        sockets[i]!.send(encodeKrpc(q), { transport: "udp", hostname: "127.0.0.1", port })
          .catch(() => {});
      }
      await sleep(5);
    }
    return sent;
  } finally {
    for (const s of sockets) s.close();
  }
}
