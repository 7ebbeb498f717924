/**
 * A minimal BitTorrent peer over any `Conn`, for transport tests (MSE/PE, later uTP)
 * against real clients: a seed that answers one leecher (handshake, have-all or a full
 * bitfield, unchoke, blocks on request) and a leecher that fetches chosen blocks. It
 * speaks only what those exchanges need; the session is the real peer.
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
  type Handshake,
  HANDSHAKE_LENGTH,
  WireFramer,
  type WireMessage,
} from "../../src/wire/mod.ts";
import { concatBytes } from "../../src/util/bytes.ts";
import { buildTorrent } from "../../src/metainfo/create.ts";
import { parseTorrent } from "../../src/metainfo/mod.ts";

/** The torrent a test peer serves or fetches, with its bytes. */
export interface TestTorrent {
  readonly infoHash: Uint8Array;
  readonly pieceLength: number;
  readonly pieceCount: number;
  /** The whole content, in torrent order. */
  readonly data: Uint8Array;
}

/**
 * Writes `data` as the single file `<dataDir>/<name>` and its torrent to `torrentPath`.
 * @returns the torrent, with its info-hash and bytes
 */
export async function writeSingleFileTorrent(
  o: { dataDir: string; torrentPath: string; name: string; data: Uint8Array; pieceLength: number },
): Promise<TestTorrent> {
  await Deno.mkdir(o.dataDir, { recursive: true });
  await Deno.writeFile(join(o.dataDir, o.name), o.data);
  const pieceCount = Math.ceil(o.data.length / o.pieceLength);
  const hashes = new Uint8Array(pieceCount * 20);
  for (let i = 0; i < pieceCount; i++) {
    const piece = o.data.subarray(i * o.pieceLength, (i + 1) * o.pieceLength);
    hashes.set(createHash("sha1").update(piece).digest(), i * 20);
  }
  const bytes = buildTorrent({
    name: o.name,
    files: [{ path: [], length: o.data.length }],
    pieceLength: o.pieceLength,
    pieceHashes: hashes,
  });
  await Deno.writeFile(o.torrentPath, bytes);
  const { infoHash } = parseTorrent(bytes);
  return { infoHash, pieceLength: o.pieceLength, pieceCount, data: o.data };
}

/** Reads messages from a conn, after the handshake; every byte field is a copy. */
export class MessageReader {
  readonly #conn: Conn;
  readonly #framer: WireFramer;
  readonly #queue: WireMessage[] = [];
  readonly #buffer = new Uint8Array(256 * 1024);
  /** Bytes read from the conn so far (after the handshake). */
  bytesRead = 0;

  /** Reads from `conn`, first feeding `leftover` (bytes read past the handshake). */
  constructor(conn: Conn, pieceCount: number, leftover: Uint8Array) {
    this.#conn = conn;
    this.#framer = new WireFramer({ pieceCount });
    this.#feed(leftover);
  }

  /** The next message, or null at end of stream. */
  async next(): Promise<WireMessage | null> {
    for (let reads = 0; reads < 1_000_000; reads++) {
      const m = this.#queue.shift();
      if (m !== undefined) return m;
      const n = await this.#conn.read(this.#buffer);
      if (n === null) return null;
      this.bytesRead += n;
      this.#feed(this.#buffer.subarray(0, n));
    }
    throw new Error("MessageReader: too many reads");
  }

  #feed(bytes: Uint8Array): void {
    this.#framer.feed(bytes, (m) => this.#queue.push(copyMessage(m)));
  }
}

function copyMessage(m: WireMessage): WireMessage {
  if (m.type === "piece") return { ...m, block: m.block.slice() };
  if (m.type === "bitfield") return { ...m, bitfield: m.bitfield.slice() };
  if (m.type === "extended") return { ...m, payload: m.payload.slice() };
  return m;
}

/**
 * Reads the peer's 68-byte handshake, from `first` (an MSE initial payload) then `conn`.
 * @returns the handshake and any bytes after it
 */
