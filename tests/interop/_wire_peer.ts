/**
 * A minimal BitTorrent peer over any `Conn`, built from the wire codec alone (no session),
 * for transport tests and benchmarks (MSE/PE, uTP) against real clients: a seed that
 * answers one leecher (handshake, have-all or a full bitfield, unchoke, every request,
 * batched per read) and a leecher that downloads every piece and checks its SHA-1. It
 * speaks only what those exchanges need; the session is the real peer. Also the
 * single-file test torrent both sides work on.
 *
 * Fast paths (the uTP benchmark, `scripts/bench_utp_peer.ts`, relies on them): one read
 * buffer per connection and no copy of a message (the framer's views are used inside the
 * callback), a seed's answers to one read's requests go out as one buffer and one write
 * (`encodePieceHeaderInto`), and a leecher reuses finished piece buffers.
 * @module
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import type { Conn } from "../../src/runtime/types.ts";
import {
  BLOCK_LENGTH,
  decodeHandshake,
  encodeHandshake,
  encodeMessage,
  encodePieceHeaderInto,
  type Handshake,
  HANDSHAKE_LENGTH,
  PIECE_HEADER_LENGTH,
  WireFramer,
  type WireMessage,
} from "../../src/wire/mod.ts";
import { concatBytes } from "../../src/util/bytes.ts";
import { buildTorrent } from "../../src/metainfo/create.ts";
import { parseTorrent } from "../../src/metainfo/mod.ts";

/** What both sides need to know about the torrent. */
export interface TorrentShape {
  /** SHA-1 of the info dictionary. */
  readonly infoHash: Uint8Array;
  /** Bytes per piece. */
  readonly pieceLength: number;
  /** Total content bytes. */
  readonly totalLength: number;
}

/** A single-file test torrent, with its bytes. */
export interface TestTorrent extends TorrentShape {
  /** Pieces in the torrent. */
  readonly pieceCount: number;
  /** The whole content, in torrent order. */
  readonly data: Uint8Array;
  /** 20 bytes of SHA-1 per piece. */
  readonly pieceHashes: Uint8Array;
}

/** Result of {@linkcode downloadAll}. */
export interface DownloadResult {
  /** Payload bytes received. */
  readonly bytes: number;
  /** Pieces whose SHA-1 matched. */
  readonly verifiedPieces: number;
  /** The seed's handshake. */
  readonly handshake: Handshake;
}

const READ_BUFFER_BYTES = 256 * 1024;
const EMPTY = new Uint8Array(0);

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

/**
 * Writes `data` as the single file `<dataDir>/<name>` and its torrent to `torrentPath`.
 * @returns the torrent, with its info-hash, piece hashes and bytes
 */
export async function writeSingleFileTorrent(
  o: { dataDir: string; torrentPath: string; name: string; data: Uint8Array; pieceLength: number },
): Promise<TestTorrent> {
  await Deno.mkdir(o.dataDir, { recursive: true });
  await Deno.writeFile(join(o.dataDir, o.name), o.data);
  const pieceHashes = pieceHashesOf(o.data, o.pieceLength);
  const bytes = buildTorrent({
    name: o.name,
    files: [{ path: [], length: o.data.length }],
    pieceLength: o.pieceLength,
    pieceHashes,
  });
  await Deno.writeFile(o.torrentPath, bytes);
  return {
    infoHash: parseTorrent(bytes).infoHash,
    pieceLength: o.pieceLength,
    totalLength: o.data.length,
    pieceCount: pieceHashes.length / 20,
    data: o.data,
    pieceHashes,
  };
}

/** A temporary directory holding a single-file torrent: `src/<name>` and `<name>.torrent`. */
export interface TorrentDir {
  /** The directory (removed by {@linkcode withTorrentDir}). */
  readonly root: string;
  /** The file's name, which is also the torrent's. */
  readonly name: string;
  /** The .torrent file. */
  readonly torrentPath: string;
  /** The torrent and its bytes. */
  readonly torrent: TestTorrent;
  /** SHA-256 hex of the content (downloads are checked against it). */
  readonly sha256: string;
}

/**
 * Makes a temporary directory with `data` as `src/<name>` and its torrent beside `src`.
 * @param o the directory's name prefix, the file's name and bytes, the piece length
 * @returns the paths, the torrent and the content's SHA-256
 */
export async function makeTorrentDir(
  o: { prefix: string; name: string; data: Uint8Array; pieceLength: number },
): Promise<TorrentDir> {
  const root = await Deno.makeTempDir({ prefix: o.prefix });
  const torrentPath = join(root, `${o.name}.torrent`);
  const torrent = await writeSingleFileTorrent({
    dataDir: join(root, "src"),
    torrentPath,
    name: o.name,
    data: o.data,
    pieceLength: o.pieceLength,
  });
  const sha256 = createHash("sha256").update(o.data).digest("hex");
  return { root, name: o.name, torrentPath, torrent, sha256 };
}

/**
 * Runs `fn` on a fresh {@linkcode makeTorrentDir}, removing the directory afterwards.
 * @param o as for {@linkcode makeTorrentDir}
 * @param fn the test
 */
export async function withTorrentDir(
  o: { prefix: string; name: string; data: Uint8Array; pieceLength: number },
  fn: (dir: TorrentDir) => Promise<void>,
): Promise<void> {
  const dir = await makeTorrentDir(o);
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir.root, { recursive: true });
  }
}

/** Our handshake for `infoHash` (fast extension on, so have-all and reject work). */
export function ourHandshake(infoHash: Uint8Array, peerId: Uint8Array): Uint8Array {
  return encodeHandshake({ infoHash, peerId, fastExtension: true });
}

