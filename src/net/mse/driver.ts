/**
 * Runs an MSE/PE handshake over a `Conn` with a deadline on an injected `Clock`: the
 * entry points a session calls when it dials ({@linkcode initiateMse}) and when it
 * accepts ({@linkcode acceptMse}, which also tells plain BitTorrent from MSE).
 *
 * Both return a `Conn` for the payload stream that yields first any bytes read past
 * the handshake, so none is lost: an {@linkcode Rc4Conn} when RC4 was selected, else
 * the connection itself (wrapped in a {@linkcode PrefixedConn} when bytes are pending).
 *
 * Failure closes the connection and throws a `ProtocolError`, within `timeoutMs` and
 * within the byte caps of the cores (`initiator.ts`, `responder.ts`): a silent peer, a
 * peer that closes (a plaintext-only client closes an MSE handshake), garbage, an
 * unknown torrent, a method we refuse.
 *
 * Layer: driver.
 * @module
 */
import type { Clock, Conn, Random } from "../../runtime/types.ts";
import { ProtocolError } from "../../errors.ts";
import {
  classifyIncoming,
  type MseAllow,
  type MseMethod,
  type MseResult,
  type MseStep,
  PLAIN_HEADER_LENGTH,
} from "./_handshake_common.ts";
import { INITIATOR_MAX_BYTES, MseInitiator } from "./initiator.ts";
import {
  DEFAULT_MAX_INITIAL_PAYLOAD_BYTES,
  type FindInfoHash,
  MseResponder,
  responderMaxBytes,
} from "./responder.ts";
import { PrefixedConn, Rc4Conn, type Rc4ConnOptions } from "./encrypted_conn.ts";

/**
 * {@linkcode initiateMse} failed in a way a new connection (with new keys) very likely
 * fixes: the peer closed right after our third message and our shared secret S starts
 * with a zero byte, which libtorrent (the engine of qBittorrent and Deluge; checked in
 * 2.0.8) mishandles as a responder: it hashes its req3 mask over S without the leading
 * zero, so it cannot find the torrent and hangs up. That happens in 1 dial in 256.
 * Redial with MSE rather than counting the peer as one that refuses encryption.
 */