export async function readPeerHandshake(
  conn: Conn,
  first: Uint8Array,
): Promise<{ handshake: Handshake; leftover: Uint8Array }> {
  let have = first;
  const buf = new Uint8Array(4096);
  for (let reads = 0; have.length < HANDSHAKE_LENGTH && reads < 100; reads++) {
    const n = await conn.read(buf);
    if (n === null) throw new Error(`end of stream after ${have.length} handshake bytes`);
    have = concatBytes([have, buf.subarray(0, n)]);
  }
  return {
    handshake: decodeHandshake(have.subarray(0, HANDSHAKE_LENGTH)),
    leftover: have.slice(HANDSHAKE_LENGTH),
  };
}

/** Our handshake for `infoHash` (fast extension on, so have-all and reject work). */
export function ourHandshake(infoHash: Uint8Array, peerId: Uint8Array): Uint8Array {
  return encodeHandshake({ infoHash, peerId, fastExtension: true });
}

/**
 * Seeds `torrent` to one leecher until it closes the connection.
 * @param conn the payload stream (after MSE, if any)
 * @param torrent what to serve
 * @param first bytes of the leecher's handshake already received (MSE's IA)
 * @param peerId our peer id
 * @returns the payload bytes uploaded
 */
export async function seedOne(
  conn: Conn,
  torrent: TestTorrent,
  first: Uint8Array,
  peerId: Uint8Array,
): Promise<number> {
  const { handshake, leftover } = await readPeerHandshake(conn, first);
  const bits = new Uint8Array(Math.ceil(torrent.pieceCount / 8)).fill(0xff);
  const spare = bits.length * 8 - torrent.pieceCount;
  if (spare > 0) bits[bits.length - 1] = (0xff << spare) & 0xff;
  await conn.write(concatBytes([
    ourHandshake(torrent.infoHash, peerId),
    encodeMessage(
      handshake.fastExtension ? { type: "have-all" } : { type: "bitfield", bitfield: bits },
    ),
    encodeMessage({ type: "unchoke" }),
  ]));
  const reader = new MessageReader(conn, torrent.pieceCount, leftover);
  let uploaded = 0;
  for (let messages = 0; messages < 10_000_000; messages++) {
    const m = await reader.next();
    if (m === null) return uploaded;
    if (m.type !== "request") continue;
    const begin = m.index * torrent.pieceLength + m.begin;
    const block = torrent.data.subarray(begin, begin + m.length);
    await conn.write(encodeMessage({ type: "piece", index: m.index, begin: m.begin, block }));
    uploaded += block.length;
  }
  return uploaded;
}

/**
 * Leeches the first `blockCount` blocks of `torrent` from a seed and checks them.
 * @param conn the payload stream (after MSE, if any), our handshake already sent
 * @returns the peer's handshake and the number of verified blocks
 * @throws {Error} when the seed closes early or a block differs from the source
 */
export async function fetchBlocks(
  conn: Conn,
  torrent: TestTorrent,
  blockCount: number,
): Promise<{ handshake: Handshake; verified: number }> {
  const { handshake, leftover } = await readPeerHandshake(conn, new Uint8Array(0));
  const reader = new MessageReader(conn, torrent.pieceCount, leftover);
  await conn.write(encodeMessage({ type: "interested" }));
  let verified = 0;
  let requested = false;
  for (let messages = 0; verified < blockCount && messages < 100_000; messages++) {
    const m = await reader.next();
    if (m === null) throw new Error(`seed closed after ${verified} blocks`);
    if (m.type === "unchoke" && !requested) {
      requested = true;
      const requests: Uint8Array[] = [];
      for (let b = 0; b < blockCount; b++) {
        const at = b * BLOCK_LENGTH;
        const index = Math.floor(at / torrent.pieceLength);
        requests.push(encodeMessage({
          type: "request",
          index,
          begin: at - index * torrent.pieceLength,
          length: Math.min(BLOCK_LENGTH, torrent.data.length - at),
        }));
      }
      await conn.write(concatBytes(requests));
    }
    if (m.type !== "piece") continue;
    const at = m.index * torrent.pieceLength + m.begin;
    const expected = torrent.data.subarray(at, at + m.block.length);
    if (!expected.every((b, i) => b === m.block[i])) {
      throw new Error(`block at ${at} differs from the source`);
    }
    verified++;
  }
  return { handshake, verified };
}
