/**
 * KRPC codec (BEP 5): the bencoded query, response and error messages of the
 * Mainline DHT, decoded under {@linkcode DHT_LIMITS} (depth 10, 500 tokens) and
 * validated field by field (RELIABILITY D1). Also reads the BEP 32 `nodes6`/`want`
 * fields, the BEP 42 `ip` field and the BEP 43 `ro` flag.
 *
 * Layer: core (pure).
 * @module
 */
import {
  type BencodeDict,
  BencodeSyntaxError,
  type BencodeValue,
  decode,
  DHT_LIMITS,
  encode,
} from "../bencode/mod.ts";
import type { PeerAddress } from "../runtime/types.ts";
import { fromLatin1, fromUtf8, toLatin1 } from "../util/bytes.ts";
import {
  decodeCompactNodes,
  decodeCompactPeer,
  type DhtContact,
  encodeCompactNodes,
  encodeCompactPeer,
} from "./compact.ts";
import { NODE_ID_LENGTH } from "./node_id.ts";

/** KRPC error codes (BEP 5). */
export const KRPC_ERROR_CODES: Readonly<{
  /** 201 Generic Error. */
  generic: 201;
  /** 202 Server Error. */
  server: 202;
  /** 203 Protocol Error (malformed packet, invalid arguments, bad token). */
  protocol: 203;
  /** 204 Method Unknown. */
  methodUnknown: 204;
}> = Object.freeze({
  generic: 201,
  server: 202,
  protocol: 203,
  methodUnknown: 204,
});

/**
 * A malformed KRPC message (D1).
 *
 * @example
 * ```ts
 * import { decodeKrpc, KrpcSyntaxError } from "./krpc.ts";
 * import { ok } from "node:assert";
 * try {
 *   decodeKrpc(new TextEncoder().encode("d1:ad2:id3:abce1:q4:ping1:t2:aa1:y1:qe"));
 * } catch (e) {
 *   ok(e instanceof KrpcSyntaxError && e.isQuery); // answer it with error 203
 * }
 * ```
 */
export class KrpcSyntaxError extends SyntaxError {
  /** Byte offset of the failure (0 when the bencode was fine but a field was not). */
  readonly offset: number;
  /** The message's `t`, when it could be read: lets a server answer error 203. */
  readonly transactionId: Uint8Array | undefined;
  /** Whether the message claimed to be a query (`y` = `q`). */
  readonly isQuery: boolean;
  /** Builds the error. */
  constructor(
    message: string,
    offset: number,
    options: ErrorOptions & { transactionId?: Uint8Array; isQuery?: boolean } = {},
  ) {
    super(`Cannot decode KRPC message at offset ${offset}: ${message}`, options);
    this.name = "KrpcSyntaxError";
    this.offset = offset;
    this.transactionId = options.transactionId;
    this.isQuery = options.isQuery ?? false;
  }
}

/** Fields every KRPC message carries. */
export interface KrpcCommon {
  /** Transaction id (`t`), echoed in the reply. */
  readonly transactionId: Uint8Array;
  /** Client version (`v`), when sent. */
  readonly version?: Uint8Array;
}

/** Fields every query carries. */
export interface KrpcQueryCommon extends KrpcCommon {
  /** Discriminant. */
  readonly kind: "query";
  /** The querying node's id. */
  readonly id: Uint8Array;
  /** BEP 43: the sender is read-only and must not enter routing tables. */
  readonly readOnly?: boolean;
  /** BEP 32 `want`: address families the sender wants nodes for (`"n4"`, `"n6"`). */
  readonly want?: readonly string[];
}

/** `ping`. */
export interface PingQuery extends KrpcQueryCommon {
  /** The method. */
  readonly method: "ping";
}

/** `find_node`. */
export interface FindNodeQuery extends KrpcQueryCommon {
  /** The method. */
  readonly method: "find_node";
  /** The id sought. */
  readonly target: Uint8Array;
}