/**
 * Reads the peer's 68-byte handshake, from `first` (an MSE initial payload) then `conn`.
 * @returns the handshake and any bytes after it
 * @throws {Error} when the peer closes first (`Peer closed after N handshake bytes`)
 */
export async function readPeerHandshake(
  conn: Conn,
  first: Uint8Array = EMPTY,
): Promise<{ handshake: Handshake; leftover: Uint8Array }> {
  let have = first;
  const buf = new Uint8Array(4096);
  for (let reads = 0; have.length < HANDSHAKE_LENGTH && reads < 100; reads++) {
    const n = await conn.read(buf);
    if (n === null) throw new Error(`Peer closed after ${have.length} handshake bytes`);
    have = concatBytes([have, buf.subarray(0, n)]);
  }
  return {
    handshake: decodeHandshake(have.subarray(0, HANDSHAKE_LENGTH)),
    leftover: have.slice(HANDSHAKE_LENGTH),
  };
}

/**
 * Feeds the peer's messages to `onMessage` until it closes or `isDone()` turns true
 * (asked after each read). Byte fields are views, valid only during the callback.
 * @param conn the stream, after the handshake
 * @param o the bytes read past the handshake, the torrent's piece count, the callbacks
 */
export async function readMessages(
  conn: Conn,
  o: {
    leftover: Uint8Array;
    pieceCount: number;
    onMessage: (m: WireMessage) => void;
    isDone?: () => boolean;
  },
): Promise<void> {
  const framer = new WireFramer({ pieceCount: o.pieceCount });
  if (o.leftover.length > 0) framer.feed(o.leftover, o.onMessage);
  const buf = new Uint8Array(READ_BUFFER_BYTES);
  while (!o.isDone?.()) {
    const n = await conn.read(buf);
    if (n === null) return;
    framer.feed(buf.subarray(0, n), o.onMessage);
  }
}

function pieceCountOf(shape: TorrentShape): number {
  return Math.ceil(shape.totalLength / shape.pieceLength);
}

/** A full bitfield of `pieceCount` pieces (spare bits clear). */
function fullBitfield(pieceCount: number): Uint8Array {
  const bits = new Uint8Array(Math.ceil(pieceCount / 8)).fill(0xff);
  const spare = bits.length * 8 - pieceCount;
  if (spare > 0) bits[bits.length - 1] = (0xff << spare) & 0xff;
  return bits;
}

/**
 * Downloads every piece from a seed over `conn`, checking each against `pieceHashes`.
 * @param conn a connected transport (we speak first)
 * @param shape the torrent
 * @param options our peer id (omit when our handshake has gone out already, as MSE's
 *   initial payload), the piece hashes, requests kept outstanding, a callback at the
 *   first block (benchmarks time from it)
 * @returns bytes, verified pieces and the seed's handshake, once every piece has arrived
 * @throws {Error} when the seed closes before its handshake
 */
export async function downloadAll(
  conn: Conn,
  shape: TorrentShape,
  options: {
    peerId?: Uint8Array;
    pieceHashes: Uint8Array;
    pipeline?: number;
    onFirstBlock?: () => void;
  },
): Promise<DownloadResult> {
  const pieceCount = pieceCountOf(shape);
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
  let next = 0, outstanding = 0, bytes = 0, finished = 0, verified = 0, unchoked = false;
  if (options.peerId) await conn.write(ourHandshake(shape.infoHash, options.peerId));
  const { handshake, leftover } = await readPeerHandshake(conn);
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
  const onMessage = (m: WireMessage) => {
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
        finished++;
        const digest = createHash("sha1").update(p.buf).digest();
        const want = options.pieceHashes.subarray(m.index * 20, m.index * 20 + 20);
        if (Buffer.compare(digest, want) === 0) verified++;
        if (p.buf.length === shape.pieceLength && spare.length < 8) spare.push(p.buf);
      }
      requestMore();
    }
  };
  const isDone = () => finished === pieceCount && outstanding === 0;
  await readMessages(conn, { leftover, pieceCount, onMessage, isDone });
  return { bytes, verifiedPieces: verified, handshake };
}

/**
 * Seeds `content` over `conn` to one leecher that speaks first: handshake, have-all (a
 * full bitfield to a peer without the fast extension), unchoke, then every request is
 * answered, one buffer and one write per read's requests. Ends when the peer closes.
 * @param conn a connected transport (after MSE, if any)
 * @param shape the torrent
 * @param options our peer id, the content, the leecher's handshake bytes already received
 *   (MSE's initial payload), a callback per request (benchmarks time from it)
 * @returns payload bytes uploaded
 */
export async function seedAll(
  conn: Conn,
  shape: TorrentShape,
  options: {
    peerId: Uint8Array;
    content: Uint8Array;
    first?: Uint8Array;
    onRequest?: () => void;
  },
): Promise<number> {
  const pieceCount = pieceCountOf(shape);
  const { handshake, leftover } = await readPeerHandshake(conn, options.first);
  await conn.write(concatBytes([
    ourHandshake(shape.infoHash, options.peerId),
    encodeMessage(
      handshake.fastExtension
        ? { type: "have-all" }
        : { type: "bitfield", bitfield: fullBitfield(pieceCount) },
    ),
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
  const onMessage = (m: WireMessage) => {
    if (m.type !== "request") return;
    options.onRequest?.();
    batch.push([m.index, m.begin, m.length]);
    uploaded += m.length;
    if (batch.length === 1) queueMicrotask(flush);
  };
  try {
    await readMessages(conn, { leftover, pieceCount, onMessage });
  } catch (e) {
    if (!(e instanceof Error && /reset|closed/.test(e.message))) throw e;
  }
  await writing.catch(() => {}); // the leecher may close as soon as it has everything
  return uploaded;
}
