/**
 * The KRPC transport of a DHT node: sends queries with a fresh unpredictable
 * transaction id and a per-query timeout, matches answers by id and source (D6),
 * sends replies under the global byte budget (D2), and keeps the counters.
 *
 * Layer: driver. Private to `src/dht/`.
 * @module
 */
import type {
  Clock,
  Datagram,
  Logger,
  PeerAddress,
  Random,
  Timer,
  UdpSocketLike,
} from "../runtime/types.ts";
import type { DhtStats } from "./_stats.ts";
import { TransactionTable } from "./_transactions.ts";
import {
  encodeKrpc,
  KRPC_ERROR_CODES,
  type KrpcErrorReply,
  type KrpcQuery,
  type KrpcResponse,
} from "./krpc.ts";
import { ByteBudget } from "./rate_limit.ts";

/** `1:y1:`, the last key of a KRPC message before its one-letter kind. */
const Y_KEY = [0x31, 0x3a, 0x79, 0x31, 0x3a];

/** The smallest reply we send (a bare `ping` answer is about 50 bytes). */
const MIN_REPLY_BYTES = 64;

/** What to do with the answer to one query. */
export interface Handlers {
  /** A matching response arrived. */
  onReply(r: KrpcResponse): void;
  /** Timeout, error reply, or shutdown. */
  onFail(): void;
}

/** Builds the query once its transaction id is known. */
export type QueryBuilder = (transactionId: Uint8Array) => KrpcQuery;

interface Context {
  readonly handlers: Handlers;
  readonly expectedId: Uint8Array | undefined;
  timer: Timer | undefined;
}

/** Dependencies of {@linkcode RpcChannel}. */
export interface RpcChannelOptions {
  /** The socket. */
  readonly socket: UdpSocketLike;
  /** Time and timers. */
  readonly clock: Clock;
  /** Transaction ids. */
  readonly random: Random;
  /** Log sink. */
  readonly log: Logger;
  /** Counters to update. */
  readonly stats: DhtStats;
  /** Per-query timeout. */
  readonly rpcTimeoutMs: number;
  /** Reply budget, bytes per second. */
  readonly maxReplyBytesPerSecond: number;
  /** Our `v`. */
  readonly version: Uint8Array;
  /** Called when a query to a node with a known id times out. */
  readonly onTimeout: (id: Uint8Array) => void;
}

/** Queries out, answers in, replies out. */
export class RpcChannel {
  #o: RpcChannelOptions;
  #tx: TransactionTable<Context>;
  #budget: ByteBudget;
  #closed = false;

  /**
   * Creates the channel.
   * @param options socket, clock, counters, limits
   */
  constructor(options: RpcChannelOptions) {
    this.#o = options;
    this.#tx = new TransactionTable(options.random);
    this.#budget = new ByteBudget(options.maxReplyBytesPerSecond, undefined, options.clock.now());
  }

  /** Queries awaiting an answer. */
  get pending(): number {
    return this.#tx.size;
  }

  /**
   * Whether a datagram is likely the answer to one of our queries, without decoding it:
   * a query to its source is outstanding and it ends as a KRPC response or error does
   * (`1:y1:re` or `1:y1:ee`: keys are sorted, and `y` comes last). Such datagrams skip
   * the query budget; a query from an address we pinged does not.
   * @param d the datagram
   * @returns true when it may be an answer
   */
  mayBeAnswer(d: Datagram): boolean {
    const b = d.data, n = b.length;
    if (n < 8 || b[n - 1] !== 0x65 || (b[n - 2] !== 0x72 && b[n - 2] !== 0x65)) return false;
    for (let i = 0; i < 5; i++) if (b[n - 7 + i] !== Y_KEY[i]) return false;
    return this.#tx.awaits(d.from);
  }