/** `get_peers`. */
export interface GetPeersQuery extends KrpcQueryCommon {
  /** The method. */
  readonly method: "get_peers";
  /** The info-hash sought. */
  readonly infoHash: Uint8Array;
}

/** `announce_peer`. */
export interface AnnouncePeerQuery extends KrpcQueryCommon {
  /** The method. */
  readonly method: "announce_peer";
  /** The info-hash announced. */
  readonly infoHash: Uint8Array;
  /** The peer's TCP port (ignored when `impliedPort`). */
  readonly port: number;
  /** Use the UDP source port instead of `port`. */
  readonly impliedPort: boolean;
  /** The token from an earlier `get_peers` reply. */
  readonly token: Uint8Array;
}

/** A query whose method we do not implement (answered with error 204). */
export interface UnknownQuery extends KrpcQueryCommon {
  /** The method. */
  readonly method: "unknown";
  /** The method name as sent. */
  readonly name: string;
}

/** Any query. */
export type KrpcQuery =
  | PingQuery
  | FindNodeQuery
  | GetPeersQuery
  | AnnouncePeerQuery
  | UnknownQuery;

/** A response (`y` = `r`); which fields appear depends on the query. */
export interface KrpcResponse extends KrpcCommon {
  /** Discriminant. */
  readonly kind: "response";
  /** The responding node's id. */
  readonly id: Uint8Array;
  /** `nodes`: IPv4 contacts. */
  readonly nodes?: readonly DhtContact[];
  /** `nodes6` (BEP 32): IPv6 contacts. */
  readonly nodes6?: readonly DhtContact[];
  /** `values`: peers for a `get_peers`. */
  readonly values?: readonly PeerAddress[];
  /** `token` for a later `announce_peer`. */
  readonly token?: Uint8Array;
  /** BEP 42 `ip`: the requester's address as the responder saw it. */
  readonly requesterAddress?: PeerAddress;
}

/** An error reply (`y` = `e`). */
export interface KrpcErrorReply extends KrpcCommon {
  /** Discriminant. */
  readonly kind: "error";
  /** Error code, see {@linkcode KRPC_ERROR_CODES}. */
  readonly code: number;
  /** Human-readable text. */
  readonly message: string;
}

/** Any KRPC message. */
export type KrpcMessage = KrpcQuery | KrpcResponse | KrpcErrorReply;

const QUERY_METHODS = new Set(["ping", "find_node", "get_peers", "announce_peer"]);

class Reader {
  constructor(readonly t: Uint8Array | undefined, readonly isQuery: boolean) {}

  fail(message: string, cause?: unknown): never {
    const options = { isQuery: this.isQuery, ...(this.t ? { transactionId: this.t } : {}) };
    throw new KrpcSyntaxError(message, 0, cause === undefined ? options : { ...options, cause });
  }

  bytes(dict: BencodeDict, key: string, name = key): Uint8Array {
    const v = dict.get(key);
    return v instanceof Uint8Array ? v : this.fail(`"${name}" is missing or not a string`);
  }

  id(dict: BencodeDict, key: string, name = key): Uint8Array {
    const v = this.bytes(dict, key, name);
    if (v.length !== NODE_ID_LENGTH) this.fail(`"${name}" is ${v.length} bytes, not 20`);
    return v;
  }

  dict(dict: BencodeDict, key: string): BencodeDict {
    const v = dict.get(key);
    return v instanceof Map ? v : this.fail(`"${key}" is missing or not a dictionary`);
  }

  int(dict: BencodeDict, key: string, min: number, max: number): number | undefined {
    const v = dict.get(key);
    if (v === undefined) return undefined;
    if (typeof v !== "number" || v < min || v > max) this.fail(`"${key}" is not in ${min}..${max}`);
    return v;
  }
}

function decodeBencode(bytes: Uint8Array): BencodeValue {
  try {
    return decode(bytes, DHT_LIMITS);
  } catch (e) {
    if (e instanceof BencodeSyntaxError) {
      throw new KrpcSyntaxError(e.message, e.offset, { cause: e });
    }
    throw e;
  }
}