export class MseRetryError extends ProtocolError {
  /** Builds the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "MseRetryError";
  }
}

/** Options for {@linkcode initiateMse}. */
export interface InitiateOptions extends Rc4ConnOptions {
  /** The torrent's 20-byte info-hash. */
  readonly infoHash: Uint8Array;
  /** Private key and padding. */
  readonly random: Random;
  /** For the deadline. */
  readonly clock: Clock;
  /** The whole handshake must finish within this many ms (libtorrent: 10,000). */
  readonly timeoutMs: number;
  /** Methods we offer and accept. */
  readonly allow: MseAllow;
  /**
   * With `allow: "both"`, offer RC4 alone (a responder offered both usually picks
   * plaintext); the plain BitTorrent fallback is the caller's retry. Default false.
   */
  readonly preferRc4?: boolean;
  /** IA, sent encrypted with our third message: usually our BitTorrent handshake. */
  readonly initialPayload?: Uint8Array;
}

/** What {@linkcode initiateMse} resolves to. */
export interface InitiateResult {
  /** The payload stream (the peer's BitTorrent handshake comes first). */
  readonly conn: Conn;
  /** The method the responder selected. */
  readonly selected: MseMethod;
}

/** Options for {@linkcode acceptMse}. */
export interface AcceptOptions extends Rc4ConnOptions {
  /** Private key and padding. */
  readonly random: Random;
  /** For the deadline. */
  readonly clock: Clock;
  /** Deciding and (for MSE) the whole handshake must finish within this many ms. */
  readonly timeoutMs: number;
  /** Methods we may select for an MSE connection. */
  readonly allow: MseAllow;
  /** When the peer offers both, select RC4 (default false: plaintext, as libtorrent). */
  readonly preferRc4?: boolean;
  /** Accept a plain BitTorrent handshake without MSE; false is "require encryption". */
  readonly allowPlainBitTorrent: boolean;
  /** Maps HASH('req2', SKEY) to an active torrent's info-hash (see `req2Hash`). */
  readonly findInfoHash: FindInfoHash;
  /** Cap on the initiator's initial payload (default 16 KiB). */
  readonly maxInitialPayloadBytes?: number;
}

/** What {@linkcode acceptMse} resolves to. */
export interface AcceptResult {
  /**
   * The stream after the initial payload: for plain BitTorrent, the whole stream from
   * its first byte (the peer's handshake); for MSE, whatever follows the IA.
   */
  readonly conn: Conn;
  /** The MSE method selected, or undefined for plain BitTorrent (no MSE). */
  readonly selected: MseMethod | undefined;
  /** True when the payload stream is RC4-encrypted. */
  readonly encrypted: boolean;
  /** The torrent the MSE initiator asked for; undefined for plain BitTorrent. */
  readonly infoHash: Uint8Array | undefined;
  /**
   * The initiator's IA, decrypted: usually its 68-byte BitTorrent handshake, which then
   * does not come again on `conn`. Empty for plain BitTorrent or when none was sent.
   */
  readonly initialPayload: Uint8Array;
}

const READ_BYTES = 16 * 1024;
const EMPTY = new Uint8Array(0);

/**
 * Dials side: runs the MSE handshake as initiator on a fresh connection.
 * @param conn a connected stream, nothing sent or read yet
 * @param options torrent, randomness, deadline, policy, initial payload
 * @returns the payload stream and the selected method
 * @throws {MseRetryError} (a `ProtocolError`) when the peer closed on a secret with a
 *   leading zero byte: dial again; `conn` is closed
 * @throws {ProtocolError} on timeout, end of stream, I/O failure or a broken handshake;
 *   `conn` is closed
 * @throws {RangeError} for a bad info-hash, initial payload or timeout (before any I/O)
 */
export async function initiateMse(conn: Conn, options: InitiateOptions): Promise<InitiateResult> {
  checkTimeout(options.timeoutMs);
  const core = new MseInitiator(options);
  const result = await withDeadline(conn, options, async () => {
    await conn.write(core.start());
    try {
      return await exchange(conn, core, undefined, INITIATOR_MAX_BYTES);
    } catch (e) {
      if (!core.secretStartsWithZero || e instanceof ProtocolError && !isClosed(e)) throw e;
      throw new MseRetryError(
        "Cannot complete MSE handshake: the peer closed, likely on our shared secret's " +
          "leading zero byte (libtorrent mishandles it); a new connection will do",
        { cause: e },
      );
    }
  });
  return { conn: payloadConn(conn, result, options), selected: result.selected };
}

/**
 * Accepting side: tells plain BitTorrent from MSE and, for MSE, runs the handshake as
 * responder.
 * @param conn an accepted stream, nothing read yet
 * @param options randomness, deadline, policy, torrent lookup
 * @returns the payload stream, what was negotiated, and the initiator's IA
 * @throws {ProtocolError} on timeout, end of stream, I/O failure, a refused plain
 *   handshake or a broken MSE handshake; `conn` is closed
 * @throws {RangeError} for a bad timeout or IA cap (before any I/O)
 */
export async function acceptMse(conn: Conn, options: AcceptOptions): Promise<AcceptResult> {
  checkTimeout(options.timeoutMs);
  const core = new MseResponder(options);
  const maxBytes = responderMaxBytes(
    options.maxInitialPayloadBytes ?? DEFAULT_MAX_INITIAL_PAYLOAD_BYTES,
  );
  return await withDeadline(conn, options, async () => {
    const head = await readHead(conn);
    if (classifyIncoming(head) === "plain") {
      if (!options.allowPlainBitTorrent) {
        throw new ProtocolError("Cannot accept plain BitTorrent: encryption is required");
      }
      return {
        conn: new PrefixedConn(conn, head),
        selected: undefined,
        encrypted: false,
        infoHash: undefined,
        initialPayload: EMPTY,
      };
    }
    const result = await exchange(conn, core, head, maxBytes);
    return {
      conn: payloadConn(conn, result, options),
      selected: result.selected,
      encrypted: result.selected === "rc4",
      infoHash: result.infoHash,
      initialPayload: result.initialPayload,
    };
  });
}

function checkTimeout(timeoutMs: number): void {
  if (!(timeoutMs > 0 && Number.isFinite(timeoutMs))) {
    throw new RangeError(`Cannot run an MSE handshake with a timeout of ${timeoutMs} ms`);
  }
}

/** Reads until the first bytes tell plain BitTorrent from MSE (at most 20 needed). */
async function readHead(conn: Conn): Promise<Uint8Array> {
  const buf = new Uint8Array(READ_BYTES);
  let have = 0;
  // Each useful read adds a byte; a few empty reads are tolerated, not looped on.
  for (let reads = 0; reads < PLAIN_HEADER_LENGTH + 8; reads++) {
    const n = await conn.read(buf.subarray(have));
    if (n === null) throw closedError();
    have += n;
    if (classifyIncoming(buf.subarray(0, have)) !== undefined) return buf.slice(0, have);
  }
  throw new ProtocolError("Cannot accept connection: no handshake after many empty reads");
}

/** Pumps `core` with reads from `conn`, writing what it asks, until it has a result. */
async function exchange(
  conn: Conn,
  core: { receive(chunk: Uint8Array): MseStep },
  first: Uint8Array | undefined,
  maxBytes: number,
): Promise<MseResult> {
  const buf = new Uint8Array(READ_BYTES);
  let step = first === undefined ? undefined : core.receive(first);
  // Every non-empty read feeds the core, which fails past `maxBytes`: the count bounds it.
  for (let reads = 0; reads <= maxBytes + 64; reads++) {
    if (step?.send !== undefined) await conn.write(step.send);
    if (step?.result !== undefined) return step.result;
    const n = await conn.read(buf);
    if (n === null) throw closedError();
    step = core.receive(buf.subarray(0, n));
  }
  throw new ProtocolError("Cannot complete MSE handshake: too many reads");
}

const CLOSED_MESSAGE = "Cannot complete MSE handshake: connection closed by the peer";

function closedError(): ProtocolError {
  return new ProtocolError(CLOSED_MESSAGE);
}

function isClosed(e: ProtocolError): boolean {
  return e.message === CLOSED_MESSAGE;
}

function payloadConn(conn: Conn, result: MseResult, options: Rc4ConnOptions): Conn {
  const stream = result.ciphers === undefined ? conn : new Rc4Conn(conn, result.ciphers, options);
  return result.leftover.length > 0 ? new PrefixedConn(stream, result.leftover) : stream;
}

/**
 * Runs `body` against a deadline: on expiry, or on any failure, `conn` is closed and a
 * `ProtocolError` is thrown (other errors become its `cause`).
 */
async function withDeadline<T>(
  conn: Conn,
  options: { clock: Clock; timeoutMs: number },
  body: () => Promise<T>,
): Promise<T> {
  let timer: { cancel(): void } | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = options.clock.schedule(options.timeoutMs, () => {
      reject(
        new ProtocolError(`Cannot complete MSE handshake: not done within ${options.timeoutMs} ms`),
      );
      conn.close(); // a pending read now resolves null; its error is dropped by the race
    });
  });
  try {
    return await Promise.race([body(), expired]);
  } catch (e) {
    conn.close();
    // Our own mistakes (a bad findInfoHash answer) stay what they are.
    if (e instanceof ProtocolError || e instanceof TypeError || e instanceof RangeError) throw e;
    const detail = e instanceof Error ? e.message : String(e);
    throw new ProtocolError(`Cannot complete MSE handshake: ${detail}`, { cause: e });
  } finally {
    timer?.cancel();
  }
}
