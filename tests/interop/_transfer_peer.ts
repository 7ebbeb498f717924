/**
 * A minimal BitTorrent peer over any {@linkcode Conn}, built from the wire codec alone (no
 * session): enough to download every piece of a torrent from a seed, or to seed one to a
 * leecher. The uTP interop tests and transfer benchmarks use it to drive a transport
 * without the engine on top.
 * @module
 */
import { createHash } from "node:crypto";
import type { Conn } from "../../src/runtime/types.ts";
import { concatBytes } from "../../src/util/bytes.ts";
import {
  BLOCK_LENGTH,
  decodeHandshake,
  encodeHandshake,
  encodeMessage,
  encodePieceHeaderInto,
  HANDSHAKE_LENGTH,
  PIECE_HEADER_LENGTH,
  WireFramer,
  type WireMessage,
} from "../../src/wire/mod.ts";

/** What both sides need to know about the torrent. */
export interface TorrentShape {
  /** SHA-1 of the info dictionary. */
  readonly infoHash: Uint8Array;
  /** Bytes per piece. */
  readonly pieceLength: number;
  /** Total content bytes. */
  readonly totalLength: number;
}

/** Result of {@linkcode downloadAll}. */
export interface DownloadResult {
  /** Payload bytes received. */
  readonly bytes: number;
  /** Pieces whose SHA-1 matched. */
  readonly verifiedPieces: number;
}

const READ_BUFFER_BYTES = 256 * 1024;

/** Reads the 68-byte handshake, then feeds everything after it to a framer. */
class HandshakeThenFrames {
  readonly #conn: Conn;
  readonly #buf = new Uint8Array(READ_BUFFER_BYTES);
  #rest: Uint8Array = new Uint8Array(0);

  constructor(conn: Conn) {
    this.#conn = conn;
  }