/**
 * Decodes and validates one KRPC datagram.
 * @param bytes the UDP payload
 * @returns the message
 * @throws {KrpcSyntaxError} on malformed bencode, a non-dictionary, missing `t`/`y`,
 *   a wrong-length id or `nodes`, or any other invalid field
 * @example
 * ```ts
 * import { decodeKrpc } from "./krpc.ts";
 * import { deepStrictEqual } from "node:assert";
 * // BEP 5's ping example
 * const msg = decodeKrpc(new TextEncoder().encode("d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe"));
 * deepStrictEqual(msg.kind === "query" && msg.method, "ping");
 * ```
 */
export function decodeKrpc(bytes: Uint8Array): KrpcMessage {
  const root = decodeBencode(bytes);
  if (!(root instanceof Map)) throw new KrpcSyntaxError("message is not a dictionary", 0);
  const t = root.get("t");
  const y = root.get("y");
  const r = new Reader(
    t instanceof Uint8Array ? t : undefined,
    y instanceof Uint8Array &&
      y.length === 1 && y[0] === 0x71,
  );
  if (!(t instanceof Uint8Array)) return r.fail(`"t" is missing or not a string`);
  if (!(y instanceof Uint8Array) || y.length !== 1) return r.fail(`"y" is missing or not one byte`);
  const v = root.get("v");
  const common: KrpcCommon = v instanceof Uint8Array
    ? { transactionId: t, version: v }
    : { transactionId: t };
  switch (y[0]) {
    case 0x71: // q
      return decodeQuery(root, r, common);
    case 0x72: // r
      return decodeResponse(root, r, common);
    case 0x65: // e
      return decodeError(root, r, common);
    default:
      return r.fail(`"y" is "${String.fromCharCode(y[0]!)}", not q, r or e`);
  }
}

function decodeQuery(root: BencodeDict, r: Reader, common: KrpcCommon): KrpcQuery {
  const name = toLatin1(r.bytes(root, "q"));
  const a = r.dict(root, "a");
  const base: Omit<KrpcQueryCommon, "readOnly" | "want"> & { readOnly?: boolean; want?: string[] } =
    { ...common, kind: "query", id: r.id(a, "id") };
  if (root.get("ro") === 1) base.readOnly = true;
  const want = a.get("want");
  if (Array.isArray(want)) {
    base.want = want.filter((w): w is Uint8Array => w instanceof Uint8Array).map(toLatin1);
  }
  if (!QUERY_METHODS.has(name)) return { ...base, method: "unknown", name: name.slice(0, 64) };
  switch (name) {
    case "ping":
      return { ...base, method: "ping" };
    case "find_node":
      return { ...base, method: "find_node", target: r.id(a, "target") };
    case "get_peers":
      return { ...base, method: "get_peers", infoHash: r.id(a, "info_hash") };
    default: {
      const impliedPort = r.int(a, "implied_port", 0, 1) === 1;
      const port = r.int(a, "port", 0, 65535);
      if (port === undefined && !impliedPort) r.fail(`"port" is missing`);
      const token = r.bytes(a, "token");
      return {
        ...base,
        method: "announce_peer",
        infoHash: r.id(a, "info_hash"),
        port: port ?? 0,
        impliedPort,
        token,
      };
    }
  }
}

