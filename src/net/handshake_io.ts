/**
 * Reads and writes the 68-byte BEP 3 handshake on a fresh connection, with a timeout.
 * Bytes that arrive after the handshake are returned, for the message framer.
 *
 * Layer: driver.
 * @module
 */
import type { Clock, Conn } from "../runtime/types.ts";
import { decodeHandshake, encodeHandshake, HANDSHAKE_LENGTH } from "../wire/mod.ts";
import { ProtocolError } from "../errors.ts";

/** The remote side's handshake. */
export interface RemoteHandshake {
  /** 20-byte info-hash the peer asked for. */
  readonly infoHash: Uint8Array;
  /** 20-byte peer id. */
  readonly peerId: Uint8Array;
  /** BEP 10 support. */
  readonly extensionProtocol: boolean;
  /** BEP 6 support. */
  readonly fastExtension: boolean;
  /** BEP 5 `port` message support. */
  readonly dht: boolean;
}

/** What we send in our handshake. */
export interface LocalHandshake {
  /** Our peer id. */
  readonly peerId: Uint8Array;
  /** Advertise BEP 5 (DHT) support. */
  readonly dht: boolean;
}

/** Result of a completed handshake. */
export interface HandshakeResult {
  /** The peer's handshake. */
  readonly remote: RemoteHandshake;
  /** Bytes received after the handshake (the start of the message stream). */
  readonly leftover: Uint8Array;
  /** How long our TCP connect took, in ms (outgoing connections): one round trip. */
  readonly connectMs?: number;
  /** Clock ms we sent our handshake (incoming connections): the peer's answer times a round trip. */
  readonly answeredAt?: number;
  /** The transport beneath (set by the session's connection manager). */
  readonly transport?: "tcp" | "utp";
  /** The payload stream is RC4-encrypted (MSE/PE). */
  readonly encrypted?: boolean;
  /** The connection opened with an MSE/PE handshake (whichever method it selected). */
  readonly mse?: boolean;
}

/**
 * Reads exactly one handshake from `conn`.
 * @param conn the connection
 * @param clock for the timeout
 * @param timeoutMs deadline
 * @returns the handshake and any extra bytes
 * @throws {ProtocolError} on timeout, end of stream or a malformed handshake
 */
export async function readHandshake(
  conn: Conn,
  clock: Clock,
  timeoutMs: number,
): Promise<HandshakeResult> {
  const buf = new Uint8Array(HANDSHAKE_LENGTH + 16 * 1024);
  let have = 0;
  let timedOut = false;
  const timer = clock.schedule(timeoutMs, () => {
    timedOut = true;
    conn.close();
  });
  try {
    while (have < HANDSHAKE_LENGTH) {
      const n = await conn.read(buf.subarray(have));
      if (n === null) {
        throw new ProtocolError(
          timedOut ? "Handshake timed out" : "Connection closed in handshake",
        );
      }
      // The protocol string is the first thing we can check: fail fast on garbage.
      if (have === 0 && n > 0 && buf[0] !== 19) {
        throw new ProtocolError(`Bad handshake: protocol length ${buf[0]}`);
      }
      have += n;
    }
  } finally {
    timer.cancel();
  }
  let remote: RemoteHandshake;
  try {
    remote = decodeHandshake(buf.subarray(0, HANDSHAKE_LENGTH));
  } catch (e) {
    throw new ProtocolError(`Bad handshake: ${(e as Error).message}`, { cause: e });
  }
  return { remote, leftover: buf.slice(HANDSHAKE_LENGTH, have) };
}

/**
 * Sends our handshake for `infoHash`.
 * @param conn the connection
 * @param infoHash torrent info-hash
 * @param local our peer id and flags
 */
export async function writeHandshake(
  conn: Conn,
  infoHash: Uint8Array,
  local: LocalHandshake,
): Promise<void> {
  await conn.write(handshakeBytes(infoHash, local));
}

/**
 * Our 68-byte handshake for `infoHash` (also the initial payload of an MSE handshake).
 * @param infoHash torrent info-hash
 * @param local our peer id and flags
 * @returns the encoded handshake
 */
export function handshakeBytes(infoHash: Uint8Array, local: LocalHandshake): Uint8Array {
  return encodeHandshake({
    infoHash,
    peerId: local.peerId,
    extensionProtocol: true,
    fastExtension: true,
    dht: local.dht,
  });
}