  async handshake(): Promise<Uint8Array> {
    const got = new Uint8Array(HANDSHAKE_LENGTH);
    let n = 0;
    while (n < HANDSHAKE_LENGTH) {
      const r = await this.#conn.read(this.#buf);
      if (r === null) throw new Error(`Peer closed after ${n} handshake bytes`);
      const take = Math.min(r, HANDSHAKE_LENGTH - n);
      got.set(this.#buf.subarray(0, take), n);
      n += take;
      if (take < r) this.#rest = this.#buf.slice(take, r);
    }
    return decodeHandshake(got).peerId;
  }

  /** Feeds frames to `onMessage` until the peer closes or `done()` turns true. */
  async frames(onMessage: (m: WireMessage) => void, done: () => boolean): Promise<void> {
    const framer = new WireFramer();
    if (this.#rest.length > 0) framer.feed(this.#rest, onMessage);
    while (!done()) {
      const r = await this.#conn.read(this.#buf);
      if (r === null) return;
      framer.feed(this.#buf.subarray(0, r), onMessage);
    }
  }
}

/**
 * Downloads every piece from a seed over `conn`, verifying each against `pieceHashes`.
 * @param conn a connected transport (we spoke first)
 * @param shape the torrent
 * @param options our peer id, the piece hashes, requests kept outstanding, a callback at
 *   the first block (benchmarks time from it)
 * @returns bytes and verified pieces
 */
export async function downloadAll(
  conn: Conn,
  shape: TorrentShape,
  options: {
    peerId: Uint8Array;
    pieceHashes: Uint8Array;
    pipeline?: number;
    onFirstBlock?: () => void;
  },
): Promise<DownloadResult> {
  const pieceCount = Math.ceil(shape.totalLength / shape.pieceLength);
  const pieceBytes = (i: number) =>
    Math.min(shape.pieceLength, shape.totalLength - i * shape.pieceLength);
  const queue: [number, number, number][] = [];
  for (let i = 0; i < pieceCount; i++) {
    for (let b = 0; b < pieceBytes(i); b += BLOCK_LENGTH) {
      queue.push([i, b, Math.min(BLOCK_LENGTH, pieceBytes(i) - b)]);
    }
  }
  const pipeline = options.pipeline ?? 128;
  const partial = new Map<number, { buf: Uint8Array; got: number }>();
  const spare: Uint8Array[] = []; // finished piece buffers, reused (fresh pages cost here)
  let next = 0, outstanding = 0, bytes = 0, verified = 0, unchoked = false;
  const reader = new HandshakeThenFrames(conn);
  await conn.write(
    encodeHandshake({ infoHash: shape.infoHash, peerId: options.peerId, fastExtension: true }),
  );
  await reader.handshake();
  await conn.write(encodeMessage({ type: "interested" }));
  const requestMore = () => {
    if (!unchoked) return;
    const frames: Uint8Array[] = [];
    while (outstanding < pipeline && next < queue.length) {
      const [index, begin, length] = queue[next++]!;
      frames.push(encodeMessage({ type: "request", index, begin, length }));
      outstanding++;
    }
    if (frames.length > 0) void conn.write(concatBytes(frames));
  };
  await reader.frames((m) => {
    if (m.type === "unchoke") {
      unchoked = true;
      requestMore();
    } else if (m.type === "choke") unchoked = false;
    else if (m.type === "reject") {
      queue.push([m.index, m.begin, m.length]);
      outstanding--;
    } else if (m.type === "piece") {
      outstanding--;
      if (bytes === 0) options.onFirstBlock?.();
      bytes += m.block.length;
      const size = pieceBytes(m.index);
      const reuse = spare.length > 0 && spare.at(-1)!.length >= size
        ? spare.pop()!.subarray(0, size)
        : undefined;
      const p = partial.get(m.index) ?? { buf: reuse ?? new Uint8Array(size), got: 0 };
      partial.set(m.index, p);
      p.buf.set(m.block, m.begin);
      p.got += m.block.length;
      if (p.got === p.buf.length) {
        partial.delete(m.index);
        const digest = createHash("sha1").update(p.buf).digest();
        const want = options.pieceHashes.subarray(m.index * 20, m.index * 20 + 20);
        if (Buffer.compare(digest, want) === 0) verified++;
        if (p.buf.length === shape.pieceLength && spare.length < 8) spare.push(p.buf);
      }
      requestMore();
    }
  }, () => verified + partial.size >= pieceCount && partial.size === 0 && outstanding === 0);
  return { bytes, verifiedPieces: verified };
}

/**
 * Seeds `content` over `conn` to one leecher that speaks first: handshake, have-all,
 * unchoke, then every request is answered, batched per read. Ends when the peer closes.
 * @param conn a connected transport
 * @param shape the torrent
 * @param options our peer id, the content, a callback per request (benchmarks time from it)
 * @returns payload bytes uploaded
 */
export async function seedAll(
  conn: Conn,
  shape: TorrentShape,
  options: { peerId: Uint8Array; content: Uint8Array; onRequest?: () => void },
): Promise<number> {
  const reader = new HandshakeThenFrames(conn);
  await reader.handshake();
  await conn.write(concatBytes([
    encodeHandshake({ infoHash: shape.infoHash, peerId: options.peerId, fastExtension: true }),
    encodeMessage({ type: "have-all" }),
    encodeMessage({ type: "unchoke" }),
  ]));
  let uploaded = 0, batch: [number, number, number][] = [], writing = Promise.resolve();
  const flush = () => { // one buffer and one write per batch of requests
    const out = new Uint8Array(
      batch.reduce((n, [, , length]) => n + PIECE_HEADER_LENGTH + length, 0),
    );
    let o = 0;
    for (const [index, begin, length] of batch) {
      o += encodePieceHeaderInto(out, o, index, begin, length);
      const at = index * shape.pieceLength + begin;
      out.set(options.content.subarray(at, at + length), o);
      o += length;
    }
    batch = [];
    writing = writing.then(() => conn.write(out));
  };
  try {
    await reader.frames((m) => {
      if (m.type !== "request") return;
      options.onRequest?.();
      batch.push([m.index, m.begin, m.length]);
      uploaded += m.length;
      if (batch.length === 1) queueMicrotask(flush);
    }, () => false);
  } catch (e) {
    if (!(e instanceof Error && /reset|closed/.test(e.message))) throw e;
  }
  await writing.catch(() => {}); // the leecher may close as soon as it has everything
  return uploaded;
}

/**
 * SHA-1 piece hashes of `content`.
 * @param content the bytes
 * @param pieceLength bytes per piece
 * @returns 20 bytes per piece
 */
export function pieceHashesOf(content: Uint8Array, pieceLength: number): Uint8Array {
  const count = Math.ceil(content.length / pieceLength);
  const out = new Uint8Array(count * 20);
  for (let i = 0; i < count; i++) {
    out.set(
      createHash("sha1").update(content.subarray(i * pieceLength, (i + 1) * pieceLength)).digest(),
      i * 20,
    );
  }
  return out;
}