function decodeResponse(root: BencodeDict, r: Reader, common: KrpcCommon): KrpcResponse {
  const body = r.dict(root, "r");
  const out: { -readonly [K in keyof KrpcResponse]: KrpcResponse[K] } = {
    ...common,
    kind: "response",
    id: r.id(body, "id"),
  };
  const nodes = body.get("nodes");
  if (nodes !== undefined) {
    if (!(nodes instanceof Uint8Array)) r.fail(`"nodes" is not a string`);
    out.nodes = decodeCompactNodes(nodes, 4) ??
      r.fail(`"nodes" is ${nodes.length} bytes, not a multiple of 26`);
  }
  const nodes6 = body.get("nodes6");
  if (nodes6 !== undefined) {
    if (!(nodes6 instanceof Uint8Array)) r.fail(`"nodes6" is not a string`);
    out.nodes6 = decodeCompactNodes(nodes6, 6) ??
      r.fail(`"nodes6" is ${nodes6.length} bytes, not a multiple of 38`);
  }
  const values = body.get("values");
  if (values !== undefined) {
    if (!Array.isArray(values)) r.fail(`"values" is not a list`);
    out.values = values.map((x) =>
      (x instanceof Uint8Array ? decodeCompactPeer(x) : undefined) ??
        r.fail(`"values" holds an entry that is not a 6- or 18-byte peer`)
    );
  }
  const token = body.get("token");
  if (token !== undefined) out.token = r.bytes(body, "token");
  const ip = root.get("ip");
  const requester = ip instanceof Uint8Array ? decodeCompactPeer(ip) : undefined;
  if (requester) out.requesterAddress = requester; // BEP 42 hint: ignore when malformed
  return out;
}

function decodeError(root: BencodeDict, r: Reader, common: KrpcCommon): KrpcErrorReply {
  const e = root.get("e");
  if (!Array.isArray(e) || typeof e[0] !== "number") r.fail(`"e" is not a [code, message] list`);
  const text = e[1] instanceof Uint8Array ? fromUtf8(e[1].subarray(0, 256)) : "";
  return { ...common, kind: "error", code: e[0], message: text };
}

function queryArgs(q: KrpcQuery): Record<string, Uint8Array | number | Uint8Array[] | undefined> {
  const want = q.want?.map(fromLatin1);
  const base = { id: q.id, want };
  switch (q.method) {
    case "ping":
    case "unknown":
      return base;
    case "find_node":
      return { ...base, target: q.target };
    case "get_peers":
      return { ...base, info_hash: q.infoHash };
    case "announce_peer":
      return {
        ...base,
        info_hash: q.infoHash,
        port: q.port,
        token: q.token,
        implied_port: q.impliedPort ? 1 : undefined,
      };
  }
}

/**
 * Encodes one KRPC message.
 * @param message the message
 * @returns the bencoded datagram
 * @throws {RangeError} when an id in `nodes` is not 20 bytes or a port is out of range
 * @throws {TypeError} when a node or peer host is not an IP literal
 * @example
 * ```ts
 * import { decodeKrpc, encodeKrpc } from "./krpc.ts";
 * import { deepStrictEqual } from "node:assert";
 * const id = new TextEncoder().encode("mnopqrstuvwxyz123456");
 * const bytes = encodeKrpc({ kind: "response", transactionId: new TextEncoder().encode("aa"), id });
 * // BEP 5's ping response
 * deepStrictEqual(new TextDecoder().decode(bytes), "d1:rd2:id20:mnopqrstuvwxyz123456e1:t2:aa1:y1:re");
 * deepStrictEqual(decodeKrpc(bytes).kind, "response");
 * ```
 */
export function encodeKrpc(message: KrpcMessage): Uint8Array {
  const t = message.transactionId, v = message.version;
  switch (message.kind) {
    case "query": {
      const name = fromLatin1(message.method === "unknown" ? message.name : message.method);
      const ro = message.readOnly ? 1 : undefined;
      return encode({ t, y: "q", q: name, a: queryArgs(message), v, ro });
    }
    case "response": {
      const r = {
        id: message.id,
        nodes: message.nodes ? encodeCompactNodes(message.nodes, 4) : undefined,
        nodes6: message.nodes6 ? encodeCompactNodes(message.nodes6, 6) : undefined,
        values: message.values?.map(encodeCompactPeer),
        token: message.token,
      };
      const ip = message.requesterAddress ? encodeCompactPeer(message.requesterAddress) : undefined;
      return encode({ t, y: "r", r, v, ip });
    }
    case "error":
      return encode({ t, y: "e", e: [message.code, message.message], v });
  }
}