  /**
   * Whether the output budget could send a small reply now: when it could not, a query
   * is dropped before any work is spent on its answer.
   * @returns true when at least a bare reply's bytes are left
   */
  canReply(): boolean {
    return this.#budget.available(this.#o.clock.now()) >= MIN_REPLY_BYTES;
  }

  /**
   * Sends a query; exactly one handler runs later (or now, when nothing can be sent).
   * @param to destination
   * @param expectedId the node's id, when known (a timeout then counts against it)
   * @param build the query, given its transaction id
   * @param h the handlers
   */
  query(
    to: PeerAddress,
    expectedId: Uint8Array | undefined,
    build: QueryBuilder,
    h: Handlers,
  ): void {
    const clock = this.#o.clock;
    const context: Context = { handlers: h, expectedId, timer: undefined };
    const transactionId = this.#closed ? undefined : this.#tx.open(to, clock.now(), context);
    if (!transactionId) return h.onFail();
    context.timer = clock.schedule(this.#o.rpcTimeoutMs, () => {
      if (!this.#tx.cancel(transactionId)) return;
      this.#o.stats.timeouts++;
      if (expectedId) this.#o.onTimeout(expectedId);
      h.onFail();
    });
    this.#o.stats.queriesSent++;
    this.#send(encodeKrpc(build(transactionId)), to);
  }

  /**
   * {@linkcode RpcChannel.query} as a promise.
   * @param to destination
   * @param expectedId the node's id, when known
   * @param build the query
   * @returns the response, or `undefined` on timeout, error or shutdown
   */
  request(to: PeerAddress, expectedId: Uint8Array | undefined, build: QueryBuilder) {
    return new Promise<KrpcResponse | undefined>((resolve) =>
      this.query(to, expectedId, build, { onReply: resolve, onFail: () => resolve(undefined) })
    );
  }

  /**
   * Claims the query an answer belongs to (D6: id and source must both match).
   * @param msg the response or error
   * @param from its source
   * @returns the handlers to run, or `undefined` when the answer must be dropped
   */
  claim(msg: KrpcResponse | KrpcErrorReply, from: PeerAddress): Handlers | undefined {
    const p = this.#tx.take(msg.transactionId, from);
    if (!p) {
      this.#o.stats.droppedUnexpected++;
      return undefined;
    }
    p.context.timer?.cancel();
    if (msg.kind === "error") this.#o.stats.errorsReceived++;
    else this.#o.stats.repliesReceived++;
    return p.context.handlers;
  }

  /**
   * Sends a reply if the output budget allows it.
   * @param bytes the encoded reply
   * @param to the requester
   * @param isError whether it is an error reply
   */
  reply(bytes: Uint8Array, to: PeerAddress, isError: boolean): void {
    if (!this.#budget.tryTake(bytes.length, this.#o.clock.now())) {
      this.#o.stats.droppedOverBudget++;
      return;
    }
    if (isError) this.#o.stats.errorsSent++;
    else this.#o.stats.repliesSent++;
    this.#send(bytes, to);
  }

  /**
   * Answers a malformed query with error 203.
   * @param transactionId the query's `t`
   * @param to the requester
   */
  replyProtocolError(transactionId: Uint8Array, to: PeerAddress): void {
    const err: KrpcErrorReply = {
      kind: "error",
      transactionId,
      code: KRPC_ERROR_CODES.protocol,
      message: "Protocol Error",
      version: this.#o.version,
    };
    this.reply(encodeKrpc(err), to, true);
  }

  #send(bytes: Uint8Array, to: PeerAddress): void {
    this.#o.stats.bytesSent += bytes.length;
    this.#o.socket.send(bytes, to).catch((e) => {
      this.#o.log.debug("DHT send failed", { to, error: String(e) }); // UDP: loss is normal
    });
  }

  /** Fails every outstanding query and refuses new ones. Idempotent. */
  close(): void {
    this.#closed = true;
    for (const p of this.#tx.drain()) {
      p.context.timer?.cancel();
      p.context.handlers.onFail();
    }
  }
}
